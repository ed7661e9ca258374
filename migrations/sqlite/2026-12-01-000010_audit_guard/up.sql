-- The audit trail cannot be reset from the database either. SQLite has no TRUNCATE (a
-- `DELETE FROM audit_log` without WHERE is refused by the existing DELETE trigger). A new record
-- must extend the chain at its head; the one `audit_head` row can be neither removed, added to
-- nor moved anywhere but forward to the record just appended. (Whoever can write the file can
-- still drop these triggers: anchor the head outside the database with `maatje audit head`, and
-- check it with `maatje audit verify --expect-head`.)

-- A record is appended at the head: the next seq, chained to the head's hash.
CREATE TRIGGER audit_log_at_head BEFORE INSERT ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_head
                 WHERE id = 1 AND seq + 1 = NEW.seq AND hash = NEW.prev_hash)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: a record must follow the head of the chain');
END;

CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit_head only moves forward, to the record appended after it');
END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit_head only moves forward, to the record appended after it');
END;
-- Setting the head to itself is allowed: that is how an appending writer locks it.
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NOT (NEW.id = OLD.id AND (
           (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)
        OR (NEW.seq = OLD.seq + 1 AND EXISTS (
               SELECT 1 FROM audit_log
               WHERE seq = NEW.seq AND hash = NEW.hash AND prev_hash = OLD.hash))))
BEGIN
    SELECT RAISE(ABORT, 'audit_head only moves forward, to the record appended after it');
END;
