//! Pairings: one buddy proposed for one request, until the pairing ends.

use super::lifecycle::Lifecycle;
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
