DROP TRIGGER audit_log_at_head;
CREATE TRIGGER audit_log_at_head BEFORE INSERT ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_head
                 WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: a record must follow the head of the chain');
END;

DROP TRIGGER audit_head_forward_only;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NOT (NEW.id = OLD.id AND (
           (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)
        OR (NEW.seq = OLD.seq + 1 AND EXISTS (
               SELECT 1 FROM audit_log
               WHERE seq = NEW.seq AND hash = NEW.hash AND prev_hash = OLD.hash))))
BEGIN
    SELECT RAISE(ABORT, 'audit_head only moves forward, to the record appended after it');
END;
