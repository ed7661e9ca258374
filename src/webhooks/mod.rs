//! Webhooks to case systems, following the Standard Webhooks specification.
//!
//! - **Endpoints** belong to one organisation and are managed by its case system
//!   (`/v1/webhook-endpoints`, [`crate::ops::webhooks`]); administrators see and disable every
//!   one.
//! - **Events** are the event feed's ([`crate::ops::feed`]): when an event is published, in the
//!   change's own transaction, a delivery is queued for every enabled endpoint of the event's
//!   organisation that subscribed to its type ([`crate::ops::webhooks::fan_out`]). Another
//!   organisation's endpoint never gets it.
//! - **Delivery** is the [`worker`]'s: claimed with a lease, signed (`webhook-id` is the event's
//!   id, stable across retries; `webhook-timestamp`; `webhook-signature` `v1,` HMAC-SHA256),
//!   sent by the [`sender`] (short timeout, no redirects, a small answer read, public addresses
//!   only), retried with exponential backoff and jitter for `webhooks.give_up_after_hours`, then
//!   dead, with a mail to the client bureau. Every attempt is recorded.
//! - **Secrets** are not stored: an endpoint's secret is derived from the link secret, the
//!   endpoint id and its secret version ([`Hooks::secret`]). A rotation moves to the next
//!   version and keeps the previous one signing for `webhooks.rotation_overlap_hours`.

pub mod sender;
pub mod worker;

use chrono::{Duration, NaiveDateTime};

use crate::config::WebhookSettings;
use crate::domain::webhook::RetrySchedule;
use crate::respond::links::Links;
use crate::store::webhooks::EndpointRow;

/// What the operations and the worker share about webhooks. Cheap to clone.
#[derive(Clone)]
pub struct Hooks {
    keys: Links,
    pub allow_local: bool,
    pub schedule: RetrySchedule,
    pub rotation_overlap: Duration,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("allow_local", &self.allow_local)
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

impl Hooks {
    pub fn new(settings: &WebhookSettings, keys: Links) -> Hooks {
        Hooks {
            keys,
            allow_local: settings.allow_local_targets,
            schedule: RetrySchedule {
                base: Duration::seconds(settings.backoff_base_seconds as i64),
                max: Duration::seconds(settings.backoff_max_seconds as i64),
                give_up_after: Duration::hours(i64::from(settings.give_up_after_hours)),
            },
            rotation_overlap: Duration::hours(i64::from(settings.rotation_overlap_hours)),
        }
    }

    /// The signing secret of version `version` of endpoint `endpoint_id`.
    pub fn secret(&self, endpoint_id: &str, version: i32) -> Vec<u8> {
        self.keys
            .mac(
                b"maatje webhook secret v1\0",
                format!("{endpoint_id}\0{version}").as_bytes(),
            )
            .to_vec()
    }

    /// The secrets that sign a message to `endpoint` at `now`: its current one and, during a
    /// rotation's overlap, the previous one.
    pub fn signing_secrets(&self, endpoint: &EndpointRow, now: NaiveDateTime) -> Vec<Vec<u8>> {
        let mut keys = vec![self.secret(&endpoint.id, endpoint.secret_version)];
        if endpoint
            .previous_secret_until
            .is_some_and(|until| now < until)
        {
            keys.push(self.secret(&endpoint.id, endpoint.secret_version - 1));
        }
        keys
    }
}
