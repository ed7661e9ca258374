//! Pairings: a buddy proposed for a request, until the pairing ends. The request's state
//! follows its pairing in the same transaction.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::history::{self, Event};
use super::page::PageRequest;
use super::requests;
use super::{concurrent_change, StoreError, StoreResult};
use crate::db::schema::pairings;
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::actor::Actor;
use crate::domain::contact::CheckInAnswer;
use crate::domain::ids::{BuddyId, PairingId, RequestId};
use crate::domain::lifecycle::Step;
use crate::domain::pairing::{EndReason, PairingAction, PairingState};

pub const ENTITY: &str = "pairing";

/// The row of resource `id`, to lock before a conditional change (see [`super::RowLock`]).
pub fn row(id: &PairingId) -> super::RowLock {
    super::RowLock::new("pairings", ENTITY, id.as_ref())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = pairings, treat_none_as_null = true)]
pub struct PairingRow {
    pub id: PairingId,
    pub request_id: RequestId,
    pub buddy_id: BuddyId,
    pub state: PairingState,
    pub proposed_at: NaiveDateTime,
    pub responded_at: Option<NaiveDateTime>,
    pub activated_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub decline_reason: Option<String>,
    pub end_reason: Option<EndReason>,
    pub end_note: Option<String>,
    pub evaluation_client_score: Option<i32>,
    pub evaluation_buddy_score: Option<i32>,
    pub evaluation_comment: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    // What contact moments and the scheduler keep (see `crate::store::contacts`): never written
    // by a step, so a step cannot undo a contact recorded meanwhile.
    /// The date of the latest contact moment.
    #[diesel(skip_update)]
    pub last_contact_on: Option<NaiveDate>,
    /// Since when the pairing has been without contact: its activation or its latest contact.
    #[diesel(skip_update)]
    pub quiet_since: Option<NaiveDateTime>,
    /// The `quiet_since` for which the buddy was reminded.
    #[diesel(skip_update)]
    pub contact_reminded_for: Option<NaiveDateTime>,
    /// The `quiet_since` for which the client bureau was told.
    #[diesel(skip_update)]
    pub contact_alerted_for: Option<NaiveDateTime>,
    /// When the check-in mail went out.
    #[diesel(skip_update)]
    pub check_in_sent_at: Option<NaiveDateTime>,
    #[diesel(skip_update)]
    pub check_in_answer: Option<CheckInAnswer>,
    #[diesel(skip_update)]
    pub check_in_answered_at: Option<NaiveDateTime>,
}

/// Whether the buddy declined this request before (they are not asked again).
pub fn declined_before(
    conn: &mut DbConnection,
    request_id: &RequestId,
    buddy_id: &BuddyId,
) -> QueryResult<bool> {
    let declined: i64 = pairings::table
        .filter(pairings::request_id.eq(request_id))
        .filter(pairings::buddy_id.eq(buddy_id))
        .filter(pairings::state.eq(PairingState::Declined))
        .count()
        .get_result(conn)?;
    Ok(declined > 0)
}

/// Inserts the proposal of `buddy_id` for `request_id`, with its history record (the operation
/// checked the proposal and moves the request). Another live pairing of the request that got in
/// first is a concurrent change.
pub fn insert_proposal(
    conn: &mut DbConnection,
    request_id: &RequestId,
    buddy_id: &BuddyId,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<PairingRow> {
    let row = PairingRow {
        id: PairingId::new(),
        request_id: request_id.clone(),
        buddy_id: buddy_id.clone(),
        state: PairingState::Proposed,
        proposed_at: now,
        responded_at: None,
        activated_at: None,
        ended_at: None,
        decline_reason: None,
        end_reason: None,
        end_note: None,
        evaluation_client_score: None,
        evaluation_buddy_score: None,
        evaluation_comment: None,
        created_at: now,
        updated_at: now,
        last_contact_on: None,
        quiet_since: None,
        contact_reminded_for: None,
        contact_alerted_for: None,
        check_in_sent_at: None,
        check_in_answer: None,
        check_in_answered_at: None,
    };
    match diesel::insert_into(pairings::table)
        .values(&row)
        .execute(conn)
    {
        // The partial unique index: another live pairing for this request got in first.
        Err(e) if is_unique_violation(&e) => return Err(concurrent_change(requests::ENTITY)),
        other => other?,
    };
    history::record(
        conn,
        Event {
            entity_type: ENTITY,
            entity_id: &row.id,
            action: "propose",
            from: None,
            to: Some(row.state.as_str()),
            actor,
            reason: None,
            at: now,
        },
    )?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: &PairingId) -> StoreResult<PairingRow> {
    pairings::table
        .find(id)
        .select(PairingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENTITY, id))
}

#[derive(Debug, Default)]
pub struct Filter {
    pub request_id: Option<RequestId>,
    pub buddy_id: Option<BuddyId>,
    pub state: Option<PairingState>,
    /// Only pairings flagged (or not flagged) for going without contact.
    pub contact_overdue: Option<bool>,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &PageRequest,
) -> QueryResult<Vec<PairingRow>> {
    let mut query = pairings::table
        .order(pairings::id.asc())
        .limit(page.fetch())
        .select(PairingRow::as_select())
        .into_boxed();
    if let Some(request_id) = &filter.request_id {
        query = query.filter(pairings::request_id.eq(request_id.clone()));
    }
    if let Some(buddy_id) = &filter.buddy_id {
        query = query.filter(pairings::buddy_id.eq(buddy_id.clone()));
    }
    if let Some(state) = filter.state {
        query = query.filter(pairings::state.eq(state));
    }
    match filter.contact_overdue {
        Some(true) => query = query.filter(super::contacts::overdue()),
        Some(false) => query = query.filter(diesel::dsl::not(super::contacts::overdue())),
        None => {}
    }
    if let Some(after) = &page.after {
        query = query.filter(pairings::id.gt(after.clone()));
    }
    query.load(conn)
}

/// Records `step` of `pairing`: stamps the matching time, lets `amend` fill in action data
/// (reasons, evaluation), stores it guarded by the state before the step and records the
/// history. The request is not touched here.
pub fn record_step(
    conn: &mut DbConnection,
    pairing: &PairingRow,
    step: Step<PairingState>,
    actor: &Actor,
    reason: Option<&str>,
    now: NaiveDateTime,
    amend: impl FnOnce(&mut PairingRow),
) -> StoreResult<PairingRow> {
    let (from, to, action) = (step.from(), step.to(), step.action());
    let mut row = pairing.clone();
    row.state = to;
    row.updated_at = now;
    match action {
        PairingAction::Accept | PairingAction::Decline => row.responded_at = Some(now),
        PairingAction::Activate => row.activated_at = Some(now),
        PairingAction::End => row.ended_at = Some(now),
        PairingAction::Expire | PairingAction::Cancel => {}
    }
    amend(&mut row);
    let updated = diesel::update(pairings::table)
        .filter(pairings::id.eq(&row.id))
        .filter(pairings::state.eq(from))
        .set(&row)
        .execute(conn)?;
    if updated != 1 {
        return Err(concurrent_change(ENTITY));
    }
    if action == PairingAction::Activate {
        // A running pairing is quiet from its start until the first contact.
        diesel::update(pairings::table.find(&row.id))
            .set(pairings::quiet_since.eq(now))
            .execute(conn)?;
        row.quiet_since = Some(now);
    }
    history::record(
        conn,
        Event {
            entity_type: ENTITY,
            entity_id: &row.id,
            action: action.as_str(),
            from: Some(from.as_str()),
            to: Some(to.as_str()),
            actor,
            reason,
            at: now,
        },
    )?;
    Ok(row)
}

/// What ending a pairing records.
#[derive(Debug, Clone)]
pub struct Ending {
    pub reason: EndReason,
    pub note: Option<String>,
    pub client_score: Option<i32>,
    pub buddy_score: Option<i32>,
    pub comment: Option<String>,
}

/// The proposals of request `request_id` still waiting for an answer, oldest first.
pub fn pending_for_request(
    conn: &mut DbConnection,
    request_id: &RequestId,
) -> QueryResult<Vec<PairingRow>> {
    pairings::table
        .filter(pairings::request_id.eq(request_id))
        .filter(pairings::state.eq(PairingState::Proposed))
        .order(pairings::id.asc())
        .select(PairingRow::as_select())
        .load(conn)
}

/// The buddy's proposals still waiting for an answer, oldest first.
pub fn pending_for_buddy(
    conn: &mut DbConnection,
    buddy_id: &BuddyId,
) -> QueryResult<Vec<PairingRow>> {
    pairings::table
        .filter(pairings::buddy_id.eq(buddy_id))
        .filter(pairings::state.eq(PairingState::Proposed))
        .order(pairings::id.asc())
        .select(PairingRow::as_select())
        .load(conn)
}

/// Up to `n` unanswered proposals made at or before `made_by`, oldest first: due to expire.
pub fn due_expiries(
    conn: &mut DbConnection,
    made_by: NaiveDateTime,
    n: i64,
) -> QueryResult<Vec<PairingId>> {
    pairings::table
        .filter(pairings::state.eq(PairingState::Proposed))
        .filter(pairings::proposed_at.le(made_by))
        .order(pairings::proposed_at.asc())
        .limit(n)
        .select(pairings::id)
        .load(conn)
}

/// Up to `n` unanswered, unreminded proposals made at or before `made_by`, oldest first.
pub fn due_reminders(
    conn: &mut DbConnection,
    made_by: NaiveDateTime,
    n: i64,
) -> QueryResult<Vec<PairingId>> {
    pairings::table
        .filter(pairings::state.eq(PairingState::Proposed))
        .filter(pairings::proposed_at.le(made_by))
        .filter(pairings::reminder_sent_at.is_null())
        .order(pairings::proposed_at.asc())
        .limit(n)
        .select(pairings::id)
        .load(conn)
}

/// Stamps the reminder of proposal `id`, guarded: only while it is unanswered, not yet expired
/// (made after `expired_by`, see [`crate::domain::pairing::ProposalWindow`]) and not reminded.
/// `false` when the guard no longer holds.
pub fn mark_reminded(
    conn: &mut DbConnection,
    id: &PairingId,
    now: NaiveDateTime,
    expired_by: NaiveDateTime,
) -> QueryResult<bool> {
    let marked = diesel::update(
        pairings::table
            .filter(pairings::id.eq(id))
            .filter(pairings::state.eq(PairingState::Proposed))
            .filter(pairings::proposed_at.gt(expired_by))
            .filter(pairings::reminder_sent_at.is_null()),
    )
    .set(pairings::reminder_sent_at.eq(now))
    .execute(conn)?;
    Ok(marked == 1)
}

/// The latest pairing of one request, if it has any. A statement of fixed shape, so it is
/// prepared once per connection (the `IN` list of [`latest_of_requests`] is prepared anew each
/// time).
pub fn latest_of_request(
    conn: &mut DbConnection,
    request_id: &RequestId,
) -> QueryResult<Option<PairingRow>> {
    pairings::table
        .filter(pairings::request_id.eq(request_id))
        .order(pairings::id.desc())
        .select(PairingRow::as_select())
        .first(conn)
        .optional()
}

/// The latest pairing of each request, in one query.
pub fn latest_of_requests(
    conn: &mut DbConnection,
    request_ids: &[RequestId],
) -> QueryResult<HashMap<RequestId, PairingRow>> {
    if request_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<PairingRow> = pairings::table
        .filter(pairings::request_id.eq_any(request_ids))
        .order(pairings::id.asc())
        .select(PairingRow::as_select())
        .load(conn)?;
    // Ordered by id (creation), so the last one seen per request is the latest.
    Ok(rows
        .into_iter()
        .map(|p| (p.request_id.clone(), p))
        .collect())
}
