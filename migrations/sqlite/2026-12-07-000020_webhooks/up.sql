-- Webhooks (Standard Webhooks): a case system's endpoints, the deliveries of its organisation's
-- events to them (a durable outbox, written in the transaction of the change), and every attempt.
-- No secret is stored: an endpoint's signing secret is derived from the link secret, the
-- endpoint id and `secret_version` (see src/domain/webhook.rs).
CREATE TABLE webhook_endpoints (
    id                     TEXT PRIMARY KEY NOT NULL,
    organisation_id        TEXT NOT NULL REFERENCES organisations (id),
    url                    TEXT NOT NULL,
    -- A JSON list of event types.
    event_types            TEXT NOT NULL,
    description            TEXT,
    enabled                BOOLEAN NOT NULL,
    secret_version         INTEGER NOT NULL,
    -- After a rotation the previous secret (secret_version - 1) also signs until this time.
    previous_secret_until  TIMESTAMP,
    created_by             TEXT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_organisation ON webhook_endpoints (organisation_id, enabled);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    -- The event's id: the `webhook-id` of every attempt, so receivers can deduplicate.
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    -- Retried until this time, then dead.
    give_up_at       TIMESTAMP NOT NULL,
    lease_owner      TEXT,
    lease_until      TIMESTAMP,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

CREATE TABLE webhook_attempts (
    id            TEXT PRIMARY KEY NOT NULL,
    delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id   TEXT NOT NULL,
    attempted_at  TIMESTAMP NOT NULL,
    status_code   INTEGER,
    duration_ms   INTEGER NOT NULL,
    error         TEXT,
    succeeded     BOOLEAN NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
