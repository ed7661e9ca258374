-- Many audit records per transaction (the group commit of reads): a record may follow the head
-- or the record appended just before it, beyond the head, and the head moves forward to the last
-- record appended, once per transaction. Every record beyond the head is still chained, one by
-- one, back to the head, so the rules of 000010 hold for the chain as a whole: nothing is
-- removed, nothing inserted anywhere but at its end, and the head never moves back or to a
-- record that is not there.

DROP TRIGGER audit_log_at_head;
CREATE TRIGGER audit_log_at_head BEFORE INSERT ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_head
                 WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash)
 AND NOT EXISTS (SELECT 1 FROM audit_log r, audit_head h
                 WHERE h.id = 1 AND r.seq = NEW.seq - 1 AND r.seq > h.seq
                   AND r.hash = NEW.prev_hash)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: a record must follow the head of the chain');
END;

DROP TRIGGER audit_head_forward_only;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NOT (NEW.id = OLD.id AND (
           (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)
        OR (NEW.seq > OLD.seq AND EXISTS (
               SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash))))
BEGIN
    SELECT RAISE(ABORT, 'audit_head only moves forward, to the record appended after it');
END;
