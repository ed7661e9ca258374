-- One row that the readiness probe (`/health/ready`) updates in a write transaction: a database
-- that is reachable but full or read-only is not ready.
CREATE TABLE readiness (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TIMESTAMP NOT NULL
);
INSERT INTO readiness (id, checked_at) VALUES (1, CURRENT_TIMESTAMP);
