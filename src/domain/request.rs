//! Buddy requests: one client's request for a buddy, filed by a case system or staff.

use chrono::{Duration, NaiveDateTime};

use super::error::DomainError;
use super::lifecycle::Lifecycle;
use crate::string_enum;

string_enum! {
    /// ```text
    /// open ──▶ proposed ──▶ matched ──▶ closed
    ///   ▲          │
    ///   └──────────┘ (proposal declined, expired, or cancelled as its buddy stopped)
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
        /// The proposal was cancelled because its buddy can no longer take it on.
        ProposalCancelled => "proposal-cancelled",
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
            (Proposed, ProposalDeclined | ProposalExpired | ProposalCancelled) => Some(Open),
            (Proposed, Match) => Some(Matched),
            (Matched, Close) => Some(Closed),
            (Open | Proposed, Withdraw) => Some(Withdrawn),
            _ => None,
        }
    }
}

impl RequestState {
    /// Requests in these states are still being served: their client cannot be erased.
    pub const LIVE: [RequestState; 3] = [
        RequestState::Open,
        RequestState::Proposed,
        RequestState::Matched,
    ];

    pub fn is_live(self) -> bool {
        Self::LIVE.contains(&self)
    }
}

/// An organisation files one request per client reference.
pub fn duplicate_client_ref() -> DomainError {
    DomainError::conflict(
        "duplicate-client-ref",
        "Duplicate client reference",
        "this organisation already has a buddy request with this client_ref",
    )
}

/// Exclusions steer who is proposed, so they are made and lifted only while a request can still
/// be proposed for: `open`, or `proposed` (the proposal may be declined). Once it is matched,
/// closed or withdrawn, `action` (`exclude` or `include`) is refused.
pub fn ensure_takes_exclusions(
    state: RequestState,
    action: &str,
) -> crate::domain::error::DomainResult<()> {
    if matches!(state, RequestState::Open | RequestState::Proposed) {
        Ok(())
    } else {
        Err(DomainError::IllegalTransition {
            resource: "buddy_request",
            state: state.as_str().to_owned(),
            action: action.to_owned(),
        })
    }
}

/// A buddy is excluded from a request once.
pub fn duplicate_exclusion() -> DomainError {
    DomainError::conflict(
        "duplicate-exclusion",
        "Buddy excluded already",
        "the buddy is excluded from this request already",
    )
}

/// The service level for open requests: a request still `open` `overdue_after_days` days (or
/// longer) after it was created is overdue. The one place this rule lives; lists filter on it in
/// SQL through [`ServiceLevel::cutoff`], responses and reports through [`ServiceLevel::is_overdue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLevel {
    pub overdue_after_days: u32,
}

impl ServiceLevel {
    /// The latest creation time at which an open request is overdue at `now`: a request is
    /// overdue when `state = open AND created_at <= cutoff`.
    pub fn cutoff(self, now: NaiveDateTime) -> NaiveDateTime {
        now - Duration::days(i64::from(self.overdue_after_days))
    }

    pub fn is_overdue(
        self,
        state: RequestState,
        created_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> bool {
        state == RequestState::Open && created_at <= self.cutoff(now)
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
    fn an_open_request_is_overdue_from_the_service_level_on() {
        let level = ServiceLevel {
            overdue_after_days: 5,
        };
        let created: NaiveDateTime = "2026-11-22T09:00:00".parse().unwrap();
        let at = |days: i64, secs: i64| created + Duration::days(days) + Duration::seconds(secs);
        assert!(!level.is_overdue(RequestState::Open, created, at(5, -1)));
        assert!(level.is_overdue(RequestState::Open, created, at(5, 0)));
        assert!(level.is_overdue(RequestState::Open, created, at(30, 0)));
        for state in RequestState::ALL
            .iter()
            .filter(|s| **s != RequestState::Open)
        {
            assert!(!level.is_overdue(*state, created, at(30, 0)), "{state}");
        }
        assert_eq!(level.cutoff(at(5, 0)), created);
    }

    #[test]
    fn the_transition_table_is_exactly_the_designed_one() {
        use RequestAction::*;
        use RequestState::*;
        let legal = [
            (Open, Propose, Proposed),
            (Proposed, ProposalDeclined, Open),
            (Proposed, ProposalExpired, Open),
            (Proposed, ProposalCancelled, Open),
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
