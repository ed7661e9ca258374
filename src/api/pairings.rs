//! `/v1/pairings`: a buddy proposed for a request, accepted or declined, active, ended with an
//! evaluation.

use crate::api::routes::Routes;
use crate::auth::policy::{
    AuditAction::{Create, Read, Search, Update},
    STAFF_ONLY,
};
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, history_page_with, uuid, AppState, Caller, HistoryPage, HistoryQuery};
use crate::audit::note_client_ref;
use crate::domain::clock::utc;
use crate::domain::contact::{CheckInAnswer, ContactKind};
use crate::domain::ids::{BuddyId, PairingId, RequestId};
use crate::domain::pairing::{EndReason, PairingAction, PairingState};
use crate::domain::values::{Check, MAX_NOTE};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{Json, Query};
use crate::http::pagination::PageRequest;
use crate::ops;
use crate::store::contacts::{self, ContactRow};
use crate::store::pairings::{self as store, Ending, PairingRow};
use crate::store::requests::client_ref_of;

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(
            propose_pairing,
            STAFF_ONLY.audit(Create, "pairing").tagged(),
        )
        .add(list_pairings, STAFF_ONLY.audit(Search, "pairing"))
        .add(get_pairing, STAFF_ONLY.audit(Read, "pairing").tagged())
        .add(accept_pairing, STAFF_ONLY.audit(Update, "pairing").tagged())
        .add(
            decline_pairing,
            STAFF_ONLY.audit(Update, "pairing").tagged(),
        )
        .add(
            activate_pairing,
            STAFF_ONLY.audit(Update, "pairing").tagged(),
        )
        .add(end_pairing, STAFF_ONLY.audit(Update, "pairing").tagged())
        .add(pairing_history, STAFF_ONLY.audit(Read, "pairing"))
        .add(pairing_contacts, STAFF_ONLY.audit(Read, "pairing"));
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "request_id": "0193a5c4-7d10-7000-8000-00000000b001",
    "buddy_id": "0193a5c4-7d10-7000-8000-00000000c001"
}))]
pub struct NewPairing {
    /// An `open` buddy request.
    pub request_id: Uuid,
    /// An `active` buddy with free capacity who has not declined this request before.
    pub buddy_id: Uuid,
}

/// The short evaluation recorded when a pairing ends: a score or a comment at least (a value
/// `null` counts as left out; an evaluation with none is a 400 `urn:maatje:problem:validation`
/// naming `evaluation`: leave it out instead).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    example = json!({ "client_score": 5, "buddy_score": 4, "comment": "Good contact from the first meeting." }),
    min_properties = 1
)]
pub struct Evaluation {
    /// How the client rates the pairing, 1 (poor) to 5 (very good).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 5)]
    pub client_score: Option<u8>,
    /// How the buddy rates the pairing, 1 (poor) to 5 (very good).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 5)]
    pub buddy_score: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::domain::values::schema::note_or_null)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "reason": "goal_reached",
    "note": "The client feels heard and knows where to go.",
    "evaluation": { "client_score": 5, "buddy_score": 4 }
}))]
pub struct EndPairing {
    pub reason: EndReason,
    /// Free-text explanation, e.g. for `other`.
    #[schema(schema_with = crate::domain::values::schema::note_or_null)]
    pub note: Option<String>,
    pub evaluation: Option<Evaluation>,
}

impl EndPairing {
    pub(crate) fn validate(self) -> ApiResult<Ending> {
        let mut check = Check::new();
        let note = check.note("note", self.note.as_deref(), MAX_NOTE);
        let mut ending = Ending {
            reason: self.reason,
            note,
            client_score: None,
            buddy_score: None,
            comment: None,
        };
        if let Some(evaluation) = self.evaluation {
            let mut score = |field: &str, value: Option<u8>| {
                value.map(|v| {
                    if !(1..=5).contains(&v) {
                        check.fail(field, "must be between 1 and 5");
                    }
                    i32::from(v)
                })
            };
            ending.client_score = score("evaluation.client_score", evaluation.client_score);
            ending.buddy_score = score("evaluation.buddy_score", evaluation.buddy_score);
            ending.comment = check.note(
                "evaluation.comment",
                evaluation.comment.as_deref(),
                MAX_NOTE,
            );
            if ending.client_score.is_none()
                && ending.buddy_score.is_none()
                && ending.comment.is_none()
            {
                check.fail(
                    "evaluation",
                    "needs a score or a comment; leave it out if there is none",
                );
            }
        }
        check.finish()?;
        Ok(ending)
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000d001",
    "request_id": "0193a5c4-7d10-7000-8000-00000000b001",
    "buddy_id": "0193a5c4-7d10-7000-8000-00000000c001",
    "state": "accepted",
    "proposed_at": "2026-11-22T09:00:00Z",
    "responded_at": "2026-11-22T18:12:00Z",
    "contact_overdue": false,
    "created_at": "2026-11-22T09:00:00Z",
    "updated_at": "2026-11-22T18:12:00Z"
}))]
pub struct Pairing {
    pub id: Uuid,
    pub request_id: Uuid,
    pub buddy_id: Uuid,
    pub state: PairingState,
    pub proposed_at: DateTime<Utc>,
    /// When the buddy accepted or declined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<DateTime<Utc>>,
    /// When the introduction meeting took place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    /// The date of the latest contact moment the buddy recorded (see
    /// `GET /v1/pairings/{id}/contacts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_contact_on: Option<NaiveDate>,
    /// `true` while the pairing is `active`, has been without a recorded contact for twice
    /// `workflow.contact_reminder_days` (14 by default), and the client bureau has been told
    /// (the buddy was reminded halfway). A new contact moment clears it.
    pub contact_overdue: bool,
    /// The one check-in, `workflow.check_in_after_days` (91 by default) after the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_in: Option<CheckIn>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The buddy was asked once how the pairing goes, by mail with two answer links.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "sent_at": "2027-02-21T08:00:00Z",
    "answer": "needs_help",
    "answered_at": "2027-02-21T19:30:00Z"
}))]
pub struct CheckIn {
    pub sent_at: DateTime<Utc>,
    /// The buddy's answer; `needs_help` was mailed to the client bureau. Absent until answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<CheckInAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
}

crate::page_type!(PairingPage, Pairing, "pairings");

/// A contact moment the buddy recorded: when and how. The buddy's own note is not shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000e001",
    "contact_on": "2026-12-03",
    "kind": "accompanied_appointment",
    "recorded_at": "2026-12-03T17:45:00Z"
}))]
pub struct ContactMoment {
    pub id: Uuid,
    /// The day of the contact (Dutch time).
    pub contact_on: NaiveDate,
    pub kind: ContactKind,
    pub recorded_at: DateTime<Utc>,
}

crate::page_type!(ContactMomentPage, ContactMoment, "contact moments");

impl TryFrom<ContactRow> for ContactMoment {
    type Error = ApiError;
    fn try_from(row: ContactRow) -> ApiResult<Self> {
        Ok(ContactMoment {
            id: uuid(&row.id)?,
            contact_on: row.contact_on,
            kind: row.kind,
            recorded_at: utc(row.recorded_at),
        })
    }
}

impl TryFrom<PairingRow> for Pairing {
    type Error = ApiError;
    fn try_from(row: PairingRow) -> ApiResult<Self> {
        let score = |v: Option<i32>| v.and_then(|s| u8::try_from(s).ok());
        let evaluation = (row.evaluation_client_score.is_some()
            || row.evaluation_buddy_score.is_some()
            || row.evaluation_comment.is_some())
        .then(|| Evaluation {
            client_score: score(row.evaluation_client_score),
            buddy_score: score(row.evaluation_buddy_score),
            comment: row.evaluation_comment.clone(),
        });
        Ok(Pairing {
            id: uuid(&row.id)?,
            request_id: uuid(&row.request_id)?,
            buddy_id: uuid(&row.buddy_id)?,
            state: row.state,
            end_reason: row.end_reason,
            proposed_at: utc(row.proposed_at),
            responded_at: row.responded_at.map(utc),
            activated_at: row.activated_at.map(utc),
            ended_at: row.ended_at.map(utc),
            decline_reason: row.decline_reason,
            end_note: row.end_note,
            evaluation,
            last_contact_on: row.last_contact_on,
            contact_overdue: contacts::is_overdue(
                row.state,
                row.quiet_since,
                row.contact_alerted_for,
            ),
            check_in: row.check_in_sent_at.map(|sent_at| CheckIn {
                sent_at: utc(sent_at),
                answer: row.check_in_answer,
                answered_at: row.check_in_answered_at.map(utc),
            }),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PairingQuery {
    pub request_id: Option<Uuid>,
    pub buddy_id: Option<Uuid>,
    pub state: Option<PairingState>,
    /// `true`: only pairings flagged `contact_overdue`; `false`: only those not flagged.
    pub contact_overdue: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// Propose a buddy for a request. The request becomes `proposed`.
#[utoipa::path(
    tag = "pairings",
    request_body = NewPairing,
    responses(
        (status = 201, description = "Proposed", body = Pairing,
            headers(("Location" = String, description = "URL of the new pairing"))),
        (status = 404, description = "No such request or buddy", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is not open, or the buddy is not active, has no free capacity \
            or declined this request before", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pairings")]
async fn propose_pairing(
    state: Data<AppState>,
    caller: Caller,
    body: Json<NewPairing>,
) -> ApiResult<HttpResponse> {
    let request_id = RequestId::from(body.0.request_id);
    let buddy_id = BuddyId::from(body.0.buddy_id);
    let ctx = caller.ctx(state.clock.now_naive());
    let row = state
        .change(ctx, move |tx| -> ApiResult<_> {
            Ok(ops::pairings::propose_by_caller(
                tx,
                &request_id,
                &buddy_id,
            )?)
        })
        .await?;
    let body = Pairing::try_from(row)?;
    Ok(created(format!("/v1/pairings/{}", body.id), &body))
}

/// List pairings, oldest first.
#[utoipa::path(
    tag = "pairings",
    params(PairingQuery),
    responses((status = 200, description = "One page of pairings", body = PairingPage))
)]
#[get("/pairings")]
async fn list_pairings(
    state: Data<AppState>,
    _caller: Caller,
    query: Query<PairingQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse(
        "pairings",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    check.finish()?;
    let filter = store::Filter {
        request_id: query.request_id.map(RequestId::from),
        buddy_id: query.buddy_id.map(BuddyId::from),
        state: query.state,
        contact_overdue: query.contact_overdue,
    };
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::list(conn, &filter, &request)?) })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    Ok(HttpResponse::Ok().json(PairingPage {
        items: rows
            .into_iter()
            .map(Pairing::try_from)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Read one pairing.
#[utoipa::path(
    tag = "pairings",
    params(("id" = Uuid, Path, description = "Pairing id")),
    responses((status = 200, description = "The pairing", body = Pairing))
)]
#[get("/pairings/{id}")]
async fn get_pairing(
    req: HttpRequest,
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = PairingId::from(id.into_inner());
    let (row, client_ref) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let row = store::find(conn, &id)?;
            let client_ref = client_ref_of(conn, &row.request_id)?;
            Ok((row, client_ref))
        })
        .await?;
    note(&req, client_ref);
    Ok(HttpResponse::Ok().json(Pairing::try_from(row)?))
}

/// Notes the client of the pairing's request for the audit trail.
fn note(req: &HttpRequest, client_ref: Option<String>) {
    if let Some(client_ref) = client_ref {
        note_client_ref(req, client_ref);
    }
}

async fn act(
    state: Data<AppState>,
    caller: Caller,
    id: Uuid,
    action: PairingAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    act_ending(state, caller, id, action, reason, None).await
}

async fn act_ending(
    state: Data<AppState>,
    caller: Caller,
    id: Uuid,
    action: PairingAction,
    reason: Option<String>,
    ending: Option<Ending>,
) -> ApiResult<HttpResponse> {
    let id = PairingId::from(id);
    let current = id.clone();
    let ctx = caller.ctx_on(state.clock.now_naive(), store::row(&id), move |conn| {
        Pairing::try_from(store::find(conn, &current)?)
    });
    let row = state
        .change(ctx, move |tx| -> ApiResult<_> {
            Ok(ops::pairings::act(
                tx,
                &id,
                action,
                reason.as_deref(),
                ending,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Pairing::try_from(row)?))
}

action_endpoint!(
    /// The buddy accepts the proposal (recorded by staff on the buddy's behalf). The request
    /// becomes `matched`.
    accept_pairing: POST "/pairings/{id}/accept",
    tag = "pairings", id = "Pairing id", body = "Optional note, kept in the history",
    ok = (Pairing, "Accepted"), conflict = "The pairing is not proposed",
    act(PairingAction::Accept)
);

action_endpoint!(
    /// The buddy declines the proposal. The request is `open` again; this buddy is never proposed
    /// for it again.
    decline_pairing: POST "/pairings/{id}/decline",
    tag = "pairings", id = "Pairing id", body = "Optional reason for declining",
    ok = (Pairing, "Declined"), conflict = "The pairing is not proposed",
    act(PairingAction::Decline)
);

action_endpoint!(
    /// The introduction meeting took place: the pairing is `active`.
    activate_pairing: POST "/pairings/{id}/activate",
    tag = "pairings", id = "Pairing id", body = "Optional note, kept in the history",
    ok = (Pairing, "Active"), conflict = "The pairing is not accepted",
    act(PairingAction::Activate)
);

/// End an accepted or active pairing with a reason and an optional evaluation. The request
/// becomes `closed`.
#[utoipa::path(
    tag = "pairings",
    params(("id" = Uuid, Path, description = "Pairing id")),
    request_body = EndPairing,
    responses(
        (status = 200, description = "Ended", body = Pairing),
        (status = 409, description = "The pairing is not accepted or active", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/pairings/{id}/end")]
async fn end_pairing(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<EndPairing>,
) -> ApiResult<HttpResponse> {
    let ending = body.0.validate()?;
    let reason = Some(ending.reason.as_str().to_owned());
    act_ending(
        state,
        caller,
        id.into_inner(),
        PairingAction::End,
        reason,
        Some(ending),
    )
    .await
}

/// The pairing's history.
#[utoipa::path(
    tag = "pairings",
    params(("id" = Uuid, Path, description = "Pairing id"), HistoryQuery),
    responses((status = 200, description = "History, oldest first", body = HistoryPage))
)]
#[get("/pairings/{id}/history")]
async fn pairing_history(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    query: Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let (page, client_ref) = history_page_with(
        &state,
        &caller,
        store::ENTITY,
        id.into_inner(),
        query.0,
        |conn, id| {
            let row = store::find(conn, id)?;
            Ok(client_ref_of(conn, &row.request_id)?)
        },
    )
    .await?;
    note(&req, client_ref);
    Ok(HttpResponse::Ok().json(page))
}

/// The contact moments the buddy recorded, in the order they were recorded: date and kind only
/// (the buddy's note is theirs). Recorded by the buddy in the buddy portal.
#[utoipa::path(
    tag = "pairings",
    params(
        ("id" = Uuid, Path, description = "Pairing id"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Page size, 1 to 200 (default 50)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses((status = 200, description = "One page of contact moments, oldest recorded first", body = ContactMomentPage))
)]
#[get("/pairings/{id}/contacts")]
async fn pairing_contacts(
    req: HttpRequest,
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
    query: Query<ContactQuery>,
) -> ApiResult<HttpResponse> {
    let id = PairingId::from(id.into_inner());
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse(
        "contact moments",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    check.finish()?;
    let request = page.clone();
    let (rows, client_ref) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let pairing = store::find(conn, &id)?;
            let client_ref = client_ref_of(conn, &pairing.request_id)?;
            Ok((contacts::page_of_pairing(conn, &id, &request)?, client_ref))
        })
        .await?;
    note(&req, client_ref);
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    Ok(HttpResponse::Ok().json(ContactMomentPage {
        items: rows
            .into_iter()
            .map(ContactMoment::try_from)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}
