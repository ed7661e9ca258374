-- A response link can be revoked before it is used: when its buddy is paused or retired, or
-- their e-mail address changes (the proposal is then mailed again with a fresh link).
ALTER TABLE response_tokens ADD COLUMN revoked_at TIMESTAMP;
