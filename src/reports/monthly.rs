//! The summary's figures per calendar month (UTC) of its window, for the console's charts:
//! requests by trigger, and the time to match of the requests created each month. Computed from
//! the same [`Facts`] as the summary, by the same rules (a request counts in the month it was
//! created; its time to match runs from its creation to the first accepted proposal), so the
//! months add up to the summary's totals. Not part of the API's report.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::{csv_field, milestones, Durations};
use crate::domain::report::{DurationStats, Window};
use crate::domain::request::Trigger;
use crate::store::reports::Facts;

/// One calendar month of the window.
#[derive(Debug, serde::Serialize)]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: String,
    /// Requests created this month, for every trigger in [`Trigger::ALL`] order.
    pub requests_by_trigger: Vec<(Trigger, u64)>,
    /// Time to match of the requests created this month that have been matched.
    pub time_to_match: Durations,
}

impl MonthFigures {
    pub fn requests(&self) -> u64 {
        self.requests_by_trigger.iter().map(|(_, n)| n).sum()
    }
}

/// The months of the window, oldest first (a month the window touches at all is in).
#[derive(Debug, serde::Serialize)]
pub struct Monthly {
    pub months: Vec<MonthFigures>,
}

/// `YYYY-MM` of a day.
fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// The first day of every month from `window.from`'s to that of the window's last day.
fn months(window: Window) -> Vec<NaiveDate> {
    let last = window.to.pred_opt().unwrap_or(window.to);
    let mut month = window.from.with_day(1).unwrap_or(window.from);
    let mut out = Vec::new();
    while month <= last {
        out.push(month);
        match month.checked_add_months(chrono::Months::new(1)) {
            Some(next) => month = next,
            None => break,
        }
    }
    out
}

impl Monthly {
    /// The figures of `facts`, gathered for `window`, per month.
    pub fn compute(facts: &Facts, window: Window) -> Monthly {
        let mut triggers: BTreeMap<String, BTreeMap<Trigger, u64>> = BTreeMap::new();
        let mut waits: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut created = std::collections::HashMap::new();
        for request in &facts.requests {
            let month = month_of(request.created_at.date());
            *triggers
                .entry(month)
                .or_default()
                .entry(request.trigger)
                .or_default() += 1;
            created.insert(request.id.as_str(), request.created_at);
        }
        let (_, matched) = milestones(facts);
        for (request, at) in matched {
            if let Some(created) = created.get(request) {
                waits
                    .entry(month_of(created.date()))
                    .or_default()
                    .push((at - *created).num_seconds());
            }
        }
        let months = months(window)
            .into_iter()
            .map(|first| {
                let month = month_of(first);
                let counts = triggers.remove(&month).unwrap_or_default();
                MonthFigures {
                    requests_by_trigger: Trigger::ALL
                        .iter()
                        .map(|t| (*t, counts.get(t).copied().unwrap_or(0)))
                        .collect(),
                    time_to_match: DurationStats::of_seconds(
                        waits.remove(&month).unwrap_or_default(),
                    )
                    .into(),
                    month,
                }
            })
            .collect();
        Monthly { months }
    }

    /// The `section,key,value` rows of these figures (keys `YYYY-MM/<figure>`), as CSV lines
    /// in the form of [`super::SummaryReport::to_csv`] (without its header), to follow it.
    pub fn to_csv_lines(&self) -> String {
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        let mut text = String::new();
        let mut line = |section: &str, key: String, value: String| {
            let fields = [section.to_owned(), key, value];
            let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            text.push_str(&fields.join(","));
            text.push_str("\r\n");
        };
        for m in &self.months {
            for (trigger, n) in &m.requests_by_trigger {
                line(
                    "requests_by_trigger_month",
                    format!("{}/{}", m.month, trigger.as_str()),
                    n.to_string(),
                );
            }
            let d = &m.time_to_match;
            line(
                "time_to_match_month",
                format!("{}/count", m.month),
                d.count.to_string(),
            );
            line(
                "time_to_match_month",
                format!("{}/median_hours", m.month),
                opt(d.median_hours),
            );
            line(
                "time_to_match_month",
                format!("{}/p90_hours", m.month),
                opt(d.p90_hours),
            );
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{OrganisationId, RequestId};
    use crate::domain::pairing::PairingState;
    use crate::store::reports::{CohortPairing, RequestFact};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> chrono::NaiveDateTime {
        s.parse().unwrap()
    }

    #[test]
    fn every_month_the_window_touches_is_listed() {
        let window = Window::new(
            Some(d("2026-10-24")),
            Some(d("2026-11-23")),
            d("2026-11-22"),
        )
        .unwrap();
        assert_eq!(months(window), [d("2026-10-01"), d("2026-11-01")]);
        let window = Window::new(
            Some(d("2026-11-01")),
            Some(d("2026-12-01")),
            d("2026-11-22"),
        )
        .unwrap();
        assert_eq!(months(window), [d("2026-11-01")]);
    }

    #[test]
    fn requests_and_times_to_match_fall_in_the_month_of_the_request() {
        let request = |id: &str, trigger, created: &str| RequestFact {
            id: RequestId::from(id),
            organisation_id: OrganisationId::from("o"),
            trigger,
            created_at: at(created),
        };
        let facts = Facts {
            requests: vec![
                request("a", Trigger::Complaint, "2026-10-30T10:00:00"),
                request("b", Trigger::Complaint, "2026-11-02T10:00:00"),
                request("c", Trigger::Questions, "2026-11-03T10:00:00"),
            ],
            cohort_pairings: vec![
                // Matched in November, 48 hours after its October creation.
                CohortPairing {
                    request_id: RequestId::from("a"),
                    state: PairingState::Active,
                    proposed_at: at("2026-10-31T10:00:00"),
                    responded_at: Some(at("2026-11-01T10:00:00")),
                },
                CohortPairing {
                    request_id: RequestId::from("b"),
                    state: PairingState::Declined,
                    proposed_at: at("2026-11-02T12:00:00"),
                    responded_at: Some(at("2026-11-02T13:00:00")),
                },
                CohortPairing {
                    request_id: RequestId::from("c"),
                    state: PairingState::Accepted,
                    proposed_at: at("2026-11-03T11:00:00"),
                    responded_at: Some(at("2026-11-03T16:00:00")),
                },
            ],
            ..Facts::default()
        };
        let window = Window::new(
            Some(d("2026-10-15")),
            Some(d("2026-11-23")),
            d("2026-11-22"),
        )
        .unwrap();
        let monthly = Monthly::compute(&facts, window);
        assert_eq!(monthly.months.len(), 2);
        let (october, november) = (&monthly.months[0], &monthly.months[1]);
        assert_eq!(october.month, "2026-10");
        assert_eq!(october.requests(), 1);
        assert_eq!(
            october.requests_by_trigger,
            [
                (Trigger::FirstTalks, 0),
                (Trigger::Discontent, 0),
                (Trigger::Complaint, 1),
                (Trigger::Questions, 0)
            ]
        );
        assert_eq!(october.time_to_match.count, 1);
        assert_eq!(october.time_to_match.median_hours, Some(48.0));
        assert_eq!(november.requests(), 2);
        assert_eq!(november.time_to_match.count, 1);
        assert_eq!(november.time_to_match.median_hours, Some(6.0));
        let csv = monthly.to_csv_lines();
        assert!(
            csv.contains("requests_by_trigger_month,2026-10/complaint,1\r\n"),
            "{csv}"
        );
        assert!(
            csv.contains("time_to_match_month,2026-11/median_hours,6\r\n"),
            "{csv}"
        );
        assert!(
            csv.contains("time_to_match_month,2026-10/p90_hours,48\r\n"),
            "{csv}"
        );
    }
}
