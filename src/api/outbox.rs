//! `/v1/outbox`: the e-mail outbox, for administrators. Shows where each message is and why it
//! failed, never its recipient, subject or body (personal data); a dead letter can be sent again.

use crate::api::routes::Routes;
use crate::auth::policy::ADMINS;
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{uuid, AppState, Caller};
use crate::domain::clock::utc;
use crate::domain::values::Check;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::Query;
use crate::http::pagination::PageRequest;
use crate::store::outbox::{self as store, ListFilter, OutboxRow, OutboxState};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes
        .add(list_outbox, ADMINS)
        .add(retry_outbox_message, ADMINS);
}

/// One e-mail in the outbox, without its recipient or contents.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxMessage {
    /// Also the local part of the message's Message-ID.
    pub id: Uuid,
    /// What the message is about, e.g. `bureau_dead_letter`.
    #[schema(example = "bureau_dead_letter")]
    pub kind: String,
    pub state: OutboxState,
    /// Attempts made so far (a claim by a worker counts as one).
    pub attempts: i32,
    /// When a pending message is (next) due.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed; never a password, address or message body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The kind of record the message is about, e.g. `pairing` or `outbox`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_id: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}

crate::page_type!(OutboxPage, OutboxMessage, "outbox messages");

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = ApiError;
    fn try_from(row: OutboxRow) -> ApiResult<Self> {
        Ok(OutboxMessage {
            id: uuid(&row.id)?,
            kind: row.kind,
            state: row.state,
            attempts: row.attempts,
            next_attempt_at: utc(row.next_attempt_at),
            last_error: row.last_error,
            related_type: row.related_type,
            related_id: row.related_id,
            created_at: utc(row.created_at),
            sent_at: row.sent_at.map(utc),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages in this state.
    pub state: Option<OutboxState>,
    /// Only messages of this kind.
    #[param(max_length = 64)]
    pub kind: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::http::pagination::cursor_schema)]
    pub cursor: Option<String>,
}

/// List the outbox, oldest first.
#[utoipa::path(
    tag = "outbox",
    params(OutboxQuery),
    responses((status = 200, description = "One page of outbox messages", body = OutboxPage))
)]
#[get("/outbox")]
async fn list_outbox(
    state: Data<AppState>,
    _caller: Caller,
    query: Query<OutboxQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.0;
    let mut check = Check::new();
    let page = PageRequest::parse(
        "outbox",
        query.limit,
        query.cursor.as_deref(),
        check.errors_mut(),
    );
    if query
        .kind
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 64)
    {
        check.fail("kind", "must be 1 to 64 characters");
    }
    check.finish()?;
    let filter = ListFilter {
        state: query.state,
        kind: query.kind,
    };
    let request = page.clone();
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::list(conn, &filter, &request)?) })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| &r.id);
    Ok(HttpResponse::Ok().json(OutboxPage {
        items: rows
            .into_iter()
            .map(OutboxMessage::try_from)
            .collect::<ApiResult<_>>()?,
        next_cursor,
    }))
}

/// Send a dead letter again.
///
/// Puts the message back in the queue, due at once, with its attempts reset. Only a `dead`
/// message can be retried; any other state is answered with 409.
#[utoipa::path(
    tag = "outbox",
    params(("id" = Uuid, Path, description = "The outbox message")),
    responses(
        (status = 200, description = "The message, pending again", body = OutboxMessage),
        (status = 409, description = "The message is not dead, or its contents were erased for privacy", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/outbox/{id}/retry")]
async fn retry_outbox_message(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let now = state.clock.now_naive();
    let row = state
        .change(caller.ctx(now), move |tx| {
            crate::ops::admin::retry_outbox_message(tx, &id)
        })
        .await?;
    tracing::info!(outbox_id = %row.id, "dead letter queued again by an admin");
    Ok(HttpResponse::Ok().json(OutboxMessage::try_from(row)?))
}
