-- The caller's own X-Request-Id, kept beside the service's request_id (which is always the
-- service's own from now on). Part of the hashed record when present (form maatje-audit-v2).
ALTER TABLE audit_log ADD COLUMN caller_request_id TEXT;
