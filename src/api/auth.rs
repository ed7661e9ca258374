//! `/v1/auth`: staff login and logout, and who the caller is.

use crate::api::routes::Routes;
use crate::auth::policy::{ANY_CALLER, PUBLIC, STAFF_ONLY};
use actix_web::web::Data;
use actix_web::{get, post, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::staff::Staff;
use super::{AppState, Caller};
use crate::auth::Role;
use crate::domain::clock::utc;
use crate::domain::values::{Check, MAX_EMAIL};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::Json;
use crate::ops::admin::{LoginOutcome, Opening};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(login, PUBLIC)
        .add(logout, STAFF_ONLY)
        .add(whoami, ANY_CALLER);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "email": "coordinator@example.org", "password": "correct horse battery staple" }))]
pub struct Credentials {
    #[schema(max_length = 254, example = "coordinator@example.org")]
    pub email: String,
    #[schema(max_length = 256, format = Password)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "token": "mtj_st_0193a5c47d107000800000000000f201_example-token-not-real",
    "expires_at": "2026-11-22T17:00:00Z",
    "staff": {
        "id": "0193a5c4-7d10-7000-8000-00000000f201",
        "email": "coordinator@example.org",
        "name": "Coördinator Voorbeeld",
        "role": "coordinator",
        "active": true,
        "created_at": "2026-11-01T08:00:00Z",
        "updated_at": "2026-11-01T08:00:00Z"
    }
}))]
pub struct LoginSession {
    /// Send as `Authorization: Bearer <token>`. Shown only here.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub staff: Staff,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "role": "case_system",
    "id": "0193a5c4-7d10-7000-8000-00000000f001",
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001"
}))]
pub struct WhoAmI {
    /// `admin`, `coordinator` or `case_system`.
    pub role: Role,
    /// The staff account or API client id.
    pub id: String,
    /// The organisation of a case system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
}

/// Log in as staff: returns a short-lived bearer token. Repeated failures from one source
/// address lock that address out of the account for a growing time (other addresses are not
/// affected); the answer never tells which part was wrong. Password checks are bounded
/// (`auth.max_concurrent_verifications`): when they are all taken for
/// `auth.verification_wait_ms`, the answer is 503 with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body = Credentials,
    responses(
        (status = 200, description = "Logged in", body = LoginSession),
        (status = 401, description = "Wrong e-mail or password, or the account is inactive or locked for this source address", body = Problem,
            content_type = "application/problem+json"),
        (status = 503, description = "Too many password checks at once (or the database cannot be reached); retry after `Retry-After` seconds",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Whole seconds (at least 1) after which to try again"))),
    )
)]
#[post("/auth/login")]
async fn login(
    req: HttpRequest,
    state: Data<AppState>,
    body: Json<Credentials>,
) -> ApiResult<HttpResponse> {
    let Credentials { email, password } = body.0;
    let mut check = Check::new();
    if email.len() > MAX_EMAIL {
        check.fail("email", format!("must be at most {MAX_EMAIL} characters"));
    }
    if password.len() > crate::auth::password::MAX_LENGTH * 4 {
        check.fail("password", "is too long");
    }
    check.finish()?;
    // The lockout is kept per account and source.
    let source = crate::auth::login::source(&req);
    let outcome =
        crate::auth::login::log_in(&state, &email, password, source, Opening::Api).await?;
    match outcome {
        LoginOutcome::Success(session) => Ok(HttpResponse::Ok().json(LoginSession {
            token: session.token,
            expires_at: utc(session.expires_at),
            staff: Staff::try_from(session.staff)?,
        })),
        LoginOutcome::Refused { .. } => Err(ApiError::Unauthorized(
            "wrong e-mail address or password, or the account is inactive or temporarily locked"
                .into(),
        )),
    }
}

/// End the current staff session: its token stops working at once.
#[utoipa::path(tag = "auth", responses((status = 204, description = "Logged out")))]
#[post("/auth/logout")]
async fn logout(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let session = caller.identity.credential_id.clone();
    let now = state.clock.now_naive();
    state
        .change(caller.ctx(now), move |tx| {
            crate::ops::admin::log_out(tx, &session)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who the credentials belong to: useful to check a key or token.
#[utoipa::path(tag = "auth", responses((status = 200, description = "The caller", body = WhoAmI)))]
#[get("/auth/me")]
async fn whoami(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(WhoAmI {
        role: caller.identity.role,
        id: caller.actor.id().unwrap_or_default().to_owned(),
        organisation_id: caller.identity.organisation_id.clone().map(String::from),
    })
}
