//! The webhook tables: endpoints, their deliveries (the durable outbox of webhook messages,
//! written in the transaction of the change) and the attempts to deliver them. Every function
//! runs in the caller's transaction or as one statement; none of them sends anything.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use super::{StoreError, StoreResult};
use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::db::DbConnection;
use crate::domain::webhook::DeliveryState;
use crate::store::page::PageRequest;

pub const ENDPOINT: &str = "webhook_endpoint";
pub const DELIVERY: &str = "webhook_delivery";

/// Endpoint `id`'s row, to lock for an `If-Match` check.
pub fn row(id: &str) -> super::RowLock {
    super::RowLock::new("webhook_endpoints", ENDPOINT, id)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub event_types: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub secret_version: i32,
    pub previous_secret_until: Option<NaiveDateTime>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRow {
    /// The event types the endpoint subscribed to.
    pub fn event_types(&self) -> StoreResult<Vec<String>> {
        serde_json::from_str(&self.event_types)
            .map_err(|e| StoreError::Corrupt(format!("webhook endpoint event types: {e}")))
    }

    /// Whether the endpoint subscribed to `event_type`.
    pub fn subscribes_to(&self, event_type: &str) -> StoreResult<bool> {
        Ok(self.event_types()?.iter().any(|t| t == event_type))
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub event_types: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub secret_version: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_endpoint(conn: &mut DbConnection, row: &NewEndpoint) -> StoreResult<()> {
    diesel::insert_into(webhook_endpoints::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Endpoint `id`, within `organisation` when given (another organisation's is not found).
pub fn find_endpoint(
    conn: &mut DbConnection,
    id: &str,
    organisation: Option<&str>,
) -> StoreResult<EndpointRow> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .select(EndpointRow::as_select())
        .into_boxed();
    if let Some(organisation) = organisation {
        query = query.filter(webhook_endpoints::organisation_id.eq(organisation));
    }
    query
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENDPOINT, id))
}

pub fn list_endpoints(
    conn: &mut DbConnection,
    organisation: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<EndpointRow>> {
    let mut query = webhook_endpoints::table
        .order(webhook_endpoints::id.asc())
        .limit(page.fetch())
        .select(EndpointRow::as_select())
        .into_boxed();
    if let Some(organisation) = organisation {
        query = query.filter(webhook_endpoints::organisation_id.eq(organisation));
    }
    if let Some(after) = &page.after {
        query = query.filter(webhook_endpoints::id.gt(after.clone()));
    }
    query.load(conn)
}

/// The endpoints among `ids` that exist, by id.
pub fn endpoints(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, EndpointRow>> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::id.eq_any(ids))
        .select(EndpointRow::as_select())
        .load::<EndpointRow>(conn)?
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect())
}

/// The enabled endpoints of `organisation`: the only ones its events may go to.
pub fn enabled_endpoints(
    conn: &mut DbConnection,
    organisation: &str,
) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organisation_id.eq(organisation))
        .filter(webhook_endpoints::enabled.eq(true))
        .order(webhook_endpoints::id.asc())
        .select(EndpointRow::as_select())
        .load(conn)
}

/// What a change of an endpoint sets; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub event_types: Option<String>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub secret_version: Option<i32>,
    pub previous_secret_until: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies `change` to endpoint `id` if it is still at `updated_at` (else another request
/// changed it in between: [`StoreError::ConcurrentChange`]).
pub fn update_endpoint(
    conn: &mut DbConnection,
    id: &str,
    seen_at: NaiveDateTime,
    change: &EndpointChange,
) -> StoreResult<()> {
    let n = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(id))
            .filter(webhook_endpoints::updated_at.eq(seen_at)),
    )
    .set(change)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(super::concurrent_change(ENDPOINT))
    }
}

/// Deletes endpoint `id` with its deliveries and their attempts.
pub fn delete_endpoint(conn: &mut DbConnection, id: &str) -> StoreResult<()> {
    diesel::delete(webhook_attempts::table.filter(webhook_attempts::endpoint_id.eq(id)))
        .execute(conn)?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)))
        .execute(conn)?;
    let n = diesel::delete(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::not_found(ENDPOINT, id))
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub give_up_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// Queues the delivery of an event to an endpoint, due at once; in the change's transaction.
pub fn enqueue(
    conn: &mut DbConnection,
    endpoint_id: &str,
    event_id: &str,
    event_type: &str,
    payload: &str,
    now: NaiveDateTime,
    give_up_at: NaiveDateTime,
) -> StoreResult<String> {
    let id = Uuid::now_v7().to_string();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(&id),
            webhook_deliveries::endpoint_id.eq(endpoint_id),
            webhook_deliveries::event_id.eq(event_id),
            webhook_deliveries::event_type.eq(event_type),
            webhook_deliveries::payload.eq(payload),
            webhook_deliveries::state.eq(DeliveryState::Pending),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::give_up_at.eq(give_up_at),
            webhook_deliveries::created_at.eq(now),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn find_delivery(
    conn: &mut DbConnection,
    endpoint_id: &str,
    id: &str,
) -> StoreResult<DeliveryRow> {
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(DELIVERY, id))
}

pub fn list_deliveries(
    conn: &mut DbConnection,
    endpoint_id: &str,
    state: Option<DeliveryState>,
    page: &PageRequest,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .order(webhook_deliveries::id.asc())
        .limit(page.fetch())
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(webhook_deliveries::state.eq(state));
    }
    if let Some(after) = &page.after {
        query = query.filter(webhook_deliveries::id.gt(after.clone()));
    }
    query.load(conn)
}

/// Claims up to `batch` due deliveries for `owner` until `now + lease`: pending ones whose time
/// has come, and sending ones whose worker's lease ran out (it died mid-delivery, so nothing is
/// lost on a kill). One update guarded by the state the candidates were seen in gives them this
/// claim's lease, and only the rows that update gave it are returned: two instances on one
/// database never hold the same delivery at once (on PostgreSQL the second update waits for
/// the first, then finds the rows taken). A claim counts as an attempt.
pub fn claim(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    lease: Duration,
    batch: i64,
) -> StoreResult<Vec<DeliveryRow>> {
    let due = || {
        webhook_deliveries::state
            .eq(DeliveryState::Pending)
            .and(webhook_deliveries::next_attempt_at.le(now))
            .or(webhook_deliveries::state
                .eq(DeliveryState::Sending)
                .and(webhook_deliveries::lease_until.lt(now)))
    };
    let candidates: Vec<String> = webhook_deliveries::table
        .filter(due())
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(batch)
        .select(webhook_deliveries::id)
        .load(conn)?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let until = now + lease;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq_any(&candidates))
            .filter(due()),
    )
    .set((
        webhook_deliveries::state.eq(DeliveryState::Sending),
        webhook_deliveries::lease_owner.eq(owner),
        webhook_deliveries::lease_until.eq(until),
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::id.eq_any(&candidates))
        .filter(webhook_deliveries::state.eq(DeliveryState::Sending))
        .filter(webhook_deliveries::lease_owner.eq(owner))
        .filter(webhook_deliveries::lease_until.eq(until))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .select(DeliveryRow::as_select())
        .load(conn)?)
}

/// The outcome of one attempt, as the worker records it.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub at: NaiveDateTime,
    pub status: Option<i32>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub succeeded: bool,
}

/// Records an attempt of delivery `id` held by `owner`, and moves the delivery to `state`
/// (`delivered`, `pending` again at `next_attempt_at`, or `dead`). Returns `false`, recording
/// nothing, when the worker no longer holds the delivery (its lease ran out and another worker
/// took it, or it was replayed meanwhile).
pub fn record_attempt(
    conn: &mut DbConnection,
    delivery: &DeliveryRow,
    owner: &str,
    outcome: &AttemptOutcome,
    state: DeliveryState,
    next_attempt_at: NaiveDateTime,
) -> StoreResult<bool> {
    let n = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(&delivery.id))
            .filter(webhook_deliveries::state.eq(DeliveryState::Sending))
            .filter(webhook_deliveries::lease_owner.eq(owner)),
    )
    .set((
        webhook_deliveries::state.eq(state),
        webhook_deliveries::next_attempt_at.eq(next_attempt_at),
        webhook_deliveries::lease_owner.eq(None::<String>),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::last_status.eq(outcome.status),
        webhook_deliveries::last_error.eq(&outcome.error),
        webhook_deliveries::updated_at.eq(outcome.at),
        webhook_deliveries::delivered_at
            .eq((state == DeliveryState::Delivered).then_some(outcome.at)),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::id.eq(Uuid::now_v7().to_string()),
            webhook_attempts::delivery_id.eq(&delivery.id),
            webhook_attempts::endpoint_id.eq(&delivery.endpoint_id),
            webhook_attempts::attempted_at.eq(outcome.at),
            webhook_attempts::status_code.eq(outcome.status),
            webhook_attempts::duration_ms.eq(outcome.duration_ms),
            webhook_attempts::error.eq(&outcome.error),
            webhook_attempts::succeeded.eq(outcome.succeeded),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Queues a delivered or dead delivery again, due at once, with a fresh retry period until
/// `give_up_at`. Guarded by the state it was read in.
pub fn requeue(
    conn: &mut DbConnection,
    delivery: &DeliveryRow,
    now: NaiveDateTime,
    give_up_at: NaiveDateTime,
) -> StoreResult<()> {
    let n = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(&delivery.id))
            .filter(webhook_deliveries::state.eq(delivery.state)),
    )
    .set((
        webhook_deliveries::state.eq(DeliveryState::Pending),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::give_up_at.eq(give_up_at),
        webhook_deliveries::delivered_at.eq(None::<NaiveDateTime>),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(super::concurrent_change(DELIVERY))
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub endpoint_id: String,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub succeeded: bool,
}

/// The attempts at endpoint `endpoint_id`, oldest first; of one delivery when given.
pub fn list_attempts(
    conn: &mut DbConnection,
    endpoint_id: &str,
    delivery: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<AttemptRow>> {
    let mut query = webhook_attempts::table
        .filter(webhook_attempts::endpoint_id.eq(endpoint_id))
        .order(webhook_attempts::id.asc())
        .limit(page.fetch())
        .select(AttemptRow::as_select())
        .into_boxed();
    if let Some(delivery) = delivery {
        query = query.filter(webhook_attempts::delivery_id.eq(delivery.to_owned()));
    }
    if let Some(after) = &page.after {
        query = query.filter(webhook_attempts::id.gt(after.clone()));
    }
    query.load(conn)
}

/// How many deliveries are in each state (for the operator).
pub fn queue_depth(conn: &mut DbConnection) -> QueryResult<Vec<(DeliveryState, i64)>> {
    webhook_deliveries::table
        .group_by(webhook_deliveries::state)
        .select((webhook_deliveries::state, diesel::dsl::count_star()))
        .load(conn)
}

/// Deletes finished (delivered or dead) deliveries created before `before`, with their
/// attempts. Pending ones are kept whatever their age.
pub fn purge(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let old = webhook_deliveries::table
        .filter(webhook_deliveries::created_at.lt(before))
        .filter(
            webhook_deliveries::state
                .eq(DeliveryState::Delivered)
                .or(webhook_deliveries::state.eq(DeliveryState::Dead)),
        )
        .select(webhook_deliveries::id);
    diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(old)))
        .execute(conn)?;
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::created_at.lt(before))
            .filter(
                webhook_deliveries::state
                    .eq(DeliveryState::Delivered)
                    .or(webhook_deliveries::state.eq(DeliveryState::Dead)),
            ),
    )
    .execute(conn)
}
