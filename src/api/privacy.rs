//! Privacy on request: legal holds, erasure of clients and buddies, and running the retention
//! job on demand. Administrators only.

use actix_web::web::{Data, Path};
use actix_web::{post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::buddies::{self, Buddy};
use super::requests::{self, BuddyRequest};
use super::{ActionBody, AppState, Caller};
use crate::domain::clock::utc;
use crate::domain::values::{Check, MAX_REASON};
use crate::error::{ApiResult, Problem};
use crate::http::extract::{Json, OptionalJson};
use crate::store::privacy as store;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(run_retention)
        .service(set_legal_hold)
        .service(erase_buddy)
        .service(erase_client);
}

/// Run the retention job once now, as the background job does every
/// `privacy.retention_check_interval_seconds`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRetention {}

/// What a run of the retention job did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionRun {
    /// How many requests had their client contact data anonymised by this run.
    pub anonymised: u64,
    /// Requests closed or withdrawn before this moment were due.
    pub closed_before: DateTime<Utc>,
    /// The configured retention period (`privacy.retention_days`).
    pub retention_days: i64,
}

/// Anonymise, now, the client contact data of every request closed or withdrawn longer ago than
/// the retention period (`privacy.retention_days`) that is not on legal hold. Runs whether or
/// not the background job is enabled; running it again finds nothing new.
#[utoipa::path(
    tag = "privacy",
    request_body(content = Option<RunRetention>, description = "Nothing; the body may be left out"),
    responses((status = 200, description = "The run is done", body = RetentionRun))
)]
#[post("/privacy/retention/run")]
async fn run_retention(
    state: Data<AppState>,
    _caller: Caller,
    _body: OptionalJson<RunRetention>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let retention = state.retention;
    let anonymised = state
        .db
        .run(move |conn| store::run_retention(conn, now, &retention))
        .await?;
    if anonymised > 0 {
        tracing::info!(anonymised, "retention run on demand");
    }
    Ok(HttpResponse::Ok().json(RetentionRun {
        anonymised,
        closed_before: utc(retention.cutoff(now)),
        retention_days: retention.period.num_days(),
    }))
}

/// Place a request on legal hold or release it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalHold {
    /// `true` places the hold, `false` releases it.
    pub hold: bool,
    /// Why (e.g. the court case or complaint the data is kept for). Required to place a hold;
    /// kept in the request's history.
    #[schema(max_length = 500, example = "Complaint procedure 2026-17 pending")]
    pub reason: Option<String>,
}

/// Place a buddy request on legal hold, or release it. While held, retention and erasure leave
/// the client's contact data alone.
#[utoipa::path(
    tag = "privacy",
    params(("id" = Uuid, Path, description = "Buddy-request id")),
    request_body = LegalHold,
    responses(
        (status = 200, description = "The request, with its new `legal_hold`", body = BuddyRequest),
        (status = 409, description = "The hold is already as asked, or the contact data is anonymised already",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/buddy-requests/{id}/legal-hold")]
async fn set_legal_hold(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<LegalHold>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut check = Check::new();
    let reason = check.note("reason", body.reason.as_deref(), MAX_REASON);
    if body.hold && reason.is_none() {
        check.fail("reason", "is required to place a legal hold");
    }
    check.finish()?;
    let hold = body.hold;
    let now = state.clock.now_naive();
    let id = id.into_inner().to_string();
    let request = state
        .db
        .write(move |conn| {
            store::set_legal_hold(conn, &id, hold, reason.as_deref(), &caller.actor, now)?;
            requests::load_one(conn, &id, None)
        })
        .await?;
    tracing::info!(buddy_request = %request.id, hold, "legal hold changed");
    Ok(HttpResponse::Ok().json(request))
}

/// Erase a buddy on request (GDPR art. 17). The buddy is retired if not yet; name and region
/// become `[erased]`, the e-mail address `erased-<id>@invalid`, phone and topics are removed, and
/// so is the free text of their pairings and history. The records stay, without identity.
#[utoipa::path(
    tag = "privacy",
    params(("id" = Uuid, Path, description = "Buddy id")),
    request_body(content = Option<ActionBody>, description = "Optional reason, kept in the history"),
    responses(
        (status = 200, description = "Erased", body = Buddy),
        (status = 409, description = "The buddy has live pairings, or is erased already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/buddies/{id}/erase")]
async fn erase_buddy(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: OptionalJson<ActionBody>,
) -> ApiResult<HttpResponse> {
    let reason = ActionBody::reason(body.0)?;
    let now = state.clock.now_naive();
    let id = id.into_inner().to_string();
    let buddy = state
        .db
        .write(move |conn| {
            store::erase_buddy(conn, &id, reason.as_deref(), &caller.actor, now)?;
            buddies::load_one(conn, &id)
        })
        .await?;
    tracing::info!(buddy = %buddy.id, "buddy erased");
    Ok(HttpResponse::Ok().json(buddy))
}

/// Names one client: the case system's reference within one organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientErasure {
    pub organisation_id: Uuid,
    /// The case system's reference for the client.
    #[schema(min_length = 1, max_length = 64, example = "CASE-2026-0042")]
    pub client_ref: String,
    /// Why the client's data is erased (e.g. the date of the client's request); kept in the
    /// history of each request.
    #[schema(
        min_length = 1,
        max_length = 500,
        example = "Erasure request of 2026-11-20"
    )]
    pub reason: String,
}

/// The client's requests after erasure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientErased {
    pub organisation_id: Uuid,
    pub client_ref: String,
    /// How many requests this erasure anonymised (requests anonymised before are left as they are).
    pub anonymised: usize,
    /// Every request of the client, as it is now.
    pub requests: Vec<BuddyRequest>,
}

/// Erase a client on request (GDPR art. 17): the contact data of every request of the client is
/// anonymised as retention would, whatever its age. Refused while a request is open, proposed
/// or matched (the case system withdraws it, or its pairing ends, first) or on legal hold. The
/// requests, their pairings and history stay without the client's contact data; `client_ref`,
/// the case system's pseudonymous reference, stays too.
#[utoipa::path(
    tag = "privacy",
    request_body = ClientErasure,
    responses(
        (status = 200, description = "Erased", body = ClientErased),
        (status = 404, description = "The organisation has no request with this `client_ref`", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "A request of the client is open, proposed, matched or on legal hold, \
            or every one is anonymised already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/privacy/clients/erase")]
async fn erase_client(
    state: Data<AppState>,
    caller: Caller,
    body: Json<ClientErasure>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut check = Check::new();
    let client_ref = check.client_ref("client_ref", &body.client_ref);
    let reason = check.text("reason", &body.reason, MAX_REASON);
    check.finish()?;
    let organisation_id = body.organisation_id.to_string();
    let now = state.clock.now_naive();
    let cref = client_ref.clone();
    let (anonymised, rows) = state
        .db
        .write(move |conn| {
            store::erase_client(conn, &organisation_id, &cref, &reason, &caller.actor, now)
        })
        .await?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    tracing::info!(buddy_requests = ?ids, anonymised, "client erased");
    let requests = rows
        .into_iter()
        .map(|row| BuddyRequest::from_row(row, None))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(ClientErased {
        organisation_id: body.organisation_id,
        client_ref,
        anonymised,
        requests,
    }))
}
