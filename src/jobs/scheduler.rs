//! The workflow scheduler: every `workflow.scheduler_interval_seconds` (the first time at start)
//! it moves the programme along where nobody acts.
//!
//! - **Expiry.** A proposal unanswered for `workflow.proposal_ttl_hours` expires: the pairing
//!   becomes `expired`, the request is `open` again, both histories record it (actor `system`),
//!   the client bureau is mailed and, with auto-proposal on, the next candidate is proposed.
//! - **Reminder.** A proposal unanswered for `workflow.reminder_after_hours` gets one reminder to
//!   the buddy, with the proposal's own links.
//! - **Overdue.** A request open for longer than `workflow.overdue_after_days` is reported to
//!   the client bureau, once.
//!
//! Each item is handled in a write transaction of its own, by an update guarded by the state it
//! was found in (`state = 'proposed'`, `reminder_sent_at IS NULL`, `overdue_notified_at IS
//! NULL`), with its history and mail in the same transaction. When two instances share one
//! PostgreSQL database and pick the same item, the second update finds the guard no longer true
//! and its whole transaction is rolled back: no double expiry, history row or mail. Running the
//! scheduler again finds nothing left to do. Time comes from the injected clock.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tokio::time::MissedTickBehavior;

use crate::config::WorkflowSettings;
use crate::db::schema::{buddy_requests, pairings as pairings_table};
use crate::db::{Database, DbConnection};
use crate::domain::actor::Actor;
use crate::domain::clock::Clock;
use crate::domain::pairing::{PairingAction, PairingState};
use crate::domain::request::{RequestState, ServiceLevel};
use crate::error::{ApiError, ApiResult};
use crate::store::{pairings, requests};
use crate::workflow::Workflow;

/// How many items of each kind one run takes on; the rest wait for the next run.
const BATCH: i64 = 500;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub expired: usize,
    pub reminded: usize,
    pub overdue: usize,
}

#[derive(Clone)]
pub struct Scheduler {
    pub db: Database,
    pub clock: Clock,
    pub workflow: Workflow,
    pub proposal_ttl: chrono::Duration,
    pub reminder_after: chrono::Duration,
    /// When an open request is overdue: the one rule, shared with lists and reports.
    pub service_level: ServiceLevel,
    pub interval: Duration,
}

impl Scheduler {
    pub fn new(db: Database, clock: Clock, workflow: Workflow, w: &WorkflowSettings) -> Scheduler {
        Scheduler {
            db,
            clock,
            workflow,
            proposal_ttl: chrono::Duration::hours(i64::from(w.proposal_ttl_hours)),
            reminder_after: chrono::Duration::hours(i64::from(w.reminder_after_hours)),
            service_level: ServiceLevel {
                overdue_after_days: w.overdue_after_days,
            },
            interval: Duration::from_secs(w.scheduler_interval_seconds),
        }
    }

    /// Runs every interval, for ever; the server drops it when it stops. A failed run is logged
    /// and tried again at the next interval.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.run_once().await {
                Ok(report) if report == RunReport::default() => {
                    tracing::debug!("scheduler: nothing due")
                }
                Ok(report) => tracing::info!(
                    expired = report.expired,
                    reminded = report.reminded,
                    overdue = report.overdue,
                    "scheduler: moved the workflow along"
                ),
                Err(error) => tracing::warn!(
                    error = ?error,
                    "scheduler run failed; trying again at the next interval"
                ),
            }
        }
    }

    /// One run at the clock's current time: expiries first (an expired proposal needs no
    /// reminder), then reminders, then overdue requests.
    pub async fn run_once(&self) -> ApiResult<RunReport> {
        let now = self.clock.now_naive();
        let mut report = RunReport::default();
        for id in self.due_expiries(now).await? {
            report.expired +=
                usize::from(self.item(move |conn, s| s.expire(conn, &id, now)).await?);
        }
        for id in self.due_reminders(now).await? {
            report.reminded +=
                usize::from(self.item(move |conn, s| s.remind(conn, &id, now)).await?);
        }
        for id in self.due_overdue(now).await? {
            report.overdue += usize::from(
                self.item(move |conn, s| s.report_overdue(conn, &id, now))
                    .await?,
            );
        }
        Ok(report)
    }

    /// Handles one item in its own write transaction; `false` when another instance (or a
    /// person) got there first.
    async fn item(
        &self,
        work: impl FnOnce(&mut DbConnection, &Scheduler) -> ApiResult<bool> + Send + 'static,
    ) -> ApiResult<bool> {
        let this = self.clone();
        match self.db.write(move |conn| work(conn, &this)).await {
            Ok(done) => Ok(done),
            Err(e) if lost_race(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn due_expiries(&self, now: NaiveDateTime) -> ApiResult<Vec<String>> {
        let cutoff = now - self.proposal_ttl;
        self.db
            .run(move |conn| {
                Ok(pairings_table::table
                    .filter(pairings_table::state.eq(PairingState::Proposed.as_str()))
                    .filter(pairings_table::proposed_at.le(cutoff))
                    .order(pairings_table::proposed_at.asc())
                    .limit(BATCH)
                    .select(pairings_table::id)
                    .load(conn)?)
            })
            .await
    }

    async fn due_reminders(&self, now: NaiveDateTime) -> ApiResult<Vec<String>> {
        let cutoff = now - self.reminder_after;
        self.db
            .run(move |conn| {
                Ok(pairings_table::table
                    .filter(pairings_table::state.eq(PairingState::Proposed.as_str()))
                    .filter(pairings_table::proposed_at.le(cutoff))
                    .filter(pairings_table::reminder_sent_at.is_null())
                    .order(pairings_table::proposed_at.asc())
                    .limit(BATCH)
                    .select(pairings_table::id)
                    .load(conn)?)
            })
            .await
    }

    async fn due_overdue(&self, now: NaiveDateTime) -> ApiResult<Vec<String>> {
        let cutoff = self.service_level.cutoff(now);
        self.db
            .run(move |conn| {
                Ok(buddy_requests::table
                    .filter(buddy_requests::state.eq(RequestState::Open.as_str()))
                    .filter(buddy_requests::created_at.le(cutoff))
                    .filter(buddy_requests::overdue_notified_at.is_null())
                    .order(buddy_requests::created_at.asc())
                    .limit(BATCH)
                    .select(buddy_requests::id)
                    .load(conn)?)
            })
            .await
    }

    /// Expires one proposal, if it is still unanswered and due.
    fn expire(&self, conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> ApiResult<bool> {
        let pairing = pairings::find(conn, id)?;
        if pairing.state()? != PairingState::Proposed
            || pairing.proposed_at > now - self.proposal_ttl
        {
            return Ok(false);
        }
        let reason = format!("no answer within {} hours", self.proposal_ttl.num_hours());
        pairings::act(
            conn,
            id,
            PairingAction::Expire,
            Some(&reason),
            None,
            &Actor::System,
            now,
            &self.workflow,
        )?;
        Ok(true)
    }

    /// Sends the one reminder of a proposal, if it is still unanswered and none went out.
    fn remind(&self, conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> ApiResult<bool> {
        let marked = diesel::update(
            pairings_table::table
                .filter(pairings_table::id.eq(id))
                .filter(pairings_table::state.eq(PairingState::Proposed.as_str()))
                .filter(pairings_table::proposed_at.gt(now - self.proposal_ttl))
                .filter(pairings_table::reminder_sent_at.is_null()),
        )
        .set(pairings_table::reminder_sent_at.eq(now))
        .execute(conn)?;
        if marked != 1 {
            return Ok(false);
        }
        let pairing = pairings::find(conn, id)?;
        Ok(self
            .workflow
            .notices
            .reminder(conn, &pairing, now)?
            .is_some())
    }

    /// Tells the bureau about an overdue request, once.
    fn report_overdue(
        &self,
        conn: &mut DbConnection,
        id: &str,
        now: NaiveDateTime,
    ) -> ApiResult<bool> {
        let marked = diesel::update(
            buddy_requests::table
                .filter(buddy_requests::id.eq(id))
                .filter(buddy_requests::state.eq(RequestState::Open.as_str()))
                .filter(buddy_requests::created_at.le(self.service_level.cutoff(now)))
                .filter(buddy_requests::overdue_notified_at.is_null()),
        )
        .set(buddy_requests::overdue_notified_at.eq(now))
        .execute(conn)?;
        if marked != 1 {
            return Ok(false);
        }
        let request = requests::find(conn, id)?;
        self.workflow.notices.overdue(conn, &request, now)?;
        Ok(true)
    }
}

/// Another writer changed the item between our read and our guarded update.
fn lost_race(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::Conflict {
            kind: "concurrent-change",
            ..
        } | ApiError::IllegalTransition { .. }
    )
}
