//! Privacy operations: retention (anonymising the contact data of clients whose requests ended
//! long ago) and legal holds that keep it.
//!
//! Anonymisation overwrites in place and keeps every record, state, time, score and reason code,
//! so the programme's history and reports stay whole; only what identifies a person goes. Each
//! change is guarded by a conditional update (`... WHERE anonymised_at IS NULL AND NOT
//! legal_hold`) and counted by the rows it changed, so two service instances running retention on
//! one PostgreSQL database never anonymise, or record, the same request twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::concurrent_change;
use super::history::{self, Event};
use super::pairings;
use super::requests;
use crate::db::schema::{buddy_requests, pairings as pairings_table};
use crate::db::{write_transaction, DbConnection};
use crate::domain::actor::Actor;
use crate::domain::privacy::{Retention, ANONYMISED};
use crate::domain::request::RequestState;
use crate::error::{ApiError, ApiResult};

/// History action of an anonymisation by the retention job.
pub const ANONYMISE: &str = "anonymise";
/// History actions of placing and releasing a legal hold on a request.
pub const LEGAL_HOLD: &str = "legal-hold";
pub const RELEASE_LEGAL_HOLD: &str = "release-legal-hold";

/// Requests in these states are over: their contact data is no longer needed.
const ENDED: [RequestState; 2] = [RequestState::Closed, RequestState::Withdrawn];

/// History actions whose `reason` is free text typed by a person, which may name someone. Other
/// reasons are written by the service (`pairing <id> proposed`, an end-reason code, the fields a
/// change touched) and are kept.
const FREE_TEXT_REQUEST_ACTIONS: &[&str] = &["withdraw"];
const FREE_TEXT_PAIRING_ACTIONS: &[&str] = &["accept", "decline", "activate"];

/// How many requests the retention job reads at a time.
const RETENTION_BATCH: i64 = 100;

fn strings<const N: usize>(states: [RequestState; N]) -> Vec<&'static str> {
    states.iter().map(|s| s.as_str()).collect()
}

/// One pass of the retention job: anonymises the client contact data of every request closed or
/// withdrawn before `retention`'s cutoff that is not on legal hold and not anonymised yet, each
/// in a transaction of its own, and returns how many it anonymised. Safe to run again (it then
/// finds nothing) and concurrently with another instance (each request is counted by whoever
/// changed it). Call it outside a transaction.
pub fn run_retention(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    retention: &Retention,
) -> ApiResult<u64> {
    let cutoff = retention.cutoff(now);
    let mut after = String::new();
    let mut anonymised = 0;
    loop {
        let due: Vec<String> = buddy_requests::table
            .filter(buddy_requests::anonymised_at.is_null())
            .filter(buddy_requests::closed_at.lt(cutoff))
            .filter(buddy_requests::legal_hold.eq(false))
            .filter(buddy_requests::state.eq_any(strings(ENDED)))
            .filter(buddy_requests::id.gt(&after))
            .order(buddy_requests::id.asc())
            .limit(RETENTION_BATCH)
            .select(buddy_requests::id)
            .load(conn)?;
        for id in &due {
            let changed = write_transaction(conn, |c| {
                anonymise_request(c, id, ANONYMISE, &Actor::System, None, now)
            })?;
            if changed {
                anonymised += 1;
            }
        }
        match due.last() {
            Some(last) if due.len() as i64 == RETENTION_BATCH => after = last.clone(),
            _ => return Ok(anonymised),
        }
    }
}

/// Anonymises one ended request that is not on legal hold nor anonymised yet: the client's first
/// name becomes [`ANONYMISED`], phone, e-mail, trigger note and preferences are removed, and so
/// is the free text of its pairings and its history (see [`FREE_TEXT_REQUEST_ACTIONS`]). Records
/// `action` in the request's history. `false` when the guarded update changed nothing (someone
/// else anonymised it, or put it on hold, first).
fn anonymise_request(
    conn: &mut DbConnection,
    id: &str,
    action: &str,
    actor: &Actor,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> ApiResult<bool> {
    let changed = diesel::update(buddy_requests::table)
        .filter(buddy_requests::id.eq(id))
        .filter(buddy_requests::anonymised_at.is_null())
        .filter(buddy_requests::legal_hold.eq(false))
        .filter(buddy_requests::state.eq_any(strings(ENDED)))
        .set((
            buddy_requests::client_first_name.eq(ANONYMISED),
            buddy_requests::client_phone.eq(None::<String>),
            buddy_requests::client_email.eq(None::<String>),
            buddy_requests::trigger_note.eq(None::<String>),
            buddy_requests::preferences.eq(None::<String>),
            buddy_requests::anonymised_at.eq(Some(now)),
            buddy_requests::updated_at.eq(now),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    let pairing_ids: Vec<String> = pairings_table::table
        .filter(pairings_table::request_id.eq(id))
        .select(pairings_table::id)
        .load(conn)?;
    scrub_pairings(conn, &pairing_ids, now)?;
    scrub_reasons(
        conn,
        requests::ENTITY,
        &[id.to_owned()],
        FREE_TEXT_REQUEST_ACTIONS,
    )?;
    history::record(
        conn,
        Event {
            entity_type: requests::ENTITY,
            entity_id: id,
            action,
            from: None,
            to: None,
            actor,
            reason,
            at: now,
        },
    )?;
    Ok(true)
}

/// Removes the free text of these pairings (decline reason, end note, evaluation comment) and of
/// their history; states, times, scores and the end-reason code stay.
fn scrub_pairings(conn: &mut DbConnection, ids: &[String], now: NaiveDateTime) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(pairings_table::table)
        .filter(pairings_table::id.eq_any(ids))
        .filter(
            pairings_table::decline_reason
                .is_not_null()
                .or(pairings_table::end_note.is_not_null())
                .or(pairings_table::evaluation_comment.is_not_null()),
        )
        .set((
            pairings_table::decline_reason.eq(None::<String>),
            pairings_table::end_note.eq(None::<String>),
            pairings_table::evaluation_comment.eq(None::<String>),
            pairings_table::updated_at.eq(now),
        ))
        .execute(conn)?;
    scrub_reasons(conn, pairings::ENTITY, ids, FREE_TEXT_PAIRING_ACTIONS)
}

/// Removes the typed-in reasons of these entities' history entries; the entries stay.
fn scrub_reasons(
    conn: &mut DbConnection,
    entity_type: &str,
    ids: &[String],
    actions: &[&str],
) -> ApiResult<()> {
    use crate::db::schema::history as h;
    diesel::update(h::table)
        .filter(h::entity_type.eq(entity_type))
        .filter(h::entity_id.eq_any(ids))
        .filter(h::action.eq_any(actions))
        .filter(h::reason.is_not_null())
        .set(h::reason.eq(None::<String>))
        .execute(conn)?;
    Ok(())
}

/// Places a request on legal hold (`hold`), which keeps retention and erasure away from it, or
/// releases it. Refused when the hold is already as asked, and placing one on a request whose
/// contact data is anonymised already (nothing is left to keep).
pub fn set_legal_hold(
    conn: &mut DbConnection,
    id: &str,
    hold: bool,
    reason: Option<&str>,
    actor: &Actor,
    now: NaiveDateTime,
) -> ApiResult<()> {
    let row = requests::find(conn, id)?;
    if row.legal_hold == hold {
        return Err(ApiError::Conflict {
            kind: "legal-hold-unchanged",
            title: "Legal hold unchanged",
            detail: if hold {
                "the buddy request is on legal hold already".into()
            } else {
                "the buddy request is not on legal hold".into()
            },
        });
    }
    if hold && row.anonymised_at.is_some() {
        return Err(ApiError::Conflict {
            kind: "already-anonymised",
            title: "Already anonymised",
            detail: "the buddy request's contact data is anonymised already; there is nothing \
                     left to hold"
                .into(),
        });
    }
    let target = buddy_requests::table
        .filter(buddy_requests::id.eq(id))
        .filter(buddy_requests::legal_hold.eq(!hold));
    let values = (
        buddy_requests::legal_hold.eq(hold),
        buddy_requests::updated_at.eq(now),
    );
    let changed = if hold {
        // Not if retention got there first.
        diesel::update(target.filter(buddy_requests::anonymised_at.is_null()))
            .set(values)
            .execute(conn)?
    } else {
        diesel::update(target).set(values).execute(conn)?
    };
    if changed != 1 {
        return Err(concurrent_change(requests::ENTITY));
    }
    history::record(
        conn,
        Event {
            entity_type: requests::ENTITY,
            entity_id: id,
            action: if hold { LEGAL_HOLD } else { RELEASE_LEGAL_HOLD },
            from: None,
            to: None,
            actor,
            reason,
            at: now,
        },
    )?;
    Ok(())
}
