//! Privacy on request: legal holds, and running the retention job on demand. Administrators
//! only.

use actix_web::web::{Data, Path};
use actix_web::{post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::requests::{self, BuddyRequest};
use super::{AppState, Caller};
use crate::domain::clock::utc;
use crate::domain::values::{Check, MAX_REASON};
use crate::error::{ApiResult, Problem};
use crate::http::extract::{Json, OptionalJson};
use crate::store::privacy as store;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(run_retention).service(set_legal_hold);
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
