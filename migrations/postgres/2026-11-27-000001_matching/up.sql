-- Matching: the kind of measure a client is under, buddies staff exclude from a request, and the
-- index the candidate ranking reads each buddy's last proposal from.

-- One of the buddy experience kinds (supervision_order, out_of_home_placement, guardianship,
-- youth_probation), checked by the application; NULL when the request does not say.
ALTER TABLE buddy_requests ADD COLUMN measure TEXT;

-- A buddy staff ruled out for one request (e.g. the buddy knows the family). The reason is free
-- text typed by staff; it goes when the request is anonymised.
CREATE TABLE request_exclusions (
    request_id  TEXT NOT NULL REFERENCES buddy_requests (id),
    buddy_id    TEXT NOT NULL REFERENCES buddies (id),
    reason      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, buddy_id)
);
CREATE INDEX request_exclusions_buddy ON request_exclusions (buddy_id);

-- The ranking reads MAX(proposed_at) per buddy from this index alone.
CREATE INDEX pairings_buddy_proposed ON pairings (buddy_id, proposed_at);

-- A counter that moves with every change to buddies or pairings, in the same transaction. The
-- candidate ranking keeps the facts it read about every active buddy (profile, live load, last
-- proposal) until the counter moves, so a ranking reads the 10,000 buddies only after a change.
CREATE TABLE matching_version (
    id       INTEGER PRIMARY KEY,
    version  BIGINT NOT NULL
);
INSERT INTO matching_version (id, version) VALUES (1, 0);
CREATE FUNCTION move_matching_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER buddies_move_matching AFTER INSERT OR UPDATE OR DELETE ON buddies
    FOR EACH STATEMENT EXECUTE FUNCTION move_matching_version();
CREATE TRIGGER pairings_move_matching AFTER INSERT OR UPDATE OR DELETE ON pairings
    FOR EACH STATEMENT EXECUTE FUNCTION move_matching_version();
