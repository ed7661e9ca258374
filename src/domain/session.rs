//! Staff sessions: how long one lasts and when failed logins lock a source out.

use chrono::Duration;

/// Login policy: after `max_failures` consecutive failures from one source address, that source
/// is refused for the account for `lockout`, doubling with each further failure up to an hour.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub session_ttl: Duration,
    pub max_failures: i32,
    pub lockout: Duration,
}
