//! The console's work-queue reads: what needs someone's attention, oldest first.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::buddies::BuddyRow;
use super::outbox::OutboxRow;
use super::pairings::PairingRow;
use super::requests::RequestRow;
use crate::db::schema::{buddies, buddy_requests, outbox, pairings};
use crate::db::DbConnection;
use crate::domain::buddy::BuddyState;
use crate::domain::outbox::OutboxState;
use crate::domain::pairing::PairingState;
use crate::domain::request::RequestState;

/// At most this many items of each kind on the work queue.
pub const QUEUE_LENGTH: i64 = 50;

/// Open requests, oldest first (so the overdue ones lead).
pub fn open_requests(conn: &mut DbConnection) -> QueryResult<Vec<RequestRow>> {
    buddy_requests::table
        .filter(buddy_requests::state.eq(RequestState::Open))
        .order((buddy_requests::created_at.asc(), buddy_requests::id.asc()))
        .limit(QUEUE_LENGTH)
        .select(RequestRow::as_select())
        .load(conn)
}

/// Proposals waiting for the buddy's answer, the oldest (first to expire) first.
pub fn waiting_proposals(conn: &mut DbConnection) -> QueryResult<Vec<PairingRow>> {
    pairings::table
        .filter(pairings::state.eq(PairingState::Proposed))
        .order((pairings::proposed_at.asc(), pairings::id.asc()))
        .limit(QUEUE_LENGTH)
        .select(PairingRow::as_select())
        .load(conn)
}

/// Buddies not retired whose VOG was issued in `from..=to` (it turns too old for activation
/// soon), the oldest VOG first.
pub fn ageing_vogs(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<BuddyRow>> {
    buddies::table
        .filter(buddies::state.ne(BuddyState::Retired))
        .filter(buddies::erased_at.is_null())
        .filter(buddies::vog_issued_on.ge(from))
        .filter(buddies::vog_issued_on.le(to))
        .order((buddies::vog_issued_on.asc(), buddies::id.asc()))
        .limit(QUEUE_LENGTH)
        .select(BuddyRow::as_select())
        .load(conn)
}

/// Mails that could not be delivered (dead), oldest first.
pub fn dead_mails(conn: &mut DbConnection) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::state.eq(OutboxState::Dead))
        .order(outbox::id.asc())
        .limit(QUEUE_LENGTH)
        .select(OutboxRow::as_select())
        .load(conn)
}

/// How many of each are there in all (the lists above stop at [`QUEUE_LENGTH`]).
pub fn counts(conn: &mut DbConnection, overdue_cutoff: NaiveDateTime) -> QueryResult<[i64; 3]> {
    let open = buddy_requests::table
        .filter(buddy_requests::state.eq(RequestState::Open))
        .count()
        .get_result(conn)?;
    let overdue = buddy_requests::table
        .filter(super::requests::overdue(overdue_cutoff))
        .count()
        .get_result(conn)?;
    let waiting = pairings::table
        .filter(pairings::state.eq(PairingState::Proposed))
        .count()
        .get_result(conn)?;
    Ok([open, overdue, waiting])
}

/// Requests on legal hold, oldest first.
pub fn held_requests(conn: &mut DbConnection) -> QueryResult<Vec<RequestRow>> {
    buddy_requests::table
        .filter(buddy_requests::legal_hold.eq(true))
        .order((buddy_requests::created_at.asc(), buddy_requests::id.asc()))
        .limit(QUEUE_LENGTH)
        .select(RequestRow::as_select())
        .load(conn)
}
