-- Client feedback at organisation level (README, "Client feedback"). Answers are stored apart
-- from the case: neither table names a request, a pairing or a buddy, and an answer keeps no
-- time finer than its quarter. An invitation's token is derived from its id with the link
-- secret (as a response link's is); only the token's SHA-256 is stored. Its expiry is rounded
-- up to a whole day, and it keeps whether it was used, not when.
CREATE TABLE client_feedback_invitations (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    language TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    expires_at TIMESTAMP NOT NULL,
    used BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX client_feedback_invitations_expires ON client_feedback_invitations (expires_at);

-- One answer: organisation, quarter (`2026-Q4`), score 1 to 5, and the two optional free texts,
-- which retention and erasure remove (`text_removed` then says so); the id is random (not
-- time-ordered).
CREATE TABLE client_feedback (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    quarter TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    helped TEXT,
    better TEXT,
    text_removed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX client_feedback_organisation_quarter ON client_feedback (organisation_id, quarter);
CREATE INDEX client_feedback_quarter ON client_feedback (quarter);

-- The request side knows only that its client was invited (so a second invitation is refused),
-- not which invitation.
ALTER TABLE buddy_requests ADD COLUMN feedback_invited BOOLEAN NOT NULL DEFAULT FALSE;
