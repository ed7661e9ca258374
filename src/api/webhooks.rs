//! `/v1/webhook-endpoints`: a case system's webhook endpoints, their deliveries and attempts
//! (see [`crate::webhooks`]). A case system manages its own organisation's endpoints;
//! administrators see every endpoint and may enable or disable it.

use actix_web::web::{Data, Path};
use actix_web::{delete, get, patch, post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, non_null, present, uuid, AppState, Caller};
use crate::api::routes::Routes;
use crate::auth::policy::{CASE_SYSTEMS, CASE_SYSTEMS_AND_ADMINS};
use crate::domain::clock::utc;
use crate::domain::values::Check;
use crate::domain::webhook::{check_url, secret_text, DeliveryState, MAX_DESCRIPTION};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Query};
use crate::http::pagination::PageRequest;
use crate::ops;
use crate::ops::feed::EventType;
use crate::store::webhooks::{self as store, AttemptRow, DeliveryRow, EndpointRow};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(create_webhook_endpoint, CASE_SYSTEMS)
        .add(list_webhook_endpoints, CASE_SYSTEMS_AND_ADMINS)
        .add(get_webhook_endpoint, CASE_SYSTEMS_AND_ADMINS.tagged())
        .add(update_webhook_endpoint, CASE_SYSTEMS_AND_ADMINS.tagged())
        .add(delete_webhook_endpoint, CASE_SYSTEMS)
        .add(rotate_webhook_secret, CASE_SYSTEMS)
        .add(list_webhook_deliveries, CASE_SYSTEMS_AND_ADMINS)
        .add(replay_webhook_delivery, CASE_SYSTEMS_AND_ADMINS)
        .add(list_webhook_attempts, CASE_SYSTEMS_AND_ADMINS);
}

/// The most event types one endpoint names (there are 8).
const MAX_EVENT_TYPES: usize = 8;

fn url_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .format(Some(utoipa::openapi::schema::SchemaFormat::Custom(
            "uri".to_owned(),
        )))
        .min_length(Some(1))
        .max_length(Some(crate::domain::webhook::MAX_URL))
        .description(Some(
            "Where the events are POSTed: an absolute `https` URL on a public address, without \
             user name, password or fragment. Loopback, private and link-local addresses (also \
             what a host name resolves to) are refused (400) unless the service runs with \
             `webhooks.allow_local_targets`, which also allows `http`.",
        ))
        .build()
}

fn event_types_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(<EventType as utoipa::PartialSchema>::schema())
        .min_items(Some(1))
        .max_items(Some(MAX_EVENT_TYPES))
        .unique_items(true)
        .description(Some(
            "The event types sent to this endpoint (1 to 8, each once). Only events of the \
             endpoint's own organisation are ever sent.",
        ))
        .build()
}

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://zaaksysteem.example.org/hooks/maatje",
    "event_types": ["buddy_request.matched", "buddy_request.reopened", "buddy_request.overdue"],
    "description": "Matches and overdue requests to the case worker's inbox"
}))]
pub struct NewWebhookEndpoint {
    #[schema(schema_with = url_schema)]
    pub url: String,
    #[schema(schema_with = event_types_schema)]
    pub event_types: Vec<EventType>,
    #[schema(schema_with = crate::domain::values::schema::endpoint_description_or_null)]
    pub description: Option<String>,
    /// Whether events are sent to it now (default `true`).
    pub enabled: Option<bool>,
}

/// A change of an endpoint (fields left out stay as they are; `description: null` removes
/// it). Administrators may send only `enabled`; another field from them is a 400 naming it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "enabled": false }), min_properties = 1)]
pub struct WebhookEndpointPatch {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(schema_with = url_schema)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(schema_with = event_types_schema)]
    pub event_types: Option<Vec<EventType>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::domain::values::schema::endpoint_description_or_null)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool)]
    pub enabled: Option<bool>,
}

/// A webhook endpoint. Its secret is shown only when it is created or rotated.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000e101",
    "organisation_id": "0193a5c4-7d10-7000-8000-00000000a001",
    "url": "https://zaaksysteem.example.org/hooks/maatje",
    "event_types": ["buddy_request.matched", "buddy_request.reopened", "buddy_request.overdue"],
    "description": "Matches and overdue requests to the case worker's inbox",
    "enabled": true,
    "created_at": "2026-11-22T09:00:00Z",
    "updated_at": "2026-11-22T09:00:00Z"
}))]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub organisation_id: Uuid,
    #[schema(schema_with = url_schema)]
    pub url: String,
    #[schema(schema_with = event_types_schema)]
    pub event_types: Vec<EventType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::domain::values::schema::endpoint_description)]
    pub description: Option<String>,
    pub enabled: bool,
    /// After a rotation: until when the previous secret also signs (each message then carries
    /// two signatures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::page_type!(WebhookEndpointPage, WebhookEndpoint, "webhook endpoints");

impl WebhookEndpoint {
    fn view(row: EndpointRow, now: chrono::NaiveDateTime) -> ApiResult<Self> {
        let event_types = row
            .event_types()?
            .iter()
            .map(|t| t.parse::<EventType>().map_err(ApiError::internal))
            .collect::<ApiResult<_>>()?;
        Ok(WebhookEndpoint {
            id: uuid(&row.id)?,
            organisation_id: uuid(&row.organisation_id)?,
            url: row.url,
            event_types,
            description: row.description,
            enabled: row.enabled,
            previous_secret_valid_until: row
                .previous_secret_until
                .filter(|until| *until > now)
                .map(utc),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// An endpoint with its signing secret: store the secret now, it is not shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    /// The signing secret (Standard Webhooks: `whsec_` and the base64 of 32 random-looking
    /// bytes). Verify `webhook-signature` with it.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAbCdEfGhIjK=")]
    pub secret: String,
}

fn with_secret(
    done: ops::webhooks::WithSecret,
    now: chrono::NaiveDateTime,
) -> ApiResult<WebhookEndpointWithSecret> {
    Ok(WebhookEndpointWithSecret {
        endpoint: WebhookEndpoint::view(done.endpoint, now)?,
        secret: secret_text(&done.secret),
    })
}

/// One event's delivery to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000e201",
    "endpoint_id": "0193a5c4-7d10-7000-8000-00000000e101",
    "event_id": "0193a5c4-7d10-7000-8000-00000000e301",
    "event_type": "buddy_request.matched",
    "state": "pending",
    "attempts": 2,
    "next_attempt_at": "2026-11-22T09:01:30Z",
    "give_up_at": "2026-11-23T09:00:00Z",
    "last_status": 503,
    "last_error": "answered 503 Service Unavailable",
    "created_at": "2026-11-22T09:00:00Z"
}))]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The event (as in `GET /v1/events`); also the `webhook-id` header of every attempt.
    pub event_id: Uuid,
    pub event_type: EventType,
    pub state: DeliveryState,
    /// Attempts so far (since the last replay).
    pub attempts: i32,
    /// When it is tried next (`pending` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// After this it is not tried again but marked `dead`.
    pub give_up_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
}

crate::page_type!(WebhookDeliveryPage, WebhookDelivery, "webhook deliveries");

fn status_of(code: Option<i32>) -> Option<u16> {
    code.and_then(|c| u16::try_from(c).ok())
}

impl TryFrom<DeliveryRow> for WebhookDelivery {
    type Error = ApiError;
    fn try_from(row: DeliveryRow) -> ApiResult<Self> {
        Ok(WebhookDelivery {
            id: uuid(&row.id)?,
            endpoint_id: uuid(&row.endpoint_id)?,
            event_id: uuid(&row.event_id)?,
            event_type: row.event_type.parse().map_err(ApiError::internal)?,
            next_attempt_at: (row.state == DeliveryState::Pending)
                .then(|| utc(row.next_attempt_at)),
            state: row.state,
            attempts: row.attempts,
            give_up_at: utc(row.give_up_at),
            last_status: status_of(row.last_status),
            last_error: row.last_error,
            created_at: utc(row.created_at),
            delivered_at: row.delivered_at.map(utc),
        })
    }
}

/// One attempt to deliver.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d10-7000-8000-00000000e401",
    "delivery_id": "0193a5c4-7d10-7000-8000-00000000e201",
    "attempted_at": "2026-11-22T09:00:01Z",
    "status": 503,
    "duration_ms": 84,
    "error": "answered 503 Service Unavailable",
    "succeeded": false
}))]
pub struct WebhookAttempt {
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    /// The HTTP status answered, if an answer came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub duration_ms: i32,
    /// Why it failed (no answer body is kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub succeeded: bool,
}

crate::page_type!(WebhookAttemptPage, WebhookAttempt, "webhook attempts");

impl TryFrom<AttemptRow> for WebhookAttempt {
    type Error = ApiError;
    fn try_from(row: AttemptRow) -> ApiResult<Self> {
        Ok(WebhookAttempt {
            id: uuid(&row.id)?,
            delivery_id: uuid(&row.delivery_id)?,
            attempted_at: utc(row.attempted_at),
            status: status_of(row.status_code),
            duration_ms: row.duration_ms,
            error: row.error,
            succeeded: row.succeeded,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub state: Option<DeliveryState>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttemptQuery {
    /// Only the attempts of this delivery.
    pub delivery_id: Option<Uuid>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

fn checked_url(check: &mut Check, state: &AppState, url: &str) -> String {
    if let Err(why) = check_url(url, state.reactions.webhooks.allow_local) {
        check.fail("url", why);
    }
    url.to_owned()
}

fn checked_types(check: &mut Check, types: &[EventType]) -> Vec<EventType> {
    if types.is_empty() || types.len() > MAX_EVENT_TYPES {
        check.fail(
            "event_types",
            format!("must name 1 to {MAX_EVENT_TYPES} event types"),
        );
    }
    let distinct = check.distinct("event_types", types);
    if distinct.len() != types.len() {
        check.fail("event_types", "names an event type twice");
    }
    distinct
}

/// Subscribe an endpoint to this organisation's events.
///
/// For case systems. The answer holds the endpoint's signing secret, shown only this once
/// (`POST .../rotate-secret` gives a new one). Every event of the chosen types about the case
/// system's own organisation is then POSTed to the URL as JSON (the same document as in
/// `GET /v1/events`), signed per the Standard Webhooks specification: headers `webhook-id` (the
/// event id, the same on every retry: deduplicate on it), `webhook-timestamp` (Unix seconds)
/// and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under
/// the secret's bytes). Answer 2xx within `webhooks.timeout_seconds` (10); anything else,
/// redirects included, is retried with exponential backoff and jitter for
/// `webhooks.give_up_after_hours` (24), then marked dead. Takes no `Idempotency-Key` (400):
/// the answer carries a secret.
#[utoipa::path(
    tag = "webhooks",
    request_body = NewWebhookEndpoint,
    responses(
        (status = 201, description = "Subscribed; the secret is shown only now", body = WebhookEndpointWithSecret,
            headers(("Location" = String, description = "URL of the new endpoint"))),
    )
)]
#[post("/webhook-endpoints")]
async fn create_webhook_endpoint(
    state: Data<AppState>,
    caller: Caller,
    body: Json<NewWebhookEndpoint>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut check = Check::new();
    let new = ops::webhooks::NewSubscription {
        url: checked_url(&mut check, &state, &body.url),
        event_types: checked_types(&mut check, &body.event_types),
        description: check.optional_text(
            "description",
            body.description.as_deref(),
            MAX_DESCRIPTION,
        ),
        enabled: body.enabled.unwrap_or(true),
    };
    check.finish()?;
    let now = state.clock.now_naive();
    let done = state
        .change(caller.ctx(now), move |tx| ops::webhooks::create(tx, new))
        .await?;
    let body = with_secret(done, now)?;
    Ok(created(
        format!("/v1/webhook-endpoints/{}", body.endpoint.id),
        &body,
    ))
}

/// List webhook endpoints.
///
/// A case system sees its own organisation's; administrators see every organisation's.
#[utoipa::path(
    tag = "webhooks",
    params(PageQuery),
    responses((status = 200, description = "One page of endpoints", body = WebhookEndpointPage))
)]
#[get("/webhook-endpoints")]
async fn list_webhook_endpoints(
    state: Data<AppState>,
    caller: Caller,
    query: Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let mut check = Check::new();
    let page = PageRequest::parse(
        "webhook-endpoints",
        query.0.limit,
        query.0.cursor.as_deref(),
        check.errors_mut(),
    );
    check.finish()?;
    let scope = caller.scope().map(|s| s.as_str().to_owned());
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok(store::list_endpoints(conn, scope.as_deref(), &request)?)
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.as_str());
    let now = state.clock.now_naive();
    Ok(HttpResponse::Ok().json(WebhookEndpointPage {
        items: rows
            .into_iter()
            .map(|row| WebhookEndpoint::view(row, now))
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// The endpoint `id` as the caller may see it: a case system only its own organisation's
/// (another's is a 404).
async fn visible(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<EndpointRow> {
    let scope = caller.scope().map(|s| s.as_str().to_owned());
    state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok(store::find_endpoint(
                conn,
                &id.to_string(),
                scope.as_deref(),
            )?)
        })
        .await
}

/// One page of what endpoint `id` keeps (its deliveries or attempts), as the caller may see it:
/// the endpoint is looked up within the caller's scope (another organisation's is a 404) and
/// the page read in the same trip to the database.
async fn endpoint_page<R, T>(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: &'static str,
    (limit, cursor): (Option<u32>, Option<String>),
    list: impl FnOnce(&mut crate::db::DbConnection, &str, &PageRequest) -> diesel::QueryResult<Vec<R>>
        + Send
        + 'static,
    id_of: fn(&R) -> &str,
) -> ApiResult<(Vec<T>, Option<String>)>
where
    R: Send + 'static,
    T: TryFrom<R, Error = ApiError>,
{
    let mut check = Check::new();
    let page = PageRequest::parse(kind, limit, cursor.as_deref(), check.errors_mut());
    check.finish()?;
    let scope = caller.scope().map(|s| s.as_str().to_owned());
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let endpoint = store::find_endpoint(conn, &id.to_string(), scope.as_deref())?;
            Ok(list(conn, &endpoint.id, &request)?)
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, id_of);
    let items = rows
        .into_iter()
        .map(T::try_from)
        .collect::<ApiResult<_>>()?;
    Ok((items, next_cursor))
}

/// Read a webhook endpoint.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, description = "The endpoint", body = WebhookEndpoint))
)]
#[get("/webhook-endpoints/{id}")]
async fn get_webhook_endpoint(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let row = visible(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(WebhookEndpoint::view(row, state.clock.now_naive())?))
}

/// Change a webhook endpoint: its URL, event types, description, or whether it is enabled.
///
/// A case system changes its own endpoints; administrators may only enable or disable one
/// (`enabled`). A disabled endpoint gets no new deliveries, and its pending ones are marked
/// dead at their next attempt (they can be replayed once it is enabled again).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    request_body = WebhookEndpointPatch,
    responses((status = 200, description = "The endpoint as changed", body = WebhookEndpoint))
)]
#[patch("/webhook-endpoints/{id}")]
async fn update_webhook_endpoint(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<WebhookEndpointPatch>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let mut check = Check::new();
    let change = ops::webhooks::SubscriptionChange {
        url: body.url.map(|url| checked_url(&mut check, &state, &url)),
        event_types: body
            .event_types
            .map(|types| checked_types(&mut check, &types)),
        description: body
            .description
            .map(|d| check.optional_text("description", d.as_deref(), MAX_DESCRIPTION)),
        enabled: body.enabled,
    };
    if change.url.is_none()
        && change.event_types.is_none()
        && change.description.is_none()
        && change.enabled.is_none()
    {
        check.fail("body", "name at least one field to change");
    }
    check.finish()?;
    let now = state.clock.now_naive();
    let id = id.into_inner().to_string();
    let (current, scope) = (id.clone(), caller.scope());
    let ctx = caller.ctx_on(now, store::row(&id), move |conn| {
        let scope = scope.as_ref().map(|s| s.as_str());
        WebhookEndpoint::view(store::find_endpoint(conn, &current, scope)?, now)
    });
    let row = state
        .change(ctx, move |tx| ops::webhooks::update(tx, &id, change))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookEndpoint::view(row, now)?))
}

/// Delete a webhook endpoint, with its deliveries and attempts.
///
/// For the endpoint's case system: no further event is sent there, and deliveries still
/// queued are dropped (the events stay in `GET /v1/events`). Administrators disable an
/// endpoint instead (`PATCH` with `enabled: false`).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/webhook-endpoints/{id}")]
async fn delete_webhook_endpoint(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let id = id.into_inner().to_string();
    state
        .change(caller.ctx(now), move |tx| ops::webhooks::delete(tx, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Give a webhook endpoint a new signing secret.
///
/// For the endpoint's case system. The answer holds the new secret, shown only this once. For
/// `webhooks.rotation_overlap_hours` (24) the previous secret signs too: each message carries
/// both signatures, space-separated, so the receiver can switch to the new secret without
/// missing a message. Takes no `Idempotency-Key` (400): the answer carries a secret.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, description = "The new secret, shown only now", body = WebhookEndpointWithSecret))
)]
#[post("/webhook-endpoints/{id}/rotate-secret")]
async fn rotate_webhook_secret(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let id = id.into_inner().to_string();
    let done = state
        .change(caller.ctx(now), move |tx| {
            ops::webhooks::rotate_secret(tx, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(with_secret(done, now)?))
}

/// List the deliveries to a webhook endpoint, oldest first.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id"), DeliveryQuery),
    responses((status = 200, description = "One page of deliveries", body = WebhookDeliveryPage))
)]
#[get("/webhook-endpoints/{id}/deliveries")]
async fn list_webhook_deliveries(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    query: Query<DeliveryQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let state_filter = query.state;
    let (items, next_cursor) = endpoint_page(
        &state,
        &caller,
        id.into_inner(),
        "webhook-deliveries",
        (query.limit, query.cursor),
        move |conn, endpoint, page| store::list_deliveries(conn, endpoint, state_filter, page),
        |row: &DeliveryRow| row.id.as_str(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(WebhookDeliveryPage { items, next_cursor }))
}

/// Send a delivery again.
///
/// For a delivered or dead delivery: it is queued again, due at once, with a fresh retry
/// period and the same `webhook-id`. A delivery still pending or being sent is a 409 naming
/// its state.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "Endpoint id"),
        ("delivery_id" = Uuid, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "Queued again", body = WebhookDelivery),
        (status = 409, description = "The delivery is still pending or being sent", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints/{id}/deliveries/{delivery_id}/replay")]
async fn replay_webhook_delivery(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (endpoint, delivery) = ids.into_inner();
    let now = state.clock.now_naive();
    let row = state
        .change(caller.ctx(now), move |tx| {
            ops::webhooks::replay(tx, &endpoint.to_string(), &delivery.to_string())
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookDelivery::try_from(row)?))
}

/// List the attempts at a webhook endpoint, oldest first: status, duration and error of each.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id"), AttemptQuery),
    responses((status = 200, description = "One page of attempts", body = WebhookAttemptPage))
)]
#[get("/webhook-endpoints/{id}/attempts")]
async fn list_webhook_attempts(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    query: Query<AttemptQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let delivery = query.delivery_id.map(|d| d.to_string());
    let (items, next_cursor) = endpoint_page(
        &state,
        &caller,
        id.into_inner(),
        "webhook-attempts",
        (query.limit, query.cursor),
        move |conn, endpoint, page| store::list_attempts(conn, endpoint, delivery.as_deref(), page),
        |row: &AttemptRow| row.id.as_str(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(WebhookAttemptPage { items, next_cursor }))
}
