-- Privacy: the queries of retention and of buddy export.

-- The retention job looks for requests closed before a cutoff that are not anonymised yet; once
-- anonymised, a request drops out of this index, so the job's query stays small over the years.
CREATE INDEX buddy_requests_due_for_retention ON buddy_requests (closed_at)
    WHERE anonymised_at IS NULL;

-- A buddy's export names the exit interview that recruited them.
CREATE INDEX exit_interviews_buddy ON exit_interviews (buddy_id);
