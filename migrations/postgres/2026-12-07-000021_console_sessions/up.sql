-- Staff sessions of the browser console beside those of the API. A session belongs to one
-- channel: an API token never opens the console and a console cookie never calls the API.
-- A console session also ends after idle time: `expires_at` moves forward with use, up to
-- `ends_at`, by `idle_seconds`; `last_seen_at` is when that was last noted.
ALTER TABLE staff_sessions
    ADD COLUMN channel TEXT NOT NULL DEFAULT 'api' CHECK (channel IN ('api', 'console')),
    ADD COLUMN idle_seconds INTEGER,
    ADD COLUMN ends_at TIMESTAMP,
    ADD COLUMN last_seen_at TIMESTAMP;
