//! What the service does by itself when a state change calls for it: the mails
//! ([`Notices`]) and the automatic proposal.
//!
//! **Automatic proposal** (`matching.auto_propose`, off by default). When a request arrives, or
//! comes back to `open` because its proposal was declined or expired, the best candidate
//! ([`crate::store::candidates::best_candidate`], the same ranking staff see) is proposed in the
//! same transaction, by the actor `system`, if their score is at least
//! `matching.auto_propose_min_score`. Otherwise the request waits for staff, and the client bureau
//! gets `bureau_no_candidate` saying whether nobody was available or the best score was too low.
//! A declined or expired buddy is filtered out of the ranking, so the proposal moves on to the
//! next one.

use chrono::NaiveDateTime;

use crate::config::Settings;
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::error::ApiResult;
use crate::mail::notices::Notices;
use crate::matching::Weights;
use crate::store::candidates::{best_candidate, FactsCache};
use crate::store::pairings::{self, PairingRow};
use crate::store::requests;

/// The automatic proposal's settings.
#[derive(Debug, Clone)]
pub struct AutoPropose {
    pub weights: Weights,
    pub min_score: f64,
}

/// The service's own reactions to state changes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub notices: Notices,
    /// `None` when automatic proposal is off.
    pub auto_propose: Option<AutoPropose>,
}

impl Workflow {
    pub fn new(settings: &Settings, notices: Notices) -> Workflow {
        Workflow {
            notices,
            auto_propose: settings.matching.auto_propose.then(|| AutoPropose {
                weights: settings.matching.weights(),
                min_score: settings.matching.auto_propose_min_score,
            }),
        }
    }

    /// A request arrived or is `open` again: with automatic proposal on, propose its best
    /// candidate if good enough, else tell the bureau. Returns the new pairing, if any. Runs in
    /// the caller's transaction.
    pub fn request_opened(
        &self,
        conn: &mut DbConnection,
        request_id: &str,
        now: NaiveDateTime,
    ) -> ApiResult<Option<PairingRow>> {
        let Some(auto) = &self.auto_propose else {
            return Ok(None);
        };
        // A fresh cache, not the instance's: this runs inside a write transaction whose own
        // uncommitted changes already moved `matching_version`, and facts that may yet roll back
        // must not be kept under that version for other requests.
        let fresh = FactsCache::default();
        match best_candidate(conn, &fresh, request_id, &auto.weights, now)? {
            Some(best) if best.score >= auto.min_score => {
                let pairing = pairings::propose(
                    conn,
                    request_id,
                    &best.buddy_id,
                    &Actor::System,
                    now,
                    &self.notices,
                )?;
                Ok(Some(pairing))
            }
            best => {
                let request = requests::find(conn, request_id)?;
                self.notices
                    .no_candidate(conn, &request, best.map(|b| b.score), now)?;
                Ok(None)
            }
        }
    }
}
