-- Settings every instance on this database must share. `link_secret` holds a check value
-- derived from the response-link secret (never the secret itself): an instance started with
-- another secret refuses to start, instead of sending links that answer 404.
CREATE TABLE shared_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
