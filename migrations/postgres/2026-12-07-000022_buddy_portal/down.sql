DROP INDEX buddies_paused_until;
ALTER TABLE buddies
    DROP COLUMN retirement_requested_at,
    DROP COLUMN availability_notes,
    DROP COLUMN paused_until;
DROP TABLE buddy_sessions;
DELETE FROM response_tokens WHERE pairing_id IS NULL;
DROP INDEX response_tokens_buddy_purpose;
ALTER TABLE response_tokens ALTER COLUMN pairing_id SET NOT NULL;
