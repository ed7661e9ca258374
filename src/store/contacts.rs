//! Contact moments of pairings, and what the scheduler reads and marks on the pairing for them
//! (see [`crate::domain::contact`]). Every function takes a connection and runs inside the
//! caller's transaction.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{contact_moments, pairings};
use crate::db::DbConnection;
use crate::domain::contact::{contact_time, CheckInAnswer, ContactKind};
use crate::domain::ids::PairingId;
use crate::domain::pairing::PairingState;

pub const ENTITY: &str = "contact_moment";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_moments)]
pub struct ContactRow {
    pub id: String,
    pub pairing_id: PairingId,
    pub contact_on: NaiveDate,
    pub kind: ContactKind,
    /// The buddy's own note: shown to the buddy only.
    pub note: Option<String>,
    pub recorded_at: NaiveDateTime,
}

/// Stores a contact moment and moves the pairing's quiet period on when the contact is newer
/// than what it was quiet since (a contact recorded late for an earlier day changes nothing).
pub fn insert(conn: &mut DbConnection, row: &ContactRow) -> QueryResult<()> {
    diesel::insert_into(contact_moments::table)
        .values(row)
        .execute(conn)?;
    let at = contact_time(row.contact_on);
    diesel::update(
        pairings::table
            .filter(pairings::id.eq(&row.pairing_id))
            .filter(
                pairings::quiet_since
                    .is_null()
                    .or(pairings::quiet_since.lt(at)),
            ),
    )
    .set(pairings::quiet_since.eq(at))
    .execute(conn)?;
    diesel::update(
        pairings::table
            .filter(pairings::id.eq(&row.pairing_id))
            .filter(
                pairings::last_contact_on
                    .is_null()
                    .or(pairings::last_contact_on.lt(row.contact_on)),
            ),
    )
    .set(pairings::last_contact_on.eq(row.contact_on))
    .execute(conn)?;
    Ok(())
}

/// The contact moments of one pairing, latest first, at most `limit`.
pub fn of_pairing(
    conn: &mut DbConnection,
    pairing_id: &PairingId,
    limit: i64,
) -> QueryResult<Vec<ContactRow>> {
    contact_moments::table
        .filter(contact_moments::pairing_id.eq(pairing_id))
        .order((
            contact_moments::contact_on.desc(),
            contact_moments::id.desc(),
        ))
        .limit(limit)
        .select(ContactRow::as_select())
        .load(conn)
}

/// One page of the contact moments of a pairing, in the order they were recorded (by id).
pub fn page_of_pairing(
    conn: &mut DbConnection,
    pairing_id: &PairingId,
    page: &super::page::PageRequest,
) -> QueryResult<Vec<ContactRow>> {
    let mut query = contact_moments::table
        .filter(contact_moments::pairing_id.eq(pairing_id))
        .order(contact_moments::id.asc())
        .limit(page.fetch())
        .select(ContactRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(contact_moments::id.gt(after.clone()));
    }
    query.load(conn)
}

/// Every contact moment of these pairings, in the order they were recorded (for the exports).
pub fn of_pairings(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<ContactRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    contact_moments::table
        .filter(contact_moments::pairing_id.eq_any(ids))
        .order(contact_moments::id.asc())
        .select(ContactRow::as_select())
        .load(conn)
}

/// How many contact moments each of `ids` has (pairings without any are left out).
pub fn counts(conn: &mut DbConnection, ids: &[PairingId]) -> QueryResult<HashMap<PairingId, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(PairingId, i64)> = contact_moments::table
        .filter(contact_moments::pairing_id.eq_any(ids))
        .group_by(contact_moments::pairing_id)
        .select((contact_moments::pairing_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Up to `n` active pairings quiet since at or before `quiet_by` whose buddy has not been
/// reminded for this quiet period, oldest quiet first.
pub fn due_reminders(
    conn: &mut DbConnection,
    quiet_by: NaiveDateTime,
    n: i64,
) -> QueryResult<Vec<PairingId>> {
    pairings::table
        .filter(pairings::state.eq(PairingState::Active))
        .filter(pairings::quiet_since.le(quiet_by))
        .filter(
            pairings::contact_reminded_for
                .is_null()
                .or(pairings::contact_reminded_for.lt(pairings::quiet_since)),
        )
        .order(pairings::quiet_since.asc())
        .limit(n)
        .select(pairings::id)
        .load(conn)
}

/// Stamps the reminder for pairing `id`'s current quiet period, guarded: only while it is
/// active, quiet since at or before `quiet_by` and not reminded for this period. `false` when
/// the guard no longer holds.
pub fn mark_reminded(
    conn: &mut DbConnection,
    id: &PairingId,
    quiet_by: NaiveDateTime,
) -> QueryResult<bool> {
    let marked = diesel::update(
        pairings::table
            .filter(pairings::id.eq(id))
            .filter(pairings::state.eq(PairingState::Active))
            .filter(pairings::quiet_since.le(quiet_by))
            .filter(
                pairings::contact_reminded_for
                    .is_null()
                    .or(pairings::contact_reminded_for.lt(pairings::quiet_since)),
            ),
    )
    .set(pairings::contact_reminded_for.eq(pairings::quiet_since))
    .execute(conn)?;
    Ok(marked == 1)
}

/// Up to `n` active pairings quiet since at or before `quiet_by` of which the client bureau has
/// not been told for this quiet period, oldest quiet first.
pub fn due_alerts(
    conn: &mut DbConnection,
    quiet_by: NaiveDateTime,
    n: i64,
) -> QueryResult<Vec<PairingId>> {
    pairings::table
        .filter(pairings::state.eq(PairingState::Active))
        .filter(pairings::quiet_since.le(quiet_by))
        .filter(
            pairings::contact_alerted_for
                .is_null()
                .or(pairings::contact_alerted_for.lt(pairings::quiet_since)),
        )
        .order(pairings::quiet_since.asc())
        .limit(n)
        .select(pairings::id)
        .load(conn)
}

/// Stamps the bureau's note for pairing `id`'s current quiet period, guarded as
/// [`mark_reminded`]; the pairing is then flagged (see [`overdue`]).
pub fn mark_alerted(
    conn: &mut DbConnection,
    id: &PairingId,
    quiet_by: NaiveDateTime,
) -> QueryResult<bool> {
    let marked = diesel::update(
        pairings::table
            .filter(pairings::id.eq(id))
            .filter(pairings::state.eq(PairingState::Active))
            .filter(pairings::quiet_since.le(quiet_by))
            .filter(
                pairings::contact_alerted_for
                    .is_null()
                    .or(pairings::contact_alerted_for.lt(pairings::quiet_since)),
            ),
    )
    .set(pairings::contact_alerted_for.eq(pairings::quiet_since))
    .execute(conn)?;
    Ok(marked == 1)
}

/// The flag of a pairing without recent contact: active, and the client bureau was told about
/// its current quiet period (a contact since ends the period, and the flag with it).
pub fn is_overdue(
    state: PairingState,
    quiet_since: Option<NaiveDateTime>,
    alerted_for: Option<NaiveDateTime>,
) -> bool {
    state == PairingState::Active && quiet_since.is_some() && alerted_for == quiet_since
}

/// The SQL of [`is_overdue`], for list filters and counts. Never NULL (the columns compared are
/// checked for NULL first), so `NOT` of it is the complement.
pub type Overdue = diesel::dsl::And<
    diesel::dsl::And<
        diesel::dsl::And<
            diesel::dsl::Eq<pairings::state, PairingState>,
            diesel::dsl::IsNotNull<pairings::quiet_since>,
        >,
        diesel::dsl::IsNotNull<pairings::contact_alerted_for>,
    >,
    diesel::dsl::Eq<pairings::contact_alerted_for, pairings::quiet_since>,
>;

pub fn overdue() -> Overdue {
    pairings::state
        .eq(PairingState::Active)
        .and(pairings::quiet_since.is_not_null())
        .and(pairings::contact_alerted_for.is_not_null())
        .and(pairings::contact_alerted_for.eq(pairings::quiet_since))
}

/// Up to `n` active pairings activated at or before `activated_by` that have not had their
/// check-in, oldest first.
pub fn due_check_ins(
    conn: &mut DbConnection,
    activated_by: NaiveDateTime,
    n: i64,
) -> QueryResult<Vec<PairingId>> {
    pairings::table
        .filter(pairings::state.eq(PairingState::Active))
        .filter(pairings::activated_at.le(activated_by))
        .filter(pairings::check_in_sent_at.is_null())
        .order(pairings::activated_at.asc())
        .limit(n)
        .select(pairings::id)
        .load(conn)
}

/// Stamps pairing `id`'s check-in as sent, guarded: active, activated at or before
/// `activated_by`, none sent before.
pub fn mark_check_in_sent(
    conn: &mut DbConnection,
    id: &PairingId,
    activated_by: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let marked = diesel::update(
        pairings::table
            .filter(pairings::id.eq(id))
            .filter(pairings::state.eq(PairingState::Active))
            .filter(pairings::activated_at.le(activated_by))
            .filter(pairings::check_in_sent_at.is_null()),
    )
    .set(pairings::check_in_sent_at.eq(now))
    .execute(conn)?;
    Ok(marked == 1)
}

/// Records the buddy's check-in answer, guarded: only the first answer counts.
pub fn answer_check_in(
    conn: &mut DbConnection,
    id: &PairingId,
    answer: CheckInAnswer,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let marked = diesel::update(
        pairings::table
            .filter(pairings::id.eq(id))
            .filter(pairings::check_in_answer.is_null()),
    )
    .set((
        pairings::check_in_answer.eq(answer),
        pairings::check_in_answered_at.eq(now),
    ))
    .execute(conn)?;
    Ok(marked == 1)
}
