//! Buddy requests: a client's request arriving from a case system or staff, its withdrawal, and
//! the scheduler's report of a request open too long.

use chrono::NaiveDateTime;

use super::{Event, Tx};
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::ids::RequestId;
use crate::domain::lifecycle::Step;
use crate::domain::pairing::PairingAction;
use crate::domain::request::{duplicate_client_ref, RequestAction};
use crate::store::pairings::{self, PairingRow};
use crate::store::requests::{self as store, NewRequest, RequestRow};

/// Takes a new request in: the bureau is told, and with automatic proposal on its best
/// candidate may be proposed at once. Returns the request as it is after that, with its
/// pairing if one was proposed.
pub fn create(tx: &mut Tx<'_>, new: NewRequest) -> DomainResult<(RequestRow, Option<PairingRow>)> {
    tx.ctx.concerns(Some(new.client_ref.clone()));
    super::admin::filing_organisation(tx, &new.organisation_id)?;
    // Named, so that a case system that lost track of its request can read it. (A request filed
    // at the same moment by another transaction is caught by the unique key below, unnamed.)
    if let Some(existing) = store::id_by_client_ref(tx.conn, &new.organisation_id, &new.client_ref)?
    {
        return Err(DomainError::DuplicateRequest {
            existing: existing.to_string(),
        });
    }
    let row = store::insert(tx.conn, new, &tx.ctx.actor, tx.ctx.now)
        .map_err(|e| e.duplicate_is(duplicate_client_ref))?;
    tx.ctx.object(&row.id);
    tx.emit(Event::RequestCreated(row.clone()));
    tx.settle()?;
    // The automatic proposal may have proposed a buddy, which moved the request.
    match tx.proposed_for(&row.id).cloned() {
        Some(pairing) => Ok((store::find(tx.conn, &row.id)?, Some(pairing))),
        None => Ok((row, None)),
    }
}

/// Withdraws a request the caller may see; a pending proposal is cancelled with it and its
/// buddy told so.
pub fn withdraw(tx: &mut Tx<'_>, id: &RequestId, reason: Option<&str>) -> DomainResult<RequestRow> {
    let now = tx.now();
    let request = store::find_visible(tx.conn, id, tx.ctx.scope.as_ref())?;
    let step = Step::of(request.state, RequestAction::Withdraw)?;
    store::record_step(tx.conn, &request, step, &tx.ctx.actor, reason, now)?;
    let row = store::find(tx.conn, id)?;
    tx.ctx.concerns(Some(row.client_ref.clone()));
    for pairing in pairings::pending_for_request(tx.conn, id)? {
        let cancel = Step::of(pairing.state, PairingAction::Cancel)?;
        let cancelled = pairings::record_step(
            tx.conn,
            &pairing,
            cancel,
            &tx.ctx.actor,
            Some("request withdrawn"),
            now,
            |_| {},
        )?;
        tx.emit(Event::ProposalWithdrawn(cancelled));
    }
    tx.emit(Event::RequestWithdrawn(row.clone()));
    Ok(row)
}

/// Reports request `id` to the bureau as overdue, once, if it is still `open` since `cutoff`
/// or before (the scheduler). `false` when there is nothing to do.
pub fn report_overdue(
    tx: &mut Tx<'_>,
    id: &RequestId,
    cutoff: NaiveDateTime,
) -> DomainResult<bool> {
    if !store::mark_overdue(tx.conn, id, cutoff, tx.now())? {
        return Ok(false);
    }
    let request = store::find(tx.conn, id)?;
    tx.emit(Event::RequestOverdue(request));
    Ok(true)
}
