-- Core records of the buddy programme. Ids are UUIDv7 text, times are UTC TIMESTAMP,
-- enumerations are TEXT checked by the application's domain types, lists are JSON text.
-- The SQLite migration of the same name holds the same tables.

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX organisations_state ON organisations (state, id);

CREATE TABLE buddies (
    id                     TEXT PRIMARY KEY,
    organisation_id        TEXT NOT NULL REFERENCES organisations (id),
    state                  TEXT NOT NULL,
    full_name              TEXT NOT NULL,
    email                  TEXT NOT NULL,
    phone                  TEXT,
    mail_language          TEXT NOT NULL,
    languages              TEXT NOT NULL,
    region                 TEXT NOT NULL,
    experience             TEXT NOT NULL,
    topics                 TEXT NOT NULL,
    capacity               INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 10),
    vog_issued_on          DATE,
    training_completed_on  DATE,
    agreement_signed_on    DATE,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX buddies_state ON buddies (state, id);
CREATE INDEX buddies_organisation ON buddies (organisation_id, id);
CREATE INDEX buddies_region ON buddies (region, id);

CREATE TABLE exit_interviews (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    held_on          DATE NOT NULL,
    answer           TEXT NOT NULL,
    buddy_id         TEXT REFERENCES buddies (id),
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX exit_interviews_organisation ON exit_interviews (organisation_id, id);
CREATE INDEX exit_interviews_answer ON exit_interviews (answer, id);
CREATE INDEX exit_interviews_held_on ON exit_interviews (held_on);

CREATE TABLE buddy_requests (
    id                        TEXT PRIMARY KEY,
    organisation_id           TEXT NOT NULL REFERENCES organisations (id),
    client_ref                TEXT NOT NULL,
    trigger_kind              TEXT NOT NULL,
    trigger_note              TEXT,
    client_first_name         TEXT NOT NULL,
    client_phone              TEXT,
    client_email              TEXT,
    client_preferred_channel  TEXT NOT NULL,
    client_languages          TEXT NOT NULL,
    region                    TEXT NOT NULL,
    preferences               TEXT,
    consent_recorded_at       TIMESTAMP NOT NULL,
    state                     TEXT NOT NULL,
    created_at                TIMESTAMP NOT NULL,
    updated_at                TIMESTAMP NOT NULL,
    closed_at                 TIMESTAMP,
    UNIQUE (organisation_id, client_ref)
);
CREATE INDEX buddy_requests_state ON buddy_requests (state, id);
CREATE INDEX buddy_requests_trigger ON buddy_requests (trigger_kind, id);

CREATE TABLE pairings (
    id                       TEXT PRIMARY KEY,
    request_id               TEXT NOT NULL REFERENCES buddy_requests (id),
    buddy_id                 TEXT NOT NULL REFERENCES buddies (id),
    state                    TEXT NOT NULL,
    proposed_at              TIMESTAMP NOT NULL,
    responded_at             TIMESTAMP,
    activated_at             TIMESTAMP,
    ended_at                 TIMESTAMP,
    decline_reason           TEXT,
    end_reason               TEXT,
    end_note                 TEXT,
    evaluation_client_score  INTEGER CHECK (evaluation_client_score BETWEEN 1 AND 5),
    evaluation_buddy_score   INTEGER CHECK (evaluation_buddy_score BETWEEN 1 AND 5),
    evaluation_comment       TEXT,
    created_at               TIMESTAMP NOT NULL,
    updated_at               TIMESTAMP NOT NULL
);
-- At most one live pairing per request, enforced by the database as well as the service.
CREATE UNIQUE INDEX pairings_one_live_per_request ON pairings (request_id)
    WHERE state IN ('proposed', 'accepted', 'active');
CREATE INDEX pairings_request ON pairings (request_id, id);
CREATE INDEX pairings_buddy ON pairings (buddy_id, state);
CREATE INDEX pairings_state ON pairings (state, id);

CREATE TABLE history (
    id           TEXT PRIMARY KEY,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    action       TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT,
    actor_type   TEXT NOT NULL,
    actor_id     TEXT,
    reason       TEXT,
    at           TIMESTAMP NOT NULL
);
CREATE INDEX history_entity ON history (entity_type, entity_id, id);
