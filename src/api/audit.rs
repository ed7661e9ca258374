//! `/v1/audit`: the NEN 7513 audit trail, for administrators (see [`crate::audit`]).

use std::collections::BTreeSet;

use crate::api::routes::Routes;
use crate::auth::policy::ADMINS;
use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{uuid, ActorRef, AppState, Caller};
use crate::audit::{ActorType, Outcome};
use crate::auth::policy;
use crate::domain::clock::utc;
use crate::domain::values::Check;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::pagination::PageRequest;
use crate::store::audit::{self as store, AuditRow};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes.add(list_audit_records, ADMINS);
}

/// One access to personal data, or an attempt at it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecord {
    /// Place in the hash chain, from 1 without gaps.
    pub seq: i64,
    pub id: Uuid,
    /// When the request arrived.
    pub at: DateTime<Utc>,
    /// Who made the request; `unauthenticated` without valid credentials.
    pub actor: ActorRef,
    /// `X-On-Behalf-Of`: the person at the case system for whom the call was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// `create`, `read`, `update`, `delete`, `search` or `export`.
    #[schema(example = "read")]
    pub action: String,
    /// `exit_interview`, `buddy`, `buddy_request` or `pairing`.
    #[schema(example = "buddy_request")]
    pub object_type: String,
    /// The object accessed or created; absent for searches and failed creates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<Uuid>,
    /// The client the request concerns, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ref: Option<String>,
    pub outcome: Outcome,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The peer address the request came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_address: Option<String>,
    /// The service's own id of the request: generated for every request, never taken from the
    /// caller (the response's `X-Server-Request-Id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The caller's own `X-Request-Id`, when it sent one: for correlation, not unique.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_request_id: Option<String>,
    /// Method and route pattern, e.g. `GET /v1/buddy-requests/{id}`.
    #[schema(example = "GET /v1/buddy-requests/{id}")]
    pub route: String,
    /// The `hash` of the previous record (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of `prev_hash` and the record's canonical form; see `maatje audit verify`.
    pub hash: String,
}

crate::page_type!(AuditPage, AuditRecord, "audit records");

impl TryFrom<AuditRow> for AuditRecord {
    type Error = ApiError;
    fn try_from(row: AuditRow) -> ApiResult<Self> {
        Ok(AuditRecord {
            seq: row.seq,
            id: uuid(&row.id)?,
            at: utc(row.at),
            actor: ActorRef {
                actor_type: row.actor_type,
                id: row.actor_id,
            },
            on_behalf_of: row.on_behalf_of,
            action: row.action,
            object_type: row.object_type,
            object_id: row.object_id.as_deref().map(uuid).transpose()?,
            client_ref: row.client_ref,
            outcome: crate::store::parse_stored(&row.outcome)?,
            status: u16::try_from(row.status)
                .map_err(|_| ApiError::internal("corrupt stored status"))?,
            source_address: row.source_address,
            request_id: row.request_id,
            caller_request_id: row.caller_request_id,
            route: row.route,
            prev_hash: row.prev_hash,
            hash: row.hash,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only records at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only records before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Only requests by this staff account or API client.
    pub actor_id: Option<Uuid>,
    /// Only requests by this kind of party.
    pub actor_type: Option<ActorType>,
    /// Only requests concerning this client (the case system's reference, exact).
    #[param(schema_with = crate::domain::values::schema::client_ref)]
    pub client_ref: Option<String>,
    /// Only this kind of object: `exit_interview`, `buddy`, `buddy_request` or `pairing`.
    #[param(schema_with = object_type_schema)]
    pub object_type: Option<String>,
    /// Only this object.
    pub object_id: Option<Uuid>,
    pub outcome: Option<Outcome>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// The `object_type` filter: one of the object types the policy audits.
fn object_type_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(object_types()))
        .build()
}

/// The object types the policy audits.
fn object_types() -> BTreeSet<&'static str> {
    policy::OBJECT_TYPES.iter().copied().collect()
}

/// Read the audit trail, oldest first.
///
/// One record for every request to a route that touches personal data, allowed or refused, in
/// the order of the hash chain. Reading the trail is not itself recorded.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, description = "One page of audit records", body = AuditPage))
)]
#[get("/audit")]
async fn list_audit_records(
    state: Data<AppState>,
    _caller: Caller,
    query: Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse_keyed(
        "audit",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
        |key| key.parse::<i64>().is_ok_and(|seq| seq >= 0),
    );
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            check.fail("to", "must not be before from");
        }
    }
    let client_ref = query.client_ref.map(|r| check.client_ref("client_ref", &r));
    if let Some(object_type) = &query.object_type {
        let known = object_types();
        if !known.contains(object_type.as_str()) {
            let names: Vec<&str> = known.into_iter().collect();
            check.fail(
                "object_type",
                format!("must be one of {}", names.join(", ")),
            );
        }
    }
    check.finish()?;
    let filter = store::Filter {
        from: query.from.map(|t| t.naive_utc()),
        to: query.to.map(|t| t.naive_utc()),
        actor_id: query.actor_id.map(|id| id.to_string()),
        actor_type: query.actor_type.map(|t| t.as_str().to_owned()),
        client_ref,
        object_type: query.object_type,
        object_id: query.object_id.map(|id| id.to_string()),
        outcome: query.outcome.map(|o| o.as_str().to_owned()),
    };
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::list(conn, &filter, &request)?) })
        .await?;
    let (rows, next_cursor) = page.finish_keyed(rows, |r| r.seq.to_string());
    Ok(HttpResponse::Ok().json(AuditPage {
        items: rows
            .into_iter()
            .map(AuditRecord::try_from)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}
