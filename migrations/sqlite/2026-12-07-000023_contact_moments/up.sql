-- Contact moments: during an active pairing the buddy records each contact with the client
-- (date, kind, an optional short note only the buddy sees). The pairing keeps what the
-- scheduler needs: since when it has been quiet (the activation, or the latest contact), for
-- which quiet period the buddy was reminded and the bureau alerted (once each), and the
-- three-month check-in with its answer.
CREATE TABLE contact_moments (
    id           TEXT PRIMARY KEY,
    pairing_id   TEXT NOT NULL REFERENCES pairings (id),
    contact_on   DATE NOT NULL,
    kind         TEXT NOT NULL
        CHECK (kind IN ('call', 'meeting', 'message', 'accompanied_appointment')),
    note         TEXT,
    recorded_at  TIMESTAMP NOT NULL
);
CREATE INDEX contact_moments_pairing ON contact_moments (pairing_id, contact_on, id);
CREATE INDEX contact_moments_recorded ON contact_moments (recorded_at);

ALTER TABLE pairings ADD COLUMN last_contact_on DATE;
ALTER TABLE pairings ADD COLUMN quiet_since TIMESTAMP;
ALTER TABLE pairings ADD COLUMN contact_reminded_for TIMESTAMP;
ALTER TABLE pairings ADD COLUMN contact_alerted_for TIMESTAMP;
ALTER TABLE pairings ADD COLUMN check_in_sent_at TIMESTAMP;
ALTER TABLE pairings ADD COLUMN check_in_answer TEXT
    CHECK (check_in_answer IN ('fine', 'needs_help'));
ALTER TABLE pairings ADD COLUMN check_in_answered_at TIMESTAMP;
-- Running pairings have been quiet since they started.
UPDATE pairings SET quiet_since = activated_at WHERE state = 'active';
CREATE INDEX pairings_quiet ON pairings (state, quiet_since);
