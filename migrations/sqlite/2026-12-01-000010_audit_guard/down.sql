DROP TRIGGER audit_head_forward_only;
DROP TRIGGER audit_head_no_delete;
DROP TRIGGER audit_head_no_insert;
DROP TRIGGER audit_log_at_head;
