ALTER TABLE staff_sessions DROP COLUMN last_seen_at;
ALTER TABLE staff_sessions DROP COLUMN ends_at;
ALTER TABLE staff_sessions DROP COLUMN idle_seconds;
ALTER TABLE staff_sessions DROP COLUMN channel;
