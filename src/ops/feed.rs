//! The event feed: what a case system is told of (`GET /v1/events`). The reactions
//! ([`super::reactions`]) publish an event for each change that concerns a buddy request or an
//! exit interview, in the change's own transaction, so an event exists exactly when its change
//! committed. An event carries its type, time, organisation, the ids and the states; no personal
//! data (a receiver that needs more reads the resource with its key). The same event is queued,
//! in the same transaction, for the organisation's webhook endpoints ([`super::webhooks`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Tx;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::exit_interview::Answer;
use crate::domain::ids::OrganisationId;
use crate::domain::pairing::PairingState;
use crate::domain::request::RequestState;
use crate::store::events::{self as store, NewEvent};
use crate::string_enum;

string_enum! {
    /// What happened: `buddy_request.created`, `.proposed` (a buddy was proposed), `.matched`
    /// (the buddy accepted), `.reopened` (the proposal was declined, expired or cancelled),
    /// `.closed` (the pairing ended), `.withdrawn`, `.overdue` (open too long), and
    /// `exit_interview.recorded`.
    EventType {
        RequestCreated => "buddy_request.created",
        RequestProposed => "buddy_request.proposed",
        RequestMatched => "buddy_request.matched",
        RequestReopened => "buddy_request.reopened",
        RequestClosed => "buddy_request.closed",
        RequestWithdrawn => "buddy_request.withdrawn",
        RequestOverdue => "buddy_request.overdue",
        ExitInterviewRecorded => "exit_interview.recorded",
    }
}

/// One event of the feed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedEvent {
    /// Unique and stable: the same event always has the same id (deduplicate on it).
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// The organisation the request or interview belongs to.
    pub organisation_id: Uuid,
    pub data: EventData,
}

/// The ids and states an event is about; which members are present depends on its type.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventData {
    /// The request (`buddy_request.*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buddy_request_id: Option<Uuid>,
    /// The request's state after the change (`buddy_request.*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RequestState>,
    /// The pairing concerned (`proposed`, `matched`, `closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing_id: Option<Uuid>,
    /// The pairing's state after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing_state: Option<PairingState>,
    /// The interview (`exit_interview.recorded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_interview_id: Option<Uuid>,
    /// Its outcome: `yes`, `no` or `later`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

fn uuid_of(id: &str) -> DomainResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| DomainError::internal(format!("a stored id is no UUID: {id}")))
}

/// Publishes an event about `organisation`, in the change's transaction.
pub fn publish(
    tx: &mut Tx<'_>,
    event_type: EventType,
    organisation: &OrganisationId,
    data: EventData,
) -> DomainResult<()> {
    let event = FeedEvent {
        id: Uuid::now_v7(),
        event_type,
        occurred_at: DateTime::from_naive_utc_and_offset(tx.now(), Utc),
        organisation_id: uuid_of(organisation.as_str())?,
        data,
    };
    let payload = serde_json::to_string(&event)
        .map_err(|e| DomainError::internal(format!("an event does not serialise: {e}")))?;
    store::insert(
        tx.conn,
        &NewEvent {
            id: &event.id.to_string(),
            organisation_id: organisation.as_str(),
            event_type: event_type.as_str(),
            occurred_at: tx.now(),
            payload: &payload,
        },
    )?;
    super::webhooks::fan_out(
        tx,
        organisation.as_str(),
        &event.id.to_string(),
        event_type,
        &payload,
    )?;
    Ok(())
}

/// Publishes `event_type` about request `id` as it is now (its state after the change), with
/// the pairing concerned if any.
pub fn publish_request(
    tx: &mut Tx<'_>,
    event_type: EventType,
    id: &crate::domain::ids::RequestId,
    pairing: Option<&crate::store::pairings::PairingRow>,
) -> DomainResult<()> {
    let request = crate::store::requests::find(tx.conn, id)?;
    publish_request_row(tx, event_type, &request, pairing)
}

/// As [`publish_request`], for a request row the caller holds as it is now.
pub fn publish_request_row(
    tx: &mut Tx<'_>,
    event_type: EventType,
    request: &crate::store::requests::RequestRow,
    pairing: Option<&crate::store::pairings::PairingRow>,
) -> DomainResult<()> {
    let data = EventData {
        buddy_request_id: Some(uuid_of(request.id.as_str())?),
        state: Some(request.state),
        pairing_id: pairing.map(|p| uuid_of(p.id.as_str())).transpose()?,
        pairing_state: pairing.map(|p| p.state),
        ..EventData::default()
    };
    publish(tx, event_type, &request.organisation_id, data)
}
