-- One row counting changes that make a verified credential invalid or change what it allows
-- (a key or client revoked, a session ended, a staff account's role or active flag changed, an
-- organisation deactivated or reactivated). Every instance caches verified credentials in memory
-- and drops its cache when it sees this counter move (see `auth::cache`).
CREATE TABLE credential_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO credential_version (id, version) VALUES (1, 0);
