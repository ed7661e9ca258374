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
//! - **Contact.** A running pairing without a recorded contact for
//!   `workflow.contact_reminder_days` gets one reminder to its buddy; after twice that the
//!   client bureau is told and the pairing is flagged (once per quiet period each, see
//!   [`crate::domain::contact`]). At `workflow.check_in_after_days` the buddy is asked once how
//!   it goes.
//! - **End of a pause.** A buddy paused until a date is resumed on that day (UTC), as the
//!   service ([`crate::ops::buddies::resume_due`]), guarded by `state = 'paused'`: once, however
//!   many instances run.
//!
//! Each item is one operation ([`crate::ops::pairings::expire`], [`crate::ops::pairings::remind`],
//! [`crate::ops::requests::report_overdue`]) in a write transaction of its own, by an update guarded by the state it
//! was found in (`state = 'proposed'`, `reminder_sent_at IS NULL`, `overdue_notified_at IS
//! NULL`), with its history and mail in the same transaction. When two instances share one
//! PostgreSQL database and pick the same item, the second update finds the guard no longer true
//! and its whole transaction is rolled back: no double expiry, history row or mail. Running the
//! scheduler again finds nothing left to do. Time comes from the injected clock.

use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::time::MissedTickBehavior;

use crate::config::WorkflowSettings;
use crate::db::Database;
use crate::domain::clock::Clock;
use crate::domain::contact::ContactRhythm;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::pairing::ProposalWindow;
use crate::domain::request::ServiceLevel;
use crate::ops::{self, Ctx, Reactions, Tx};
use crate::respond::links::Links;
use crate::store::{contacts, pairings, requests};

/// How many items of each kind one run takes on; the rest wait for the next run.
const BATCH: i64 = 500;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub expired: usize,
    pub reminded: usize,
    pub overdue: usize,
    /// Buddies reminded of a running pairing without recent contact.
    pub contact_reminded: usize,
    /// Running pairings without contact for twice the reminder period, told to the bureau.
    pub contact_missing: usize,
    /// Check-in mails sent.
    pub checked_in: usize,
    /// Buddies whose pause ended.
    pub resumed: usize,
}

#[derive(Clone)]
pub struct Scheduler {
    pub db: Database,
    pub clock: Clock,
    pub reactions: Reactions,
    pub window: ProposalWindow,
    /// When an open request is overdue: the one rule, shared with lists and reports.
    pub service_level: ServiceLevel,
    /// When running pairings without contact are reminded and flagged, and checked in on.
    pub rhythm: ContactRhythm,
    /// For the check-in's answer links.
    pub links: Links,
    pub interval: Duration,
    /// How long `Idempotency-Key`s are kept (`api.idempotency_keep_hours`): each run deletes
    /// the older ones with their stored answers.
    pub idempotency_keep: chrono::Duration,
    /// How long the event feed keeps an event (`api.event_keep_days`): each run deletes older
    /// ones.
    pub event_keep: chrono::Duration,
    /// How long finished webhook deliveries and their attempts are kept
    /// (`webhooks.keep_days`): each run deletes older ones.
    pub webhook_keep: chrono::Duration,
}

impl Scheduler {
    pub fn new(
        db: Database,
        clock: Clock,
        reactions: Reactions,
        w: &WorkflowSettings,
    ) -> Scheduler {
        Scheduler {
            links: reactions.notices.links().clone(),
            db,
            clock,
            reactions,
            window: ProposalWindow::from_hours(w.proposal_ttl_hours, w.reminder_after_hours),
            service_level: ServiceLevel {
                overdue_after_days: w.overdue_after_days,
            },
            rhythm: w.contact_rhythm(),
            interval: Duration::from_secs(w.scheduler_interval_seconds),
            idempotency_keep: chrono::Duration::hours(24),
            event_keep: chrono::Duration::days(30),
            webhook_keep: chrono::Duration::days(30),
        }
    }

    /// Runs every interval, for ever; the server drops it when it stops. A failed run is logged
    /// and tried again at the next interval.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let outcome = self.run_once().await;
            let items = outcome.as_ref().ok().map(|r| {
                [
                    ("expired", r.expired as u64),
                    ("reminded", r.reminded as u64),
                    ("overdue_reported", r.overdue as u64),
                ]
            });
            self.db
                .metrics()
                .job_run("scheduler", items.as_ref().map(|i| &i[..]));
            match outcome {
                Ok(report) if report == RunReport::default() => {
                    tracing::debug!("scheduler: nothing due")
                }
                Ok(report) => tracing::info!(
                    expired = report.expired,
                    reminded = report.reminded,
                    overdue = report.overdue,
                    contact_reminded = report.contact_reminded,
                    contact_missing = report.contact_missing,
                    checked_in = report.checked_in,
                    resumed = report.resumed,
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
    pub async fn run_once(&self) -> DomainResult<RunReport> {
        let now = self.clock.now_naive();
        let mut report = RunReport::default();
        let window = self.window;
        let expired_by = window.expired_if_made_by(now);
        let due = self
            .db
            .run(move |conn| -> DomainResult<_> {
                Ok(pairings::due_expiries(conn, expired_by, BATCH)?)
            })
            .await?;
        for id in due {
            report.expired += usize::from(
                self.item(now, move |tx| ops::pairings::expire(tx, &id, &window))
                    .await?,
            );
        }
        let reminded_by = window.reminder_due_if_made_by(now);
        let due = self
            .db
            .run(move |conn| -> DomainResult<_> {
                Ok(pairings::due_reminders(conn, reminded_by, BATCH)?)
            })
            .await?;
        for id in due {
            report.reminded += usize::from(
                self.item(now, move |tx| ops::pairings::remind(tx, &id, &window))
                    .await?,
            );
        }
        self.contacts(now, &mut report).await?;
        let today = now.date();
        let due = self
            .db
            .run(move |conn| -> DomainResult<_> {
                Ok(crate::store::buddies::due_resumptions(conn, today, BATCH)?)
            })
            .await?;
        for id in due {
            report.resumed += usize::from(
                self.item(now, move |tx| ops::buddies::resume_due(tx, &id, today))
                    .await?,
            );
        }
        let keys_before = now - self.idempotency_keep;
        let events_before = now - self.event_keep;
        let deliveries_before = now - self.webhook_keep;
        let (purged, events, deliveries) = self
            .db
            .writing(move |conn| -> DomainResult<_> {
                Ok((
                    crate::store::idempotency::purge(conn, keys_before)?,
                    crate::store::events::purge(conn, events_before)?,
                    crate::store::webhooks::purge(conn, deliveries_before)?,
                ))
            })
            .await?;
        if purged > 0 || events > 0 || deliveries > 0 {
            tracing::info!(
                purged,
                events,
                deliveries,
                "scheduler: deleted idempotency keys, feed events and webhook deliveries past \
                 their keep period"
            );
        }
        let cutoff = self.service_level.cutoff(now);
        let due = self
            .db
            .run(move |conn| -> DomainResult<_> { Ok(requests::due_overdue(conn, cutoff, BATCH)?) })
            .await?;
        for id in due {
            report.overdue += usize::from(
                self.item(now, move |tx| {
                    ops::requests::report_overdue(tx, &id, cutoff)
                })
                .await?,
            );
        }
        Ok(report)
    }

    /// Running pairings: the bureau's notes first (a pairing quiet for twice the period is
    /// also due its buddy's reminder, which then follows in the same run), the buddies'
    /// reminders, then the check-ins.
    async fn contacts(&self, now: NaiveDateTime, report: &mut RunReport) -> DomainResult<()> {
        let rhythm = self.rhythm;
        let quiet_by = rhythm.overdue_if_quiet_since(now);
        let due = self
            .db
            .run(move |conn| -> DomainResult<_> {
                Ok(contacts::due_alerts(conn, quiet_by, BATCH)?)
            })
            .await?;
        for id in due {
            report.contact_missing += usize::from(
                self.item(now, move |tx| ops::contacts::alert(tx, &id, &rhythm))
                    .await?,
            );
        }
        let quiet_by = rhythm.remind_if_quiet_since(now);
        let due = self
            .db
            .run(move |conn| -> DomainResult<_> {
                Ok(contacts::due_reminders(conn, quiet_by, BATCH)?)
            })
            .await?;
        for id in due {
            report.contact_reminded += usize::from(
                self.item(now, move |tx| ops::contacts::remind(tx, &id, &rhythm))
                    .await?,
            );
        }
        let activated_by = rhythm.check_in_if_activated_by(now);
        let due = self
            .db
            .run(move |conn| -> DomainResult<_> {
                Ok(contacts::due_check_ins(conn, activated_by, BATCH)?)
            })
            .await?;
        for id in due {
            let links = self.links.clone();
            report.checked_in += usize::from(
                self.item(now, move |tx| {
                    ops::contacts::check_in(tx, &id, &rhythm, &links)
                })
                .await?,
            );
        }
        Ok(())
    }

    /// Handles one item as one change by the service itself; `false` when another instance (or
    /// a person) got there first.
    async fn item(
        &self,
        now: NaiveDateTime,
        work: impl FnOnce(&mut Tx<'_>) -> DomainResult<bool> + Send + 'static,
    ) -> DomainResult<bool> {
        match ops::change(&self.db, &self.reactions, Ctx::system(now), work).await {
            Ok(done) => Ok(done),
            Err(e) if lost_race(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Another writer changed the item between our read and our guarded update.
fn lost_race(error: &DomainError) -> bool {
    matches!(
        error,
        DomainError::ConcurrentChange { .. } | DomainError::IllegalTransition { .. }
    )
}
