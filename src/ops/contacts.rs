//! Contact moments of running pairings (see [`crate::domain::contact`]): the buddy records them
//! (the portal), the scheduler reminds the buddy and tells the client bureau when contact stops,
//! and asks the buddy once how it goes.

use chrono::{Duration, NaiveDate};

use super::{Event, Tx};
use crate::domain::actor::Actor;
use crate::domain::contact::{self, CheckInAnswer, ContactKind, ContactRhythm, CHECK_IN_LINK_DAYS};
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::ids::{BuddyId, PairingId};
use crate::respond::tokens;
use crate::store::contacts::{self as store, ContactRow};
use crate::store::pairings::{self, PairingRow};
use crate::store::requests::client_ref_of;

/// A contact moment as the buddy enters it.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub contact_on: NaiveDate,
    pub kind: ContactKind,
    pub note: Option<String>,
}

/// The pairing `id` of buddy `buddy_id`; another buddy's pairing (or an unknown id) is not
/// found, so a buddy cannot learn which pairings exist.
pub fn own_pairing(
    conn: &mut crate::db::DbConnection,
    buddy_id: &BuddyId,
    id: &PairingId,
) -> DomainResult<PairingRow> {
    let pairing = pairings::find(conn, id)?;
    if pairing.buddy_id != *buddy_id {
        return Err(DomainError::not_found("pairing", id));
    }
    Ok(pairing)
}

/// Records a contact moment of pairing `pairing_id` as its buddy: the pairing must be active,
/// the date between its start and today (Dutch time), the note short. A contact newer than the
/// pairing's quiet period ends it: reminders and the flag start over.
pub fn record(
    tx: &mut Tx<'_>,
    pairing_id: &PairingId,
    contact: NewContact,
) -> DomainResult<ContactRow> {
    let Actor::Buddy(buddy) = tx.actor().clone() else {
        return Err(DomainError::internal(
            "a contact moment is recorded by the pairing's buddy",
        ));
    };
    let buddy_id = BuddyId::from(buddy);
    let pairing = own_pairing(tx.conn, &buddy_id, pairing_id)?;
    tx.ctx.object(&pairing.id);
    let client_ref = client_ref_of(tx.conn, &pairing.request_id)?;
    tx.ctx.concerns(client_ref);
    let now = tx.now();
    let note = contact::note(contact.note.as_deref())?;
    contact::ensure_recordable(
        pairing.state,
        pairing.activated_at,
        contact.contact_on,
        crate::i18n::local_day(now),
    )?;
    let row = ContactRow {
        id: uuid::Uuid::now_v7().to_string(),
        pairing_id: pairing.id.clone(),
        contact_on: contact.contact_on,
        kind: contact.kind,
        note,
        recorded_at: now,
    };
    store::insert(tx.conn, &row)?;
    Ok(row)
}

/// Reminds the buddy of pairing `id`, quiet too long, once for its quiet period (the
/// scheduler). `false` when there is nothing to do.
pub fn remind(tx: &mut Tx<'_>, id: &PairingId, rhythm: &ContactRhythm) -> DomainResult<bool> {
    if !store::mark_reminded(tx.conn, id, rhythm.remind_if_quiet_since(tx.now()))? {
        return Ok(false);
    }
    let pairing = pairings::find(tx.conn, id)?;
    tx.emit(Event::ContactReminderDue(pairing));
    Ok(true)
}

/// Tells the client bureau about pairing `id`, quiet for twice the reminder period, once for
/// its quiet period; the pairing is flagged from then on (the scheduler).
pub fn alert(tx: &mut Tx<'_>, id: &PairingId, rhythm: &ContactRhythm) -> DomainResult<bool> {
    if !store::mark_alerted(tx.conn, id, rhythm.overdue_if_quiet_since(tx.now()))? {
        return Ok(false);
    }
    let pairing = pairings::find(tx.conn, id)?;
    tx.emit(Event::ContactMissing(pairing));
    Ok(true)
}

/// Sends pairing `id` its one check-in (the scheduler): a mail to the buddy with two answer
/// links, usable for [`CHECK_IN_LINK_DAYS`] days.
pub fn check_in(
    tx: &mut Tx<'_>,
    id: &PairingId,
    rhythm: &ContactRhythm,
    links: &crate::respond::links::Links,
) -> DomainResult<bool> {
    let now = tx.now();
    if !store::mark_check_in_sent(tx.conn, id, rhythm.check_in_if_activated_by(now), now)? {
        return Ok(false);
    }
    let pairing = pairings::find(tx.conn, id)?;
    let token_id = tokens::create_for(
        tx.conn,
        links,
        tokens::PURPOSE_CHECK_IN,
        &pairing.id,
        &pairing.buddy_id,
        now + Duration::days(CHECK_IN_LINK_DAYS),
        now,
    )?;
    tx.emit(Event::CheckInDue { pairing, token_id });
    Ok(true)
}

/// Records the buddy's check-in answer for pairing `id` (the check-in page, the token already
/// used up); `needs_help` tells the client bureau. Only the first answer counts: a second is
/// an illegal transition.
pub fn answer_check_in(
    tx: &mut Tx<'_>,
    id: &PairingId,
    answer: CheckInAnswer,
) -> DomainResult<PairingRow> {
    let now = tx.now();
    if !store::answer_check_in(tx.conn, id, answer, now)? {
        return Err(DomainError::IllegalTransition {
            resource: "pairing",
            state: "answered".into(),
            action: "answer the check-in of".into(),
        });
    }
    let pairing = pairings::find(tx.conn, id)?;
    tx.emit(Event::CheckInAnswered {
        pairing: pairing.clone(),
        answer,
    });
    Ok(pairing)
}
