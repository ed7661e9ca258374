-- Overdue requests (`state = 'open' AND created_at <= cutoff`) and the report's windows:
-- requests by creation, proposals by proposal time, endings by end time.
CREATE INDEX buddy_requests_state_created ON buddy_requests (state, created_at);
CREATE INDEX buddy_requests_created ON buddy_requests (created_at);
CREATE INDEX pairings_proposed ON pairings (proposed_at);
CREATE INDEX pairings_ended ON pairings (ended_at);
