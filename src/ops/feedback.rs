//! Client feedback: the invitation when a pairing ends (by e-mail, or as a link the case system
//! passes on), the client's answer through the link, and an admin's erasure of an answer's text.
//!
//! Nothing here links an answer to its case: the invitation row holds the organisation, the
//! language, a rounded expiry and whether it was used; the answer the organisation and the
//! quarter; the request only that its client was invited. No event, webhook, history line or
//! log line is written about an invitation or an answer, and the audit record of an answer names
//! no object.

use chrono::NaiveDateTime;

use super::Tx;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::feedback::{invitation_expiry, invitation_language, Answer, Quarter};
use crate::domain::ids::RequestId;
use crate::domain::request::{ContactChannel, RequestState};
use crate::mail::notices::Notices;
use crate::store::feedback::{self as store, AnswerRow, InvitationRow};
use crate::store::pairings::PairingRow;
use crate::store::requests::{self, RequestRow};

/// A feedback link made for a case system to pass on. Shown once: only its hash is stored.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub link: String,
    pub expires_at: NaiveDateTime,
    pub language: &'static str,
}

/// The reaction to a pairing's end: when the client chose e-mail and gave an address, the
/// service invites them by mail, once per request.
pub fn invite_by_mail(
    tx: &mut Tx<'_>,
    notices: &Notices,
    link_days: u32,
    pairing: &PairingRow,
) -> DomainResult<()> {
    let now = tx.now();
    let request = requests::find(tx.conn, &pairing.request_id)?;
    let Some(email) = request.client_email.clone() else {
        return Ok(());
    };
    if request.client_preferred_channel != ContactChannel::Email
        || !store::mark_invited(tx.conn, &request.id)?
    {
        return Ok(());
    }
    let (token_id, expires_at, language) = invitation(tx, notices, &request, link_days, now)?;
    notices.feedback_invitation(tx.conn, &email, language, &token_id, expires_at, now)?;
    Ok(())
}

/// The feedback link of request `id`, for its case system (or staff) to pass on to a client
/// who did not choose e-mail: only for a closed request (its pairing ended) whose client was not
/// invited yet. A second call, or one for a client the service mailed, is a conflict.
pub fn issue_link(tx: &mut Tx<'_>, id: &RequestId) -> DomainResult<IssuedLink> {
    let now = tx.now();
    let link_days = tx.reactions.feedback_link_days;
    let request = requests::find_visible(tx.conn, id, tx.ctx.scope.as_ref())?;
    tx.ctx.concerns(Some(request.client_ref.clone()));
    if request.state != RequestState::Closed {
        return Err(DomainError::conflict(
            "feedback-not-due",
            "No feedback invitation yet",
            format!(
                "buddy request {id} is {}: a client is invited to give feedback once the \
                 pairing has ended (the request is closed)",
                request.state
            ),
        ));
    }
    if !store::mark_invited(tx.conn, id)? {
        return Err(DomainError::conflict(
            "feedback-already-invited",
            "Client already invited",
            format!(
                "the client of buddy request {id} was invited to give feedback already (a link \
                 is issued once, and a client who chose e-mail was mailed one)"
            ),
        ));
    }
    let notices = tx.reactions.notices.clone();
    let (token_id, expires_at, language) = invitation(tx, &notices, &request, link_days, now)?;
    Ok(IssuedLink {
        link: notices.links().feedback_link(&token_id),
        expires_at,
        language,
    })
}

fn invitation(
    tx: &mut Tx<'_>,
    notices: &Notices,
    request: &RequestRow,
    link_days: u32,
    now: NaiveDateTime,
) -> DomainResult<(String, NaiveDateTime, &'static str)> {
    let language = invitation_language(&request.client_languages()?);
    let expires_at = invitation_expiry(now, link_days);
    let token_id = store::create_invitation(
        tx.conn,
        notices.links(),
        &request.organisation_id,
        language,
        expires_at,
    )?;
    Ok((token_id, expires_at, language))
}

/// Why a feedback link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Open,
    Used,
    Expired,
}

/// Whether `invitation` can be answered at `now`.
pub fn link_state(invitation: &InvitationRow, now: NaiveDateTime) -> LinkState {
    if invitation.used {
        LinkState::Used
    } else if now >= invitation.expires_at {
        LinkState::Expired
    } else {
        LinkState::Open
    }
}

/// Stores `answer` through `invitation` and uses the invitation up, in the quarter of `now`:
/// `false` when another request used it first (nothing stored).
pub fn answer(tx: &mut Tx<'_>, invitation: &InvitationRow, answer: &Answer) -> DomainResult<bool> {
    if !store::use_invitation(tx.conn, &invitation.id)? {
        return Ok(false);
    }
    let quarter = Quarter::of(tx.now().date());
    store::insert_answer(tx.conn, &invitation.organisation_id, quarter, answer)?;
    Ok(true)
}

/// Removes the free texts of answer `id` (an admin, on the client's request or because they
/// identify someone); the score stays. Already removed is a conflict.
pub fn erase_text(tx: &mut Tx<'_>, id: &str) -> DomainResult<AnswerRow> {
    store::find_answer(tx.conn, id)?;
    tx.ctx.object(id);
    if !store::remove_text(tx.conn, id)? {
        return Err(DomainError::conflict(
            "feedback-text-removed",
            "Text already removed",
            format!("the free text of feedback answer {id} was removed already"),
        ));
    }
    Ok(store::find_answer(tx.conn, id)?)
}
