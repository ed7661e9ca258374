//! Staff sessions: how long one lasts and when failed logins lock a source out.

use chrono::{Duration, NaiveDateTime};

crate::string_enum! {
    /// Where a staff session was opened, and the only place it works: `api` (a bearer token
    /// from `POST /v1/auth/login`) or `console` (the browser console's cookie).
    Channel { Api => "api", Console => "console" }
}

/// How long a console session lasts: it ends after `idle` without a request, and at the latest
/// `absolute` after the login.
#[derive(Debug, Clone, Copy)]
pub struct ConsolePolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl ConsolePolicy {
    /// When a console session used at `now` ends, if it is not used again: after the idle time,
    /// but never after `ends_at`.
    pub fn extended(
        idle_seconds: i32,
        now: NaiveDateTime,
        ends_at: NaiveDateTime,
    ) -> NaiveDateTime {
        (now + Duration::seconds(i64::from(idle_seconds))).min(ends_at)
    }
}

/// The buddy portal's rules (`[portal]`): how long a sign-in link works, how many links one
/// buddy gets per hour, and how long a portal session lasts (idle and absolute, as a console
/// session, [`ConsolePolicy::extended`]).
#[derive(Debug, Clone, Copy)]
pub struct PortalPolicy {
    pub link_ttl: Duration,
    pub links_per_hour: i64,
    pub idle: Duration,
    pub absolute: Duration,
}

/// Login policy: after `max_failures` consecutive failures from one source address, that source
/// is refused for the account for `lockout`, doubling with each further failure up to an hour.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub session_ttl: Duration,
    pub max_failures: i32,
    pub lockout: Duration,
}

impl LoginPolicy {
    /// Until when a source is refused after its `failures`-th consecutive failure at `now`:
    /// from the `max_failures`-th on, `lockout`, doubling with each further failure, at most an
    /// hour.
    pub fn locked_until(&self, failures: i32, now: NaiveDateTime) -> Option<NaiveDateTime> {
        let excess = failures - self.max_failures;
        if excess < 0 {
            return None;
        }
        let factor = 1i32 << excess.min(12);
        Some(now + (self.lockout * factor).min(Duration::hours(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lockout_doubles_from_the_last_allowed_failure_up_to_an_hour() {
        let policy = LoginPolicy {
            session_ttl: Duration::hours(8),
            max_failures: 5,
            lockout: Duration::minutes(5),
        };
        let now = "2026-12-01T09:00:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(policy.locked_until(4, now), None);
        assert_eq!(
            policy.locked_until(5, now),
            Some(now + Duration::minutes(5))
        );
        assert_eq!(
            policy.locked_until(6, now),
            Some(now + Duration::minutes(10))
        );
        assert_eq!(policy.locked_until(9, now), Some(now + Duration::hours(1)));
        assert_eq!(policy.locked_until(40, now), Some(now + Duration::hours(1)));
    }
}
