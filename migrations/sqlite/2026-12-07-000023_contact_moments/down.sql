DROP INDEX pairings_quiet;
ALTER TABLE pairings DROP COLUMN check_in_answered_at;
ALTER TABLE pairings DROP COLUMN check_in_answer;
ALTER TABLE pairings DROP COLUMN check_in_sent_at;
ALTER TABLE pairings DROP COLUMN contact_alerted_for;
ALTER TABLE pairings DROP COLUMN contact_reminded_for;
ALTER TABLE pairings DROP COLUMN quiet_since;
ALTER TABLE pairings DROP COLUMN last_contact_on;
DROP TABLE contact_moments;
