//! What the metrics read at each scrape (see [`crate::metrics`]): how much waits in the mail
//! outbox and the webhook deliveries and since when, how many were given up on, and how many
//! open requests are overdue. Counts on indexed columns (`state`, and `state, created_at` for the
//! requests); no row is returned, so nothing personal leaves the database.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use super::StoreResult;
use crate::db::schema::{buddy_requests, outbox, webhook_deliveries};
use crate::db::DbConnection;
use crate::domain::outbox::OutboxState;
use crate::domain::request::RequestState;
use crate::domain::webhook::DeliveryState;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queues {
    /// Mails pending or being sent.
    pub outbox_waiting: i64,
    /// When the oldest of those was queued.
    pub outbox_oldest: Option<NaiveDateTime>,
    pub outbox_dead: i64,
    /// Webhook deliveries pending or being sent.
    pub webhooks_waiting: i64,
    pub webhooks_oldest: Option<NaiveDateTime>,
    pub webhooks_dead: i64,
    /// Open requests created at `cutoff` or before (see [`crate::domain::request::ServiceLevel`]).
    pub overdue_requests: i64,
}

pub fn read(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StoreResult<Queues> {
    let waiting_mail = [OutboxState::Pending, OutboxState::Sending];
    let (outbox_waiting, outbox_oldest) = outbox::table
        .filter(outbox::state.eq_any(waiting_mail))
        .select((count_star(), min(outbox::created_at)))
        .first::<(i64, Option<NaiveDateTime>)>(conn)?;
    let outbox_dead = outbox::table
        .filter(outbox::state.eq(OutboxState::Dead))
        .count()
        .get_result(conn)?;
    let waiting_hooks = [DeliveryState::Pending, DeliveryState::Sending];
    let (webhooks_waiting, webhooks_oldest) = webhook_deliveries::table
        .filter(webhook_deliveries::state.eq_any(waiting_hooks))
        .select((count_star(), min(webhook_deliveries::created_at)))
        .first::<(i64, Option<NaiveDateTime>)>(conn)?;
    let webhooks_dead = webhook_deliveries::table
        .filter(webhook_deliveries::state.eq(DeliveryState::Dead))
        .count()
        .get_result(conn)?;
    let overdue_requests = buddy_requests::table
        .filter(buddy_requests::state.eq(RequestState::Open))
        .filter(buddy_requests::created_at.le(cutoff))
        .count()
        .get_result(conn)?;
    Ok(Queues {
        outbox_waiting,
        outbox_oldest,
        outbox_dead,
        webhooks_waiting,
        webhooks_oldest,
        webhooks_dead,
        overdue_requests,
    })
}
