//! Privacy operations: retention and erasure (anonymising what identifies a client or a buddy),
//! legal holds, and reading everything held about one client or buddy for an export.
//!
//! Anonymisation overwrites in place and keeps every record, state, time, score and reason code,
//! so the programme's history and reports stay whole; only what identifies a person goes. Each
//! change is guarded by a conditional update (`... WHERE anonymised_at IS NULL AND NOT
//! legal_hold`) and counted by the rows it changed, so two service instances running retention on
//! one PostgreSQL database never anonymise, or record, the same request twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::buddies::{self, BuddyRow};
use super::contacts::ContactRow;
use super::exclusions;
use super::exit_interviews::ExitInterviewRow;
use super::history::{self, Event, HistoryRow};
use super::pairings::{self, PairingRow};
use super::requests::{self, RequestRow};
use super::{concurrent_change, StoreResult};
use crate::db::schema::{
    buddies as buddies_table, buddy_requests, contact_moments, exit_interviews,
    pairings as pairings_table, request_exclusions,
};
use crate::db::{write_transaction, DbConnection};
use crate::domain::actor::Actor;
use crate::domain::buddy::BuddyState;
use crate::domain::ids::{BuddyId, OrganisationId, RequestId};
use crate::domain::lifecycle::Step;
use crate::domain::privacy::{erased_email, Retention, ANONYMISED, ERASED};
use crate::domain::request::RequestState;

/// History action of an anonymisation by the retention job.
pub const ANONYMISE: &str = "anonymise";
/// History action of an erasure on request (of a client's requests, or of a buddy).
pub const ERASE: &str = "erase";
/// History actions of placing and releasing a legal hold on a request.
pub const LEGAL_HOLD: &str = "legal-hold";
pub const RELEASE_LEGAL_HOLD: &str = "release-legal-hold";

/// Requests in these states are over: their contact data is no longer needed.
const ENDED: [RequestState; 2] = [RequestState::Closed, RequestState::Withdrawn];

/// History actions whose `reason` is free text typed by a person, which may name someone. Other
/// reasons are written by the service (`pairing <id> proposed`, an end-reason code, the fields a
/// change touched) and are kept.
const FREE_TEXT_REQUEST_ACTIONS: &[&str] = &["withdraw", exclusions::EXCLUDE];
const FREE_TEXT_PAIRING_ACTIONS: &[&str] = &["accept", "decline", "activate"];
const FREE_TEXT_BUDDY_ACTIONS: &[&str] =
    &["start-screening", "activate", "pause", "resume", "retire"];

/// How many requests the retention job reads at a time.
const RETENTION_BATCH: i64 = 100;

/// One pass of the retention job: anonymises the client contact data of every request closed or
/// withdrawn before `retention`'s cutoff that is not on legal hold and not anonymised yet, each
/// in a transaction of its own, and returns how many it anonymised. Safe to run again (it then
/// finds nothing) and concurrently with another instance (each request is counted by whoever
/// changed it). Call it outside a transaction.
pub fn run_retention(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    retention: &Retention,
) -> StoreResult<u64> {
    write_transaction(conn, |c| feedback_retention(c, now, retention))?;
    retention_pass(conn, now, retention, |conn, id| {
        write_transaction(conn, |c| {
            anonymise_request(c, id, ANONYMISE, &Actor::System, None, now)
        })
    })
}

/// Client feedback under retention: the free texts of the quarters that ended
/// `privacy.retention_days` or longer ago are removed (the scores stay for the figures), and
/// invitations that expired that long ago are deleted. Returns how many answers lost their texts.
pub fn feedback_retention(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    retention: &Retention,
) -> StoreResult<usize> {
    use crate::domain::feedback::Quarter;
    let removed =
        super::feedback::remove_texts_through(conn, Quarter::texts_due(now, retention.period))?;
    super::feedback::purge_invitations(conn, retention.cutoff(now))?;
    Ok(removed)
}

/// As [`run_retention`], inside the caller's transaction: everything due is anonymised, or
/// nothing (the on-demand run, which commits with its audit record).
pub fn run_retention_in_transaction(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    retention: &Retention,
    actor: &Actor,
) -> StoreResult<u64> {
    feedback_retention(conn, now, retention)?;
    retention_pass(conn, now, retention, |conn, id| {
        anonymise_request(conn, id, ANONYMISE, actor, None, now)
    })
}

/// Walks the requests due for anonymisation in batches and hands each to `anonymise`.
fn retention_pass(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    retention: &Retention,
    mut anonymise: impl FnMut(&mut DbConnection, &RequestId) -> StoreResult<bool>,
) -> StoreResult<u64> {
    let cutoff = retention.cutoff(now);
    let mut after = String::new();
    let mut anonymised = 0;
    loop {
        let due: Vec<RequestId> = buddy_requests::table
            .filter(buddy_requests::anonymised_at.is_null())
            .filter(buddy_requests::closed_at.lt(cutoff))
            .filter(buddy_requests::legal_hold.eq(false))
            .filter(buddy_requests::state.eq_any(ENDED))
            .filter(buddy_requests::id.gt(&after))
            .order(buddy_requests::id.asc())
            .limit(RETENTION_BATCH)
            .select(buddy_requests::id)
            .load(conn)?;
        for id in &due {
            if anonymise(conn, id)? {
                anonymised += 1;
            }
        }
        match due.last() {
            Some(last) if due.len() as i64 == RETENTION_BATCH => after = last.to_string(),
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
    id: &RequestId,
    action: &str,
    actor: &Actor,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    let changed = diesel::update(buddy_requests::table)
        .filter(buddy_requests::id.eq(id))
        .filter(buddy_requests::anonymised_at.is_null())
        .filter(buddy_requests::legal_hold.eq(false))
        .filter(buddy_requests::state.eq_any(ENDED))
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
    // The stored answers to idempotent requests about them held the client's data too.
    let mut objects = pairing_ids.clone();
    objects.push(id.to_string());
    super::idempotency::forget_objects(conn, &objects)?;
    // The buddy's confirmation mail held the client's contact details.
    super::outbox::erase_contents(conn, pairings::ENTITY, &pairing_ids, now)?;
    // An ended request needs no exclusions, and their reasons are typed by staff.
    diesel::delete(request_exclusions::table.filter(request_exclusions::request_id.eq(id)))
        .execute(conn)?;
    scrub_reasons(
        conn,
        requests::ENTITY,
        &[id.to_string()],
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

/// Removes the free text of these pairings (decline reason, end note, evaluation comment, the
/// buddy's notes on contact moments) and of their history; states, times, scores, the
/// end-reason code and the date and kind of each contact moment stay.
fn scrub_pairings(conn: &mut DbConnection, ids: &[String], now: NaiveDateTime) -> StoreResult<()> {
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
    diesel::update(contact_moments::table)
        .filter(contact_moments::pairing_id.eq_any(ids))
        .filter(contact_moments::note.is_not_null())
        .set(contact_moments::note.eq(None::<String>))
        .execute(conn)?;
    scrub_reasons(conn, pairings::ENTITY, ids, FREE_TEXT_PAIRING_ACTIONS)
}

/// Removes the typed-in reasons of these entities' history entries; the entries stay.
fn scrub_reasons(
    conn: &mut DbConnection,
    entity_type: &str,
    ids: &[String],
    actions: &[&str],
) -> StoreResult<()> {
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

/// Every request filed for one client of one organisation, oldest first (none for a client the
/// organisation never filed).
pub fn client_requests(
    conn: &mut DbConnection,
    organisation_id: &OrganisationId,
    client_ref: &str,
) -> QueryResult<Vec<RequestRow>> {
    buddy_requests::table
        .filter(buddy_requests::organisation_id.eq(organisation_id))
        .filter(buddy_requests::client_ref.eq(client_ref))
        .order(buddy_requests::id.asc())
        .select(RequestRow::as_select())
        .load(conn)
}

/// Erases the contact data of request `id` on request, as retention would whatever its age (the
/// operation checked that the erasure is allowed: see [`crate::domain::privacy::client_erasure`]).
/// Guarded like retention: ended, not on hold, not anonymised yet.
pub fn erase_request(
    conn: &mut DbConnection,
    id: &RequestId,
    reason: &str,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<()> {
    if !anonymise_request(conn, id, ERASE, actor, Some(reason), now)? {
        return Err(concurrent_change(requests::ENTITY));
    }
    Ok(())
}

/// Places a request on legal hold (`hold`), which keeps retention and erasure away from it, or
/// releases it (the operation checked the change: see
/// [`crate::domain::privacy::legal_hold_change`]). Guarded by the hold as it was, and a hold by
/// the request not being anonymised.
pub fn set_legal_hold(
    conn: &mut DbConnection,
    id: &RequestId,
    hold: bool,
    reason: Option<&str>,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<()> {
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

/// A buddy just erased, and what the erasure leaves for others to clean up.
#[derive(Debug)]
pub struct ErasedBuddy {
    pub buddy: BuddyRow,
    /// The address the buddy had, which the outbox must forget.
    pub former_email: String,
    /// The undeliverable placeholder that took its place.
    pub erased_email: String,
    /// Every pairing the buddy had, whose mails lose their contents.
    pub pairing_ids: Vec<String>,
}

/// Erases buddy `row` on request: records `retire` (the step to `retired`, when they were not
/// retired yet), replaces name and region by [`ERASED`], the e-mail address by an undeliverable
/// placeholder, removes phone and topics and the free text of their pairings and history, and
/// stamps `erased_at`. The records and their history stay, without identity. Whether the buddy
/// may be erased is the operation's to check ([`crate::domain::buddy::ensure_erasable`]).
pub fn erase_buddy(
    conn: &mut DbConnection,
    row: &BuddyRow,
    retire: Option<Step<BuddyState>>,
    reason: Option<&str>,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<ErasedBuddy> {
    let id = &row.id;
    // The typed-in reasons of earlier changes may name the buddy; the retirement's is ours.
    scrub_reasons(
        conn,
        buddies::ENTITY,
        std::slice::from_ref(&row.id.to_string()),
        FREE_TEXT_BUDDY_ACTIONS,
    )?;
    if let Some(step) = retire {
        buddies::record_step(conn, id, step, Some("retired to be erased"), actor, now)?;
    }
    let changed = diesel::update(buddies_table::table)
        .filter(buddies_table::id.eq(id))
        .filter(buddies_table::erased_at.is_null())
        .set((
            buddies_table::full_name.eq(ERASED),
            buddies_table::email.eq(erased_email(id)),
            buddies_table::phone.eq(None::<String>),
            buddies_table::topics.eq("[]"),
            buddies_table::region.eq(ERASED),
            buddies_table::erased_at.eq(Some(now)),
            buddies_table::updated_at.eq(now),
        ))
        .execute(conn)?;
    if changed != 1 {
        return Err(concurrent_change(buddies::ENTITY));
    }
    let pairing_ids: Vec<String> = pairings_table::table
        .filter(pairings_table::buddy_id.eq(id))
        .select(pairings_table::id)
        .load(conn)?;
    scrub_pairings(conn, &pairing_ids, now)?;
    // The stored answers about the buddy, its pairings and the exit interview that recruited it
    // (whose answer carried the new candidate's profile).
    let mut objects: Vec<String> = exit_interviews::table
        .filter(exit_interviews::buddy_id.eq(id))
        .select(exit_interviews::id)
        .load(conn)?;
    objects.extend(pairing_ids.iter().cloned());
    objects.push(id.to_string());
    super::idempotency::forget_objects(conn, &objects)?;
    // A retired buddy is never a candidate; the reasons may say something about the buddy.
    diesel::delete(request_exclusions::table.filter(request_exclusions::buddy_id.eq(id)))
        .execute(conn)?;
    // So may the copies of those reasons in the requests' histories: keep only which buddy.
    {
        use crate::db::schema::history as h;
        diesel::update(
            h::table
                .filter(h::entity_type.eq(requests::ENTITY))
                .filter(h::action.eq(exclusions::EXCLUDE))
                .filter(h::reason.like(format!("buddy {id}:%"))),
        )
        .set(h::reason.eq(format!("buddy {id}")))
        .execute(conn)?;
    }
    history::record(
        conn,
        Event {
            entity_type: buddies::ENTITY,
            entity_id: id,
            action: ERASE,
            from: None,
            to: None,
            actor,
            reason,
            at: now,
        },
    )?;
    Ok(ErasedBuddy {
        buddy: buddies::find(conn, id)?,
        former_email: row.email.clone(),
        erased_email: erased_email(id),
        pairing_ids,
    })
}

/// Everything held about one client: their requests, the requests' history, their pairings,
/// the pairings' history and contact moments, each oldest first, in five queries.
pub struct ClientRecords {
    pub requests: Vec<RequestRow>,
    pub request_history: Vec<HistoryRow>,
    pub pairings: Vec<PairingRow>,
    pub pairing_history: Vec<HistoryRow>,
    pub contacts: Vec<ContactRow>,
}

pub fn client_records(
    conn: &mut DbConnection,
    organisation_id: &OrganisationId,
    client_ref: &str,
) -> StoreResult<ClientRecords> {
    // None for a client the organisation never filed: the caller decides what that means.
    let requests = client_requests(conn, organisation_id, client_ref)?;
    let request_ids: Vec<String> = requests.iter().map(|r| r.id.to_string()).collect();
    let pairings: Vec<PairingRow> = pairings_table::table
        .filter(pairings_table::request_id.eq_any(&request_ids))
        .order(pairings_table::id.asc())
        .select(PairingRow::as_select())
        .load(conn)?;
    let pairing_ids: Vec<String> = pairings.iter().map(|p| p.id.to_string()).collect();
    Ok(ClientRecords {
        contacts: super::contacts::of_pairings(conn, &pairing_ids)?,
        request_history: history::for_entities(conn, requests::ENTITY, &request_ids)?,
        pairing_history: history::for_entities(conn, pairings::ENTITY, &pairing_ids)?,
        requests,
        pairings,
    })
}

/// Everything held about one buddy: the profile, the exit interview that recruited them (if
/// any), their pairings, the history of the buddy and of each pairing, and the contact moments
/// they recorded.
pub struct BuddyRecords {
    pub buddy: BuddyRow,
    pub exit_interview: Option<ExitInterviewRow>,
    pub pairings: Vec<PairingRow>,
    pub history: Vec<HistoryRow>,
    pub pairing_history: Vec<HistoryRow>,
    pub contacts: Vec<ContactRow>,
}

pub fn buddy_records(conn: &mut DbConnection, id: &BuddyId) -> StoreResult<BuddyRecords> {
    let buddy = buddies::find(conn, id)?;
    let exit_interview = exit_interviews::table
        .filter(exit_interviews::buddy_id.eq(id))
        .order(exit_interviews::id.asc())
        .select(ExitInterviewRow::as_select())
        .first(conn)
        .optional()?;
    let pairings: Vec<PairingRow> = pairings_table::table
        .filter(pairings_table::buddy_id.eq(id))
        .order(pairings_table::id.asc())
        .select(PairingRow::as_select())
        .load(conn)?;
    let pairing_ids: Vec<String> = pairings.iter().map(|p| p.id.to_string()).collect();
    Ok(BuddyRecords {
        history: history::for_entities(
            conn,
            buddies::ENTITY,
            std::slice::from_ref(&buddy.id.to_string()),
        )?,
        pairing_history: history::for_entities(conn, pairings::ENTITY, &pairing_ids)?,
        contacts: super::contacts::of_pairings(conn, &pairing_ids)?,
        buddy,
        exit_interview,
        pairings,
    })
}
