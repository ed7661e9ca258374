//! Pairings: proposing a buddy for a request, the buddy's answer (by staff or through the
//! buddy's response link), the introduction, the end, and the scheduler's expiry and reminder.

use chrono::NaiveDateTime;

use super::{Event, Tx};
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::buddy::PendingProposals;
use crate::domain::error::DomainResult;
use crate::domain::ids::{BuddyId, PairingId, RequestId};
use crate::domain::lifecycle::Step;
use crate::domain::pairing::{
    ensure_free_capacity, ensure_not_declined_before, ensure_proposable, PairingAction,
    PairingState, ProposalWindow,
};
use crate::domain::request::{RequestAction, RequestState};
use crate::matching::Weights;
use crate::respond::tokens;
use crate::store::buddies::{self, BuddyRow};
use crate::store::candidates::{self, FactsCache, Ranking};
use crate::store::pairings::{self as store, Ending, PairingRow};
use crate::store::requests::{self, client_ref_of, RequestRow};

/// Proposes `buddy_id` for `request_id` as `actor` (staff, or the service's automatic
/// proposal): the request must be open, the buddy active with free capacity and not have
/// declined this request before. The request becomes `proposed`, and the buddy is mailed the
/// proposal with its response links.
pub fn propose(
    tx: &mut Tx<'_>,
    request_id: &RequestId,
    buddy_id: &BuddyId,
    actor: &Actor,
) -> DomainResult<PairingRow> {
    let (request, step) = proposable(tx.conn, request_id)?;
    propose_for(tx, &request, step, buddy_id, actor)
}

/// Request `id` as read, and the step a proposal takes it: only an `open` request takes one
/// (another state is an illegal transition, an unknown request not found).
pub(super) fn proposable(
    conn: &mut DbConnection,
    id: &RequestId,
) -> DomainResult<(RequestRow, Step<RequestState>)> {
    let request = requests::find(conn, id)?;
    let step = Step::of(request.state, RequestAction::Propose)?;
    Ok((request, step))
}

/// [`propose`] for a request already read with [`proposable`] in this transaction.
pub(super) fn propose_for(
    tx: &mut Tx<'_>,
    request: &RequestRow,
    step: Step<RequestState>,
    buddy_id: &BuddyId,
    actor: &Actor,
) -> DomainResult<PairingRow> {
    let now = tx.now();
    let request_id = &request.id;
    let buddy = buddies::find(tx.conn, buddy_id)?;
    ensure_proposable(buddy.state)?;
    // Locked first, so that two concurrent proposals for the buddy are counted one after the
    // other.
    buddies::lock_active(tx.conn, buddy_id)?;
    ensure_free_capacity(buddies::live_load(tx.conn, buddy_id)?, buddy.capacity)?;
    ensure_not_declined_before(store::declined_before(tx.conn, request_id, buddy_id)?)?;
    let row = store::insert_proposal(tx.conn, request_id, buddy_id, actor, now)?;
    let why = format!("pairing {} proposed", row.id);
    requests::record_step(tx.conn, request, step, actor, Some(&why), now)?;
    tx.proposals.push(row.clone());
    tx.emit(Event::Proposed(row.clone()));
    Ok(row)
}

/// Proposes a buddy on the caller's behalf: the request's client is noted for the audit trail.
pub fn propose_by_caller(
    tx: &mut Tx<'_>,
    request_id: &RequestId,
    buddy_id: &BuddyId,
) -> DomainResult<PairingRow> {
    let actor = tx.actor().clone();
    let row = propose(tx, request_id, buddy_id, &actor)?;
    tx.ctx.object(&row.id);
    tx.ctx.concerns(client_ref_of(tx.conn, &row.request_id)?);
    Ok(row)
}

/// Moves pairing `id` by `action` as the caller (staff, or the buddy through a response link),
/// its request with it; the mails and the automatic proposal follow as reactions.
pub fn act(
    tx: &mut Tx<'_>,
    id: &PairingId,
    action: PairingAction,
    reason: Option<&str>,
    ending: Option<Ending>,
) -> DomainResult<PairingRow> {
    let actor = tx.actor().clone();
    let row = move_by(tx, id, action, reason, ending, &actor)?;
    tx.ctx.concerns(client_ref_of(tx.conn, &row.request_id)?);
    Ok(row)
}

fn move_by(
    tx: &mut Tx<'_>,
    id: &PairingId,
    action: PairingAction,
    reason: Option<&str>,
    ending: Option<Ending>,
    actor: &Actor,
) -> DomainResult<PairingRow> {
    let now = tx.now();
    let pairing = store::find(tx.conn, id)?;
    let step = Step::of(pairing.state, action)?;
    let row = store::record_step(tx.conn, &pairing, step, actor, reason, now, |row| {
        if action == PairingAction::Decline {
            row.decline_reason = reason.map(str::to_owned);
        }
        if let Some(ending) = ending {
            row.end_reason = Some(ending.reason);
            row.end_note = ending.note;
            row.evaluation_client_score = ending.client_score;
            row.evaluation_buddy_score = ending.buddy_score;
            row.evaluation_comment = ending.comment;
        }
    })?;
    // The rule across the two machines: the request follows its pairing.
    if let Some(request_action) = action.moves_request() {
        let request = requests::find(tx.conn, &row.request_id)?;
        let request_step = Step::of(request.state, request_action)?;
        let why = format!("pairing {} {}", row.id, row.state);
        requests::record_step(tx.conn, &request, request_step, actor, Some(&why), now)?;
    }
    tx.emit(Event::PairingMoved {
        pairing: row.clone(),
        action,
    });
    if action.reopens_request() {
        tx.emit(Event::RequestReopened {
            request_id: row.request_id.clone(),
        });
    }
    Ok(row)
}

/// What a change of `buddy` means for their pending proposals (see [`PendingProposals`]): the
/// live response links are revoked; each pending proposal is cancelled (its request `open`
/// again) or mailed again to the new address with a fresh link.
pub(super) fn follow_buddy(
    tx: &mut Tx<'_>,
    buddy: &BuddyRow,
    effect: PendingProposals,
) -> DomainResult<()> {
    let now = tx.now();
    tokens::revoke_for_buddy(tx.conn, &buddy.id, now)?;
    let actor = tx.actor().clone();
    for pairing in store::pending_for_buddy(tx.conn, &buddy.id)? {
        match effect {
            PendingProposals::Cancel => {
                let reason = format!("buddy {}", buddy.state);
                move_by(
                    tx,
                    &pairing.id,
                    PairingAction::Cancel,
                    Some(&reason),
                    None,
                    &actor,
                )?;
            }
            PendingProposals::Resend => tx.emit(Event::Proposed(pairing)),
            PendingProposals::Keep => {}
        }
    }
    Ok(())
}

/// Expires proposal `id` if it is still unanswered past its `window` (the scheduler). `false` when
/// there is nothing to do (answered meanwhile, or not due).
pub fn expire(tx: &mut Tx<'_>, id: &PairingId, window: &ProposalWindow) -> DomainResult<bool> {
    let pairing = store::find(tx.conn, id)?;
    if pairing.state != PairingState::Proposed
        || pairing.proposed_at > window.expired_if_made_by(tx.now())
    {
        return Ok(false);
    }
    let reason = format!("no answer within {} hours", window.ttl.num_hours());
    move_by(
        tx,
        id,
        PairingAction::Expire,
        Some(&reason),
        None,
        &Actor::System,
    )?;
    Ok(true)
}

/// Marks the one reminder of proposal `id` as due, if it is still unanswered within its `window` and
/// none went out (the scheduler). `false` when there is nothing to do.
pub fn remind(tx: &mut Tx<'_>, id: &PairingId, window: &ProposalWindow) -> DomainResult<bool> {
    let now = tx.now();
    if !store::mark_reminded(tx.conn, id, now, window.expired_if_made_by(now))? {
        return Ok(false);
    }
    let pairing = store::find(tx.conn, id)?;
    tx.emit(Event::ReminderDue(pairing));
    Ok(true)
}

/// The best candidates for request `request_id`, best first, at most `limit` (a read). Only a
/// request that takes a proposal (`open`) has candidates: another state is an illegal
/// transition, an unknown request not found.
pub fn candidates(
    conn: &mut DbConnection,
    cache: &FactsCache,
    request_id: &RequestId,
    weights: &Weights,
    now: NaiveDateTime,
    limit: usize,
) -> DomainResult<Ranking> {
    let (request, _) = proposable(conn, request_id)?;
    Ok(candidates::rank(
        conn, cache, &request, weights, now, limit,
    )?)
}
