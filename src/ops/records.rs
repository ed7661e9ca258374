//! The smaller changes around a request and a buddy: an exit interview's outcome (with its
//! candidate buddy on a yes), excluding a buddy from a request's candidates and taking the
//! exclusion back, a legal hold, erasing a client on request, and the retention job run on
//! demand.

use chrono::NaiveDate;

use super::Tx;
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::exit_interview::Answer;
use crate::domain::ids::{BuddyId, OrganisationId, RequestId};
use crate::domain::privacy::{client_erasure, legal_hold_change, HeldRequest, Retention};
use crate::domain::request::{duplicate_exclusion, ensure_takes_exclusions};
use crate::store::buddies::{BuddyRow, Profile};
use crate::store::exclusions::{self, ExclusionRow};
use crate::store::exit_interviews::{self, ExitInterviewRow};
use crate::store::privacy;
use crate::store::requests::{self, RequestRow};

/// Records the outcome of an exit interview for `organisation_id`; a yes with a `candidate`
/// registers the candidate buddy in the same change.
pub fn record_exit_interview(
    tx: &mut Tx<'_>,
    organisation_id: &OrganisationId,
    held_on: NaiveDate,
    answer: Answer,
    candidate: Option<Profile>,
) -> DomainResult<(ExitInterviewRow, Option<BuddyRow>)> {
    super::admin::filing_organisation(tx, organisation_id)?;
    let (row, buddy) = exit_interviews::record(
        tx.conn,
        organisation_id,
        held_on,
        answer,
        candidate,
        &tx.ctx.actor,
        tx.ctx.now,
    )?;
    tx.ctx.object(&row.id);
    tx.emit(super::Event::ExitInterviewRecorded(row.clone()));
    Ok((row, buddy))
}

/// Excludes a buddy from a request's candidates, with the reason.
pub fn exclude(
    tx: &mut Tx<'_>,
    request_id: &RequestId,
    buddy_id: &BuddyId,
    reason: &str,
) -> DomainResult<ExclusionRow> {
    ensure_takes_exclusions(requests::find(tx.conn, request_id)?.state, "exclude")?;
    let (row, client_ref) = exclusions::exclude(
        tx.conn,
        request_id,
        buddy_id,
        reason,
        &tx.ctx.actor,
        tx.ctx.now,
    )
    .map_err(|e| e.duplicate_is(duplicate_exclusion))?;
    tx.ctx.concerns(Some(client_ref));
    Ok(row)
}

/// Takes an exclusion back: the buddy is a candidate for the request again.
pub fn include(tx: &mut Tx<'_>, request_id: &RequestId, buddy_id: &BuddyId) -> DomainResult<()> {
    ensure_takes_exclusions(requests::find(tx.conn, request_id)?.state, "include")?;
    let client_ref = exclusions::include(tx.conn, request_id, buddy_id, &tx.ctx.actor, tx.ctx.now)?;
    tx.ctx.concerns(Some(client_ref));
    Ok(())
}

/// Places a legal hold on a request, or releases it.
pub fn set_legal_hold(
    tx: &mut Tx<'_>,
    id: &RequestId,
    hold: bool,
    reason: Option<&str>,
) -> DomainResult<RequestRow> {
    let row = requests::find(tx.conn, id)?;
    legal_hold_change(row.legal_hold, hold, row.anonymised_at.is_some())?;
    privacy::set_legal_hold(tx.conn, id, hold, reason, &tx.ctx.actor, tx.ctx.now)?;
    let row = requests::find(tx.conn, id)?;
    tx.ctx.concerns(Some(row.client_ref.clone()));
    Ok(row)
}

/// The retention job's pass, run on demand: everything due is anonymised in this one change,
/// with the request's audit record, or nothing is. The history names the service (`system`)
/// as the actor, as for the background job. Returns how many requests were anonymised.
pub fn run_retention(tx: &mut Tx<'_>, retention: &Retention) -> DomainResult<u64> {
    Ok(privacy::run_retention_in_transaction(
        tx.conn,
        tx.ctx.now,
        retention,
        &Actor::System,
    )?)
}

/// Erases a client of `organisation_id` on request: how many requests were anonymised, and the
/// requests as they are now.
pub fn erase_client(
    tx: &mut Tx<'_>,
    organisation_id: &OrganisationId,
    client_ref: &str,
    reason: &str,
) -> DomainResult<(usize, Vec<RequestRow>)> {
    tx.ctx.concerns(Some(client_ref.to_owned()));
    let rows = client_requests(tx.conn, organisation_id, client_ref)?;
    let held: Vec<HeldRequest<'_>> = rows
        .iter()
        .map(|r| HeldRequest {
            id: &r.id,
            state: r.state,
            legal_hold: r.legal_hold,
            anonymised: r.anonymised_at.is_some(),
        })
        .collect();
    let pending = client_erasure(&held)?;
    for id in &pending {
        privacy::erase_request(tx.conn, id, reason, &tx.ctx.actor, tx.ctx.now)?;
    }
    Ok((
        pending.len(),
        client_requests(tx.conn, organisation_id, client_ref)?,
    ))
}

/// Every request filed for one client of one organisation, oldest first; a client without any is
/// not found.
pub fn client_requests(
    conn: &mut DbConnection,
    organisation_id: &OrganisationId,
    client_ref: &str,
) -> DomainResult<Vec<RequestRow>> {
    let rows = privacy::client_requests(conn, organisation_id, client_ref)?;
    if rows.is_empty() {
        return Err(DomainError::not_found("client", client_ref));
    }
    Ok(rows)
}

/// Everything held about one client of `organisation_id` (a read, for the export); a client the
/// organisation never filed a request for is not found.
pub fn client_records(
    conn: &mut DbConnection,
    organisation_id: &OrganisationId,
    client_ref: &str,
) -> DomainResult<privacy::ClientRecords> {
    let records = privacy::client_records(conn, organisation_id, client_ref)?;
    if records.requests.is_empty() {
        return Err(DomainError::not_found("client", client_ref));
    }
    Ok(records)
}
