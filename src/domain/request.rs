//! Buddy requests: one client's request for a buddy, filed by a case system or staff.

use super::lifecycle::Lifecycle;
use crate::string_enum;

string_enum! {
    /// ```text
    /// open ──▶ proposed ──▶ matched ──▶ closed
    ///   ▲          │
    ///   └──────────┘ (proposal declined or expired)
    /// open | proposed ──▶ withdrawn
    /// ```
    RequestState {
        Open => "open",
        Proposed => "proposed",
        Matched => "matched",
        Closed => "closed",
        Withdrawn => "withdrawn",
    }
}

string_enum! {
    /// What moves a request. Only `withdraw` is called directly; the others follow its pairing.
    RequestAction {
        Propose => "propose",
        ProposalDeclined => "proposal-declined",
        ProposalExpired => "proposal-expired",
        Match => "match",
        Close => "close",
        Withdraw => "withdraw",
    }
}

impl Lifecycle for RequestState {
    type Action = RequestAction;
    const RESOURCE: &'static str = "buddy request";

    fn next(self, action: RequestAction) -> Option<Self> {
        use RequestAction::*;
        use RequestState::*;
        match (self, action) {
            (Open, Propose) => Some(Proposed),
            (Proposed, ProposalDeclined | ProposalExpired) => Some(Open),
            (Proposed, Match) => Some(Matched),
            (Matched, Close) => Some(Closed),
            (Open | Proposed, Withdraw) => Some(Withdrawn),
            _ => None,
        }
    }
}

string_enum! {
    /// Why the client asks for a buddy.
    Trigger {
        FirstTalks => "first_talks",
        Discontent => "discontent",
        Complaint => "complaint",
        Questions => "questions",
    }
}

string_enum! {
    /// How the client prefers to be contacted by the buddy.
    ContactChannel { Phone => "phone", Email => "email" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::transition;

    #[test]
    fn the_transition_table_is_exactly_the_designed_one() {
        use RequestAction::*;
        use RequestState::*;
        let legal = [
            (Open, Propose, Proposed),
            (Proposed, ProposalDeclined, Open),
            (Proposed, ProposalExpired, Open),
            (Proposed, Match, Matched),
            (Matched, Close, Closed),
            (Open, Withdraw, Withdrawn),
            (Proposed, Withdraw, Withdrawn),
        ];
        for state in RequestState::ALL {
            for action in RequestAction::ALL {
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
