//! The buddy portal's sessions (`buddy_sessions`): one row per sign-in, its token's secret
//! stored only as a SHA-256 hash. Whether a session is valid is `auth::credentials`' to decide.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{buddies, buddy_sessions};
use crate::db::DbConnection;
use crate::domain::buddy::BuddyState;
use crate::domain::ids::BuddyId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = buddy_sessions)]
pub struct BuddySessionRow {
    pub id: String,
    pub buddy_id: BuddyId,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    /// When the session ends if it is not used again: moves forward with use, up to `ends_at`.
    pub expires_at: NaiveDateTime,
    /// The latest end, however busy the session.
    pub ends_at: NaiveDateTime,
    pub idle_seconds: i32,
    /// When its use was last noted (at most once a minute).
    pub last_seen_at: Option<NaiveDateTime>,
    /// When the buddy signed out.
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &BuddySessionRow) -> QueryResult<usize> {
    diesel::insert_into(buddy_sessions::table)
        .values(row)
        .execute(conn)
}

/// A session with its buddy's state and whether the buddy is erased, by the session's id.
pub fn find(
    conn: &mut DbConnection,
    session_id: &str,
) -> QueryResult<Option<(BuddySessionRow, BuddyState, bool)>> {
    Ok(buddy_sessions::table
        .inner_join(buddies::table)
        .filter(buddy_sessions::id.eq(session_id))
        .select((
            BuddySessionRow::as_select(),
            buddies::state,
            buddies::erased_at,
        ))
        .first::<(BuddySessionRow, BuddyState, Option<NaiveDateTime>)>(conn)
        .optional()?
        .map(|(session, state, erased_at)| (session, state, erased_at.is_some())))
}

/// Notes a use of the session at `now`: it now ends at `expires_at` unless used again.
pub fn note_use(
    conn: &mut DbConnection,
    session_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(buddy_sessions::table)
        .filter(buddy_sessions::id.eq(session_id))
        .set((
            buddy_sessions::last_seen_at.eq(now),
            buddy_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// Ends the session (signing out); `0` when it had ended already.
pub fn revoke(conn: &mut DbConnection, session_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(buddy_sessions::table)
        .filter(buddy_sessions::id.eq(session_id))
        .filter(buddy_sessions::revoked_at.is_null())
        .set(buddy_sessions::revoked_at.eq(now))
        .execute(conn)
}

/// Buddy `buddy_id`'s pairings, newest first, each with its request.
pub fn pairings_of(
    conn: &mut DbConnection,
    buddy_id: &BuddyId,
) -> QueryResult<
    Vec<(
        crate::store::pairings::PairingRow,
        crate::store::requests::RequestRow,
    )>,
> {
    use crate::db::schema::{buddy_requests, pairings};
    pairings::table
        .inner_join(buddy_requests::table)
        .filter(pairings::buddy_id.eq(buddy_id))
        .order((pairings::proposed_at.desc(), pairings::id.desc()))
        .select((
            crate::store::pairings::PairingRow::as_select(),
            crate::store::requests::RequestRow::as_select(),
        ))
        .load(conn)
}
