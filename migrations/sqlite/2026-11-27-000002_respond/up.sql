-- Buddy response links. A link's token is derived from the row id (128 random bits) with the
-- link secret, which is kept outside the database; only the token's SHA-256 is stored, so
-- neither the table nor a pending outbox message holds a usable link. A token is bound to one
-- pairing, one buddy and one purpose, expires with the proposal and is used once.
CREATE TABLE response_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    pairing_id TEXT NOT NULL REFERENCES pairings (id),
    buddy_id TEXT NOT NULL REFERENCES buddies (id),
    purpose TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX response_tokens_pairing ON response_tokens (pairing_id);

-- The scheduler's marks, so each reminder and each overdue alert is sent once.
ALTER TABLE pairings ADD COLUMN reminder_sent_at TIMESTAMP;
ALTER TABLE buddy_requests ADD COLUMN overdue_notified_at TIMESTAMP;
CREATE INDEX pairings_state_proposed_at ON pairings (state, proposed_at);
