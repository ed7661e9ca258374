//! Liveness and readiness probes. No authentication, no personal data.

use std::time::Duration;

use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::error::{ApiError, ApiResult};

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
pub fn configure_root(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::web;
    cfg.route("/health/live", web::get().to(|| async { alive() }))
        .route("/health/ready", web::get().to(is_ready));
}

/// The service can reach its database and take requests.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "The database cannot be reached", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn ready(state: Data<AppState>) -> ApiResult<HttpResponse> {
    is_ready(state).await
}

async fn is_ready(state: Data<AppState>) -> ApiResult<HttpResponse> {
    if state.db.is_ready(Duration::from_secs(2)).await {
        Ok(HttpResponse::Ok().json(HealthStatus { status: "ok" }))
    } else {
        Err(ApiError::Unavailable(
            "readiness probe: no database connection".into(),
        ))
    }
}
