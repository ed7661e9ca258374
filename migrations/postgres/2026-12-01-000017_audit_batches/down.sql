CREATE OR REPLACE FUNCTION audit_log_at_head() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_head
                   WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash) THEN
        RAISE EXCEPTION 'audit_log is append-only: a record must follow the head of the chain';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND (
           (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)
        OR (NEW.seq = OLD.seq + 1 AND EXISTS (
               SELECT 1 FROM audit_log
               WHERE seq = NEW.seq AND hash = NEW.hash AND prev_hash = OLD.hash))) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_head only moves forward, to the record appended after it';
END;
$$ LANGUAGE plpgsql;
