ALTER TABLE response_tokens DROP COLUMN revoked_at;
