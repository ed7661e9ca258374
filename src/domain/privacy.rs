//! Privacy rules: how long client contact data is kept, and what anonymised and erased records
//! hold instead of personal data.

use chrono::{Duration, NaiveDateTime};

/// What an anonymised client's first name reads (retention or erasure on request).
pub const ANONYMISED: &str = "[anonymised]";

/// What an erased buddy's name and region read.
pub const ERASED: &str = "[erased]";

/// The e-mail address an erased buddy is left with: the column is required, and `.invalid` is
/// reserved (RFC 2606), so nothing can ever be delivered to it.
pub fn erased_email(buddy_id: &str) -> String {
    format!("erased-{buddy_id}@invalid")
}

/// How long client contact data is kept after its request was closed or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub period: Duration,
}

impl Retention {
    pub fn days(days: u32) -> Self {
        Retention {
            period: Duration::days(i64::from(days)),
        }
    }

    /// Requests closed before this moment are due for anonymisation at `now`.
    pub fn cutoff(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_lies_one_period_back() {
        let now = "2027-11-22T09:00:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            Retention::days(365).cutoff(now),
            "2026-11-22T09:00:00".parse::<NaiveDateTime>().unwrap()
        );
    }

    #[test]
    fn the_erased_address_cannot_be_delivered() {
        assert_eq!(erased_email("b-1"), "erased-b-1@invalid");
    }
}
