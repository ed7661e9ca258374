//! What the service does by itself when something changes: the one module that decides the
//! reactions to every [`Event`]. They run in the change's own transaction ([`super::change`]),
//! so a mail is in the outbox exactly when its change is committed.
//!
//! - **The event feed** ([`feed`]): an event for each change to a buddy request and each exit
//!   interview recorded, for the case systems, and its webhook deliveries to the organisation's
//!   endpoints ([`super::webhooks::fan_out`]).
//! - **Mails** ([`Notices`]): the proposal with its response links, the confirmations and
//!   thanks to the buddy, the contact reminder and check-in, and the bureau's notes (new
//!   request, decline, expiry, cancellation, nobody to propose, overdue, no recent contact, a
//!   buddy asking for help).
//! - **Automatic proposal** (`matching.auto_propose`, off by default). When a request arrives,
//!   or comes back to `open` because its proposal was declined, expired or cancelled, the best
//!   candidate ([`crate::store::candidates::best_candidate`], the same ranking staff see) is
//!   proposed by the actor `system`, if their score is at least `matching.auto_propose_min_score`.
//!   Otherwise the request waits for staff, and the client bureau gets `bureau_no_candidate`
//!   saying whether nobody was available or the best score was too low. A declined or expired
//!   buddy is filtered out of the ranking, so the proposal moves on to the next one.
//! - **A buddy's pending proposals** follow the buddy (see [`PendingProposals`]): cancelled
//!   when the buddy pauses or retires, mailed again when their address changes.

use crate::config::Settings;
use crate::domain::actor::Actor;
use crate::domain::buddy::PendingProposals;
use crate::domain::error::DomainResult;
use crate::domain::ids::RequestId;
use crate::domain::pairing::PairingAction;
use crate::mail::notices::Notices;
use crate::matching::Weights;
use crate::store::candidates::{best_candidate, FactsCache, InTransaction};

use super::feed::{self, EventData, EventType};
use super::{pairings, Event, Tx};

/// The automatic proposal's settings.
#[derive(Debug, Clone)]
pub struct AutoPropose {
    pub weights: Weights,
    pub min_score: f64,
}

/// The service's own reactions to changes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Reactions {
    pub notices: Notices,
    /// `None` when automatic proposal is off.
    pub auto_propose: Option<AutoPropose>,
    /// The facts about every active buddy the candidate rankings of this instance last read,
    /// shared with the candidates endpoint (`AppState::candidates`).
    pub candidates: std::sync::Arc<FactsCache>,
    /// Where webhook deliveries go and how they are signed and retried.
    pub webhooks: crate::webhooks::Hooks,
    /// How many days a client feedback link works (`feedback.link_days`).
    pub feedback_link_days: u32,
}

impl Reactions {
    pub fn new(settings: &Settings, notices: Notices) -> Reactions {
        Reactions {
            webhooks: crate::webhooks::Hooks::new(&settings.webhooks, notices.links().clone()),
            notices,
            auto_propose: settings.matching.auto_propose.then(|| AutoPropose {
                weights: settings.matching.weights(),
                min_score: settings.matching.auto_propose_min_score,
            }),
            candidates: Default::default(),
            feedback_link_days: settings.feedback.link_days,
        }
    }

    /// Runs the reactions to `event`.
    pub(super) fn react(&self, tx: &mut Tx<'_>, event: Event) -> DomainResult<()> {
        let now = tx.now();
        let notices = &self.notices;
        match event {
            Event::RequestCreated(request) => {
                feed::publish_request_row(tx, EventType::RequestCreated, &request, None)?;
                let organisation = tx.organisation(&request.organisation_id)?.name;
                notices.request_created(tx.conn, &request, &organisation, now)?;
                self.request_open(tx, &request.id)?;
            }
            Event::RequestReopened { request_id } => {
                feed::publish_request(tx, EventType::RequestReopened, &request_id, None)?;
                self.request_open(tx, &request_id)?
            }
            Event::ProposalWithdrawn(pairing) => {
                notices.withdrawn(tx.conn, &pairing, now)?;
            }
            Event::Proposed(pairing) => {
                let request = pairing.request_id.clone();
                feed::publish_request(tx, EventType::RequestProposed, &request, Some(&pairing))?;
                notices.proposed(tx.conn, &pairing, now)?;
            }
            Event::PairingMoved { pairing, action } => {
                let moved = match action {
                    PairingAction::Accept => Some(EventType::RequestMatched),
                    PairingAction::End => Some(EventType::RequestClosed),
                    // A decline, expiry or cancellation reopens the request (its own event), or
                    // comes with its withdrawal.
                    _ => None,
                };
                if let Some(event_type) = moved {
                    let request = pairing.request_id.clone();
                    feed::publish_request(tx, event_type, &request, Some(&pairing))?;
                }
                match action {
                    PairingAction::Accept => notices.accepted(tx.conn, &pairing, now)?,
                    PairingAction::Decline => notices.declined(tx.conn, &pairing, now)?,
                    PairingAction::Expire => notices.expired(tx.conn, &pairing, now)?,
                    PairingAction::Cancel => notices.cancelled(tx.conn, &pairing, now)?,
                    PairingAction::End => {
                        super::feedback::invite_by_mail(
                            tx,
                            notices,
                            self.feedback_link_days,
                            &pairing,
                        )?;
                        notices.ended(tx.conn, &pairing, now)?
                    }
                    PairingAction::Activate => return Ok(()),
                };
            }
            Event::BuddyChanged { buddy, proposals } => {
                if proposals != PendingProposals::Keep {
                    pairings::follow_buddy(tx, &buddy, proposals)?;
                }
            }
            Event::ReminderDue(pairing) => {
                notices.reminder(tx.conn, &pairing, now)?;
            }
            Event::ContactReminderDue(pairing) => {
                notices.contact_reminder(tx.conn, &pairing, now)?;
            }
            Event::ContactMissing(pairing) => {
                notices.contact_missing(tx.conn, &pairing, now)?;
            }
            Event::CheckInDue { pairing, token_id } => {
                notices.check_in(tx.conn, &pairing, &token_id, now)?;
            }
            Event::CheckInAnswered { pairing, answer } => {
                if answer == crate::domain::contact::CheckInAnswer::NeedsHelp {
                    notices.check_in_help(tx.conn, &pairing, now)?;
                }
            }
            Event::RetirementRequested(buddy) => {
                notices.retirement_requested(tx.conn, &buddy, now)?;
            }
            Event::SignInRequested { buddy, expires_at } => {
                notices.sign_in_link(tx.conn, &buddy, expires_at, now)?;
            }
            Event::RequestWithdrawn(request) => {
                feed::publish_request_row(tx, EventType::RequestWithdrawn, &request, None)?;
            }
            Event::ExitInterviewRecorded(interview) => {
                let data = EventData {
                    exit_interview_id: Some(interview.id.as_str().parse().map_err(|_| {
                        crate::domain::error::DomainError::internal("a stored id is no UUID")
                    })?),
                    answer: Some(interview.answer),
                    ..EventData::default()
                };
                feed::publish(
                    tx,
                    EventType::ExitInterviewRecorded,
                    &interview.organisation_id,
                    data,
                )?;
            }
            Event::RequestOverdue(request) => {
                feed::publish_request_row(tx, EventType::RequestOverdue, &request, None)?;
                let organisation = tx.organisation(&request.organisation_id)?.name;
                notices.overdue(tx.conn, &request, &organisation, now)?;
            }
        }
        Ok(())
    }

    /// A request arrived or is `open` again: with automatic proposal on, propose its best
    /// candidate if good enough, else tell the bureau.
    fn request_open(&self, tx: &mut Tx<'_>, request_id: &RequestId) -> DomainResult<()> {
        let Some(auto) = &self.auto_propose else {
            return Ok(());
        };
        let now = tx.now();
        // This runs inside a write transaction whose own uncommitted changes may already have
        // moved `matching_version`: the instance's facts are caught up to what it sees, and not
        // kept, since they may yet roll back.
        let facts = InTransaction(&self.candidates);
        let (request, step) = pairings::proposable(tx.conn, request_id)?;
        match best_candidate(tx.conn, &facts, &request, &auto.weights, now)? {
            Some(best) if best.score >= auto.min_score => {
                pairings::propose_for(tx, &request, step, &best.buddy_id, &Actor::System)?;
            }
            best => {
                let organisation = tx.organisation(&request.organisation_id)?.name;
                self.notices.no_candidate(
                    tx.conn,
                    &request,
                    &organisation,
                    best.map(|b| b.score),
                    now,
                )?;
            }
        }
        Ok(())
    }
}
