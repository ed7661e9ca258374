-- Many audit records per transaction (the group commit of reads): a record may follow the head
-- or the record appended just before it, beyond the head, and the head moves forward to the last
-- record appended, once per transaction. Every record beyond the head is still chained, one by
-- one, back to the head, so the rules of 000010 hold for the chain as a whole: nothing is
-- removed, nothing inserted anywhere but at its end, and the head never moves back or to a
-- record that is not there. (A row trigger sees the rows its statement inserted before, so a
-- multi-row INSERT is checked row by row.)

CREATE OR REPLACE FUNCTION audit_log_at_head() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_head
                   WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash)
       AND NOT EXISTS (SELECT 1 FROM audit_log r, audit_head h
                       WHERE h.id = 1 AND r.seq = NEW.seq - 1 AND r.seq > h.seq
                         AND r.hash = NEW.prev_hash) THEN
        RAISE EXCEPTION 'audit_log is append-only: a record must follow the head of the chain';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND (
           (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)
        OR (NEW.seq > OLD.seq AND EXISTS (
               SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash))) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_head only moves forward, to the record appended after it';
END;
$$ LANGUAGE plpgsql;
