//! `/v1/buddy-requests/{id}/exclusions`: buddies staff rule out for a request (e.g. the buddy
//! knows the family). An excluded buddy is never a candidate for it.

use crate::api::routes::Routes;
use crate::auth::policy::{
    AuditAction::{Read, Update},
    STAFF_ONLY,
};
use actix_web::web::{Data, Path};
use actix_web::{delete, get, post, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{created, uuid, AppState, Caller};
use crate::audit::note_client_ref;
use crate::domain::clock::utc;
use crate::domain::ids::{BuddyId, RequestId};
use crate::domain::values::{Check, MAX_REASON};
use crate::error::{ApiResult, Problem};
use crate::http::extract::Json;
use crate::store::exclusions::{self as store, ExclusionRow};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(exclude_buddy, STAFF_ONLY.audit(Update, "buddy_request"))
        .add(list_exclusions, STAFF_ONLY.audit(Read, "buddy_request"))
        .add(include_buddy, STAFF_ONLY.audit(Update, "buddy_request"));
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "buddy_id": "0193a5c4-7d10-7000-8000-00000000c001",
    "reason": "Knows the family"
}))]
pub struct NewExclusion {
    pub buddy_id: Uuid,
    /// Why the buddy must not be proposed; kept with the exclusion and in the request's history.
    #[schema(schema_with = crate::domain::values::schema::reason_line)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "request_id": "0193a5c4-7d10-7000-8000-00000000b001",
    "buddy_id": "0193a5c4-7d10-7000-8000-00000000c001",
    "reason": "Knows the family",
    "created_at": "2026-11-22T09:30:00Z"
}))]
pub struct Exclusion {
    pub request_id: Uuid,
    pub buddy_id: Uuid,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl Exclusion {
    fn from_row(row: ExclusionRow) -> ApiResult<Self> {
        Ok(Exclusion {
            request_id: uuid(&row.request_id)?,
            buddy_id: uuid(&row.buddy_id)?,
            reason: row.reason,
            created_at: utc(row.created_at),
        })
    }
}

/// The exclusions of one request (a handful at most, so not paged).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExclusionList {
    /// Oldest first.
    pub items: Vec<Exclusion>,
}

/// Exclude a buddy from a request: the buddy is never a candidate for it.
#[utoipa::path(
    tag = "buddy-requests",
    params(("id" = Uuid, Path, description = "Buddy-request id")),
    request_body = NewExclusion,
    responses(
        (status = 201, description = "Excluded", body = Exclusion,
            headers(("Location" = String, description = "URL of the exclusion; DELETE it to lift it"))),
        (status = 404, description = "No such request or buddy", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The buddy is excluded from this request already, or the request is matched, closed or withdrawn (exclusions are made while it is open or proposed)", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/buddy-requests/{id}/exclusions")]
async fn exclude_buddy(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<NewExclusion>,
) -> ApiResult<HttpResponse> {
    let mut check = Check::new();
    let reason = check.text("reason", &body.0.reason, MAX_REASON);
    check.finish()?;
    let request_id = RequestId::from(id.into_inner());
    let buddy_id = BuddyId::from(body.0.buddy_id);
    let now = state.clock.now_naive();
    let row = state
        .change(caller.ctx(now), move |tx| {
            crate::ops::records::exclude(tx, &request_id, &buddy_id, &reason)
        })
        .await?;
    let body = Exclusion::from_row(row)?;
    Ok(created(
        format!(
            "/v1/buddy-requests/{}/exclusions/{}",
            body.request_id, body.buddy_id
        ),
        &body,
    ))
}

/// The buddies excluded from a request.
#[utoipa::path(
    tag = "buddy-requests",
    params(("id" = Uuid, Path, description = "Buddy-request id")),
    responses(
        (status = 200, description = "The exclusions, oldest first", body = ExclusionList),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/buddy-requests/{id}/exclusions")]
async fn list_exclusions(
    req: HttpRequest,
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let request_id = RequestId::from(id.into_inner());
    let (rows, client_ref) = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::list(conn, &request_id)?) })
        .await?;
    note_client_ref(&req, &client_ref);
    let items = rows
        .into_iter()
        .map(Exclusion::from_row)
        .collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(ExclusionList { items }))
}

/// Lift a buddy's exclusion from a request.
#[utoipa::path(
    tag = "buddy-requests",
    params(
        ("id" = Uuid, Path, description = "Buddy-request id"),
        ("buddy_id" = Uuid, Path, description = "The excluded buddy's id"),
    ),
    responses(
        (status = 204, description = "Lifted: the buddy may be a candidate again"),
        (status = 404, description = "No such request, or the buddy is not excluded from it", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The request is matched, closed or withdrawn: exclusions are lifted while it is open or proposed", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[delete("/buddy-requests/{id}/exclusions/{buddy_id}")]
async fn include_buddy(
    state: Data<AppState>,
    caller: Caller,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (request_id, buddy_id) = path.into_inner();
    let (request_id, buddy_id) = (RequestId::from(request_id), BuddyId::from(buddy_id));
    let now = state.clock.now_naive();
    state
        .change(caller.ctx(now), move |tx| {
            crate::ops::records::include(tx, &request_id, &buddy_id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
