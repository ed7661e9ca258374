//! Webhook operations: a case system's endpoints (create, change, rotate the secret, delete), replaying
//! a delivery, queueing an event's deliveries in the change's transaction ([`fan_out`]), and
//! recording an attempt ([`record_attempt`], by the worker). The rules live here: an endpoint
//! belongs to its case system's organisation; staff (administrators) may only enable or
//! disable it; a delivery is replayed only once it is finished (delivered or dead).

use chrono::NaiveDateTime;
use uuid::Uuid;

use super::feed::EventType;
use super::Tx;
use crate::domain::error::{DomainError, DomainResult, FieldError};
use crate::domain::webhook::DeliveryState;
use crate::store::webhooks::{
    self as store, DeliveryRow, EndpointChange, EndpointRow, NewEndpoint,
};

/// A new endpoint, validated.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub url: String,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    pub enabled: bool,
}

/// A change of an endpoint, validated; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionChange {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// An endpoint with the secret it signs with, shown once (on creation and rotation).
#[derive(Debug, Clone)]
pub struct WithSecret {
    pub endpoint: EndpointRow,
    pub secret: Vec<u8>,
}

fn types_json(types: &[EventType]) -> DomainResult<String> {
    let texts: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    serde_json::to_string(&texts).map_err(|e| DomainError::internal(e.to_string()))
}

/// Subscribes an endpoint for the caller's organisation. Only a case system has one; staff do
/// not subscribe on an organisation's behalf.
pub fn create(tx: &mut Tx<'_>, new: NewSubscription) -> DomainResult<WithSecret> {
    let Some(organisation) = tx.ctx.scope.clone() else {
        return Err(DomainError::conflict(
            "not-a-case-system",
            "Only a case system subscribes",
            "an endpoint belongs to a case system's organisation: subscribe with its API key",
        ));
    };
    let now = tx.now();
    let id = Uuid::now_v7().to_string();
    let row = NewEndpoint {
        id: id.clone(),
        organisation_id: organisation.as_str().to_owned(),
        url: new.url,
        event_types: types_json(&new.event_types)?,
        description: new.description,
        enabled: new.enabled,
        secret_version: 1,
        created_by: tx.actor().id().unwrap_or("system").to_owned(),
        created_at: now,
        updated_at: now,
    };
    store::insert_endpoint(tx.conn, &row)?;
    tx.ctx.object(&id);
    let endpoint = store::find_endpoint(tx.conn, &id, None)?;
    let secret = tx.reactions.webhooks.secret(&id, 1);
    Ok(WithSecret { endpoint, secret })
}

/// Changes endpoint `id`. A case system may change everything of its own endpoints;
/// administrators only whether it is enabled.
pub fn update(tx: &mut Tx<'_>, id: &str, change: SubscriptionChange) -> DomainResult<EndpointRow> {
    let scope = tx.ctx.scope.clone();
    let current = store::find_endpoint(tx.conn, id, scope.as_ref().map(|s| s.as_str()))?;
    if scope.is_none() {
        let mut refused = Vec::new();
        for (field, sent) in [
            ("url", change.url.is_some()),
            ("event_types", change.event_types.is_some()),
            ("description", change.description.is_some()),
        ] {
            if sent {
                refused.push(FieldError::new(
                    field,
                    "only the endpoint's case system may change this; staff may only set `enabled`",
                ));
            }
        }
        if !refused.is_empty() {
            return Err(DomainError::Invalid(refused));
        }
    }
    let now = tx.now();
    let event_types = change.event_types.as_deref().map(types_json).transpose()?;
    store::update_endpoint(
        tx.conn,
        id,
        current.updated_at,
        &EndpointChange {
            url: change.url,
            event_types,
            description: change.description,
            enabled: change.enabled,
            updated_at: Some(now),
            ..EndpointChange::default()
        },
    )?;
    tx.ctx.object(id);
    Ok(store::find_endpoint(tx.conn, id, None)?)
}

/// Gives endpoint `id` a new secret. The previous one keeps signing for
/// `webhooks.rotation_overlap_hours` (each message then carries both signatures), so the
/// receiver can switch without missing one. Only its case system rotates.
pub fn rotate_secret(tx: &mut Tx<'_>, id: &str) -> DomainResult<WithSecret> {
    let scope = tx.ctx.scope.clone();
    let current = store::find_endpoint(tx.conn, id, scope.as_ref().map(|s| s.as_str()))?;
    let now = tx.now();
    let overlap = tx.reactions.webhooks.rotation_overlap;
    let version = current.secret_version + 1;
    store::update_endpoint(
        tx.conn,
        id,
        current.updated_at,
        &EndpointChange {
            secret_version: Some(version),
            previous_secret_until: Some(
                (overlap > chrono::Duration::zero()).then(|| now + overlap),
            ),
            updated_at: Some(now),
            ..EndpointChange::default()
        },
    )?;
    tx.ctx.object(id);
    let endpoint = store::find_endpoint(tx.conn, id, None)?;
    let secret = tx.reactions.webhooks.secret(id, version);
    Ok(WithSecret { endpoint, secret })
}

/// Deletes endpoint `id` of the caller's organisation, with its deliveries and attempts: no
/// further event goes there. Only its case system deletes it (administrators disable it).
pub fn delete(tx: &mut Tx<'_>, id: &str) -> DomainResult<()> {
    let scope = tx.ctx.scope.clone();
    let endpoint = store::find_endpoint(tx.conn, id, scope.as_ref().map(|s| s.as_str()))?;
    store::delete_endpoint(tx.conn, &endpoint.id)?;
    tx.ctx.object(id);
    Ok(())
}

/// Queues delivery `delivery_id` of endpoint `endpoint_id` again, due at once, with a fresh
/// retry period: for a receiver that lost it or was down until it died. Only a finished
/// delivery (delivered or dead) is replayed; a pending or sending one is under way already.
pub fn replay(tx: &mut Tx<'_>, endpoint_id: &str, delivery_id: &str) -> DomainResult<DeliveryRow> {
    let scope = tx.ctx.scope.clone();
    let endpoint = store::find_endpoint(tx.conn, endpoint_id, scope.as_ref().map(|s| s.as_str()))?;
    let delivery = store::find_delivery(tx.conn, &endpoint.id, delivery_id)?;
    if !matches!(
        delivery.state,
        DeliveryState::Delivered | DeliveryState::Dead
    ) {
        return Err(DomainError::IllegalTransition {
            resource: store::DELIVERY,
            state: delivery.state.as_str().to_owned(),
            action: "replay".to_owned(),
        });
    }
    let now = tx.now();
    let give_up_at = now + tx.reactions.webhooks.schedule.give_up_after;
    store::requeue(tx.conn, &delivery, now, give_up_at)?;
    tx.ctx.object(delivery_id);
    Ok(store::find_delivery(tx.conn, endpoint_id, delivery_id)?)
}

/// Queues an event for every enabled endpoint of its organisation that subscribed to its type,
/// in the transaction that publishes it. Endpoints of other organisations never get it.
pub(super) fn fan_out(
    tx: &mut Tx<'_>,
    organisation: &str,
    event_id: &str,
    event_type: EventType,
    payload: &str,
) -> DomainResult<usize> {
    // Enabled and of the event's own organisation: the query is the one place that decides it.
    let endpoints = store::enabled_endpoints(tx.conn, organisation)?;
    let now = tx.now();
    let give_up_at = now + tx.reactions.webhooks.schedule.give_up_after;
    let mut queued = 0;
    for endpoint in endpoints {
        if endpoint.subscribes_to(event_type.as_str())? {
            store::enqueue(
                tx.conn,
                &endpoint.id,
                event_id,
                event_type.as_str(),
                payload,
                now,
                give_up_at,
            )?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// What the worker did with a claimed delivery.
#[derive(Debug, Clone)]
pub struct AttemptReport {
    pub at: NaiveDateTime,
    pub status: Option<u16>,
    pub duration_ms: i32,
    pub error: Option<String>,
}

/// Where a delivery went after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retry,
    Dead,
    /// The worker no longer held it (its lease ran out, or it was replayed meanwhile).
    Lost,
}

/// Records an attempt of `delivery` by the worker `owner`: delivered, due again after the
/// backoff (`jitter` 0.0 to 1.0), or dead once its retry period is over, with a mail to the
/// client bureau in the same transaction.
pub fn record_attempt(
    tx: &mut Tx<'_>,
    delivery: &DeliveryRow,
    endpoint: Option<&EndpointRow>,
    owner: &str,
    report: AttemptReport,
    jitter: f64,
) -> DomainResult<Outcome> {
    let hooks = tx.reactions.webhooks.clone();
    let attempts = u32::try_from(delivery.attempts).unwrap_or(1).max(1);
    let (state, next, outcome) = if report.error.is_none() {
        (DeliveryState::Delivered, report.at, Outcome::Delivered)
    } else {
        let next = report.at + hooks.schedule.delay(attempts, jitter);
        // A disabled or deleted endpoint is not tried again; a replay once it is enabled is.
        let endpoint_gone = endpoint.is_none_or(|e| !e.enabled);
        if endpoint_gone || next > delivery.give_up_at {
            (DeliveryState::Dead, report.at, Outcome::Dead)
        } else {
            (DeliveryState::Pending, next, Outcome::Retry)
        }
    };
    let outcome_row = store::AttemptOutcome {
        at: report.at,
        status: report.status.map(i32::from),
        duration_ms: report.duration_ms,
        error: report.error.clone(),
        succeeded: report.error.is_none(),
    };
    if !store::record_attempt(tx.conn, delivery, owner, &outcome_row, state, next)? {
        return Ok(Outcome::Lost);
    }
    if outcome == Outcome::Dead {
        if let Some(endpoint) = endpoint.filter(|e| e.enabled) {
            let organisation = tx
                .organisation(&crate::domain::ids::OrganisationId::from(
                    endpoint.organisation_id.as_str(),
                ))?
                .name;
            let host = url::Url::parse(&endpoint.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let hours = hooks.schedule.give_up_after.num_hours().max(0) as u32;
            tx.reactions.notices.webhook_dead(
                tx.conn,
                report.at,
                &organisation,
                &endpoint.id,
                &host,
                delivery,
                hours,
                report.error.as_deref().unwrap_or(""),
            )?;
        }
    }
    Ok(outcome)
}
