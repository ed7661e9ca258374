//! Pairings: the board (a column per state: proposed, accepted, active, and what ended,
//! was declined, expired or was cancelled in the last [`RECENT_DAYS`] days), one pairing with
//! its history and the actions its state allows, the end form with the evaluation, and the
//! CSV export.
//!
//! Every change is the API's: accept, decline, activate and end as `POST
//! /v1/pairings/{id}/{action}` (`ops::pairings::act`). Cancelling a proposal, which the API does
//! only through withdrawing the request, is the same operation with the `cancel` action: the
//! proposal is cancelled (the buddy is told) and the request is open again.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDateTime};
use minijinja::{context, Value};
use serde::Serialize;

use super::casework::{csv_response, query_fields, text_or, HistoryLine};
use super::dashboard::ts;
use super::forms::{self, FieldErrors, FormData};
use super::page::path_id;
use super::page::{explain, see_other, Viewer};
use super::router::Router;
use crate::api::pairings::{EndPairing, Evaluation, Pairing};
use crate::api::{history_page_with, HistoryQuery};
use crate::audit::note_client_ref;
use crate::auth::policy::{AuditAction, STAFF_ONLY};
use crate::domain::contact::CheckInAnswer;
use crate::domain::ids::PairingId;
use crate::domain::pairing::{EndReason, PairingAction, PairingState};
use crate::domain::values::{Check, MAX_NOTE, MAX_REASON};
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, AppState};
use crate::store::casework;
use crate::store::pairings::{self as store, PairingRow};

/// How far back the board shows pairings that are over.
pub const RECENT_DAYS: i64 = 30;
/// The most contact moments the pairing's page lists (the latest).
const MAX_CONTACTS: i64 = 50;
/// At most this many cards on the board.
pub const BOARD_LIMIT: i64 = 1000;
/// At most this many pairings in one export.
pub const EXPORT_LIMIT: i64 = 10_000;

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/pairings", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Search, "pairing"), board)
        })
        .path("/console/pairings.csv", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Export, "pairing"), export)
        })
        .path("/console/pairings/{id}", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Read, "pairing"), show)
        })
        .path("/console/pairings/{id}/accept", |p| {
            p.post(STAFF_ONLY.audit(AuditAction::Update, "pairing"), accept)
        })
        .path("/console/pairings/{id}/decline", |p| {
            p.post(STAFF_ONLY.audit(AuditAction::Update, "pairing"), decline)
        })
        .path("/console/pairings/{id}/activate", |p| {
            p.post(STAFF_ONLY.audit(AuditAction::Update, "pairing"), activate)
        })
        .path("/console/pairings/{id}/cancel", |p| {
            p.post(STAFF_ONLY.audit(AuditAction::Update, "pairing"), cancel)
        })
        .path("/console/pairings/{id}/end", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Read, "pairing"), end_form)
                .post(STAFF_ONLY.audit(AuditAction::Update, "pairing"), end)
        });
}

/// Since when a pairing is in its state.
fn in_state_since(row: &PairingRow) -> NaiveDateTime {
    match row.state {
        PairingState::Proposed => Some(row.proposed_at),
        PairingState::Accepted | PairingState::Declined => row.responded_at,
        PairingState::Active => row.activated_at,
        PairingState::Ended => row.ended_at,
        PairingState::Expired | PairingState::Cancelled => None,
    }
    .unwrap_or(row.updated_at)
}

/// The actions a pairing's state allows (the domain's machine decides).
fn allowed(state: PairingState) -> Vec<&'static str> {
    use crate::domain::lifecycle::Lifecycle;
    [
        PairingAction::Accept,
        PairingAction::Decline,
        PairingAction::Cancel,
        PairingAction::Activate,
        PairingAction::End,
    ]
    .into_iter()
    .filter(|a| state.next(*a).is_some())
    .map(|a| a.as_str())
    .collect()
}

#[derive(Serialize)]
struct Card {
    id: String,
    request_id: String,
    client_ref: String,
    buddy_id: String,
    buddy_name: String,
    state: String,
    since: String,
    expires_at: Option<String>,
    actions: Vec<&'static str>,
    /// Without contact too long (the API's `contact_overdue`).
    contact_overdue: bool,
    /// The buddy answered the check-in asking for help.
    needs_help: bool,
}

#[derive(Serialize)]
struct Column {
    key: &'static str,
    cards: Vec<Card>,
}

async fn board(req: HttpRequest, viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let done = query_fields(&req).get("done").to_owned();
    viewer.respond(board_page(&viewer, &state, &done).await)
}

async fn board_page(viewer: &Viewer, state: &AppState, done: &str) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let since = now - Duration::days(RECENT_DAYS);
    let window = state.reactions.notices.proposal_window();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(casework::board(conn, since, BOARD_LIMIT)?) })
        .await?;
    let mut columns = vec![
        Column {
            key: "proposed",
            cards: Vec::new(),
        },
        Column {
            key: "accepted",
            cards: Vec::new(),
        },
        Column {
            key: "active",
            cards: Vec::new(),
        },
        Column {
            key: "over",
            cards: Vec::new(),
        },
    ];
    for (row, client_ref, buddy_name) in rows {
        let column = match row.state {
            PairingState::Proposed => 0,
            PairingState::Accepted => 1,
            PairingState::Active => 2,
            _ => 3,
        };
        columns[column].cards.push(Card {
            id: row.id.to_string(),
            request_id: row.request_id.to_string(),
            client_ref,
            buddy_id: row.buddy_id.to_string(),
            buddy_name,
            state: row.state.as_str().to_owned(),
            since: ts(in_state_since(&row)),
            expires_at: (row.state == PairingState::Proposed)
                .then(|| ts(window.expires_at(row.proposed_at))),
            actions: allowed(row.state),
            contact_overdue: crate::store::contacts::is_overdue(
                row.state,
                row.quiet_since,
                row.contact_alerted_for,
            ),
            needs_help: row.state == PairingState::Active
                && row.check_in_answer == Some(CheckInAnswer::NeedsHelp),
        });
    }
    // What is over: the latest first.
    columns[3].cards.reverse();
    let done = done_key(done);
    Ok(viewer.page(
        "pairings.html",
        context! {
            now => ts(now),
            columns => columns,
            recent_days => RECENT_DAYS,
            done => done,
        },
    ))
}

fn done_key(done: &str) -> Option<&'static str> {
    ["accepted", "declined", "activated", "cancelled", "ended"]
        .into_iter()
        .find(|k| *k == done)
}

async fn export(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let result = async {
        let rows = state
            .db
            .run(move |conn| -> ApiResult<_> { Ok(casework::all_pairings(conn, EXPORT_LIMIT)?) })
            .await?;
        let time = |t: Option<NaiveDateTime>| t.map(crate::i18n::utc_text).unwrap_or_default();
        let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
        let lines: Vec<Vec<String>> = rows
            .into_iter()
            .map(|(row, client_ref, buddy_name)| {
                vec![
                    row.id.to_string(),
                    row.request_id.to_string(),
                    client_ref,
                    row.buddy_id.to_string(),
                    buddy_name,
                    row.state.as_str().to_owned(),
                    crate::i18n::utc_text(row.proposed_at),
                    time(row.responded_at),
                    time(row.activated_at),
                    time(row.ended_at),
                    row.end_reason
                        .map(|r| r.as_str().to_owned())
                        .unwrap_or_default(),
                    number(row.evaluation_client_score),
                    number(row.evaluation_buddy_score),
                    row.last_contact_on
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    crate::store::contacts::is_overdue(
                        row.state,
                        row.quiet_since,
                        row.contact_alerted_for,
                    )
                    .to_string(),
                    row.check_in_answer
                        .map(|a| a.as_str().to_owned())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        csv_response(
            "pairings.csv",
            &[
                "id",
                "request_id",
                "client_ref",
                "buddy_id",
                "buddy_name",
                "state",
                "proposed_at",
                "responded_at",
                "activated_at",
                "ended_at",
                "end_reason",
                "client_score",
                "buddy_score",
                "last_contact_on",
                "contact_overdue",
                "check_in_answer",
            ],
            &lines,
        )
    }
    .await;
    viewer.respond(result)
}

// ---------------------------------------------------------------------------------------------
// One pairing

/// A pairing as its pages show it.
struct Loaded {
    pairing: Pairing,
    client_ref: String,
    buddy_name: String,
    /// The contact moments the buddy recorded, latest first: date and kind (never the note).
    contacts: Vec<ContactLine>,
}

#[derive(Serialize)]
struct ContactLine {
    contact_on: chrono::NaiveDate,
    kind: &'static str,
}

async fn load(req: &HttpRequest, state: &AppState, raw_id: &str) -> ApiResult<(PairingId, Loaded)> {
    let id = PairingId::from(path_id(raw_id, store::ENTITY)?);
    let read = id.clone();
    let (row, client_ref, buddy_name, contacts) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let row = store::find(conn, &read)?;
            let contacts = crate::store::contacts::of_pairing(conn, &read, MAX_CONTACTS)?
                .into_iter()
                .map(|c| ContactLine {
                    contact_on: c.contact_on,
                    kind: c.kind.as_str(),
                })
                .collect::<Vec<_>>();
            let client_ref = crate::store::requests::client_ref_of(conn, &row.request_id)?;
            let names = casework::buddy_names(conn, std::slice::from_ref(&row.buddy_id))?;
            let name = names
                .get(row.buddy_id.as_str())
                .cloned()
                .unwrap_or_default();
            Ok((row, client_ref.unwrap_or_default(), name, contacts))
        })
        .await?;
    note_client_ref(req, &client_ref);
    Ok((
        id,
        Loaded {
            pairing: Pairing::try_from(row)?,
            client_ref,
            buddy_name,
            contacts,
        },
    ))
}

/// What a refused action brings back to the page.
#[derive(Default)]
struct Refusal {
    status: Option<StatusCode>,
    message: Option<String>,
    values: Option<Value>,
    errors: Option<FieldErrors>,
}

async fn show(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
) -> HttpResponse {
    let done = query_fields(&req).get("done").to_owned();
    let page = pairing_page(&req, &viewer, &state, &id, Refusal::default(), &done).await;
    viewer.respond(page)
}

async fn pairing_page(
    req: &HttpRequest,
    viewer: &Viewer,
    state: &AppState,
    raw_id: &str,
    refusal: Refusal,
    done: &str,
) -> ApiResult<HttpResponse> {
    let (id, loaded) = load(req, state, raw_id).await?;
    let lang = viewer.lang;
    let history = history_page_with(
        state,
        &viewer.caller,
        store::ENTITY,
        uuid::Uuid::parse_str(id.as_str()).map_err(|e| ApiError::internal(e.to_string()))?,
        HistoryQuery {
            limit: Some(crate::store::page::MAX_LIMIT),
            cursor: None,
        },
        |_conn, _id: &PairingId| Ok(()),
    )
    .await?
    .0
    .items
    .into_iter()
    .map(|h| HistoryLine {
        action: text_or(&format!("pairings.action.{}", h.action), lang, &h.action),
        from_state: h.from_state,
        to_state: h.to_state,
        actor: text_or(
            &format!("requests.actor.{}", h.actor.actor_type),
            lang,
            &h.actor.actor_type,
        ),
        reason: h.reason,
        at: h.at.format("%Y-%m-%dT%H:%M:%S").to_string(),
    })
    .collect::<Vec<_>>();
    let now = state.clock.now_naive();
    let p = &loaded.pairing;
    let at = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| ts(t.naive_utc()));
    let window = state.reactions.notices.proposal_window();
    Ok(viewer.page_with(
        refusal.status.unwrap_or(StatusCode::OK),
        "pairing.html",
        context! {
            now => ts(now),
            pairing => Value::from_serialize(p),
            client_ref => loaded.client_ref,
            buddy_name => loaded.buddy_name,
            contacts => loaded.contacts,
            contact_reminder_days => state.reactions.notices.contact_rhythm().reminder_after.num_days(),
            check_in_sent_at => p.check_in.as_ref().map(|c| ts(c.sent_at.naive_utc())),
            check_in_answered_at => p.check_in.as_ref().and_then(|c| c.answered_at).map(|t| ts(t.naive_utc())),
            proposed_at => ts(p.proposed_at.naive_utc()),
            since => ts(in_state_since(&pairing_row_times(p))),
            expires_at => (p.state == PairingState::Proposed).then(|| ts(window.expires_at(p.proposed_at.naive_utc()))),
            responded_at => at(p.responded_at),
            activated_at => at(p.activated_at),
            ended_at => at(p.ended_at),
            actions => allowed(p.state),
            history => history,
            done => done_key(done),
            refusal => refusal.message,
            values => refusal.values.unwrap_or_else(|| context! {}),
            errors => refusal.errors.map(|e| e.to_value()).unwrap_or_else(|| context! {}),
        },
    ))
}

/// The times of a pairing as a row, for [`in_state_since`].
fn pairing_row_times(p: &Pairing) -> PairingRow {
    let naive = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.naive_utc());
    PairingRow {
        id: PairingId::from(p.id),
        request_id: p.request_id.into(),
        buddy_id: p.buddy_id.into(),
        state: p.state,
        proposed_at: p.proposed_at.naive_utc(),
        responded_at: naive(p.responded_at),
        activated_at: naive(p.activated_at),
        ended_at: naive(p.ended_at),
        decline_reason: None,
        end_reason: None,
        end_note: None,
        evaluation_client_score: None,
        evaluation_buddy_score: None,
        evaluation_comment: None,
        created_at: p.created_at.naive_utc(),
        updated_at: p.updated_at.naive_utc(),
        last_contact_on: None,
        quiet_since: None,
        contact_reminded_for: None,
        contact_alerted_for: None,
        check_in_sent_at: None,
        check_in_answer: None,
        check_in_answered_at: None,
    }
}

/// Moves the pairing by `action` as the API's action endpoint does; on success back to where
/// the form came from (`back`: the board or the pairing), else the pairing's page explaining
/// the refusal.
async fn act(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    raw_id: String,
    form: FormData,
    action: PairingAction,
    done: &str,
) -> HttpResponse {
    let id = match path_id(&raw_id, store::ENTITY) {
        Ok(id) => PairingId::from(id),
        Err(e) => return viewer.error(&e),
    };
    let mut errors = FieldErrors::new(viewer.lang);
    let reason = forms::optional(&form, &mut errors, "reason", MAX_REASON);
    let mut check = Check::new();
    let reason = check.note("reason", reason.as_deref(), MAX_REASON);
    let checked = check.finish().map_err(ApiError::from);
    if let (false, _) | (_, Err(_)) = (errors.is_empty(), &checked) {
        if let Err(e) = &checked {
            errors.absorb(e, &[]);
        }
        let refusal = Refusal {
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            // The form says so above its fields (`m.form_errors`).
            message: None,
            values: Some(form.entered()),
            errors: Some(errors),
        };
        let page = pairing_page(&req, &viewer, &state, &raw_id, refusal, "").await;
        return viewer.respond(page);
    }
    let now = state.clock.now_naive();
    let result = state
        .change(viewer.ctx(now), move |tx| -> ApiResult<_> {
            Ok(ops::pairings::act(
                tx,
                &id,
                action,
                reason.as_deref(),
                None,
            )?)
        })
        .await;
    match result {
        Ok(_) => {
            let back = if form.get("back") == "board" {
                format!("/console/pairings?done={done}")
            } else {
                format!("/console/pairings/{raw_id}?done={done}")
            };
            see_other(&back)
        }
        Err(e) => refused(&req, &viewer, &state, &raw_id, &e, &form).await,
    }
}

/// The pairing's page again, explaining why the change was refused (nothing changed).
async fn refused(
    req: &HttpRequest,
    viewer: &Viewer,
    state: &AppState,
    raw_id: &str,
    error: &ApiError,
    form: &FormData,
) -> HttpResponse {
    if let ApiError::NotFound { .. } = error {
        return viewer.error(error);
    }
    let (status, message) = explain(error, viewer.lang);
    let refusal = Refusal {
        status: Some(status),
        message: Some(message),
        values: Some(form.entered()),
        errors: None,
    };
    let page = pairing_page(req, viewer, state, raw_id, refusal, "").await;
    viewer.respond(page)
}

async fn accept(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(
        req,
        viewer,
        state,
        id.into_inner(),
        form,
        PairingAction::Accept,
        "accepted",
    )
    .await
}

async fn decline(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(
        req,
        viewer,
        state,
        id.into_inner(),
        form,
        PairingAction::Decline,
        "declined",
    )
    .await
}

async fn activate(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(
        req,
        viewer,
        state,
        id.into_inner(),
        form,
        PairingAction::Activate,
        "activated",
    )
    .await
}

async fn cancel(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(
        req,
        viewer,
        state,
        id.into_inner(),
        form,
        PairingAction::Cancel,
        "cancelled",
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Ending, with the evaluation

fn end_reasons(viewer: &Viewer) -> Vec<(&'static str, String)> {
    EndReason::TEXTS
        .iter()
        .map(|r| (*r, viewer.text(&format!("pairings.end_reason.{r}"))))
        .collect()
}

async fn end_form(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
) -> HttpResponse {
    let page = end_page(
        &req,
        &viewer,
        &state,
        &id,
        StatusCode::OK,
        context! {},
        None,
        None,
    )
    .await;
    viewer.respond(page)
}

#[allow(clippy::too_many_arguments)]
async fn end_page(
    req: &HttpRequest,
    viewer: &Viewer,
    state: &AppState,
    raw_id: &str,
    status: StatusCode,
    values: Value,
    errors: Option<FieldErrors>,
    refusal: Option<String>,
) -> ApiResult<HttpResponse> {
    let (_, loaded) = load(req, state, raw_id).await?;
    let endable = allowed(loaded.pairing.state).contains(&"end");
    Ok(viewer.page_with(
        status,
        "pairing_end.html",
        context! {
            pairing => Value::from_serialize(&loaded.pairing),
            client_ref => loaded.client_ref,
            buddy_name => loaded.buddy_name,
            endable => endable,
            reasons => end_reasons(viewer),
            values => values,
            errors => errors.map(|e| e.to_value()).unwrap_or_else(|| context! {}),
            refusal => refusal,
        },
    ))
}

/// An optional score field: empty is none, else a whole number from 1 to 5.
fn score(form: &FormData, errors: &mut FieldErrors, field: &str) -> Option<u8> {
    if form.get(field).is_empty() {
        return None;
    }
    forms::number(form, errors, field, 1, 5).and_then(|n| u8::try_from(n).ok())
}

async fn end(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let raw_id = id.into_inner();
    let pairing_id = match path_id(&raw_id, store::ENTITY) {
        Ok(id) => PairingId::from(id),
        Err(e) => return viewer.error(&e),
    };
    let mut errors = FieldErrors::new(viewer.lang);
    let reason = forms::choice(&form, &mut errors, "reason", EndReason::TEXTS)
        .and_then(|r| r.parse::<EndReason>().ok());
    let note = forms::optional(&form, &mut errors, "note", MAX_NOTE);
    let client_score = score(&form, &mut errors, "client_score");
    let buddy_score = score(&form, &mut errors, "buddy_score");
    let comment = forms::optional(&form, &mut errors, "comment", MAX_NOTE);
    let ending = reason.map(|reason| {
        let evaluation = (client_score.is_some() || buddy_score.is_some() || comment.is_some())
            .then(|| Evaluation {
                client_score,
                buddy_score,
                comment: comment.clone(),
            });
        EndPairing {
            reason,
            note: note.clone(),
            evaluation,
        }
        .validate()
    });
    let reshow = |errors: FieldErrors, status: StatusCode, refusal: Option<String>| {
        let (req, viewer, state, raw_id, values) =
            (&req, &viewer, &state, raw_id.clone(), form.entered());
        async move {
            let page = end_page(
                req,
                viewer,
                state,
                &raw_id,
                status,
                values,
                Some(errors),
                refusal,
            )
            .await;
            viewer.respond(page)
        }
    };
    let ending = match ending {
        Some(Ok(ending)) if errors.is_empty() => ending,
        Some(Err(e)) => {
            errors.absorb(
                &e,
                &[
                    ("evaluation.client_score", "client_score"),
                    ("evaluation.buddy_score", "buddy_score"),
                    ("evaluation.comment", "comment"),
                ],
            );
            return reshow(errors, StatusCode::UNPROCESSABLE_ENTITY, None).await;
        }
        _ => return reshow(errors, StatusCode::UNPROCESSABLE_ENTITY, None).await,
    };
    let now = state.clock.now_naive();
    let reason = Some(ending.reason.as_str().to_owned());
    let result = state
        .change(viewer.ctx(now), move |tx| -> ApiResult<_> {
            Ok(ops::pairings::act(
                tx,
                &pairing_id,
                PairingAction::End,
                reason.as_deref(),
                Some(ending),
            )?)
        })
        .await;
    match result {
        Ok(_) => see_other(&format!("/console/pairings/{raw_id}?done=ended")),
        Err(e @ ApiError::NotFound { .. }) => viewer.error(&e),
        Err(e) => {
            let (status, message) = explain(&e, viewer.lang);
            let mut errors = FieldErrors::new(viewer.lang);
            errors.absorb(&e, &[]);
            reshow(errors, status, Some(message)).await
        }
    }
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("pairings.title", "Koppelingen", "Pairings"),
    ("pairings.contact_overdue", "Geen recent contact", "No recent contact"),
    ("pairings.needs_help", "Maatje vraagt om hulp", "Buddy asks for help"),
    ("pairings.contact", "Contact", "Contact"),
    ("pairings.contact_overdue_help", "Er is al minstens {days} dagen geen contactmoment genoteerd. Het maatje kreeg een herinnering; neem contact op met het maatje.", "No contact moment has been recorded for at least {days} days. The buddy was reminded; get in touch with the buddy."),
    ("pairings.last_contact", "Laatste contact", "Last contact"),
    ("pairings.no_contact_yet", "Nog geen contactmoment genoteerd", "No contact moment recorded yet"),
    ("pairings.check_in", "Check-in na drie maanden", "Check-in after three months"),
    ("pairings.check_in_not_yet", "Nog niet verstuurd", "Not sent yet"),
    ("pairings.check_in_waiting", "Verstuurd op {time}, nog geen antwoord", "Sent on {time}, no answer yet"),
    ("pairings.check_in.fine", "Het gaat goed", "It is going well"),
    ("pairings.check_in.needs_help", "Het maatje kan wel wat hulp gebruiken", "The buddy could use some help"),
    ("pairings.contacts_caption", "Contactmomenten, de laatste eerst", "Contact moments, the latest first"),
    ("pairings.contact_on", "Datum", "Date"),
    ("pairings.contact_kind", "Soort contact", "Kind of contact"),
    ("pairings.kind.call", "Telefoongesprek", "Call"),
    ("pairings.kind.meeting", "Afspraak", "Meeting"),
    ("pairings.kind.message", "Bericht", "Message"),
    ("pairings.kind.accompanied_appointment", "Mee naar een afspraak", "Accompanied to an appointment"),
    ("pairings.contacts_note", "Het maatje noteert contactmomenten in de maatjesomgeving. U ziet de datum en de soort; een notitie van het maatje is alleen voor het maatje.", "The buddy records contact moments in the buddy portal. You see the date and the kind; a buddy's note is for the buddy only."),
    ("pairings.column.proposed", "Voorgesteld", "Proposed"),
    ("pairings.column.accepted", "Geaccepteerd", "Accepted"),
    ("pairings.column.active", "Actief", "Active"),
    ("pairings.column.over", "Recent afgelopen", "Recently over"),
    ("pairings.over_help", "Beëindigd, afgewezen, verlopen of geannuleerd in de afgelopen {days} dagen; de laatste eerst.", "Ended, declined, expired or cancelled in the last {days} days; the latest first."),
    ("pairings.empty", "Geen koppelingen.", "No pairings."),
    ("pairings.in_state_for", "{state} sinds {time}", "{state} for {time}"),
    ("pairings.answer_by", "Antwoord uiterlijk", "Answer by"),
    ("pairings.request", "Aanvraag", "Request"),
    ("pairings.buddy", "Maatje", "Buddy"),
    ("pairings.open", "Koppeling openen", "Open the pairing"),
    ("pairings.activate", "Kennismaking gehad: activeren", "Introduction held: activate"),
    ("pairings.end", "Beëindigen", "End"),
    ("pairings.export", "Exporteren als CSV", "Export as CSV"),
    ("pairings.to_board", "Naar alle koppelingen", "To all pairings"),
    ("pairings.pairing", "Koppeling {ref} met {name}", "Pairing of {ref} with {name}"),
    ("pairings.back", "Terug naar het overzicht", "Back to the board"),
    ("pairings.details", "Gegevens", "Details"),
    ("pairings.proposed_at", "Voorgesteld op", "Proposed"),
    ("pairings.responded_at", "Beantwoord op", "Answered"),
    ("pairings.activated_at", "Actief sinds", "Active since"),
    ("pairings.ended_at", "Beëindigd op", "Ended"),
    ("pairings.decline_reason", "Reden van afwijzing", "Reason for declining"),
    ("pairings.end_reason", "Reden van beëindiging", "Reason for ending"),
    ("pairings.end_note", "Toelichting", "Note"),
    ("pairings.client_score", "Score van de cliënt (1 tot 5)", "Client's score (1 to 5)"),
    ("pairings.buddy_score", "Score van het maatje (1 tot 5)", "Buddy's score (1 to 5)"),
    ("pairings.comment", "Opmerking bij de evaluatie", "Evaluation comment"),
    ("pairings.no_score", "Geen score", "No score"),
    ("pairings.actions", "Wat kan er nu?", "What can be done now?"),
    ("pairings.accept", "Accepteren namens het maatje", "Accept on the buddy's behalf"),
    ("pairings.decline", "Afwijzen namens het maatje", "Decline on the buddy's behalf"),
    ("pairings.cancel", "Voorstel annuleren", "Cancel the proposal"),
    ("pairings.cancel_help", "Het maatje krijgt bericht dat het voorstel vervalt; de aanvraag staat weer open voor een ander voorstel.", "The buddy is told the proposal is off; the request is open again for another proposal."),
    ("pairings.reason_optional", "Reden of notitie", "Reason or note"),
    ("pairings.state_help.proposed", "Het voorstel wacht op het antwoord van het maatje.", "The proposal awaits the buddy's answer."),
    ("pairings.state_help.accepted", "Het maatje heeft geaccepteerd. Activeer de koppeling zodra de kennismaking heeft plaatsgevonden.", "The buddy accepted. Activate the pairing once the introduction has taken place."),
    ("pairings.state_help.active", "De koppeling loopt. Beëindig haar met een korte evaluatie als ze klaar is.", "The pairing is running. End it with a short evaluation when it is over."),
    ("pairings.state_help.ended", "Deze koppeling is beëindigd; er kan niets meer aan worden gewijzigd.", "This pairing has ended; nothing can be changed any more."),
    ("pairings.state_help.declined", "Het maatje heeft dit voorstel afgewezen; er kan niets meer aan worden gewijzigd.", "The buddy declined this proposal; nothing can be changed any more."),
    ("pairings.state_help.expired", "Dit voorstel is verlopen zonder antwoord; er kan niets meer aan worden gewijzigd.", "This proposal expired without an answer; nothing can be changed any more."),
    ("pairings.state_help.cancelled", "Dit voorstel is geannuleerd; er kan niets meer aan worden gewijzigd.", "This proposal was cancelled; nothing can be changed any more."),
    ("pairings.history", "Geschiedenis", "History"),
    ("pairings.done.accepted", "Het voorstel is geaccepteerd; de aanvraag is gekoppeld.", "The proposal was accepted; the request is matched."),
    ("pairings.done.declined", "Het voorstel is afgewezen; de aanvraag staat weer open.", "The proposal was declined; the request is open again."),
    ("pairings.done.activated", "De koppeling is actief.", "The pairing is active."),
    ("pairings.done.cancelled", "Het voorstel is geannuleerd; de aanvraag staat weer open.", "The proposal was cancelled; the request is open again."),
    ("pairings.done.ended", "De koppeling is beëindigd en de evaluatie vastgelegd.", "The pairing has ended and the evaluation is recorded."),
    ("pairings.end_title", "Koppeling beëindigen", "End the pairing"),
    ("pairings.end_intro", "Koppeling van {ref} met {name}. De aanvraag wordt afgesloten.", "Pairing of {ref} with {name}. The request will be closed."),
    ("pairings.evaluation", "Evaluatie (optioneel)", "Evaluation (optional)"),
    ("pairings.end_submit", "Beëindigen", "End the pairing"),
    ("pairings.end_reason.goal_reached", "Doel bereikt", "Goal reached"),
    ("pairings.end_reason.client_stopped", "Cliënt is gestopt", "The client stopped"),
    ("pairings.end_reason.buddy_stopped", "Maatje is gestopt", "The buddy stopped"),
    ("pairings.end_reason.case_closed", "Zaak is gesloten", "The case was closed"),
    ("pairings.end_reason.other", "Anders", "Other"),
    ("pairings.choose_reason", "Kies een reden", "Choose a reason"),
    ("pairings.action.propose", "voorgesteld", "proposed"),
    ("pairings.action.accept", "geaccepteerd", "accepted"),
    ("pairings.action.decline", "afgewezen", "declined"),
    ("pairings.action.expire", "verlopen", "expired"),
    ("pairings.action.cancel", "geannuleerd", "cancelled"),
    ("pairings.action.activate", "geactiveerd", "activated"),
    ("pairings.action.end", "beëindigd", "ended"),
];
