-- The buddy portal (see the README, "The buddy's side").
--
-- A buddy signs in with an e-mailed link: a row of `response_tokens` with the purpose
-- `buddy_sign_in`, bound to the buddy and to no pairing, so `pairing_id` may now be empty.
-- SQLite cannot drop a NOT NULL constraint: the table is rebuilt with the same rows.
CREATE TABLE response_tokens_new (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    pairing_id TEXT REFERENCES pairings (id),
    buddy_id TEXT NOT NULL REFERENCES buddies (id),
    purpose TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
INSERT INTO response_tokens_new
    (id, token_hash, pairing_id, buddy_id, purpose, expires_at, used_at, created_at, revoked_at)
    SELECT id, token_hash, pairing_id, buddy_id, purpose, expires_at, used_at, created_at,
           revoked_at
    FROM response_tokens;
DROP TABLE response_tokens;
ALTER TABLE response_tokens_new RENAME TO response_tokens;
CREATE INDEX response_tokens_pairing ON response_tokens (pairing_id);
-- How many sign-in links a buddy asked for lately (at most `portal.links_per_hour`).
CREATE INDEX response_tokens_buddy_purpose ON response_tokens (buddy_id, purpose, created_at);

-- A buddy's portal session: its token's secret is stored only as a SHA-256 hash. It ends after
-- `idle_seconds` without a request (`expires_at` moves forward with use, noted in
-- `last_seen_at`), at the latest at `ends_at`, or when the buddy signs out (`revoked_at`).
CREATE TABLE buddy_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    buddy_id TEXT NOT NULL REFERENCES buddies (id),
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    idle_seconds INTEGER NOT NULL,
    last_seen_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX buddy_sessions_buddy ON buddy_sessions (buddy_id);

-- What a buddy keeps up themselves: a pause until a date (the scheduler resumes them that
-- day), notes on their availability, and a request to stop that the bureau confirms.
ALTER TABLE buddies ADD COLUMN paused_until DATE;
ALTER TABLE buddies ADD COLUMN availability_notes TEXT;
ALTER TABLE buddies ADD COLUMN retirement_requested_at TIMESTAMP;
CREATE INDEX buddies_paused_until ON buddies (paused_until);
