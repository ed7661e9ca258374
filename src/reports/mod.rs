//! The programme summary computed from the store's facts: counts and durations only, no names,
//! contact data or client references (buddies appear by id, organisations by id and name). Its
//! JSON form is [`SummaryReport`] itself; [`SummaryReport::to_csv`] gives the CSV form, guarded
//! against formula injection. No SQL and no HTTP here: `store::reports` gathers the facts,
//! `api::reports` answers the request.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::buddy::BuddyState;
use crate::domain::contact::ContactKind;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::exit_interview::Answer;
use crate::domain::pairing::EndReason;
use crate::domain::report::{mean, DurationStats, ProposalOutcome, ProposalTally, Window};
use crate::domain::request::Trigger;
use crate::store::reports::Facts;

/// A stored id as an id of the report.
fn stored_id(stored: &str) -> DomainResult<Uuid> {
    Uuid::parse_str(stored).map_err(|e| DomainError::internal(format!("corrupt stored id: {e}")))
}

/// The reporting window.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportWindow {
    /// First day, included (from 00:00 UTC).
    pub from: NaiveDate,
    /// Day after the last, excluded (up to 00:00 UTC).
    pub to: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TriggerCount {
    pub trigger: Trigger,
    pub requests: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationCount {
    pub organisation_id: Uuid,
    pub name: String,
    pub requests: u64,
}

/// Requests created in the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestCounts {
    pub total: u64,
    /// Every trigger, also those with no requests.
    pub by_trigger: Vec<TriggerCount>,
    /// The organisations with requests in the window, by name.
    pub by_organisation: Vec<OrganisationCount>,
}

/// Proposals made in the window (pairings proposed in it), by their outcome now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalCounts {
    pub proposed: u64,
    /// Not answered yet.
    pub pending: u64,
    /// Accepted: the pairing is `accepted`, `active` or `ended`.
    pub accepted: u64,
    pub declined: u64,
    pub expired: u64,
    /// Cancelled with their request's withdrawal before an answer.
    pub cancelled: u64,
    /// `accepted + declined + expired`: the denominator of the rates.
    pub decided: u64,
    /// `accepted / decided`; null when nothing is decided.
    pub acceptance_rate: Option<f64>,
    /// `declined / decided`; null when nothing is decided.
    pub decline_rate: Option<f64>,
    /// `expired / decided`; null when nothing is decided.
    pub expiry_rate: Option<f64>,
}

/// Durations in hours: median and 90th percentile by the nearest-rank method (the value at rank
/// `ceil(p/100 × count)` of the sorted durations; never interpolated). Null when `count` is 0.
#[derive(Debug, Serialize, ToSchema)]
pub struct Durations {
    pub count: u64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

impl From<DurationStats> for Durations {
    fn from(stats: DurationStats) -> Self {
        Durations {
            count: stats.count,
            median_hours: stats.median_hours,
            p90_hours: stats.p90_hours,
        }
    }
}

/// One active buddy's load now.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuddyLoad {
    pub buddy_id: Uuid,
    /// Pairings `proposed`, `accepted` or `active`: what occupies capacity.
    pub live_pairings: u64,
    pub capacity: u32,
}

/// Pairings now, whatever the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairingsNow {
    /// Pairings in state `active`.
    pub active: u64,
    /// Every buddy in state `active`, by id.
    pub load: Vec<BuddyLoad>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndReasonCount {
    pub reason: EndReason,
    pub pairings: u64,
}

/// Pairings ended in the window, and their evaluations.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outcomes {
    pub ended: u64,
    /// Every end reason, also those not given.
    pub by_end_reason: Vec<EndReasonCount>,
    /// Endings with a client score.
    pub client_scores: u64,
    /// Mean client score (1 to 5) of those; null when there is none.
    pub average_client_score: Option<f64>,
    /// Endings with a buddy score.
    pub buddy_scores: u64,
    /// Mean buddy score (1 to 5) of those; null when there is none.
    pub average_buddy_score: Option<f64>,
}

/// The recruitment funnel of exit interviews held in the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recruitment {
    /// Every recorded interview (any answer).
    pub asked: u64,
    pub yes: u64,
    pub no: u64,
    pub later: u64,
    /// Of the buddies from those `yes` answers: how many ever entered `screening` (up to now).
    pub reached_screening: u64,
    /// Of the buddies from those `yes` answers: how many ever entered `active` (up to now).
    pub reached_active: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactKindCount {
    pub kind: ContactKind,
    pub contacts: u64,
}

/// Contact moments of pairings, as their buddies recorded them: those dated in the window, and
/// the pairings flagged now for going without contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactFigures {
    /// Contact moments dated in the window.
    pub recorded: u64,
    /// Every kind, also those not recorded.
    pub by_kind: Vec<ContactKindCount>,
    /// Pairings with at least one contact moment dated in the window.
    pub pairings_with_contact: u64,
    /// Contact moments per pairing, over those pairings; null when there is none.
    pub average_per_pairing: Option<f64>,
    /// Active pairings flagged now: no contact for twice `workflow.contact_reminder_days`, and
    /// the client bureau was told.
    pub without_recent_contact: u64,
}

/// The programme summary. What falls in the window `[from, to)`: requests by their creation,
/// proposals by when they were made, endings by when they ended, exit interviews by the day
/// they were held. Durations concern the requests created in the window, measured whenever their
/// first proposal or acceptance came. `pairings` and `overdue` describe the moment of the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryReport {
    pub window: ReportWindow,
    /// The organisation reported on; null for all.
    pub organisation_id: Option<Uuid>,
    pub generated_at: DateTime<Utc>,
    pub requests: RequestCounts,
    pub proposals: ProposalCounts,
    /// From a request's creation to its first proposal, for the requests created in the window
    /// that have had one.
    pub time_to_first_proposal: Durations,
    /// From a request's creation to the acceptance of a proposal, for the requests created in
    /// the window that have been matched.
    pub time_to_match: Durations,
    pub pairings: PairingsNow,
    pub outcomes: Outcomes,
    pub recruitment: Recruitment,
    /// Requests overdue now: still `open` `workflow.overdue_after_days` days or longer after
    /// their creation (whenever they were created).
    pub overdue: u64,
    pub contacts: ContactFigures,
    /// Client feedback of the quarters the window touches, per organisation (the one reported
    /// on, else every organisation) and quarter; a group of fewer than 5 answers is suppressed.
    pub client_feedback: feedback::FeedbackFigures,
}

pub mod feedback;
pub mod monthly;

/// When each request of the cohort (created in the window) had its first proposal, and when it
/// was first matched (a proposal accepted), by request id.
type Milestones<'a> = (
    HashMap<&'a str, chrono::NaiveDateTime>,
    HashMap<&'a str, chrono::NaiveDateTime>,
);

fn milestones(facts: &Facts) -> Milestones<'_> {
    let mut first_proposal: HashMap<&str, chrono::NaiveDateTime> = HashMap::new();
    let mut matched: HashMap<&str, chrono::NaiveDateTime> = HashMap::new();
    for pairing in &facts.cohort_pairings {
        let request = pairing.request_id.as_str();
        let first = first_proposal.entry(request).or_insert(pairing.proposed_at);
        *first = (*first).min(pairing.proposed_at);
        let outcome = ProposalOutcome::of(pairing.state);
        if let (ProposalOutcome::Accepted, Some(at)) = (outcome, pairing.responded_at) {
            let earliest = matched.entry(request).or_insert(at);
            *earliest = (*earliest).min(at);
        }
    }
    (first_proposal, matched)
}

fn count(n: usize) -> u64 {
    n as u64
}

impl ContactFigures {
    fn of(facts: &Facts) -> ContactFigures {
        let mut by_kind: BTreeMap<ContactKind, u64> =
            ContactKind::ALL.iter().map(|k| (*k, 0)).collect();
        let mut pairings: HashSet<&str> = HashSet::new();
        for (pairing, kind) in &facts.contacts {
            *by_kind.entry(*kind).or_default() += 1;
            pairings.insert(pairing.as_str());
        }
        let recorded = count(facts.contacts.len());
        let with_contact = count(pairings.len());
        ContactFigures {
            recorded,
            by_kind: by_kind
                .into_iter()
                .map(|(kind, contacts)| ContactKindCount { kind, contacts })
                .collect(),
            pairings_with_contact: with_contact,
            average_per_pairing: (with_contact > 0).then(|| recorded as f64 / with_contact as f64),
            without_recent_contact: facts.contact_overdue.max(0) as u64,
        }
    }
}

impl SummaryReport {
    /// The summary of `facts`, gathered for `window` and `organisation_id` at `now`.
    pub fn compute(
        facts: Facts,
        window: Window,
        organisation_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> DomainResult<Self> {
        // Requests created in the window.
        let mut by_trigger: BTreeMap<Trigger, u64> = Trigger::ALL.iter().map(|t| (*t, 0)).collect();
        let mut by_organisation: HashMap<&str, u64> = HashMap::new();
        let mut created = HashMap::new();
        for request in &facts.requests {
            *by_trigger.entry(request.trigger).or_default() += 1;
            *by_organisation
                .entry(request.organisation_id.as_str())
                .or_default() += 1;
            created.insert(request.id.as_str(), request.created_at);
        }
        let names: HashMap<&str, &str> = facts
            .organisation_names
            .iter()
            .map(|(id, name)| (id.as_str(), name.as_str()))
            .collect();
        let mut organisations = by_organisation
            .into_iter()
            .map(|(id, requests)| {
                Ok(OrganisationCount {
                    organisation_id: stored_id(id)?,
                    name: names.get(id).copied().unwrap_or_default().to_owned(),
                    requests,
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        organisations.sort_by(|a, b| {
            (a.name.as_str(), a.organisation_id).cmp(&(b.name.as_str(), b.organisation_id))
        });

        // Proposals made in the window.
        let tally = ProposalTally::of(facts.proposal_states.iter().copied());

        // Durations of the requests created in the window.
        let (first_proposal, matched) = milestones(&facts);
        let since_creation = |times: HashMap<&str, chrono::NaiveDateTime>| {
            times
                .into_iter()
                .filter_map(|(request, at)| {
                    created
                        .get(request)
                        .map(|created| (at - *created).num_seconds())
                })
                .collect::<Vec<i64>>()
        };
        let time_to_first_proposal = DurationStats::of_seconds(since_creation(first_proposal));
        let time_to_match = DurationStats::of_seconds(since_creation(matched));

        // Pairings and load now.
        let loads: HashMap<&str, i64> = facts
            .live_loads
            .iter()
            .map(|(id, n)| (id.as_str(), *n))
            .collect();
        let mut load = facts
            .active_buddies
            .iter()
            .map(|(id, capacity)| {
                Ok(BuddyLoad {
                    buddy_id: stored_id(id)?,
                    live_pairings: loads.get(id.as_str()).copied().unwrap_or(0).max(0) as u64,
                    capacity: (*capacity).max(0) as u32,
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        load.sort_by_key(|l| l.buddy_id);

        // Endings in the window.
        let mut by_reason: BTreeMap<EndReason, u64> =
            EndReason::ALL.iter().map(|r| (*r, 0)).collect();
        for ending in &facts.endings {
            if let Some(reason) = ending.end_reason {
                *by_reason.entry(reason).or_default() += 1;
            }
        }
        let client: Vec<i32> = facts
            .endings
            .iter()
            .filter_map(|e| e.client_score)
            .collect();
        let buddy: Vec<i32> = facts.endings.iter().filter_map(|e| e.buddy_score).collect();

        // Exit interviews held in the window.
        let mut answers: HashMap<Answer, u64> = HashMap::new();
        for (answer, _) in &facts.interviews {
            *answers.entry(*answer).or_default() += 1;
        }
        let reached = |state: BuddyState| {
            let buddies: HashSet<&str> = facts
                .buddy_states_reached
                .iter()
                .filter(|(_, s)| s == state.as_str())
                .map(|(id, _)| id.as_str())
                .collect();
            count(buddies.len())
        };

        Ok(SummaryReport {
            window: ReportWindow {
                from: window.from,
                to: window.to,
            },
            organisation_id,
            generated_at: now,
            requests: RequestCounts {
                total: count(facts.requests.len()),
                by_trigger: by_trigger
                    .into_iter()
                    .map(|(trigger, requests)| TriggerCount { trigger, requests })
                    .collect(),
                by_organisation: organisations,
            },
            proposals: ProposalCounts {
                proposed: tally.proposed,
                pending: tally.pending,
                accepted: tally.accepted,
                declined: tally.declined,
                expired: tally.expired,
                cancelled: tally.cancelled,
                decided: tally.decided(),
                acceptance_rate: tally.acceptance_rate(),
                decline_rate: tally.decline_rate(),
                expiry_rate: tally.expiry_rate(),
            },
            time_to_first_proposal: time_to_first_proposal.into(),
            time_to_match: time_to_match.into(),
            pairings: PairingsNow {
                active: facts.active_pairings.max(0) as u64,
                load,
            },
            outcomes: Outcomes {
                ended: count(facts.endings.len()),
                by_end_reason: by_reason
                    .into_iter()
                    .map(|(reason, pairings)| EndReasonCount { reason, pairings })
                    .collect(),
                client_scores: count(client.len()),
                average_client_score: mean(&client),
                buddy_scores: count(buddy.len()),
                average_buddy_score: mean(&buddy),
            },
            recruitment: Recruitment {
                asked: count(facts.interviews.len()),
                yes: answers.get(&Answer::Yes).copied().unwrap_or(0),
                no: answers.get(&Answer::No).copied().unwrap_or(0),
                later: answers.get(&Answer::Later).copied().unwrap_or(0),
                reached_screening: reached(BuddyState::Screening),
                reached_active: reached(BuddyState::Active),
            },
            overdue: facts.overdue.max(0) as u64,
            contacts: ContactFigures::of(&facts),
            client_feedback: feedback::FeedbackFigures::compute(&facts.feedback)?,
        })
    }

    /// The `section,key,value` rows of the CSV form, in the order of the JSON form.
    fn rows(&self) -> Vec<[String; 3]> {
        fn opt(value: Option<f64>) -> String {
            value.map(|v| v.to_string()).unwrap_or_default()
        }
        let mut rows: Vec<[String; 3]> = Vec::new();
        let mut row = |section: &str, key: &str, value: String| {
            rows.push([section.to_owned(), key.to_owned(), value]);
        };
        row("window", "from", self.window.from.to_string());
        row("window", "to", self.window.to.to_string());
        row(
            "window",
            "organisation_id",
            self.organisation_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        );
        row(
            "window",
            "generated_at",
            self.generated_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        );
        row("requests", "total", self.requests.total.to_string());
        for t in &self.requests.by_trigger {
            row(
                "requests_by_trigger",
                t.trigger.as_str(),
                t.requests.to_string(),
            );
        }
        for o in &self.requests.by_organisation {
            let id = o.organisation_id.to_string();
            row("requests_by_organisation", &id, o.requests.to_string());
            row("organisation_name", &id, o.name.clone());
        }
        let p = &self.proposals;
        for (key, value) in [
            ("proposed", p.proposed),
            ("pending", p.pending),
            ("accepted", p.accepted),
            ("declined", p.declined),
            ("expired", p.expired),
            ("cancelled", p.cancelled),
            ("decided", p.decided),
        ] {
            row("proposals", key, value.to_string());
        }
        row("proposals", "acceptance_rate", opt(p.acceptance_rate));
        row("proposals", "decline_rate", opt(p.decline_rate));
        row("proposals", "expiry_rate", opt(p.expiry_rate));
        for (section, d) in [
            ("time_to_first_proposal", &self.time_to_first_proposal),
            ("time_to_match", &self.time_to_match),
        ] {
            row(section, "count", d.count.to_string());
            row(section, "median_hours", opt(d.median_hours));
            row(section, "p90_hours", opt(d.p90_hours));
        }
        row("pairings", "active", self.pairings.active.to_string());
        for l in &self.pairings.load {
            let id = l.buddy_id.to_string();
            row("buddy_live_pairings", &id, l.live_pairings.to_string());
            row("buddy_capacity", &id, l.capacity.to_string());
        }
        let o = &self.outcomes;
        row("outcomes", "ended", o.ended.to_string());
        for r in &o.by_end_reason {
            row(
                "outcomes_by_end_reason",
                r.reason.as_str(),
                r.pairings.to_string(),
            );
        }
        row("outcomes", "client_scores", o.client_scores.to_string());
        row(
            "outcomes",
            "average_client_score",
            opt(o.average_client_score),
        );
        row("outcomes", "buddy_scores", o.buddy_scores.to_string());
        row(
            "outcomes",
            "average_buddy_score",
            opt(o.average_buddy_score),
        );
        let r = &self.recruitment;
        for (key, value) in [
            ("asked", r.asked),
            ("yes", r.yes),
            ("no", r.no),
            ("later", r.later),
            ("reached_screening", r.reached_screening),
            ("reached_active", r.reached_active),
        ] {
            row("recruitment", key, value.to_string());
        }
        row("overdue", "now", self.overdue.to_string());
        let c = &self.contacts;
        row("contacts", "recorded", c.recorded.to_string());
        for k in &c.by_kind {
            row("contacts_by_kind", k.kind.as_str(), k.contacts.to_string());
        }
        row(
            "contacts",
            "pairings_with_contact",
            c.pairings_with_contact.to_string(),
        );
        row(
            "contacts",
            "average_per_pairing",
            opt(c.average_per_pairing),
        );
        row(
            "contacts",
            "without_recent_contact",
            c.without_recent_contact.to_string(),
        );
        self.client_feedback.csv_rows(&mut row);
        rows
    }

    /// RFC 4180 CSV: a `section,key,value` header, CRLF line ends, fields guarded and quoted
    /// by [`csv_field`].
    pub fn to_csv(&self) -> String {
        let mut text = String::from("section,key,value\r\n");
        for fields in self.rows() {
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            text.push_str(&line.join(","));
            text.push_str("\r\n");
        }
        text
    }
}

/// What a spreadsheet may cut a field at into cells: the RFC 4180 comma, the `;` of Dutch (and
/// other) locales, tab, and line breaks.
const CELL_BREAKS: [char; 5] = [',', ';', '\t', '\r', '\n'];

/// Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
const FORMULA_STARTS: [char; 4] = ['=', '+', '-', '@'];

/// One CSV field, guarded and quoted.
///
/// Guarded: wherever a cell could start in it (at the start of the field, and after every
/// [`CELL_BREAKS`] character, since a reader splitting on `;` does not honour quotes in the
/// middle of a line), a formula character (`=`, `+`, `-`, `@`, after any spaces) gets a `'`
/// before it, and so does a field starting with tab or CR, as OWASP advises. So opening the
/// report cannot run anything an organisation's name smuggles in.
///
/// Quoted (with doubled quotes) when it holds a separator (`,`, `;`, tab), a quote, a line
/// break, or leading or trailing space.
pub(crate) fn csv_field(value: &str) -> String {
    let mut guarded = String::with_capacity(value.len() + 2);
    if value.starts_with(['\t', '\r']) {
        guarded.push('\'');
    }
    let mut cell_start = true;
    for c in value.chars() {
        if cell_start && FORMULA_STARTS.contains(&c) {
            guarded.push('\'');
        }
        if c != ' ' {
            cell_start = false;
        }
        guarded.push(c);
        if CELL_BREAKS.contains(&c) {
            cell_start = true;
        }
    }
    let needs_quotes = guarded.contains([',', ';', '\t', '"', '\n', '\r'])
        || guarded.starts_with(' ')
        || guarded.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("0.5"), "0.5");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(" padded"), "\" padded\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-x,y"), "\"'-x,y\"");
        // Values the report really holds pass unchanged.
        for plain in [
            "2026-11-22",
            "2026-11-22T09:00:00Z",
            "0190aaaa-0000-7000-8000-000000000001",
            "GI Zuid",
            "a@b",
        ] {
            assert_eq!(csv_field(plain), plain);
        }
    }

    /// Dutch-locale spreadsheets split on `;`: a field holding one is quoted like one holding a
    /// comma, and so is one holding a tab.
    #[test]
    fn every_separator_is_quoted() {
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("a\tb"), "\"a\tb\"");
        assert_eq!(csv_field("a\r\nb"), "\"a\r\nb\"");
    }

    /// Each cell a spreadsheet may make of a field (a reader splitting on `,`, `;` or tab
    /// without honouring quotes in the middle of a line, or on a line break) is guarded, not
    /// only the start of the field.
    #[test]
    fn every_cell_a_spreadsheet_may_see_is_guarded() {
        assert_eq!(
            csv_field("Zorg;=HYPERLINK(\"https://x.example\";\"klik\")"),
            "\"Zorg;'=HYPERLINK(\"\"https://x.example\"\";\"\"klik\"\")\""
        );
        assert_eq!(csv_field("a,+b"), "\"a,'+b\"");
        assert_eq!(csv_field("a\t-b"), "\"a\t'-b\"");
        assert_eq!(csv_field("a\n@SUM(1)"), "\"a\n'@SUM(1)\"");
        assert_eq!(csv_field("a; =1"), "\"a; '=1\"");
        assert_eq!(csv_field(" =1"), "\" '=1\"");
        assert_eq!(csv_field("\t=1"), "\"'\t'=1\"");
        assert_eq!(csv_field("\r"), "\"'\r\"");
        assert_eq!(csv_field("@"), "'@");
        // A separator not followed by a formula character needs no guard.
        assert_eq!(csv_field("a;b=c"), "\"a;b=c\"");
    }
}
