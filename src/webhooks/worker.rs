//! The webhook worker: claims due deliveries with a lease, signs and sends each (several at
//! once), and records every attempt through [`crate::ops::webhooks::record_attempt`]. It sleeps
//! `webhooks.poll_interval_ms` when nothing is due.
//!
//! Nothing is lost on a kill: a delivery stays `sending` until its lease runs out and is then
//! claimed again, with the same `webhook-id` (at least once). Two instances never hold the
//! same delivery at once (see [`crate::store::webhooks::claim`]); the lease outlasts the
//! attempt's timeout (`webhooks.lease_seconds` > `webhooks.timeout_seconds`, checked at start).

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};

use super::sender::{Attempt, Sender};
use super::Hooks;
use crate::config::WebhookSettings;
use crate::db::Database;
use crate::domain::clock::Clock;
use crate::domain::error::DomainResult;
use crate::domain::webhook::signature_header;
use crate::ops::webhooks::{AttemptReport, Outcome};
use crate::ops::{self, Ctx, Reactions};
use crate::store::webhooks::{self as store, DeliveryRow, EndpointRow};

/// Deliveries sent at the same time by one worker.
const CONCURRENCY: usize = 8;

pub struct WebhookWorker {
    pub db: Database,
    pub clock: Clock,
    pub reactions: Reactions,
    pub sender: Sender,
    /// Names this worker's claims; unique per process.
    pub owner: String,
    pub poll_interval: Duration,
    pub lease: chrono::Duration,
    pub batch: i64,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundReport {
    pub claimed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
}

impl WebhookWorker {
    pub fn new(
        db: Database,
        clock: Clock,
        reactions: Reactions,
        w: &WebhookSettings,
    ) -> anyhow::Result<WebhookWorker> {
        Ok(WebhookWorker {
            db,
            clock,
            sender: Sender::new(
                Duration::from_secs(w.timeout_seconds),
                w.allow_local_targets,
            )?,
            reactions,
            owner: uuid::Uuid::now_v7().to_string(),
            poll_interval: Duration::from_millis(w.poll_interval_ms),
            lease: chrono::Duration::seconds(w.lease_seconds as i64),
            batch: i64::from(w.batch_size),
        })
    }

    fn hooks(&self) -> &Hooks {
        &self.reactions.webhooks
    }

    /// Works for ever; the server drops it when it stops.
    pub async fn run(self) {
        tracing::info!(owner = %self.owner, "webhook worker started");
        loop {
            match self.work_once().await {
                Ok(report) if report.claimed == 0 => tokio::time::sleep(self.poll_interval).await,
                Ok(report) => tracing::info!(
                    delivered = report.delivered,
                    retried = report.retried,
                    dead = report.dead,
                    "webhook worker: attempted deliveries"
                ),
                Err(error) => {
                    tracing::warn!(error = ?error, "webhook worker: cannot reach the deliveries; trying again");
                    tokio::time::sleep(self.poll_interval).await;
                }
            }
        }
    }

    /// Claims one batch of due deliveries and attempts each.
    pub async fn work_once(&self) -> DomainResult<RoundReport> {
        let (owner, now, lease, batch) = (
            self.owner.clone(),
            self.clock.now_naive(),
            self.lease,
            self.batch,
        );
        let claimed = self
            .db
            .writing(move |conn| -> DomainResult<_> {
                Ok(store::claim(conn, &owner, now, lease, batch)?)
            })
            .await?;
        let mut report = RoundReport {
            claimed: claimed.len(),
            ..RoundReport::default()
        };
        if claimed.is_empty() {
            return Ok(report);
        }
        // The endpoints of the whole batch, read once (a batch is mostly for a few endpoints).
        let ids: Vec<String> = claimed.iter().map(|d| d.endpoint_id.clone()).collect();
        let endpoints = self
            .db
            .run(move |conn| -> DomainResult<_> { Ok(store::endpoints(conn, &ids)?) })
            .await?;
        let outcomes: Vec<DomainResult<Outcome>> = futures_util::stream::iter(claimed)
            .map(|delivery| {
                let endpoint = endpoints.get(&delivery.endpoint_id).cloned();
                self.attempt(delivery, endpoint)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let metrics = self.db.metrics();
        for outcome in outcomes {
            match outcome? {
                Outcome::Delivered => {
                    report.delivered += 1;
                    metrics.webhook_delivered.inc();
                }
                Outcome::Retry => {
                    report.retried += 1;
                    metrics.webhook_retried.inc();
                }
                Outcome::Dead => {
                    report.dead += 1;
                    metrics.webhook_dead.inc();
                }
                Outcome::Lost => {}
            }
        }
        Ok(report)
    }

    /// Sends one claimed delivery to its endpoint (`None`: deleted meanwhile) and records the
    /// attempt.
    async fn attempt(
        &self,
        delivery: DeliveryRow,
        endpoint: Option<EndpointRow>,
    ) -> DomainResult<Outcome> {
        let attempt = match &endpoint {
            Some(endpoint) if endpoint.enabled => AssertUnwindSafe(self.send(endpoint, &delivery))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Attempt {
                    status: None,
                    error: Some("the worker panicked while sending".to_owned()),
                    duration: Duration::ZERO,
                }),
            _ => Attempt {
                status: None,
                error: Some("the endpoint is disabled".to_owned()),
                duration: Duration::ZERO,
            },
        };
        let report = AttemptReport {
            at: self.clock.now_naive(),
            status: attempt.status,
            duration_ms: i32::try_from(attempt.duration.as_millis()).unwrap_or(i32::MAX),
            error: attempt.error,
        };
        let owner = self.owner.clone();
        let jitter = fastrand::f64();
        let outcome = ops::change(
            &self.db,
            &self.reactions,
            Ctx::system(report.at),
            move |tx| {
                ops::webhooks::record_attempt(
                    tx,
                    &delivery,
                    endpoint.as_ref(),
                    &owner,
                    report,
                    jitter,
                )
            },
        )
        .await?;
        Ok(outcome)
    }

    /// Signs the delivery's payload for `endpoint` now and sends it.
    async fn send(&self, endpoint: &EndpointRow, delivery: &DeliveryRow) -> Attempt {
        let now = self.clock.now();
        let timestamp = now.timestamp();
        let keys = self
            .hooks()
            .signing_secrets(endpoint, self.clock.now_naive());
        let body = delivery.payload.clone();
        let signature = signature_header(&keys, &delivery.event_id, timestamp, body.as_bytes());
        let headers = [
            ("webhook-id", delivery.event_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        self.sender.send(&endpoint.url, &headers, body).await
    }
}
