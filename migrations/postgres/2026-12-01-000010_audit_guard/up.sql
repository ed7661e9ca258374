-- The audit trail cannot be reset from the database either: `audit_log` refuses TRUNCATE as it
-- already refuses UPDATE and DELETE, and a new record must extend the chain at its head; the one
-- `audit_head` row can be neither removed, added to nor moved anywhere but forward to the record
-- just appended. (The table owner can still drop these triggers: anchor the head outside the
-- database with `maatje audit head`, and check it with `maatje audit verify --expect-head`.)

CREATE FUNCTION audit_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();

-- A record is appended at the head: the next seq, chained to the head's hash.
CREATE FUNCTION audit_log_at_head() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_head
                   WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash) THEN
        RAISE EXCEPTION 'audit_log is append-only: a record must follow the head of the chain';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_at_head BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_at_head();

-- The head stays (no DELETE, no INSERT) and moves only forward, one record at a time, to the
-- record just appended after it. Setting it to itself is allowed: that is how an appending
-- writer locks it.
CREATE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
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
CREATE TRIGGER audit_head_forward_only BEFORE INSERT OR UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
