//! What happened, as the operations tell it. Each event's reactions are in
//! [`super::reactions`], the one place that decides what a change causes.

use crate::domain::buddy::PendingProposals;
use crate::domain::ids::RequestId;
use crate::domain::pairing::PairingAction;
use crate::store::buddies::BuddyRow;
use crate::store::exit_interviews::ExitInterviewRow;
use crate::store::pairings::PairingRow;
use crate::store::requests::RequestRow;

#[derive(Debug, Clone)]
pub enum Event {
    /// A new request arrived (it is `open`).
    RequestCreated(RequestRow),
    /// A request is `open` again: its proposal was declined, expired or cancelled.
    RequestReopened { request_id: RequestId },
    /// A request was withdrawn while this proposal waited for its buddy's answer; the proposal
    /// is cancelled with it.
    ProposalWithdrawn(PairingRow),
    /// A buddy was proposed for a request.
    Proposed(PairingRow),
    /// A pairing moved by `action` (accept, decline, activate, end, expire, cancel); the
    /// pairing as it is now.
    PairingMoved {
        pairing: PairingRow,
        action: PairingAction,
    },
    /// A buddy's state or e-mail address changed: what that means for their pending proposals.
    BuddyChanged {
        buddy: BuddyRow,
        proposals: PendingProposals,
    },
    /// A buddy asked to stop (in the portal): the bureau confirms it.
    RetirementRequested(BuddyRow),
    /// A buddy asked for a sign-in link to the portal, valid until `expires_at`.
    SignInRequested {
        buddy: BuddyRow,
        expires_at: chrono::NaiveDateTime,
    },
    /// An unanswered proposal is due its one reminder.
    ReminderDue(PairingRow),
    /// A request has been open too long.
    RequestOverdue(RequestRow),
    /// A request was withdrawn (the request as it is now).
    RequestWithdrawn(RequestRow),
    /// An exit interview's outcome was recorded.
    ExitInterviewRecorded(ExitInterviewRow),
    /// A running pairing has been without contact long enough to remind its buddy (once per
    /// quiet period).
    ContactReminderDue(PairingRow),
    /// ... and long enough to tell the client bureau; the pairing is flagged.
    ContactMissing(PairingRow),
    /// A running pairing is due its check-in; `token_id` is the answer links' token.
    CheckInDue {
        pairing: PairingRow,
        token_id: String,
    },
    /// The buddy answered the check-in.
    CheckInAnswered {
        pairing: PairingRow,
        answer: crate::domain::contact::CheckInAnswer,
    },
}
