//! The retention job: every `privacy.retention_check_interval_seconds` (the first time at start),
//! anonymise the client contact data of requests closed or withdrawn longer ago than
//! `privacy.retention_days`, unless they are on legal hold. The work itself is
//! [`run_retention`], which `POST /v1/privacy/retention/run` calls too. Several instances may run
//! the job against one PostgreSQL database: each request is anonymised, and recorded, once.

use std::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::db::Database;
use crate::domain::clock::Clock;
use crate::domain::privacy::Retention;
pub use crate::store::privacy::run_retention;

pub struct RetentionJob {
    pub db: Database,
    pub clock: Clock,
    pub retention: Retention,
    pub interval: Duration,
}

impl RetentionJob {
    /// Runs the job every interval, for ever; the server drops it when it stops. A failed run is
    /// logged and tried again at the next interval.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = self.clock.now_naive();
            let retention = self.retention;
            let outcome = self
                .db
                .writing(move |conn| -> crate::domain::error::DomainResult<_> {
                    Ok(run_retention(conn, now, &retention)?)
                })
                .await;
            let items = outcome.as_ref().ok().map(|&n| [("anonymised", n)]);
            self.db
                .metrics()
                .job_run("retention", items.as_ref().map(|i| &i[..]));
            match outcome {
                Ok(0) => tracing::debug!("retention: nothing due"),
                Ok(anonymised) => tracing::info!(
                    anonymised,
                    "retention: anonymised the client contact data of requests closed long ago"
                ),
                Err(error) => tracing::warn!(
                    error = ?error,
                    "retention run failed; trying again at the next interval"
                ),
            }
        }
    }
}
