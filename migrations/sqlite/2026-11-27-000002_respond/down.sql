DROP INDEX pairings_state_proposed_at;
ALTER TABLE buddy_requests DROP COLUMN overdue_notified_at;
ALTER TABLE pairings DROP COLUMN reminder_sent_at;
DROP TABLE response_tokens;
