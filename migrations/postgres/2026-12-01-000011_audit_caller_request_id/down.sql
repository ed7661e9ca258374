ALTER TABLE audit_log DROP COLUMN caller_request_id;
