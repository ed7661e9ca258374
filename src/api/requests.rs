//! `/v1/buddy-requests`: requests for a buddy, one client each, filed by case systems or staff.

use crate::api::routes::Routes;
use crate::auth::policy::{
    AuditAction::{Create, Read, Search, Update},
    ANY_CALLER,
};
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    created, history_page_with, owning_organisation, uuid, ActionBody, AppState, Caller,
    HistoryPage, HistoryQuery,
};
use crate::audit::note_client_ref;
use crate::domain::buddy::MeasureKind;
use crate::domain::clock::utc;
use crate::domain::ids::{OrganisationId, RequestId};
use crate::domain::pairing::PairingState;
use crate::domain::request::{ContactChannel, RequestState, ServiceLevel, Trigger};
use crate::domain::values::{Check, MAX_NAME, MAX_NOTE};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{Json, OptionalJson, Query};
use crate::http::pagination::PageRequest;
use crate::ops;
use crate::store::pairings::PairingRow;
use crate::store::requests::{self as store, NewRequest, RequestRow};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(
            create_buddy_request,
            ANY_CALLER.audit(Create, "buddy_request").tagged(),
        )
        .add(
            list_buddy_requests,
            ANY_CALLER.audit(Search, "buddy_request"),
        )
        .add(
            get_buddy_request,
            ANY_CALLER.audit(Read, "buddy_request").tagged(),
        )
        .add(
            withdraw_buddy_request,
            ANY_CALLER.audit(Update, "buddy_request").tagged(),
        )
        .add(
            buddy_request_history,
            ANY_CALLER.audit(Read, "buddy_request"),
        );
}

/// How the buddy can reach the client once the pairing is accepted: a phone number, an e-mail
/// address or both, and the preferred one of those given (otherwise a refusal is a 400 `urn:maatje:problem:validation` naming the field).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "Alex",
    "email": "alex@example.org",
    "preferred_channel": "email",
    "languages": ["nl", "en"]
}))]
pub struct ClientContact {
    /// First name only.
    #[schema(schema_with = crate::domain::values::schema::name)]
    pub first_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::domain::values::schema::optional_phone)]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::domain::values::schema::email_or_null)]
    pub email: Option<String>,
    /// Must be a channel given above.
    pub preferred_channel: ContactChannel,
    /// Languages the client speaks, ISO 639-1 codes (1 to 10).
    #[schema(schema_with = crate::domain::values::schema::languages)]
    pub languages: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "client_ref": "CASE-2026-0042",
    "trigger": "first_talks",
    "trigger_note": "Wants to talk to a parent who went through supervision.",
    "client": {
        "first_name": "Alex",
        "phone": "+31 6 87654321",
        "preferred_channel": "phone",
        "languages": ["nl"]
    },
    "region": "Utrecht",
    "measure": "supervision_order",
    "consent_to_share_contact": true
}))]
pub struct NewBuddyRequest {
    /// Staff must name the organisation; a case system must leave it out (it is its key's
    /// organisation). Otherwise a refusal is a 400 `urn:maatje:problem:validation` naming the field.
    pub organisation_id: Option<Uuid>,
    /// The case system's own pseudonymous reference for the client, unique per organisation.
    /// Never a BSN.
    #[schema(schema_with = crate::domain::values::schema::client_ref)]
    pub client_ref: String,
    pub trigger: Trigger,
    /// Optional context for the trigger (no more than needed).
    #[schema(schema_with = crate::domain::values::schema::note_or_null)]
    pub trigger_note: Option<String>,
    pub client: ClientContact,
    /// Municipality or region code where the client lives.
    #[schema(schema_with = crate::domain::values::schema::region)]
    pub region: String,
    /// Wishes about the buddy (e.g. a parent rather than a young person).
    #[schema(schema_with = crate::domain::values::schema::note_or_null)]
    pub preferences: Option<String>,
    /// The kind of measure the client is under; candidates who went through the same kind rank
    /// higher (see `GET /v1/buddy-requests/{id}/candidates`).
    pub measure: Option<MeasureKind>,
    /// The client consents to their contact details being shared with the buddy. Must be true.
    #[schema(schema_with = crate::domain::values::schema::consent)]
    pub consent_to_share_contact: bool,
}

impl NewBuddyRequest {
    fn validate(self, caller: &Caller) -> ApiResult<NewRequest> {
        let mut check = Check::new();
        let organisation_id = owning_organisation(caller, self.organisation_id, &mut check);
        if !self.consent_to_share_contact {
            check.fail(
                "consent_to_share_contact",
                "must be true: a buddy can only be paired when the client consents to sharing contact details",
            );
        }
        let c = self.client;
        let phone = c.phone.map(|p| check.phone("client.phone", &p));
        let email = c.email.map(|e| check.email("client.email", &e));
        if phone.is_none() && email.is_none() {
            check.fail("client", "needs a phone number or an e-mail address");
        }
        match c.preferred_channel {
            ContactChannel::Phone if phone.is_none() => check.fail(
                "client.preferred_channel",
                "is phone, but no phone number is given",
            ),
            ContactChannel::Email if email.is_none() => check.fail(
                "client.preferred_channel",
                "is email, but no e-mail address is given",
            ),
            _ => {}
        }
        let new = NewRequest {
            organisation_id: organisation_id.unwrap_or_default(),
            client_ref: check.client_ref("client_ref", &self.client_ref),
            trigger: self.trigger,
            trigger_note: check.note("trigger_note", self.trigger_note.as_deref(), MAX_NOTE),
            first_name: check.text("client.first_name", &c.first_name, MAX_NAME),
            phone,
            email,
            preferred_channel: c.preferred_channel,
            languages: check.languages("client.languages", &c.languages),
            region: check.region("region", &self.region),
            preferences: check.note("preferences", self.preferences.as_deref(), MAX_NOTE),
            measure: self.measure,
        };
        check.finish()?;
        Ok(new)
    }
}

/// The request's current (latest) pairing, so a case system can follow it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairingSummary {
    pub id: Uuid,
    pub state: PairingState,
    /// The buddy proposed or paired. Staff only: a case system does not learn which volunteer
    /// it is (it gets their contact through the client, not through the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buddy_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000b001",
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001",
    "client_ref": "CASE-2026-0042",
    "trigger": "first_talks",
    "client": {
        "first_name": "Alex",
        "phone": "+31 6 87654321",
        "preferred_channel": "phone",
        "languages": ["nl"]
    },
    "region": "Utrecht",
    "measure": "supervision_order",
    "consent_recorded_at": "2026-11-22T08:55:00Z",
    "state": "proposed",
    "overdue": false,
    "pairing": {
        "id": "0193a5c4-7d10-7000-8000-00000000d001",
        "state": "proposed",
        "buddy_id": "0193a5c4-7d10-7000-8000-00000000c001"
    },
    "created_at": "2026-11-22T08:55:00Z",
    "updated_at": "2026-11-22T09:00:00Z",
    "legal_hold": false
}))]
pub struct BuddyRequest {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub client_ref: String,
    pub trigger: Trigger,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_note: Option<String>,
    pub client: ClientContact,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferences: Option<String>,
    /// The kind of measure the client is under, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<MeasureKind>,
    /// When the client's consent to share contact details was recorded.
    pub consent_recorded_at: DateTime<Utc>,
    pub state: RequestState,
    /// Still `open` `workflow.overdue_after_days` days (default 5) or longer after it was
    /// created: past the programme's service level.
    pub overdue: bool,
    /// The latest pairing, if any was proposed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairing: Option<PairingSummary>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the request was closed or withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// On legal hold: retention and erasure leave the client's contact data alone.
    pub legal_hold: bool,
    /// When the client's contact data was anonymised (by retention, or erasure on request): the
    /// first name then reads `[anonymised]`, and phone, e-mail, trigger note and preferences are
    /// gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymised_at: Option<DateTime<Utc>>,
}

crate::page_type!(BuddyRequestPage, BuddyRequest, "buddy requests");

impl BuddyRequest {
    /// The request as sent, `overdue` judged at `now` by `level`.
    pub(crate) fn from_row(
        row: RequestRow,
        pairing: Option<PairingRow>,
        level: ServiceLevel,
        now: NaiveDateTime,
    ) -> ApiResult<Self> {
        let state = row.state;
        let pairing = pairing
            .map(|p| {
                Ok::<_, ApiError>(PairingSummary {
                    id: uuid(&p.id)?,
                    state: p.state,
                    buddy_id: Some(uuid(&p.buddy_id)?),
                })
            })
            .transpose()?;
        Ok(BuddyRequest {
            id: uuid(&row.id)?,
            organisation_id: uuid(&row.organisation_id)?,
            trigger: row.trigger_kind,
            state,
            overdue: level.is_overdue(state, row.created_at, now),
            measure: row.measure,
            client: ClientContact {
                preferred_channel: row.client_preferred_channel,
                languages: row.client_languages()?,
                first_name: row.client_first_name,
                phone: row.client_phone,
                email: row.client_email,
            },
            client_ref: row.client_ref,
            trigger_note: row.trigger_note,
            region: row.region,
            preferences: row.preferences,
            consent_recorded_at: utc(row.consent_recorded_at),
            pairing,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            closed_at: row.closed_at.map(utc),
            legal_hold: row.legal_hold,
            anonymised_at: row.anonymised_at.map(utc),
        })
    }
}

impl BuddyRequest {
    /// The request as the caller confined to `scope` may see it: a case system (`Some`) does
    /// not see which buddy its client's pairing is with; staff (`None`) see everything.
    pub(crate) fn seen_in(mut self, scope: Option<&OrganisationId>) -> Self {
        if scope.is_some() {
            if let Some(pairing) = &mut self.pairing {
                pairing.buddy_id = None;
            }
        }
        self
    }
}

pub(crate) fn load_one(
    conn: &mut crate::db::DbConnection,
    id: &RequestId,
    scope: Option<&OrganisationId>,
    level: ServiceLevel,
    now: NaiveDateTime,
) -> ApiResult<BuddyRequest> {
    let row = store::find_visible(conn, id, scope)?;
    let pairing = crate::store::pairings::latest_of_request(conn, &row.id)?;
    Ok(BuddyRequest::from_row(row, pairing, level, now)?.seen_in(scope))
}

/// The context of a change to request `id` by `caller`: its `If-Match`, if sent, is compared
/// with the request as `GET /v1/buddy-requests/{id}` shows it to this caller at `now`
/// ([`Caller::ctx_on`]); a case system's view of another organisation's request is a 404.
pub(crate) fn change_ctx(
    caller: &Caller,
    now: NaiveDateTime,
    level: ServiceLevel,
    id: &RequestId,
) -> ops::Ctx {
    let (current, scope) = (id.clone(), caller.scope());
    caller.ctx_on(now, store::row(id), move |conn| {
        load_one(conn, &current, scope.as_ref(), level, now)
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BuddyRequestQuery {
    pub organisation_id: Option<Uuid>,
    pub state: Option<RequestState>,
    pub trigger: Option<Trigger>,
    /// `true`: only overdue requests (`open` for `workflow.overdue_after_days` days or longer);
    /// `false`: only those that are not.
    pub overdue: Option<bool>,
    /// The case system's client reference (exact).
    #[param(schema_with = crate::domain::values::schema::client_ref)]
    pub client_ref: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// Request a buddy for a client.
#[utoipa::path(
    tag = "buddy-requests",
    request_body = NewBuddyRequest,
    responses(
        (status = 201, description = "Filed; state `open`, or `proposed` when automatic proposal (`matching.auto_propose`) found a buddy at once", body = BuddyRequest,
            headers(("Location" = String, description = "URL of the new request; poll it to follow the request"))),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation already has a request with this `client_ref` \
(`urn:maatje:problem:duplicate-client-ref`: `existing_id` and `Location` name that request), or is inactive",
            body = Problem, content_type = "application/problem+json",
            headers(("Location" = String, description = "With `duplicate-client-ref`: URL of the organisation's existing request with this `client_ref`"))),
    )
)]
#[post("/buddy-requests")]
async fn create_buddy_request(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    body: Json<NewBuddyRequest>,
) -> ApiResult<HttpResponse> {
    let new = body.0.validate(&caller)?;
    let scope = caller.scope();
    let now = state.clock.now_naive();
    // The client is named in the audit record of a refusal too.
    note_client_ref(&req, &new.client_ref);
    let (row, pairing) = state
        .change(caller.ctx(now), move |tx| ops::requests::create(tx, new))
        .await?;
    let body =
        BuddyRequest::from_row(row, pairing, state.service_level, now)?.seen_in(scope.as_ref());
    Ok(created(format!("/v1/buddy-requests/{}", body.id), &body))
}

/// List buddy requests, oldest first.
#[utoipa::path(
    tag = "buddy-requests",
    params(BuddyRequestQuery),
    responses((status = 200, description = "One page of requests", body = BuddyRequestPage))
)]
#[get("/buddy-requests")]
async fn list_buddy_requests(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    query: Query<BuddyRequestQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse(
        "buddy-requests",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    let client_ref = query.client_ref.map(|r| check.client_ref("client_ref", &r));
    check.finish()?;
    if let Some(client_ref) = &client_ref {
        note_client_ref(&req, client_ref);
    }
    // A case system sees its own organisation's requests only, whatever it asks for.
    let scope = caller.scope();
    let shown_to = scope.clone();
    let asked = query.organisation_id.map(OrganisationId::from);
    let elsewhere = matches!((&scope, &asked), (Some(own), Some(asked)) if own != asked);
    let now = state.clock.now_naive();
    let level = state.service_level;
    let filter = store::Filter {
        organisation_id: scope.or(asked),
        state: query.state,
        trigger: query.trigger,
        client_ref,
        overdue: query.overdue.map(|overdue| store::OverdueFilter {
            overdue,
            cutoff: level.cutoff(now),
        }),
    };
    let request = page.clone();
    let (rows, mut latest) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            if elsewhere {
                return Ok((Vec::new(), Default::default()));
            }
            let rows = store::list(conn, &filter, &request)?;
            let ids: Vec<RequestId> = rows.iter().map(|r| r.id.clone()).collect();
            let latest = crate::store::pairings::latest_of_requests(conn, &ids)?;
            Ok((rows, latest))
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    let items = rows
        .into_iter()
        .map(|row| {
            let pairing = latest.remove(&row.id);
            Ok(BuddyRequest::from_row(row, pairing, level, now)?.seen_in(shown_to.as_ref()))
        })
        .collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(BuddyRequestPage { items, next_cursor }))
}

/// Read one buddy request, with the state of its latest pairing.
#[utoipa::path(
    tag = "buddy-requests",
    params(("id" = Uuid, Path, description = "Buddy-request id")),
    responses((status = 200, description = "The request", body = BuddyRequest))
)]
#[get("/buddy-requests/{id}")]
async fn get_buddy_request(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = RequestId::from(id.into_inner());
    let scope = caller.scope();
    let (level, now) = (state.service_level, state.clock.now_naive());
    let request = state
        .db
        .run(move |conn| -> ApiResult<_> { load_one(conn, &id, scope.as_ref(), level, now) })
        .await?;
    note_client_ref(&req, &request.client_ref);
    Ok(HttpResponse::Ok().json(request))
}

/// Withdraw an open or proposed request. A pending proposal is cancelled.
#[utoipa::path(
    tag = "buddy-requests",
    params(("id" = Uuid, Path, description = "Buddy-request id")),
    request_body(content = Option<ActionBody>, description = "Optional reason, kept in the history"),
    responses(
        (status = 200, description = "Withdrawn", body = BuddyRequest),
        (status = 409, description = "The request is matched, closed or withdrawn already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/buddy-requests/{id}/withdraw")]
async fn withdraw_buddy_request(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: OptionalJson<ActionBody>,
) -> ApiResult<HttpResponse> {
    let reason = ActionBody::reason(body.0)?;
    let now = state.clock.now_naive();
    let id = RequestId::from(id.into_inner());
    let scope = caller.scope();
    let level = state.service_level;
    let ctx = change_ctx(&caller, now, level, &id);
    let request = state
        .change(ctx, move |tx| -> ApiResult<_> {
            ops::requests::withdraw(tx, &id, reason.as_deref())?;
            tx.settle()?;
            load_one(tx.conn, &id, scope.as_ref(), level, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(request))
}

/// The request's history: creation, proposals, matching, closing or withdrawal.
#[utoipa::path(
    tag = "buddy-requests",
    params(("id" = Uuid, Path, description = "Buddy-request id"), HistoryQuery),
    responses((status = 200, description = "History, oldest first", body = HistoryPage))
)]
#[get("/buddy-requests/{id}/history")]
async fn buddy_request_history(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    query: Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let scope = caller.scope();
    let (page, client_ref) = history_page_with(
        &state,
        &caller,
        store::ENTITY,
        id.into_inner(),
        query.0,
        move |conn, id| Ok(store::find_visible(conn, id, scope.as_ref()).map(|r| r.client_ref)?),
    )
    .await?;
    note_client_ref(&req, client_ref);
    Ok(HttpResponse::Ok().json(page))
}
