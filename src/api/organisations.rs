//! `/v1/organisations`: the certified organisations taking part in the programme.

use crate::api::routes::Routes;
use crate::auth::policy::{ADMINS, STAFF_ONLY};
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, history_page, uuid, AppState, Caller, HistoryPage, HistoryQuery};
use crate::domain::clock::utc;
use crate::domain::ids::OrganisationId;
use crate::domain::organisation::{OrganisationAction, OrganisationState};
use crate::domain::values::{Check, MAX_NAME};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::http::pagination::PageRequest;
use crate::ops;
use crate::store::organisations::{self as store, OrganisationRow};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(create_organisation, ADMINS.tagged())
        .add(list_organisations, STAFF_ONLY)
        .add(get_organisation, STAFF_ONLY.tagged())
        .add(deactivate_organisation, ADMINS.tagged())
        .add(reactivate_organisation, ADMINS.tagged())
        .add(organisation_history, STAFF_ONLY);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "name": "Jeugdbescherming Voorbeeldregio" }))]
pub struct NewOrganisation {
    /// The organisation's name; unique.
    #[schema(schema_with = crate::domain::values::schema::name)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000a001",
    "name": "Jeugdbescherming Voorbeeldregio",
    "state": "active",
    "created_at": "2026-11-02T09:00:00Z",
    "updated_at": "2026-11-02T09:00:00Z"
}))]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub state: OrganisationState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::page_type!(OrganisationPage, Organisation, "organisations");

impl TryFrom<OrganisationRow> for Organisation {
    type Error = ApiError;
    fn try_from(row: OrganisationRow) -> ApiResult<Self> {
        Ok(Organisation {
            id: uuid(&row.id)?,
            state: row.state,
            name: row.name,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationQuery {
    /// Only organisations in this state.
    pub state: Option<OrganisationState>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// Register an organisation.
#[utoipa::path(
    tag = "organisations",
    request_body = NewOrganisation,
    responses(
        (status = 201, description = "Registered", body = Organisation,
            headers(("Location" = String, description = "URL of the new organisation"))),
        (status = 409, description = "An organisation with this name exists", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/organisations")]
async fn create_organisation(
    state: Data<AppState>,
    caller: Caller,
    body: Json<NewOrganisation>,
) -> ApiResult<HttpResponse> {
    let mut check = Check::new();
    let name = check.text("name", &body.0.name, MAX_NAME);
    check.finish()?;
    let now = state.clock.now_naive();
    let row = state
        .change(caller.ctx(now), move |tx| {
            ops::admin::create_organisation(tx, name)
        })
        .await?;
    let body = Organisation::try_from(row)?;
    Ok(created(format!("/v1/organisations/{}", body.id), &body))
}

/// List organisations, oldest first.
#[utoipa::path(
    tag = "organisations",
    params(OrganisationQuery),
    responses((status = 200, description = "One page of organisations", body = OrganisationPage))
)]
#[get("/organisations")]
async fn list_organisations(
    state: Data<AppState>,
    _caller: Caller,
    query: Query<OrganisationQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse(
        "organisations",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    check.finish()?;
    let filter = store::Filter { state: query.state };
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::list(conn, &filter, &request)?) })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    Ok(HttpResponse::Ok().json(OrganisationPage {
        items: rows
            .into_iter()
            .map(Organisation::try_from)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Read one organisation.
#[utoipa::path(
    tag = "organisations",
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses((status = 200, description = "The organisation", body = Organisation))
)]
#[get("/organisations/{id}")]
async fn get_organisation(
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = OrganisationId::from(id.into_inner());
    let row = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::find(conn, &id)?) })
        .await?;
    Ok(HttpResponse::Ok().json(Organisation::try_from(row)?))
}

async fn act(
    state: Data<AppState>,
    caller: Caller,
    id: Uuid,
    action: OrganisationAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let id = OrganisationId::from(id);
    let current = id.clone();
    let ctx = caller.ctx_on(now, store::row(&id), move |conn| {
        Organisation::try_from(store::find(conn, &current)?)
    });
    let row = state
        .change(ctx, move |tx| {
            ops::admin::act_on_organisation(tx, &id, action, reason.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Organisation::try_from(row)?))
}

action_endpoint!(
    /// Take an organisation out of the programme: it can file no new requests or exit interviews.
    deactivate_organisation: POST "/organisations/{id}/deactivate",
    tag = "organisations", id = "Organisation id", body = "Optional reason",
    ok = (Organisation, "Now inactive"), conflict = "Not active",
    act(OrganisationAction::Deactivate)
);

action_endpoint!(
    /// Bring an inactive organisation back into the programme.
    reactivate_organisation: POST "/organisations/{id}/reactivate",
    tag = "organisations", id = "Organisation id", body = "Optional reason",
    ok = (Organisation, "Active again"), conflict = "Not inactive",
    act(OrganisationAction::Reactivate)
);

/// The organisation's history of changes.
#[utoipa::path(
    tag = "organisations",
    params(("id" = Uuid, Path, description = "Organisation id"), HistoryQuery),
    responses((status = 200, description = "History, oldest first", body = HistoryPage))
)]
#[get("/organisations/{id}/history")]
async fn organisation_history(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    query: Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let page = history_page(
        &state,
        &caller,
        store::ENTITY,
        id.into_inner(),
        query.0,
        |conn, id| Ok(store::find(conn, id).map(|_| ())?),
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}
