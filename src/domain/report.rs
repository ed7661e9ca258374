//! The arithmetic of the summary report, free of SQL and HTTP: the reporting window, rates,
//! averages and percentiles of durations.

use chrono::{Months, NaiveDate, NaiveDateTime};

use super::pairing::PairingState;

/// The longest window a report may span.
pub const MAX_SPAN_MONTHS: u32 = 60;

/// The span of the default window, ending with today.
pub const DEFAULT_SPAN_DAYS: u64 = 30;

/// A reporting window of whole UTC days: from the start of `from` up to, not including, the
/// start of `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Why a window is refused, with the parameter to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowError {
    pub field: &'static str,
    pub message: String,
}

impl Window {
    /// The window asked for, with the defaults: `to` is tomorrow (so today is included), `from`
    /// is 30 days before `to`. `from` must lie before `to`, and the span be at most five years.
    pub fn new(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Self, WindowError> {
        let to = to.unwrap_or_else(|| today.succ_opt().unwrap_or(today));
        let from = from.unwrap_or_else(|| {
            to.checked_sub_days(chrono::Days::new(DEFAULT_SPAN_DAYS))
                .unwrap_or(NaiveDate::MIN)
        });
        if from >= to {
            return Err(WindowError {
                field: "to",
                message: format!("must be later than `from` ({from}); the window is [from, to)"),
            });
        }
        let latest = from
            .checked_add_months(Months::new(MAX_SPAN_MONTHS))
            .unwrap_or(NaiveDate::MAX);
        if to > latest {
            return Err(WindowError {
                field: "to",
                message: format!(
                    "the window may span at most {} years: `to` may be {latest} at the latest",
                    MAX_SPAN_MONTHS / 12
                ),
            });
        }
        Ok(Window { from, to })
    }

    /// The first instant in the window.
    pub fn start(&self) -> NaiveDateTime {
        self.from.and_time(chrono::NaiveTime::MIN)
    }

    /// The first instant after the window.
    pub fn end(&self) -> NaiveDateTime {
        self.to.and_time(chrono::NaiveTime::MIN)
    }

    pub fn contains(&self, at: NaiveDateTime) -> bool {
        self.start() <= at && at < self.end()
    }
}

/// `count / of`, or `None` when there is nothing to divide by.
pub fn rate(count: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| count as f64 / of as f64)
}

/// The arithmetic mean, or `None` for no values.
pub fn mean(values: &[i32]) -> Option<f64> {
    (!values.is_empty())
        .then(|| values.iter().map(|v| f64::from(*v)).sum::<f64>() / values.len() as f64)
}

/// The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest value such that
/// at least `p` percent of the values are at or below it, i.e. the value at 1-based rank
/// `ceil(p / 100 × n)` of the sorted values. Always one of the values, never interpolated.
/// `None` for no values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    debug_assert!((1..=100).contains(&p));
    debug_assert!(sorted.is_sorted());
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // ceil(p × n / 100) in integers; at least rank 1.
    let rank = (p as usize * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Count, median and 90th percentile of a set of durations, in hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationStats {
    pub count: u64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

impl DurationStats {
    /// From durations in seconds (in any order).
    pub fn of_seconds(mut seconds: Vec<i64>) -> Self {
        seconds.sort_unstable();
        let hours = |s: i64| s as f64 / 3600.0;
        DurationStats {
            count: seconds.len() as u64,
            median_hours: percentile(&seconds, 50).map(hours),
            p90_hours: percentile(&seconds, 90).map(hours),
        }
    }
}

/// How a proposal turned out, judged by its pairing's state now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalOutcome {
    /// Still waiting for an answer.
    Pending,
    /// Accepted (the pairing is `accepted`, `active` or `ended`).
    Accepted,
    Declined,
    Expired,
    /// Withdrawn with its request before anyone answered.
    Cancelled,
}

impl ProposalOutcome {
    pub fn of(state: PairingState) -> Self {
        match state {
            PairingState::Proposed => ProposalOutcome::Pending,
            PairingState::Accepted | PairingState::Active | PairingState::Ended => {
                ProposalOutcome::Accepted
            }
            PairingState::Declined => ProposalOutcome::Declined,
            PairingState::Expired => ProposalOutcome::Expired,
            PairingState::Cancelled => ProposalOutcome::Cancelled,
        }
    }

    /// Whether the buddy's side has settled it: accepted, declined or expired. Pending and
    /// cancelled proposals are not decided, and do not count in the rates.
    pub fn is_decided(self) -> bool {
        matches!(
            self,
            ProposalOutcome::Accepted | ProposalOutcome::Declined | ProposalOutcome::Expired
        )
    }
}

/// Proposal counts and the rates over the decided ones.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProposalTally {
    pub proposed: u64,
    pub pending: u64,
    pub accepted: u64,
    pub declined: u64,
    pub expired: u64,
    pub cancelled: u64,
}

impl ProposalTally {
    pub fn of(states: impl IntoIterator<Item = PairingState>) -> Self {
        let mut tally = ProposalTally::default();
        for state in states {
            tally.proposed += 1;
            match ProposalOutcome::of(state) {
                ProposalOutcome::Pending => tally.pending += 1,
                ProposalOutcome::Accepted => tally.accepted += 1,
                ProposalOutcome::Declined => tally.declined += 1,
                ProposalOutcome::Expired => tally.expired += 1,
                ProposalOutcome::Cancelled => tally.cancelled += 1,
            }
        }
        tally
    }

    /// Accepted, declined or expired.
    pub fn decided(&self) -> u64 {
        self.accepted + self.declined + self.expired
    }

    pub fn acceptance_rate(&self) -> Option<f64> {
        rate(self.accepted, self.decided())
    }

    pub fn decline_rate(&self) -> Option<f64> {
        rate(self.declined, self.decided())
    }

    pub fn expiry_rate(&self) -> Option<f64> {
        rate(self.expired, self.decided())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[7], 90), Some(7));
        // n = 2: median rank ceil(1.0) = 1, p90 rank ceil(1.8) = 2.
        assert_eq!(percentile(&[1, 9], 50), Some(1));
        assert_eq!(percentile(&[1, 9], 90), Some(9));
        // n = 4: median rank 2, p90 rank ceil(3.6) = 4.
        assert_eq!(percentile(&[10, 20, 30, 40], 50), Some(20));
        assert_eq!(percentile(&[10, 20, 30, 40], 90), Some(40));
        // n = 10: p90 rank 9 exactly, median rank 5.
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&ten, 100), Some(10));
        // n = 11: p90 rank ceil(9.9) = 10.
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(percentile(&eleven, 90), Some(10));
        assert_eq!(percentile(&eleven, 50), Some(6));
    }

    #[test]
    fn duration_stats_sort_and_convert_to_hours() {
        let stats = DurationStats::of_seconds(vec![7200, 1800, 36000]);
        assert_eq!(stats.count, 3);
        assert_eq!(stats.median_hours, Some(2.0));
        assert_eq!(stats.p90_hours, Some(10.0));
        let none = DurationStats::of_seconds(Vec::new());
        assert_eq!(
            none,
            DurationStats {
                count: 0,
                median_hours: None,
                p90_hours: None
            }
        );
    }

    #[test]
    fn rates_and_means_are_null_without_data() {
        assert_eq!(rate(1, 0), None);
        assert_eq!(rate(0, 4), Some(0.0));
        assert_eq!(rate(3, 4), Some(0.75));
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[4, 5]), Some(4.5));
    }

    #[test]
    fn proposals_are_tallied_by_outcome_and_rated_over_the_decided() {
        use PairingState::*;
        let tally = ProposalTally::of([
            Proposed, Accepted, Active, Ended, Declined, Declined, Expired, Cancelled,
        ]);
        assert_eq!(
            tally,
            ProposalTally {
                proposed: 8,
                pending: 1,
                accepted: 3,
                declined: 2,
                expired: 1,
                cancelled: 1,
            }
        );
        // 3 + 2 + 1 decided.
        assert_eq!(tally.decided(), 6);
        assert_eq!(tally.acceptance_rate(), Some(0.5));
        assert_eq!(tally.decline_rate(), Some(2.0 / 6.0));
        assert_eq!(tally.expiry_rate(), Some(1.0 / 6.0));
        let undecided = ProposalTally::of([Proposed, Cancelled]);
        assert_eq!(undecided.acceptance_rate(), None);
        assert_eq!(undecided.expiry_rate(), None);
    }

    #[test]
    fn windows_default_to_the_last_thirty_days_and_are_bounded() {
        let today = d("2026-11-22");
        let default = Window::new(None, None, today).unwrap();
        assert_eq!(default.to, d("2026-11-23"));
        assert_eq!(default.from, d("2026-10-24"));
        let only_to = Window::new(None, Some(d("2026-02-01")), today).unwrap();
        assert_eq!(only_to.from, d("2026-01-02"));
        assert_eq!(
            Window::new(Some(d("2026-11-22")), Some(d("2026-11-22")), today)
                .unwrap_err()
                .field,
            "to"
        );
        assert!(Window::new(Some(d("2026-11-23")), Some(d("2026-11-22")), today).is_err());
        assert!(Window::new(Some(d("2021-11-22")), Some(d("2026-11-22")), today).is_ok());
        assert!(Window::new(Some(d("2021-11-22")), Some(d("2026-11-23")), today).is_err());
        // The bounds: from's first instant is in, to's first instant is out.
        let window = Window::new(Some(d("2026-11-01")), Some(d("2026-11-02")), today).unwrap();
        let at = |s: &str| s.parse::<NaiveDateTime>().unwrap();
        assert!(window.contains(at("2026-11-01T00:00:00")));
        assert!(window.contains(at("2026-11-01T23:59:59.999999")));
        assert!(!window.contains(at("2026-11-02T00:00:00")));
        assert!(!window.contains(at("2026-10-31T23:59:59.999999")));
    }
}
