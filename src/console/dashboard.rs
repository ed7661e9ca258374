//! The work queue (werkvoorraad), the console's home page: what needs someone's attention.
//!
//! - open requests, oldest first, the overdue ones marked (the service level of
//!   `workflow.overdue_after_days`, [`crate::domain::request::ServiceLevel`]);
//! - proposals waiting for the buddy's answer, with the moment they expire;
//! - buddies whose VOG turns too old for activation within 30 days (the domain's rule,
//!   [`Screening::vog_valid_until`]);
//! - mails that could not be delivered (administrators can queue them again).

use actix_web::web::Data;
use actix_web::HttpResponse;
use chrono::NaiveDateTime;
use minijinja::context;
use serde::Serialize;

use super::page::Viewer;
use super::router::Router;
use crate::auth::policy::{AuditAction, STAFF_ONLY};
use crate::domain::buddy::Screening;
use crate::error::ApiResult;
use crate::ops::AppState;
use crate::store::console as store;

/// How far ahead the work queue warns of an ageing VOG.
pub const VOG_WARNING_DAYS: u64 = 30;

pub fn routes(router: &mut Router<'_>) {
    router.path("/console", |p| {
        p.get(
            STAFF_ONLY.audit(AuditAction::Search, "buddy_request"),
            dashboard,
        )
    });
}

/// A time as the templates' filters read it.
pub fn ts(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[derive(Serialize)]
struct OpenRequest {
    id: String,
    client_ref: String,
    trigger: String,
    region: String,
    created_at: String,
    overdue: bool,
}

#[derive(Serialize)]
struct Waiting {
    id: String,
    request_id: String,
    buddy_id: String,
    proposed_at: String,
    expires_at: String,
}

#[derive(Serialize)]
struct AgeingVog {
    id: String,
    name: String,
    state: String,
    vog_issued_on: String,
    too_old_on: String,
}

#[derive(Serialize)]
struct DeadMail {
    id: String,
    kind: String,
    attempts: i32,
    created_at: String,
}

async fn dashboard(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    viewer.respond(load(&viewer, &state).await)
}

async fn load(viewer: &Viewer, state: &AppState) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let level = state.service_level;
    let cutoff = level.cutoff(now);
    let window = state.reactions.notices.proposal_window();
    let today = crate::i18n::local_day(now);
    // A VOG counts through its day plus VOG_VALIDITY_MONTHS months (the domain's rule) and is
    // too old the day after: warn of those that turn too old within the coming 30 days.
    let from = Screening::oldest_valid_vog(today);
    let to = Screening::oldest_valid_vog(today + chrono::Days::new(VOG_WARNING_DAYS - 1));
    let (requests, proposals, vogs, dead, counts) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok((
                store::open_requests(conn)?,
                store::waiting_proposals(conn)?,
                store::ageing_vogs(conn, from, to)?,
                store::dead_mails(conn)?,
                store::counts(conn, cutoff)?,
            ))
        })
        .await?;
    let mut requests: Vec<OpenRequest> = requests
        .into_iter()
        .map(|r| OpenRequest {
            overdue: level.is_overdue(r.state, r.created_at, now),
            id: r.id.to_string(),
            client_ref: r.client_ref,
            trigger: r.trigger_kind.as_str().to_owned(),
            region: r.region,
            created_at: ts(r.created_at),
        })
        .collect();
    // Overdue first; within each, the oldest first (the order they were read in).
    requests.sort_by_key(|r| !r.overdue);
    let proposals: Vec<Waiting> = proposals
        .into_iter()
        .map(|p| Waiting {
            id: p.id.to_string(),
            request_id: p.request_id.to_string(),
            buddy_id: p.buddy_id.to_string(),
            proposed_at: ts(p.proposed_at),
            expires_at: ts(window.expires_at(p.proposed_at)),
        })
        .collect();
    let vogs: Vec<AgeingVog> = vogs
        .into_iter()
        .filter_map(|b| {
            let issued = b.vog_issued_on?;
            Some(AgeingVog {
                id: b.id.to_string(),
                name: b.full_name,
                state: b.state.as_str().to_owned(),
                vog_issued_on: issued.to_string(),
                too_old_on: (Screening::vog_valid_until(issued)? + chrono::Days::new(1))
                    .to_string(),
            })
        })
        .collect();
    let dead: Vec<DeadMail> = dead
        .into_iter()
        .map(|m| DeadMail {
            id: m.id,
            kind: m.kind,
            attempts: m.attempts,
            created_at: ts(m.created_at),
        })
        .collect();
    Ok(viewer.page(
        "dashboard.html",
        context! {
            now => ts(now),
            requests => requests,
            proposals => proposals,
            vogs => vogs,
            dead => dead,
            open_count => counts[0],
            overdue_count => counts[1],
            waiting_count => counts[2],
            overdue_days => level.overdue_after_days,
        },
    ))
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("dashboard.title", "Werkvoorraad", "Work queue"),
    ("dashboard.summary", "{open} open aanvragen, waarvan {overdue} te laat; {waiting} voorstellen wachten op antwoord.", "{open} open requests, {overdue} of them overdue; {waiting} proposals await an answer."),
    ("dashboard.requests", "Open aanvragen", "Open requests"),
    ("dashboard.requests_help", "Oudste eerst; te laat na {days} dagen.", "Oldest first; overdue after {days} days."),
    ("dashboard.no_requests", "Geen open aanvragen.", "No open requests."),
    ("dashboard.client_ref", "Cliëntverwijzing", "Client reference"),
    ("dashboard.trigger", "Aanleiding", "Reason"),
    ("dashboard.region", "Regio", "Region"),
    ("dashboard.waiting_for", "Wacht sinds", "Waiting for"),
    ("dashboard.overdue", "Te laat", "Overdue"),
    ("dashboard.on_time", "Op tijd", "On time"),
    ("dashboard.proposals", "Voorstellen die wachten op antwoord", "Proposals awaiting an answer"),
    ("dashboard.no_proposals", "Geen voorstellen die wachten.", "No proposals waiting."),
    ("dashboard.proposed_at", "Voorgesteld op", "Proposed"),
    ("dashboard.expires_at", "Antwoord uiterlijk", "Answer by"),
    ("dashboard.vogs", "VOG verloopt binnenkort", "VOG about to expire"),
    ("dashboard.vogs_help", "Maatjes van wie de VOG binnen 30 dagen ouder wordt dan 3 maanden; daarna is voor activering een nieuwe nodig.", "Buddies whose VOG turns 3 months old within 30 days; after that, activation needs a new one."),
    ("dashboard.no_vogs", "Geen VOG's die binnenkort verlopen.", "No VOGs about to expire."),
    ("dashboard.vog_issued", "VOG afgegeven", "VOG issued"),
    ("dashboard.vog_too_old", "Te oud vanaf", "Too old from"),
    ("dashboard.name", "Naam", "Name"),
    ("dashboard.dead", "Onbestelbare e-mails", "Undeliverable e-mails"),
    ("dashboard.no_dead", "Geen onbestelbare e-mails.", "No undeliverable e-mails."),
    ("dashboard.kind", "Soort", "Kind"),
    ("dashboard.attempts", "Pogingen", "Attempts"),
    ("dashboard.request", "Aanvraag", "Request"),
    ("dashboard.buddy", "Maatje", "Buddy"),
    ("dashboard.open_request", "Aanvraag {ref} openen", "Open request {ref}"),
];
