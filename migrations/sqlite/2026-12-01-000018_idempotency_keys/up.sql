-- Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"): one row per caller and
-- key, kept api.idempotency_keep_hours after the first request. The first request claims the key
-- (in_flight); the change it makes marks it applied in the change's own transaction; its answer
-- is then stored (done) and replayed to every retry with the same key and the same request.
-- A stored answer may hold what the request named (a client's contact data): it is deleted with
-- the key after the keep period, and at once when the object it concerns (object_id) is erased:
-- the key then stays, forgotten, so that a retry still does nothing again.
CREATE TABLE idempotency_keys (
    caller        TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('in_flight', 'applied', 'done', 'forgotten')),
    started_at    TIMESTAMP NOT NULL,
    object_id     TEXT,
    status        INTEGER,
    content_type  TEXT,
    location      TEXT,
    body          TEXT,
    PRIMARY KEY (caller, idem_key)
);
CREATE INDEX idempotency_keys_started_at ON idempotency_keys (started_at);
CREATE INDEX idempotency_keys_object_id ON idempotency_keys (object_id);
