//! Exclusions: a buddy staff rule out for one request (e.g. the buddy knows the family). An
//! excluded buddy is never a candidate for that request. Each change is kept in the request's
//! history (`exclude-buddy`, `include-buddy`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::on_duplicate;
use super::history::{self, Event};
use super::{buddies, requests, StoreError, StoreResult};
use crate::db::schema::request_exclusions;
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::ids::{BuddyId, RequestId};

pub const ENTITY: &str = "exclusion";
const DUPLICATE: StoreError = StoreError::Duplicate {
    resource: ENTITY,
    key: "buddy_id",
};
/// History actions on the request. The reason of `exclude-buddy` is typed by staff.
pub const EXCLUDE: &str = "exclude-buddy";
pub const INCLUDE: &str = "include-buddy";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = request_exclusions)]
pub struct ExclusionRow {
    pub request_id: RequestId,
    pub buddy_id: BuddyId,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

/// Excludes `buddy_id` from `request_id`; returns the exclusion and the request's client
/// reference (for the audit trail). Not found for an unknown request or buddy, a duplicate when
/// excluded already.
pub fn exclude(
    conn: &mut DbConnection,
    request_id: &RequestId,
    buddy_id: &BuddyId,
    reason: &str,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<(ExclusionRow, String)> {
    let request = requests::find(conn, request_id)?;
    buddies::find(conn, buddy_id)?;
    let existing: i64 = request_exclusions::table
        .filter(request_exclusions::request_id.eq(request_id))
        .filter(request_exclusions::buddy_id.eq(buddy_id))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        return Err(DUPLICATE);
    }
    let row = ExclusionRow {
        request_id: request_id.clone(),
        buddy_id: buddy_id.clone(),
        reason: reason.to_owned(),
        created_at: now,
    };
    // Another request may have excluded the same buddy between the check and the insert.
    diesel::insert_into(request_exclusions::table)
        .values(&row)
        .execute(conn)
        .map_err(on_duplicate(ENTITY, "buddy_id"))?;
    history::record(
        conn,
        Event {
            entity_type: requests::ENTITY,
            entity_id: request_id,
            action: EXCLUDE,
            from: None,
            to: None,
            actor,
            reason: Some(&format!("buddy {buddy_id}: {reason}")),
            at: now,
        },
    )?;
    Ok((row, request.client_ref))
}

/// The exclusions of a request, oldest first, and its client reference. Not found for an unknown
/// request.
pub fn list(
    conn: &mut DbConnection,
    request_id: &RequestId,
) -> StoreResult<(Vec<ExclusionRow>, String)> {
    let request = requests::find(conn, request_id)?;
    let rows = request_exclusions::table
        .filter(request_exclusions::request_id.eq(request_id))
        .order((
            request_exclusions::created_at.asc(),
            request_exclusions::buddy_id.asc(),
        ))
        .select(ExclusionRow::as_select())
        .load(conn)?;
    Ok((rows, request.client_ref))
}

/// Lifts the exclusion of `buddy_id` from `request_id`; returns the request's client reference.
/// Not found for an unknown request, or when the buddy is not excluded from it.
pub fn include(
    conn: &mut DbConnection,
    request_id: &RequestId,
    buddy_id: &BuddyId,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<String> {
    let request = requests::find(conn, request_id)?;
    let deleted = diesel::delete(
        request_exclusions::table
            .filter(request_exclusions::request_id.eq(request_id))
            .filter(request_exclusions::buddy_id.eq(buddy_id)),
    )
    .execute(conn)?;
    if deleted == 0 {
        return Err(StoreError::not_found(ENTITY, buddy_id));
    }
    history::record(
        conn,
        Event {
            entity_type: requests::ENTITY,
            entity_id: request_id,
            action: INCLUDE,
            from: None,
            to: None,
            actor,
            reason: Some(&format!("buddy {buddy_id}")),
            at: now,
        },
    )?;
    Ok(request.client_ref)
}
