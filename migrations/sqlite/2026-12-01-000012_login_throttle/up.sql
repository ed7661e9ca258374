-- Failed logins per staff account and source address (OWASP: throttle by account and source,
-- with a progressive delay): after auth.max_failed_logins failures from one source, that source
-- is refused for the account for auth.lockout_seconds, doubling with each further failure (at
-- most an hour). Other sources are not affected, so nobody can lock an account's owner out.
CREATE TABLE login_throttle (
    staff_id      TEXT NOT NULL REFERENCES staff (id),
    source        TEXT NOT NULL,
    failures      INTEGER NOT NULL,
    locked_until  TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (staff_id, source)
);
