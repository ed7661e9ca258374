//! `/v1/staff`: staff accounts of the client bureau (administrators only).

use crate::api::routes::Routes;
use crate::auth::policy::ADMINS;
use actix_web::web::{Data, Path};
use actix_web::{get, patch, post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, uuid, AppState, Caller};
use crate::auth::{password, StaffRole};
use crate::domain::clock::utc;
use crate::domain::ids::StaffId;
use crate::domain::values::{Check, MAX_NAME};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{Json, Query};
use crate::http::pagination::PageRequest;
use crate::ops;
use crate::store::staff::{self as store, StaffRow};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(create_staff, ADMINS.tagged())
        .add(list_staff, ADMINS)
        .add(get_staff, ADMINS.tagged())
        .add(update_staff, ADMINS.tagged());
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000f201",
    "email": "coordinator@example.org",
    "name": "Coördinator Voorbeeld",
    "role": "coordinator",
    "active": true,
    "created_at": "2026-11-01T08:00:00Z",
    "updated_at": "2026-11-01T08:00:00Z"
}))]
pub struct Staff {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub active: bool,
    /// Set while a source address is locked out of this account after failed logins (until
    /// when); other addresses can still log in. Cleared by the next successful login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::page_type!(StaffPage, Staff, "staff accounts");

impl TryFrom<StaffRow> for Staff {
    type Error = ApiError;
    fn try_from(row: StaffRow) -> ApiResult<Self> {
        Ok(Staff {
            id: uuid(&row.id)?,
            role: row.role,
            email: row.email,
            name: row.name,
            active: row.active,
            locked_until: row.locked_until.map(utc),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "coordinator@example.org",
    "name": "Coördinator Voorbeeld",
    "role": "coordinator",
    "password": "correct horse battery staple"
}))]
pub struct NewStaff {
    #[schema(schema_with = crate::domain::values::schema::email)]
    pub email: String,
    #[schema(schema_with = crate::domain::values::schema::name)]
    pub name: String,
    pub role: StaffRole,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256, format = Password)]
    pub password: String,
}

/// Validates a new account and hashes its password (call on a blocking thread or accept the
/// cost: argon2id takes tens of milliseconds by design).
pub fn validate_new_staff(input: NewStaff) -> ApiResult<(String, String, StaffRole, String)> {
    let mut check = Check::new();
    let email = check.email("email", &input.email);
    let name = check.text("name", &input.name, MAX_NAME);
    if let Some(why) = password::weakness(&input.password) {
        check.fail("password", why);
    }
    check.finish()?;
    Ok((email, name, input.role, input.password))
}

/// A partial update of a staff account: fields left out (or `null`) stay as they are. At least
/// one field must carry a value; a body with none is a 400 `urn:maatje:problem:validation`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "role": "admin" }), min_properties = 1)]
pub struct StaffPatch {
    #[schema(schema_with = crate::domain::values::schema::name_or_null)]
    pub name: Option<String>,
    pub role: Option<StaffRole>,
    /// `false` deactivates the account and ends its sessions.
    pub active: Option<bool>,
    /// A new password; ends the account's sessions.
    #[schema(min_length = 12, max_length = 256, format = Password)]
    pub password: Option<String>,
    /// `true` lifts a lock after failed logins.
    pub unlock: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// Create a staff account.
#[utoipa::path(
    tag = "staff",
    request_body = NewStaff,
    responses(
        (status = 201, description = "Created", body = Staff,
            headers(("Location" = String, description = "URL of the new account"))),
        (status = 409, description = "An account with this e-mail address exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/staff")]
async fn create_staff(
    state: Data<AppState>,
    caller: Caller,
    body: Json<NewStaff>,
) -> ApiResult<HttpResponse> {
    let (email, name, role, plain) = validate_new_staff(body.0)?;
    let now = state.clock.now_naive();
    let hash = password::hash(&plain);
    let row = state
        .change(caller.ctx(now), move |tx| {
            ops::admin::create_staff(tx, email, name, role, hash)
        })
        .await?;
    let body = Staff::try_from(row)?;
    Ok(created(format!("/v1/staff/{}", body.id), &body))
}

/// List staff accounts.
#[utoipa::path(tag = "staff", params(StaffQuery), responses((status = 200, description = "One page", body = StaffPage)))]
#[get("/staff")]
async fn list_staff(
    state: Data<AppState>,
    _caller: Caller,
    query: Query<StaffQuery>,
) -> ApiResult<HttpResponse> {
    let mut check = Check::new();
    let page = PageRequest::parse(
        "staff",
        query.0.limit,
        query.0.cursor.as_deref(),
        check.errors_mut(),
    );
    check.finish()?;
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::list(conn, &request)?) })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    Ok(HttpResponse::Ok().json(StaffPage {
        items: rows
            .into_iter()
            .map(Staff::try_from)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Read a staff account.
#[utoipa::path(
    tag = "staff",
    params(("id" = Uuid, Path, description = "Staff id")),
    responses((status = 200, description = "The account", body = Staff))
)]
#[get("/staff/{id}")]
async fn get_staff(
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = StaffId::from(id.into_inner());
    let row = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::find(conn, &id)?) })
        .await?;
    Ok(HttpResponse::Ok().json(Staff::try_from(row)?))
}

/// Change an account: name, role, active, password, or lift a lock. The last active
/// administrator cannot be demoted or deactivated.
#[utoipa::path(
    tag = "staff",
    params(("id" = Uuid, Path, description = "Staff id")),
    request_body = StaffPatch,
    responses(
        (status = 200, description = "Updated", body = Staff),
        (status = 409, description = "This would leave no active administrator, or the account changed concurrently",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/staff/{id}")]
async fn update_staff(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<StaffPatch>,
) -> ApiResult<HttpResponse> {
    let patch = body.0;
    let mut check = Check::new();
    let name = patch
        .name
        .as_deref()
        .map(|n| check.text("name", n, MAX_NAME));
    if let Some(why) = patch.password.as_deref().and_then(password::weakness) {
        check.fail("password", why);
    }
    if name.is_none()
        && patch.role.is_none()
        && patch.active.is_none()
        && patch.password.is_none()
        && patch.unlock.is_none()
    {
        check.fail("", "the body names no field to change");
    }
    check.finish()?;
    let new_hash = patch.password.as_deref().map(password::hash);
    let id = StaffId::from(id.into_inner());
    let now = state.clock.now_naive();
    let change = ops::admin::StaffChange {
        name,
        role: patch.role,
        active: patch.active,
        password_hash: new_hash,
        unlock: patch.unlock == Some(true),
    };
    let current = id.clone();
    let ctx = caller.ctx_on(now, store::row(&id), move |conn| {
        Staff::try_from(store::find(conn, &current)?)
    });
    let row = state
        .change(ctx, move |tx| ops::admin::update_staff(tx, &id, change))
        .await?;
    Ok(HttpResponse::Ok().json(Staff::try_from(row)?))
}
