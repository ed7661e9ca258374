-- Access control, audit trail and privacy.

CREATE TABLE staff (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    active         BOOLEAN NOT NULL,
    failed_logins  INTEGER NOT NULL,
    locked_until   TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

-- Bearer tokens of logged-in staff; only a hash of the secret is kept.
CREATE TABLE staff_sessions (
    id          TEXT PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES staff (id),
    token_hash  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- Case-management systems, one organisation each, with any number of keys.
CREATE TABLE api_clients (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    name             TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    revoked_at       TIMESTAMP,
    UNIQUE (organisation_id, name)
);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES api_clients (id),
    secret_hash   TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP
);
CREATE INDEX api_keys_client ON api_keys (client_id);

-- NEN 7513 audit trail: append-only, each record chained to the previous one by a hash.
CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    at              TIMESTAMP NOT NULL,
    actor_type      TEXT NOT NULL,
    actor_id        TEXT,
    on_behalf_of    TEXT,
    action          TEXT NOT NULL,
    object_type     TEXT NOT NULL,
    object_id       TEXT,
    client_ref      TEXT,
    outcome         TEXT NOT NULL,
    status          INTEGER NOT NULL,
    source_address  TEXT,
    request_id      TEXT,
    route           TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_client_ref ON audit_log (client_ref, seq);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, seq);

-- The head of the chain: one row, locked by every writer so records are chained in order.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

ALTER TABLE buddy_requests ADD COLUMN legal_hold BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE buddy_requests ADD COLUMN anonymised_at TIMESTAMP;
CREATE INDEX buddy_requests_closed ON buddy_requests (closed_at);
ALTER TABLE buddies ADD COLUMN erased_at TIMESTAMP;
