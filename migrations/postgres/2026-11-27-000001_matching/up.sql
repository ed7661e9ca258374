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
