-- The event feed (GET /v1/events): what happened to buddy requests and exit interviews, written
-- in the transaction of the change, kept api.event_keep_days. No personal data: ids, states,
-- the organisation and the time. On SQLite one writer commits at a time, so `seq` is commit
-- order; `txid` is always 0 here (see the PostgreSQL migration).
CREATE TABLE events (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    txid             BIGINT NOT NULL DEFAULT 0,
    organisation_id  TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    occurred_at      TIMESTAMP NOT NULL,
    payload          TEXT NOT NULL
);
CREATE INDEX events_feed ON events (organisation_id, txid, seq);
CREATE INDEX events_order ON events (txid, seq);
CREATE INDEX events_occurred_at ON events (occurred_at);
