//! Privacy rules: how long client contact data is kept, and what anonymised and erased records
//! hold instead of personal data.

use chrono::{Duration, NaiveDateTime};

use super::error::{DomainError, DomainResult};
use super::ids::RequestId;
use super::request::RequestState;

/// What an anonymised client's first name reads (retention or erasure on request).
pub const ANONYMISED: &str = "[anonymised]";

/// What an erased buddy's name and region read.
pub const ERASED: &str = "[erased]";

/// The e-mail address an erased buddy is left with: the column is required, and `.invalid` is
/// reserved (RFC 2606), so nothing can ever be delivered to it.
pub fn erased_email(buddy_id: &str) -> String {
    format!("erased-{buddy_id}@invalid")
}

/// How long client contact data is kept after its request was closed or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub period: Duration,
}

impl Retention {
    pub fn days(days: u32) -> Self {
        Retention {
            period: Duration::days(i64::from(days)),
        }
    }

    /// Requests closed before this moment are due for anonymisation at `now`.
    pub fn cutoff(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.period
    }
}

/// What the erasure rules read of one of a client's requests.
#[derive(Debug, Clone, Copy)]
pub struct HeldRequest<'a> {
    pub id: &'a RequestId,
    pub state: RequestState,
    pub legal_hold: bool,
    pub anonymised: bool,
}

/// Erasing a client on request: refused while one of their requests is still being served (the
/// case system withdraws it, or the pairing ends, first) or on legal hold, and when nothing is
/// left to anonymise. Returns the requests to anonymise.
pub fn client_erasure<'a>(requests: &[HeldRequest<'a>]) -> DomainResult<Vec<&'a RequestId>> {
    if let Some(live) = requests.iter().find(|r| r.state.is_live()) {
        return Err(DomainError::conflict(
            "client-has-live-requests",
            "Client has live requests",
            format!(
                "buddy request {} is {}: withdraw it (or end its pairing) before erasing the client",
                live.id, live.state
            ),
        ));
    }
    if let Some(held) = requests.iter().find(|r| r.legal_hold) {
        return Err(DomainError::conflict(
            "legal-hold",
            "On legal hold",
            format!(
                "buddy request {} is on legal hold: release the hold before erasing the client",
                held.id
            ),
        ));
    }
    let pending: Vec<&RequestId> = requests
        .iter()
        .filter(|r| !r.anonymised)
        .map(|r| r.id)
        .collect();
    if pending.is_empty() {
        return Err(already_anonymised(
            "the contact data of every request of this client is anonymised already",
        ));
    }
    Ok(pending)
}

/// Placing (`hold`) or releasing a legal hold: refused when the hold is already as asked, and
/// placing one on a request whose contact data is anonymised already (nothing is left to keep).
pub fn legal_hold_change(held: bool, hold: bool, anonymised: bool) -> DomainResult<()> {
    if held == hold {
        return Err(DomainError::conflict(
            "legal-hold-unchanged",
            "Legal hold unchanged",
            if hold {
                "the buddy request is on legal hold already"
            } else {
                "the buddy request is not on legal hold"
            },
        ));
    }
    if hold && anonymised {
        return Err(already_anonymised(
            "the buddy request's contact data is anonymised already; there is nothing left to \
             hold",
        ));
    }
    Ok(())
}

fn already_anonymised(detail: &str) -> DomainError {
    DomainError::conflict("already-anonymised", "Already anonymised", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_lies_one_period_back() {
        let now = "2027-11-22T09:00:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            Retention::days(365).cutoff(now),
            "2026-11-22T09:00:00".parse::<NaiveDateTime>().unwrap()
        );
    }

    #[test]
    fn the_erased_address_cannot_be_delivered() {
        assert_eq!(erased_email("b-1"), "erased-b-1@invalid");
    }

    fn kind(result: DomainResult<impl std::fmt::Debug>) -> &'static str {
        match result {
            Err(DomainError::Conflict { kind, .. }) => kind,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn a_client_is_erased_only_when_nothing_is_served_or_held_and_something_is_left() {
        let (a, b) = (RequestId::from("r-a"), RequestId::from("r-b"));
        let held = |state, legal_hold, anonymised| HeldRequest {
            id: &a,
            state,
            legal_hold,
            anonymised,
        };
        let done = HeldRequest {
            id: &b,
            state: RequestState::Closed,
            legal_hold: false,
            anonymised: true,
        };
        for live in RequestState::LIVE {
            assert_eq!(
                kind(client_erasure(&[done, held(live, false, false)])),
                "client-has-live-requests"
            );
        }
        assert_eq!(
            kind(client_erasure(&[held(RequestState::Closed, true, false)])),
            "legal-hold"
        );
        assert_eq!(kind(client_erasure(&[done])), "already-anonymised");
        let pending = client_erasure(&[done, held(RequestState::Withdrawn, false, false)]).unwrap();
        assert_eq!(pending, vec![&a]);
    }

    #[test]
    fn a_legal_hold_changes_only_to_what_it_is_not_and_not_onto_anonymised_data() {
        assert_eq!(
            kind(legal_hold_change(true, true, false)),
            "legal-hold-unchanged"
        );
        assert_eq!(
            kind(legal_hold_change(false, false, false)),
            "legal-hold-unchanged"
        );
        assert_eq!(
            kind(legal_hold_change(false, true, true)),
            "already-anonymised"
        );
        assert!(legal_hold_change(false, true, false).is_ok());
        assert!(legal_hold_change(true, false, true).is_ok());
    }
}
