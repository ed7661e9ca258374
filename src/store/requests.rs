//! Buddy requests: one client's request for a buddy.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::on_duplicate;
use super::history::{self, Event};
use super::page::PageRequest;
use super::{concurrent_change, StoreError, StoreResult};
use crate::db::schema::buddy_requests;
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::buddy::MeasureKind;
use crate::domain::ids::{OrganisationId, RequestId};
use crate::domain::lifecycle::Step;
use crate::domain::request::{ContactChannel, RequestState, Trigger};
use crate::domain::values::{list_from_json, list_to_json};

pub const ENTITY: &str = "buddy_request";

/// The row of resource `id`, to lock before a conditional change (see [`super::RowLock`]).
pub fn row(id: &RequestId) -> super::RowLock {
    super::RowLock::new("buddy_requests", ENTITY, id.as_ref())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = buddy_requests)]
// A missing value is NULL, not DEFAULT (the columns have none): one shape of INSERT, which
// diesel then prepares once per connection instead of on every insert.
#[diesel(treat_none_as_default_value = false)]
pub struct RequestRow {
    pub id: RequestId,
    pub organisation_id: OrganisationId,
    pub client_ref: String,
    pub trigger_kind: Trigger,
    pub trigger_note: Option<String>,
    pub client_first_name: String,
    pub client_phone: Option<String>,
    pub client_email: Option<String>,
    pub client_preferred_channel: ContactChannel,
    pub client_languages: String,
    pub region: String,
    pub preferences: Option<String>,
    pub consent_recorded_at: NaiveDateTime,
    pub state: RequestState,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub legal_hold: bool,
    pub anonymised_at: Option<NaiveDateTime>,
    /// The kind of measure the client is under, when the request says.
    pub measure: Option<MeasureKind>,
}

impl RequestRow {
    pub fn client_languages(&self) -> StoreResult<Vec<String>> {
        list_from_json(&self.client_languages).map_err(super::corrupt_list)
    }
}

/// A validated new request.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub organisation_id: OrganisationId,
    pub client_ref: String,
    pub trigger: Trigger,
    pub trigger_note: Option<String>,
    pub first_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub preferred_channel: ContactChannel,
    pub languages: Vec<String>,
    pub region: String,
    pub preferences: Option<String>,
    pub measure: Option<MeasureKind>,
}

pub fn insert(
    conn: &mut DbConnection,
    new: NewRequest,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<RequestRow> {
    let row = RequestRow {
        id: RequestId::new(),
        organisation_id: new.organisation_id,
        client_ref: new.client_ref,
        trigger_kind: new.trigger,
        trigger_note: new.trigger_note,
        client_first_name: new.first_name,
        client_phone: new.phone,
        client_email: new.email,
        client_preferred_channel: new.preferred_channel,
        client_languages: list_to_json(&new.languages),
        region: new.region,
        preferences: new.preferences,
        consent_recorded_at: now,
        state: RequestState::Open,
        created_at: now,
        updated_at: now,
        closed_at: None,
        legal_hold: false,
        anonymised_at: None,
        measure: new.measure,
    };
    diesel::insert_into(buddy_requests::table)
        .values(&row)
        .execute(conn)
        .map_err(on_duplicate(ENTITY, "client_ref"))?;
    history::record(
        conn,
        Event::creation(ENTITY, &row.id, Some(row.state.as_str()), actor, None, now),
    )?;
    Ok(row)
}

/// The id of organisation `organisation`'s request for `client_ref`, if it has one.
pub fn id_by_client_ref(
    conn: &mut DbConnection,
    organisation: &OrganisationId,
    client_ref: &str,
) -> StoreResult<Option<RequestId>> {
    Ok(buddy_requests::table
        .filter(buddy_requests::organisation_id.eq(organisation))
        .filter(buddy_requests::client_ref.eq(client_ref))
        .select(buddy_requests::id)
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: &RequestId) -> StoreResult<RequestRow> {
    buddy_requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENTITY, id))
}

/// A request as `scope` may see it: a case system (`Some(organisation)`) sees only its own
/// organisation's requests; another's is not found, exactly as if it did not exist.
pub fn find_visible(
    conn: &mut DbConnection,
    id: &RequestId,
    scope: Option<&OrganisationId>,
) -> StoreResult<RequestRow> {
    let row = find(conn, id)?;
    match scope {
        Some(own) if *own != row.organisation_id => Err(StoreError::not_found(ENTITY, id)),
        _ => Ok(row),
    }
}

/// The `client_ref` of a request, for the audit trail of what refers to it.
pub fn client_ref_of(conn: &mut DbConnection, id: &RequestId) -> QueryResult<Option<String>> {
    buddy_requests::table
        .find(id)
        .select(buddy_requests::client_ref)
        .first(conn)
        .optional()
}

#[derive(Debug, Default)]
pub struct Filter {
    pub organisation_id: Option<OrganisationId>,
    pub state: Option<RequestState>,
    pub trigger: Option<Trigger>,
    pub client_ref: Option<String>,
    pub overdue: Option<OverdueFilter>,
}

/// The SQL form of [`crate::domain::request::ServiceLevel::is_overdue`]:
/// `state = 'open' AND created_at <= cutoff`.
pub type Overdue = diesel::dsl::And<
    diesel::dsl::Eq<buddy_requests::state, RequestState>,
    diesel::dsl::LtEq<buddy_requests::created_at, NaiveDateTime>,
>;

pub fn overdue(cutoff: NaiveDateTime) -> Overdue {
    buddy_requests::state
        .eq(RequestState::Open)
        .and(buddy_requests::created_at.le(cutoff))
}

/// Overdue (or not) at the moment `cutoff` stands for: see
/// [`crate::domain::request::ServiceLevel::cutoff`].
#[derive(Debug, Clone, Copy)]
pub struct OverdueFilter {
    pub overdue: bool,
    pub cutoff: NaiveDateTime,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &PageRequest,
) -> QueryResult<Vec<RequestRow>> {
    let mut query = buddy_requests::table
        .order(buddy_requests::id.asc())
        .limit(page.fetch())
        .select(RequestRow::as_select())
        .into_boxed();
    if let Some(org) = &filter.organisation_id {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    if let Some(state) = filter.state {
        query = query.filter(buddy_requests::state.eq(state));
    }
    if let Some(trigger) = filter.trigger {
        query = query.filter(buddy_requests::trigger_kind.eq(trigger));
    }
    if let Some(client_ref) = &filter.client_ref {
        query = query.filter(buddy_requests::client_ref.eq(client_ref.clone()));
    }
    match filter.overdue {
        Some(OverdueFilter {
            overdue: true,
            cutoff,
        }) => query = query.filter(overdue(cutoff)),
        Some(OverdueFilter {
            overdue: false,
            cutoff,
        }) => query = query.filter(diesel::dsl::not(overdue(cutoff))),
        None => {}
    }
    if let Some(after) = &page.after {
        query = query.filter(buddy_requests::id.gt(after.clone()));
    }
    query.load(conn)
}

/// Records `step` of `request` (as its pairing dictates, or a withdrawal), guarded by the state
/// before the step, with a history record.
pub fn record_step(
    conn: &mut DbConnection,
    request: &RequestRow,
    step: Step<RequestState>,
    actor: &Actor,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<RequestState> {
    let (from, to, action) = (step.from(), step.to(), step.action());
    let closes = matches!(to, RequestState::Closed | RequestState::Withdrawn);
    let updated = diesel::update(buddy_requests::table)
        .filter(buddy_requests::id.eq(&request.id))
        .filter(buddy_requests::state.eq(from))
        .set((
            buddy_requests::state.eq(to),
            buddy_requests::updated_at.eq(now),
            buddy_requests::closed_at.eq(closes.then_some(now)),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(concurrent_change(ENTITY));
    }
    history::record(
        conn,
        Event {
            entity_type: ENTITY,
            entity_id: &request.id,
            action: action.as_str(),
            from: Some(from.as_str()),
            to: Some(to.as_str()),
            actor,
            reason,
            at: now,
        },
    )?;
    Ok(to)
}

/// Up to `n` requests still `open` since `cutoff` or before, not yet reported, oldest first.
pub fn due_overdue(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    n: i64,
) -> QueryResult<Vec<RequestId>> {
    buddy_requests::table
        .filter(buddy_requests::state.eq(RequestState::Open))
        .filter(buddy_requests::created_at.le(cutoff))
        .filter(buddy_requests::overdue_notified_at.is_null())
        .order(buddy_requests::created_at.asc())
        .limit(n)
        .select(buddy_requests::id)
        .load(conn)
}

/// Stamps the overdue report of request `id`, guarded: only while it is `open` since `cutoff`
/// or before and not yet reported. `false` when the guard no longer holds.
pub fn mark_overdue(
    conn: &mut DbConnection,
    id: &RequestId,
    cutoff: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let marked = diesel::update(
        buddy_requests::table
            .filter(buddy_requests::id.eq(id))
            .filter(buddy_requests::state.eq(RequestState::Open))
            .filter(buddy_requests::created_at.le(cutoff))
            .filter(buddy_requests::overdue_notified_at.is_null()),
    )
    .set(buddy_requests::overdue_notified_at.eq(now))
    .execute(conn)?;
    Ok(marked == 1)
}
