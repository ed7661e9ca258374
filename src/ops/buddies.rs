//! Buddies: their profile, their lifecycle (screening to retirement) and their erasure. What a
//! change means for the buddy's pending proposals is a reaction ([`Event::BuddyChanged`]).

use super::{Event, Tx};
use crate::domain::buddy::{BuddyAction, PendingProposals};
use crate::domain::error::DomainResult;
use crate::domain::ids::BuddyId;
use crate::store::buddies::{self as store, BuddyRow, ProfileChange};
use crate::store::outbox;
use crate::store::pairings::ENTITY as PAIRING;
use crate::store::privacy;

/// Changes the buddy's profile or screening facts.
pub fn update_profile(
    tx: &mut Tx<'_>,
    id: &BuddyId,
    change: ProfileChange,
) -> DomainResult<BuddyRow> {
    let (buddy, proposals) = store::update_profile(tx.conn, id, change, &tx.ctx.actor, tx.ctx.now)?;
    changed(tx, buddy, proposals)
}

/// Moves the buddy through their lifecycle.
pub fn act(
    tx: &mut Tx<'_>,
    id: &BuddyId,
    action: BuddyAction,
    reason: Option<&str>,
) -> DomainResult<BuddyRow> {
    let (buddy, proposals) = store::act(tx.conn, id, action, reason, &tx.ctx.actor, tx.ctx.now)?;
    changed(tx, buddy, proposals)
}

/// Erases the buddy (GDPR art. 17): retired if not yet, identity and free text removed, and the
/// outbox forgets their address and the contents of their pairings' mails.
pub fn erase(tx: &mut Tx<'_>, id: &BuddyId, reason: Option<&str>) -> DomainResult<BuddyRow> {
    let now = tx.now();
    let erased = privacy::erase_buddy(tx.conn, id, reason, &tx.ctx.actor, now)?;
    outbox::erase_contents(tx.conn, PAIRING, &erased.pairing_ids, now)?;
    outbox::forget_recipient(tx.conn, &erased.former_email, &erased.erased_email)?;
    match erased.retired {
        Some(proposals) => changed(tx, erased.buddy, proposals),
        None => Ok(erased.buddy),
    }
}

/// Emits the change of `buddy` and lets its reactions run, so that what the caller reads next
/// is the state they leave.
fn changed(
    tx: &mut Tx<'_>,
    buddy: BuddyRow,
    proposals: PendingProposals,
) -> DomainResult<BuddyRow> {
    tx.emit(Event::BuddyChanged {
        buddy: buddy.clone(),
        proposals,
    });
    tx.settle()?;
    Ok(buddy)
}
