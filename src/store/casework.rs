//! The console's reads of casework: requests in either order, the pairings board with the
//! client reference and buddy name of each card, exit interviews newest first, and the names
//! the pages show beside ids. Reads only; every change goes through `crate::ops`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::exit_interviews::ExitInterviewRow;
use super::pairings::PairingRow;
use super::requests::{overdue, Filter, OverdueFilter, RequestRow};
use crate::db::schema::{buddies, buddy_requests, exit_interviews, organisations, pairings};
use crate::db::DbConnection;
use crate::domain::ids::{BuddyId, OrganisationId};
use crate::domain::organisation::OrganisationState;
use crate::domain::pairing::PairingState;

/// Requests matching `filter`, `limit` of them after the request `after` (in the order asked
/// for): oldest first, or newest first.
pub fn requests(
    conn: &mut DbConnection,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
    newest_first: bool,
) -> QueryResult<Vec<RequestRow>> {
    let mut query = buddy_requests::table
        .limit(limit)
        .select(RequestRow::as_select())
        .into_boxed();
    query = if newest_first {
        query.order(buddy_requests::id.desc())
    } else {
        query.order(buddy_requests::id.asc())
    };
    if let Some(org) = &filter.organisation_id {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    if let Some(state) = filter.state {
        query = query.filter(buddy_requests::state.eq(state));
    }
    if let Some(trigger) = filter.trigger {
        query = query.filter(buddy_requests::trigger_kind.eq(trigger));
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
    if let Some(after) = after {
        query = if newest_first {
            query.filter(buddy_requests::id.lt(after.to_owned()))
        } else {
            query.filter(buddy_requests::id.gt(after.to_owned()))
        };
    }
    query.load(conn)
}

/// The names of buddies `ids`, by id.
pub fn buddy_names(
    conn: &mut DbConnection,
    ids: &[BuddyId],
) -> QueryResult<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(buddies::table
        .filter(buddies::id.eq_any(ids))
        .select((buddies::id, buddies::full_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// A pairing with its request's client reference and its buddy's name.
pub type Card = (PairingRow, String, String);

/// The pairings on the board: every live one (proposed, accepted, active), and those that
/// ended, were declined, expired or were cancelled at `since` or later; oldest change first,
/// at most `limit`.
pub fn board(conn: &mut DbConnection, since: NaiveDateTime, limit: i64) -> QueryResult<Vec<Card>> {
    pairings::table
        .inner_join(buddy_requests::table)
        .inner_join(buddies::table)
        .filter(
            pairings::state
                .eq_any(PairingState::LIVE)
                .or(pairings::updated_at.ge(since)),
        )
        .order((pairings::updated_at.asc(), pairings::id.asc()))
        .limit(limit)
        .select((
            PairingRow::as_select(),
            buddy_requests::client_ref,
            buddies::full_name,
        ))
        .load(conn)
}

/// Every pairing (oldest first, at most `limit`), for the export.
pub fn all_pairings(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Card>> {
    pairings::table
        .inner_join(buddy_requests::table)
        .inner_join(buddies::table)
        .order(pairings::id.asc())
        .limit(limit)
        .select((
            PairingRow::as_select(),
            buddy_requests::client_ref,
            buddies::full_name,
        ))
        .load(conn)
}

/// The active organisations, by name: those that may record exit interviews.
pub fn active_organisations(conn: &mut DbConnection) -> QueryResult<Vec<(OrganisationId, String)>> {
    organisations::table
        .filter(organisations::state.eq(OrganisationState::Active))
        .order((organisations::name.asc(), organisations::id.asc()))
        .select((organisations::id, organisations::name))
        .load(conn)
}

/// Exit interviews, newest first, `limit` of them after the interview `after`, with the name
/// of their organisation.
pub fn exit_interviews(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(ExitInterviewRow, String)>> {
    let mut query = exit_interviews::table
        .inner_join(organisations::table)
        .order(exit_interviews::id.desc())
        .limit(limit)
        .select((ExitInterviewRow::as_select(), organisations::name))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(exit_interviews::id.lt(after.to_owned()));
    }
    query.load(conn)
}
