DROP INDEX buddies_paused_until;
ALTER TABLE buddies DROP COLUMN retirement_requested_at;
ALTER TABLE buddies DROP COLUMN availability_notes;
ALTER TABLE buddies DROP COLUMN paused_until;
DROP TABLE buddy_sessions;
DELETE FROM response_tokens WHERE pairing_id IS NULL;
CREATE TABLE response_tokens_old (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    pairing_id TEXT NOT NULL REFERENCES pairings (id),
    buddy_id TEXT NOT NULL REFERENCES buddies (id),
    purpose TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
INSERT INTO response_tokens_old SELECT
    id, token_hash, pairing_id, buddy_id, purpose, expires_at, used_at, created_at, revoked_at
    FROM response_tokens;
DROP TABLE response_tokens;
ALTER TABLE response_tokens_old RENAME TO response_tokens;
CREATE INDEX response_tokens_pairing ON response_tokens (pairing_id);
