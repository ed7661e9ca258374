-- The event feed (GET /v1/events): what happened to buddy requests and exit interviews, written
-- in the transaction of the change, kept api.event_keep_days. No personal data: ids, states,
-- the organisation and the time.
--
-- Order under concurrent commits: `seq` is taken when the row is inserted, not when its
-- transaction commits, so a lower `seq` may become visible after a higher one. Each event keeps
-- the id of its transaction (`txid`); the feed lists events in (txid, seq) order and only those
-- of transactions older than the oldest one still running (pg_snapshot_xmin), all of which have
-- ended. An event that becomes visible later has a txid at least that oldest one, so it sorts
-- after every cursor already handed out.
CREATE TABLE events (
    seq              BIGSERIAL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    txid             BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    organisation_id  TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    occurred_at      TIMESTAMP NOT NULL,
    payload          TEXT NOT NULL
);
CREATE INDEX events_feed ON events (organisation_id, txid, seq);
CREATE INDEX events_order ON events (txid, seq);
CREATE INDEX events_occurred_at ON events (occurred_at);
