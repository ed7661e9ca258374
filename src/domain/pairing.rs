//! Pairings: one buddy proposed for one request, until the pairing ends.

use chrono::{Duration, NaiveDateTime};

use super::buddy::BuddyState;
use super::error::{DomainError, DomainResult};
use super::lifecycle::Lifecycle;
use super::request::RequestAction;
use crate::string_enum;

string_enum! {
    /// ```text
    /// proposed ──▶ accepted ──▶ active ──▶ ended
    ///     ├──▶ declined | expired | cancelled
    /// accepted ──▶ ended
    /// ```
    PairingState {
        Proposed => "proposed",
        Accepted => "accepted",
        Active => "active",
        Ended => "ended",
        Declined => "declined",
        Expired => "expired",
        Cancelled => "cancelled",
    }
}

impl PairingState {
    /// Live pairings occupy the buddy's capacity; a request has at most one.
    pub const LIVE: [PairingState; 3] = [
        PairingState::Proposed,
        PairingState::Accepted,
        PairingState::Active,
    ];

    pub fn is_live(self) -> bool {
        Self::LIVE.contains(&self)
    }
}

/// Who may be proposed for a request: an active buddy (checked first, on what was read)...
pub fn ensure_proposable(buddy_state: BuddyState) -> DomainResult<()> {
    if !buddy_state.takes_proposals() {
        return Err(unavailable(format!(
            "the buddy is {buddy_state}; only active buddies can be proposed"
        )));
    }
    Ok(())
}

/// ...with room for one more live pairing (checked once the buddy's row is locked, so two
/// concurrent proposals cannot both take the last place)...
pub fn ensure_free_capacity(live_pairings: i64, capacity: i32) -> DomainResult<()> {
    if live_pairings >= i64::from(capacity) {
        return Err(unavailable(format!(
            "the buddy has no free capacity ({live_pairings} of {capacity} live pairings)"
        )));
    }
    Ok(())
}

/// ...who did not decline this request before.
pub fn ensure_not_declined_before(declined_before: bool) -> DomainResult<()> {
    if declined_before {
        return Err(unavailable("the buddy declined this request before".into()));
    }
    Ok(())
}

fn unavailable(detail: String) -> DomainError {
    DomainError::conflict("buddy-unavailable", "Buddy cannot be proposed", detail)
}

string_enum! {
    PairingAction {
        Accept => "accept",
        Decline => "decline",
        Expire => "expire",
        Cancel => "cancel",
        Activate => "activate",
        End => "end",
    }
}

/// How long a proposal waits for its buddy's answer, and when the buddy is reminded: the one
/// rule the scheduler, the proposal mail (its "respond before") and the response link's expiry
/// share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposalWindow {
    /// An unanswered proposal expires this long after it was made.
    pub ttl: Duration,
    /// The one reminder goes out this long after the proposal, if it is still unanswered.
    pub reminder_after: Duration,
}

impl ProposalWindow {
    /// The window of the `workflow.proposal_ttl_hours` and `workflow.reminder_after_hours`
    /// settings.
    pub fn from_hours(ttl_hours: u32, reminder_after_hours: u32) -> ProposalWindow {
        ProposalWindow {
            ttl: Duration::hours(i64::from(ttl_hours)),
            reminder_after: Duration::hours(i64::from(reminder_after_hours)),
        }
    }

    /// When a proposal made at `proposed_at` expires.
    pub fn expires_at(&self, proposed_at: NaiveDateTime) -> NaiveDateTime {
        proposed_at + self.ttl
    }

    /// Proposals made at or before this moment have expired at `now`.
    pub fn expired_if_made_by(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.ttl
    }

    /// Proposals made at or before this moment are due their reminder at `now`.
    pub fn reminder_due_if_made_by(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.reminder_after
    }
}

impl PairingAction {
    /// The rule that ties the two state machines: what a pairing's change does to its request,
    /// in the same transaction. Accepting matches the request; a decline, an expiry or a
    /// cancellation opens it again (for another proposal); the end closes it. Activation leaves
    /// it `matched`.
    pub fn moves_request(self) -> Option<RequestAction> {
        match self {
            PairingAction::Accept => Some(RequestAction::Match),
            PairingAction::Decline => Some(RequestAction::ProposalDeclined),
            PairingAction::Expire => Some(RequestAction::ProposalExpired),
            PairingAction::Cancel => Some(RequestAction::ProposalCancelled),
            PairingAction::End => Some(RequestAction::Close),
            PairingAction::Activate => None,
        }
    }

    /// True when the change leaves the request `open` again, for another proposal.
    pub fn reopens_request(self) -> bool {
        matches!(
            self,
            PairingAction::Decline | PairingAction::Expire | PairingAction::Cancel
        )
    }
}

impl Lifecycle for PairingState {
    type Action = PairingAction;
    const RESOURCE: &'static str = "pairing";

    fn next(self, action: PairingAction) -> Option<Self> {
        use PairingAction::*;
        use PairingState::*;
        match (self, action) {
            (Proposed, Accept) => Some(Accepted),
            (Proposed, Decline) => Some(Declined),
            (Proposed, Expire) => Some(Expired),
            (Proposed, Cancel) => Some(Cancelled),
            (Accepted, Activate) => Some(Active),
            (Accepted | Active, End) => Some(Ended),
            _ => None,
        }
    }
}

string_enum! {
    EndReason {
        GoalReached => "goal_reached",
        ClientStopped => "client_stopped",
        BuddyStopped => "buddy_stopped",
        CaseClosed => "case_closed",
        Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::transition;
    use crate::domain::request::RequestState;

    #[test]
    fn only_an_active_buddy_with_room_who_did_not_decline_is_proposed() {
        let unavailable = |result: DomainResult<()>| {
            matches!(
                result,
                Err(DomainError::Conflict {
                    kind: "buddy-unavailable",
                    ..
                })
            )
        };
        for state in [
            BuddyState::Candidate,
            BuddyState::Screening,
            BuddyState::Paused,
            BuddyState::Retired,
        ] {
            assert!(unavailable(ensure_proposable(state)), "{state}");
        }
        assert!(ensure_proposable(BuddyState::Active).is_ok());
        assert!(ensure_free_capacity(1, 2).is_ok());
        assert!(unavailable(ensure_free_capacity(2, 2)));
        assert!(unavailable(ensure_free_capacity(3, 2)));
        assert!(ensure_not_declined_before(false).is_ok());
        assert!(unavailable(ensure_not_declined_before(true)));
    }

    #[test]
    fn a_pairing_change_moves_its_request_along_its_own_machine() {
        // Each pairing action that moves the request is legal from the request state the
        // pairing's own state implies, and lands where the design says.
        for (action, from, to) in [
            (
                PairingAction::Accept,
                RequestState::Proposed,
                RequestState::Matched,
            ),
            (
                PairingAction::Decline,
                RequestState::Proposed,
                RequestState::Open,
            ),
            (
                PairingAction::Expire,
                RequestState::Proposed,
                RequestState::Open,
            ),
            (
                PairingAction::Cancel,
                RequestState::Proposed,
                RequestState::Open,
            ),
            (
                PairingAction::End,
                RequestState::Matched,
                RequestState::Closed,
            ),
        ] {
            let request_action = action.moves_request().expect("moves the request");
            assert_eq!(transition(from, request_action).ok(), Some(to), "{action}");
            assert_eq!(
                action.reopens_request(),
                to == RequestState::Open,
                "{action}"
            );
        }
        assert_eq!(PairingAction::Activate.moves_request(), None);
    }

    #[test]
    fn the_transition_table_is_exactly_the_designed_one() {
        use PairingAction::*;
        use PairingState::*;
        let legal = [
            (Proposed, Accept, Accepted),
            (Proposed, Decline, Declined),
            (Proposed, Expire, Expired),
            (Proposed, Cancel, Cancelled),
            (Accepted, Activate, Active),
            (Accepted, End, Ended),
            (Active, End, Ended),
        ];
        for state in PairingState::ALL {
            for action in PairingAction::ALL {
                let expected = legal
                    .iter()
                    .find(|(s, a, _)| s == state && a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    transition(*state, *action).ok(),
                    expected,
                    "{state} {action}"
                );
            }
        }
    }
}
