DROP INDEX pairings_ended;
DROP INDEX pairings_proposed;
DROP INDEX buddy_requests_created;
DROP INDEX buddy_requests_state_created;
