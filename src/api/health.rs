//! Liveness and readiness probes. No authentication, no personal data.

use std::time::Duration;

use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::error::ApiResult;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` when healthy.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up and serving HTTP.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "Alive", body = HealthStatus))
)]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    alive()
}

fn alive() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// The probes at the service root as well (`/health/live`, `/health/ready`), where an
/// orchestrator or load balancer looks for them whatever the API version: the same answers as
/// the contract's `/v1/health/*`, which generated clients reach under the contract's server.
/// The rules of the probes at the root (public, like those under `/v1`).
pub fn root_rules(policy: &mut crate::auth::policy::Policy) {
    use crate::auth::policy::PUBLIC;
    policy.allow("GET", "/health/live", PUBLIC);
    policy.allow("GET", "/health/ready", PUBLIC);
}

pub fn configure_root(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::web;
    cfg.route("/health/live", web::get().to(|| async { alive() }))
        .route("/health/ready", web::get().to(is_ready));
}

/// The service can take requests: its database is reachable and takes a write.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "Not ready: the database cannot be reached \
            (`urn:maatje:problem:unavailable`), is full (`urn:maatje:problem:storage-full`) or \
            takes no writes (`urn:maatje:problem:read-only`); see `Retry-After`",
            body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Whole seconds until a retry makes sense"))),
    )
)]
#[get("/health/ready")]
pub async fn ready(state: Data<AppState>) -> ApiResult<HttpResponse> {
    is_ready(state).await
}

/// A write, not only a connection: a full or read-only database refuses every change, so the
/// instance is taken out of rotation for those too. At once a 503 while the database is known
/// to be unreachable (the pool's breaker is open).
async fn is_ready(state: Data<AppState>) -> ApiResult<HttpResponse> {
    state.db.check_ready(READY_TIMEOUT).await?;
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
}

/// How long the readiness probe waits for a connection when the pool is busy.
const READY_TIMEOUT: Duration = Duration::from_secs(2);
