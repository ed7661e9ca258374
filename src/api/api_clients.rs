//! `/v1/api-clients`: case-management systems and their keys (administrators only).

use crate::api::routes::Routes;
use crate::auth::policy::ADMINS;
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, uuid, AppState, Caller};
use crate::domain::clock::utc;
use crate::domain::ids::{ApiClientId, ApiKeyId, OrganisationId};
use crate::domain::values::{Check, MAX_NAME};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{Json, OptionalJson, Query};
use crate::http::pagination::PageRequest;
use crate::ops;
use crate::store::api_clients::{self as store, ApiClientRow, ApiKeyRow};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(create_api_client, ADMINS)
        .add(list_api_clients, ADMINS)
        .add(get_api_client, ADMINS.tagged())
        .add(revoke_api_client, ADMINS.tagged())
        .add(create_api_key, ADMINS)
        .add(revoke_api_key, ADMINS);
}

/// A key's metadata; the secret is never shown again after creation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000f101",
    "created_at": "2026-11-02T10:00:00Z",
    "expires_at": "2027-12-31T23:59:59Z",
    "last_used_at": "2026-11-22T08:55:00Z"
}))]
pub struct ApiKey {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Updated at most once a minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = ApiError;
    fn try_from(row: ApiKeyRow) -> ApiResult<Self> {
        Ok(ApiKey {
            id: uuid(&row.id)?,
            created_at: utc(row.created_at),
            expires_at: row.expires_at.map(utc),
            last_used_at: row.last_used_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        })
    }
}

/// A new key with its token: store the token now, it is shown only this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKey {
    /// Send as `Authorization: Bearer <token>`.
    #[schema(
        example = "mtj_ak_01936f0e6f9c7d2a8b1c2d3e4f5a6b7c_3q2-7wEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    )]
    pub token: String,
    pub key: ApiKey,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000f001",
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001",
    "name": "Zaaksysteem Voorbeeld",
    "created_at": "2026-11-02T10:00:00Z",
    "keys": [{
        "id": "0193a5c4-7d10-7000-8000-00000000f101",
        "created_at": "2026-11-02T10:00:00Z",
        "expires_at": "2027-12-31T23:59:59Z",
        "last_used_at": "2026-11-22T08:55:00Z"
    }]
}))]
pub struct ApiClient {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    pub keys: Vec<ApiKey>,
}

crate::page_type!(ApiClientPage, ApiClient, "API clients");

impl ApiClient {
    pub(crate) fn from_rows(row: ApiClientRow, keys: Vec<ApiKeyRow>) -> ApiResult<Self> {
        Ok(ApiClient {
            id: uuid(&row.id)?,
            organisation_id: uuid(&row.organisation_id)?,
            name: row.name,
            created_at: utc(row.created_at),
            revoked_at: row.revoked_at.map(utc),
            keys: keys
                .into_iter()
                .map(ApiKey::try_from)
                .collect::<ApiResult<_>>()?,
        })
    }
}

/// A new client with its first key.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiClient {
    pub client: ApiClient,
    pub key: IssuedKey,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001",
    "name": "Zaaksysteem Voorbeeld",
    "key_expires_at": "2027-12-31T23:59:59Z"
}))]
pub struct NewApiClient {
    pub organisation_id: Uuid,
    /// E.g. the case-management system's product name.
    #[schema(schema_with = crate::domain::values::schema::name)]
    pub name: String,
    /// When the first key stops working; none means until revoked. Must lie in the future (a refusal is a 400 `urn:maatje:problem:validation` naming the field).
    pub key_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "expires_at": "2027-12-31T23:59:59Z" }))]
pub struct NewApiKey {
    /// When the key stops working; none means until revoked. Must lie in the future (a refusal is a 400 `urn:maatje:problem:validation` naming the field).
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApiClientQuery {
    pub organisation_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

fn future_expiry(
    check: &mut Check,
    field: &str,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<chrono::NaiveDateTime> {
    match at {
        Some(at) if at <= now => {
            check.fail(field, "must lie in the future");
            None
        }
        other => other.map(|at| at.naive_utc()),
    }
}

/// Register a case-management system for an organisation and issue its first key.
#[utoipa::path(
    tag = "api-clients",
    request_body = NewApiClient,
    responses(
        (status = 201, description = "Registered; the key's token is in the body, shown once", body = CreatedApiClient,
            headers(("Location" = String, description = "URL of the new client"))),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation is inactive or has a client with this name", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/api-clients")]
async fn create_api_client(
    state: Data<AppState>,
    caller: Caller,
    body: Json<NewApiClient>,
) -> ApiResult<HttpResponse> {
    let input = body.0;
    let now = state.clock.now();
    let mut check = Check::new();
    let name = check.text("name", &input.name, MAX_NAME);
    let expires_at = future_expiry(&mut check, "key_expires_at", input.key_expires_at, now);
    check.finish()?;
    let organisation_id = OrganisationId::from(input.organisation_id);
    let now = now.naive_utc();
    let (client, key) = state
        .change(caller.ctx(now), move |tx| {
            ops::admin::create_api_client(tx, &organisation_id, name, expires_at)
        })
        .await?;
    let body = CreatedApiClient {
        client: ApiClient::from_rows(client, vec![key.row.clone()])?,
        key: IssuedKey {
            token: key.token,
            key: ApiKey::try_from(key.row)?,
        },
    };
    Ok(created(
        format!("/v1/api-clients/{}", body.client.id),
        &body,
    ))
}

/// List API clients.
#[utoipa::path(
    tag = "api-clients",
    params(ApiClientQuery),
    responses((status = 200, description = "One page", body = ApiClientPage))
)]
#[get("/api-clients")]
async fn list_api_clients(
    state: Data<AppState>,
    _caller: Caller,
    query: Query<ApiClientQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse(
        "api-clients",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    check.finish()?;
    let organisation_id = query.organisation_id.map(OrganisationId::from);
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let rows = store::list(conn, organisation_id.as_ref(), &request)?;
            let ids: Vec<ApiClientId> = rows.iter().map(|r| r.id.clone()).collect();
            let mut keys = store::keys_of(conn, &ids)?;
            Ok(rows
                .into_iter()
                .map(|row| {
                    let own = keys.remove(&row.id).unwrap_or_default();
                    (row, own)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |(r, _)| r.id.as_str());
    Ok(HttpResponse::Ok().json(ApiClientPage {
        items: rows
            .into_iter()
            .map(|(row, keys)| ApiClient::from_rows(row, keys))
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Read an API client with its keys' metadata.
#[utoipa::path(
    tag = "api-clients",
    params(("id" = Uuid, Path, description = "API client id")),
    responses((status = 200, description = "The client", body = ApiClient))
)]
#[get("/api-clients/{id}")]
async fn get_api_client(
    state: Data<AppState>,
    _caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = ApiClientId::from(id.into_inner());
    let client = state.db.run(move |conn| load_one(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(client))
}

/// Loads an API client with its keys' metadata.
fn load_one(conn: &mut crate::db::DbConnection, id: &ApiClientId) -> ApiResult<ApiClient> {
    let row = store::find(conn, id)?;
    let keys = store::keys(conn, id)?;
    ApiClient::from_rows(row, keys)
}

/// Revoke an API client: all its keys stop working at once.
#[utoipa::path(
    tag = "api-clients",
    params(("id" = Uuid, Path, description = "API client id")),
    responses(
        (status = 200, description = "Revoked", body = ApiClient),
        (status = 409, description = "Revoked already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-clients/{id}/revoke")]
async fn revoke_api_client(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = ApiClientId::from(id.into_inner());
    let now = state.clock.now_naive();
    let current = id.clone();
    let ctx = caller.ctx_on(now, store::row(&id), move |conn| load_one(conn, &current));
    let (row, keys) = state
        .change(ctx, move |tx| ops::admin::revoke_api_client(tx, &id))
        .await?;
    Ok(HttpResponse::Ok().json(ApiClient::from_rows(row, keys)?))
}

/// Issue another key, e.g. to rotate without downtime: switch to the new key, then revoke the
/// old one.
#[utoipa::path(
    tag = "api-clients",
    params(("id" = Uuid, Path, description = "API client id")),
    request_body(content = Option<NewApiKey>, description = "Optional expiry"),
    responses(
        (status = 201, description = "Issued; the token is in the body, shown once", body = IssuedKey),
        (status = 409, description = "The client is revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-clients/{id}/keys")]
async fn create_api_key(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: OptionalJson<NewApiKey>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let mut check = Check::new();
    let expires_at = future_expiry(
        &mut check,
        "expires_at",
        body.0.unwrap_or_default().expires_at,
        now,
    );
    check.finish()?;
    let id = ApiClientId::from(id.into_inner());
    let now = now.naive_utc();
    let key = state
        .change(caller.ctx(now), move |tx| {
            ops::admin::issue_key(tx, &id, expires_at)
        })
        .await?;
    let body = IssuedKey {
        token: key.token,
        key: ApiKey::try_from(key.row)?,
    };
    Ok(HttpResponse::Created().json(body))
}

/// Revoke one key.
#[utoipa::path(
    tag = "api-clients",
    params(("id" = Uuid, Path, description = "API client id"), ("key_id" = Uuid, Path, description = "Key id")),
    responses(
        (status = 200, description = "Revoked", body = ApiKey),
        (status = 409, description = "Revoked already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-clients/{id}/keys/{key_id}/revoke")]
async fn revoke_api_key(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, key_id) = ids.into_inner();
    let (id, key_id) = (ApiClientId::from(id), ApiKeyId::from(key_id));
    let now = state.clock.now_naive();
    let key = state
        .change(caller.ctx(now), move |tx| {
            ops::admin::revoke_key(tx, &id, &key_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ApiKey::try_from(key)?))
}
