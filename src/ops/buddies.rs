//! Buddies: their profile, their lifecycle (screening to retirement) and their erasure. What a
//! change means for the buddy's pending proposals is a reaction ([`Event::BuddyChanged`]).

use super::{Event, Tx};
use chrono::NaiveDate;

use crate::domain::buddy::{
    ensure_editable, ensure_erasable, ensure_retirable, ensure_retirement_requestable, pause_until,
    BuddyAction, BuddyState, PendingProposals,
};
use crate::domain::error::DomainResult;
use crate::domain::ids::{BuddyId, OrganisationId};
use crate::domain::lifecycle::Step;
use crate::store::buddies::{self as store, BuddyRow, Profile, ProfileChange};
use crate::store::outbox;
use crate::store::pairings::ENTITY as PAIRING;
use crate::store::privacy;

/// Registers a candidate buddy of `organisation_id` (which must be filing) by staff.
pub fn register(
    tx: &mut Tx<'_>,
    organisation_id: &OrganisationId,
    profile: Profile,
) -> DomainResult<BuddyRow> {
    super::admin::filing_organisation(tx, organisation_id)?;
    let row = store::insert(
        tx.conn,
        organisation_id,
        profile,
        &tx.ctx.actor,
        None,
        tx.ctx.now,
    )?;
    tx.ctx.object(&row.id);
    Ok(row)
}

/// Changes the buddy's profile or screening facts (not once they are erased). A new e-mail
/// address takes their pending proposals along (see [`PendingProposals`]).
pub fn update_profile(
    tx: &mut Tx<'_>,
    id: &BuddyId,
    change: ProfileChange,
) -> DomainResult<BuddyRow> {
    let row = store::find(tx.conn, id)?;
    ensure_editable(row.erased_at.is_some())?;
    let old_email = row.email.clone();
    let buddy = store::update_profile(tx.conn, row, change, &tx.ctx.actor, tx.ctx.now)?;
    let proposals = PendingProposals::after(buddy.state, buddy.email != old_email);
    changed(tx, buddy, proposals)
}

/// Moves the buddy through their lifecycle: activation needs the screening done, retirement no
/// running pairing. A pause may run `until` a date (see [`pause_until`]; the scheduler resumes
/// the buddy that day, [`resume_due`]); any other action takes none and clears it. Pausing or
/// retiring cancels their pending proposals; retiring also ends their portal sessions.
pub fn act(
    tx: &mut Tx<'_>,
    id: &BuddyId,
    action: BuddyAction,
    until: Option<NaiveDate>,
    reason: Option<&str>,
) -> DomainResult<BuddyRow> {
    let now = tx.now();
    let row = store::find(tx.conn, id)?;
    let step = Step::of(row.state, action)?;
    let until = pause_until(action, until, now.date())?;
    match action {
        BuddyAction::Activate => row.screening().ensure_met(now.date())?,
        BuddyAction::Retire => ensure_retirable(store::running_pairings(tx.conn, id)?)?,
        _ => {}
    }
    let buddy = store::record_step_until(tx.conn, id, step, until, reason, &tx.ctx.actor, now)?;
    if step.to() == BuddyState::Retired {
        // A retired buddy's portal sessions stop working (see `crate::auth::credentials`).
        tx.credentials_changed();
    }
    changed(tx, buddy, PendingProposals::after(step.to(), false))
}

/// Resumes buddy `id` if their pause has ended by `today` (the scheduler's work, as the
/// service); `false` when there is nothing to do (resumed meanwhile, or no longer due).
pub fn resume_due(tx: &mut Tx<'_>, id: &BuddyId, today: NaiveDate) -> DomainResult<bool> {
    let row = store::find(tx.conn, id)?;
    let due = row.state == BuddyState::Paused && row.paused_until.is_some_and(|d| d <= today);
    if !due {
        return Ok(false);
    }
    act(tx, id, BuddyAction::Resume, None, Some("the pause ended"))?;
    Ok(true)
}

/// The buddy asks to stop (in the portal): noted once, with a history record, and the bureau is
/// told by mail; the bureau confirms by retiring the buddy ([`act`]).
pub fn request_retirement(tx: &mut Tx<'_>, id: &BuddyId) -> DomainResult<BuddyRow> {
    let row = store::find(tx.conn, id)?;
    ensure_retirement_requestable(
        row.state,
        row.erased_at.is_some(),
        row.retirement_requested_at.is_some(),
    )?;
    tx.ctx.object(&row.id);
    let buddy = store::record_retirement_request(tx.conn, id, &tx.ctx.actor, tx.ctx.now)?;
    tx.emit(Event::RetirementRequested(buddy.clone()));
    tx.settle()?;
    Ok(buddy)
}

/// Erases the buddy (GDPR art. 17): retired if not yet, identity and free text removed, and the
/// outbox forgets their address and the contents of their pairings' mails. Refused a second
/// time, and while the buddy has live pairings.
pub fn erase(tx: &mut Tx<'_>, id: &BuddyId, reason: Option<&str>) -> DomainResult<BuddyRow> {
    let now = tx.now();
    let row = store::find(tx.conn, id)?;
    ensure_erasable(row.erased_at.is_some(), store::live_load(tx.conn, id)?)?;
    // An erased buddy's portal sessions stop working.
    tx.credentials_changed();
    let retire = match row.state {
        BuddyState::Retired => None,
        state => Some(Step::of(state, BuddyAction::Retire)?),
    };
    let erased = privacy::erase_buddy(tx.conn, &row, retire, reason, &tx.ctx.actor, now)?;
    outbox::erase_contents(tx.conn, PAIRING, &erased.pairing_ids, now)?;
    outbox::forget_recipient(tx.conn, &erased.former_email, &erased.erased_email)?;
    match retire {
        Some(step) => changed(tx, erased.buddy, PendingProposals::after(step.to(), false)),
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
