//! The outbox table: enqueueing, claiming with a lease, and marking the outcome of an attempt.
//! Every function takes a connection and runs inside the caller's transaction (or as one
//! statement); none of them sends anything.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use super::{concurrent_change, StoreError, StoreResult};
use crate::db::schema::outbox;
use crate::db::DbConnection;

pub const ENTITY: &str = "outbox_message";

/// The kind of the alert sent to the client bureau about a dead letter. A dead alert raises no
/// further alert, so a broken bureau address cannot start a loop.
pub const KIND_DEAD_LETTER_ALERT: &str = "bureau_dead_letter";

pub use crate::domain::outbox::OutboxState;

/// A message to send, as the code that reports a change composes it.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// The record the message is about, e.g. `("pairing", id)`.
    pub related: Option<(String, String)>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub state: OutboxState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub related_type: Option<String>,
    pub related_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// Writes a message to the outbox, due at once. Call it inside the write transaction of the
/// change the message reports, so that both are stored or neither. Returns the outbox id, from
/// which the Message-ID is derived.
pub fn enqueue(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    message: Message,
) -> StoreResult<String> {
    let id = Uuid::now_v7().to_string();
    let (related_type, related_id) = message.related.unzip();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::kind.eq(message.kind),
            outbox::recipient.eq(message.recipient),
            outbox::language.eq(message.language),
            outbox::subject.eq(message.subject),
            outbox::body_text.eq(message.body_text),
            outbox::body_html.eq(message.body_html),
            outbox::state.eq(OutboxState::Pending),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::related_type.eq(related_type),
            outbox::related_id.eq(related_id),
            outbox::created_at.eq(now),
            outbox::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn find(conn: &mut DbConnection, id: &str) -> StoreResult<Option<OutboxRow>> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// Claims up to `batch` due messages for `owner` until `now + lease`: pending ones whose time has
/// come, and ones whose previous worker's lease ran out (it died mid-send). The candidates are
/// taken with one update guarded by the state they were seen in, and only the rows that update
/// gave this claim's lease are returned, so two workers on one database never hold the same
/// message (on PostgreSQL the second update waits for the first and then finds them taken). A
/// claim counts as an attempt, so a message that crashes its worker every time still ends up
/// dead. Three statements, whatever the batch.
pub fn claim(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    lease: Duration,
    batch: i64,
) -> StoreResult<Vec<OutboxRow>> {
    let due = || {
        outbox::state
            .eq(OutboxState::Pending)
            .and(outbox::next_attempt_at.le(now))
            .or(outbox::state
                .eq(OutboxState::Sending)
                .and(outbox::lease_until.lt(now)))
    };
    let candidates: Vec<String> = outbox::table
        .filter(due())
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .limit(batch)
        .select(outbox::id)
        .load(conn)?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let until = now + lease;
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(&candidates))
            .filter(due()),
    )
    .set((
        outbox::state.eq(OutboxState::Sending),
        outbox::lease_owner.eq(owner),
        outbox::lease_until.eq(until),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(outbox::table
        .filter(outbox::id.eq_any(&candidates))
        .filter(outbox::state.eq(OutboxState::Sending))
        .filter(outbox::lease_owner.eq(owner))
        .filter(outbox::lease_until.eq(until))
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// Records that the transport accepted the messages, in one statement; returns how many were
/// still `sending`. Guarded by the `sending` state only: if a lease ran out and another worker
/// sent the message too, it is sent either way.
pub fn mark_sent(
    conn: &mut DbConnection,
    ids: &[String],
    now: NaiveDateTime,
) -> StoreResult<usize> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::state.eq(OutboxState::Sending)),
    )
    .set((
        outbox::state.eq(OutboxState::Sent),
        // Data minimisation: once sent, the contents (names, a client's contact details) are
        // not kept; the row keeps kind, recipient, subject and times.
        outbox::body_text.eq(""),
        outbox::body_html.eq(""),
        outbox::lease_owner.eq(None::<String>),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::sent_at.eq(now),
        outbox::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n)
}

/// How a failed attempt is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Worth trying again later: a 4xx reply, a timeout, a refused connection.
    Transient,
    /// Will fail again: a 5xx reply, an unusable recipient address.
    Permanent,
}

/// When to try again, and when to give up.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl RetryPolicy {
    /// `base * 2^(attempts - 1)`, capped at `backoff_max`, plus up to a quarter of it as jitter
    /// (so that messages that failed together do not all come back together), still capped.
    pub fn delay(&self, attempts: u32, jitter: f64) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let base_ms = self.backoff_base.num_milliseconds().max(1);
        let max_ms = self.backoff_max.num_milliseconds().max(base_ms);
        let delay = base_ms.saturating_mul(1_i64 << exponent).min(max_ms);
        let extra = (delay as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as i64;
        Duration::milliseconds((delay + extra).min(max_ms))
    }
}

/// What happened to a failed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Back to pending until this time.
    RetryAt(NaiveDateTime),
    /// Dead; the id of the alert enqueued for the bureau, if one was.
    Dead { alert: Option<String> },
    /// The message was no longer `sending` (an admin or another worker got there first).
    Unchanged,
}

/// Records a failed attempt, in one transaction with the alert it may cause: back to pending
/// after the backoff when transient and attempts remain, else dead with an alert to
/// the client bureau (unless the dead message is itself such an alert), which `alert` writes from
/// the dead message and the error. `error` must not hold a password or the message body; the
/// recipient's address is removed from it here.
#[allow(clippy::too_many_arguments)]
pub fn mark_failed<E: From<StoreError> + From<diesel::result::Error>>(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    kind: FailureKind,
    error: &str,
    policy: &RetryPolicy,
    jitter: f64,
    alert: impl FnOnce(&OutboxRow, &str) -> Result<Message, E>,
) -> Result<FailureOutcome, E> {
    crate::db::write_transaction(conn, |conn| {
        let Some(row) = find(conn, id)? else {
            return Ok(FailureOutcome::Unchanged);
        };
        if row.state != OutboxState::Sending {
            return Ok(FailureOutcome::Unchanged);
        }
        let error = scrub(error, &row.recipient);
        let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
        let give_up = kind == FailureKind::Permanent || attempts >= policy.max_attempts;
        let guarded = outbox::table
            .find(id)
            .filter(outbox::state.eq(OutboxState::Sending));
        if !give_up {
            let at = now + policy.delay(attempts, jitter);
            diesel::update(guarded)
                .set((
                    outbox::state.eq(OutboxState::Pending),
                    outbox::next_attempt_at.eq(at),
                    outbox::lease_owner.eq(None::<String>),
                    outbox::lease_until.eq(None::<NaiveDateTime>),
                    outbox::last_error.eq(&error),
                    outbox::updated_at.eq(now),
                ))
                .execute(conn)?;
            return Ok(FailureOutcome::RetryAt(at));
        }
        diesel::update(guarded)
            .set((
                outbox::state.eq(OutboxState::Dead),
                outbox::lease_owner.eq(None::<String>),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(&error),
                outbox::updated_at.eq(now),
            ))
            .execute(conn)?;
        let alert = if row.kind == KIND_DEAD_LETTER_ALERT {
            None
        } else {
            Some(enqueue(conn, now, alert(&row, &error)?)?)
        };
        Ok(FailureOutcome::Dead { alert })
    })
}

/// What `last_error` says of a message whose contents privacy erasure removed.
pub const CONTENTS_ERASED: &str = "contents erased for privacy; not sent";

/// Removes the contents of every message about these records (e.g. the pairings of an
/// anonymised request or an erased buddy): sent ones keep their row without contents, unsent
/// ones become dead, never to be sent or retried.
pub fn erase_contents(
    conn: &mut DbConnection,
    related_type: &str,
    ids: &[String],
    now: NaiveDateTime,
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let about = || {
        outbox::table
            .filter(outbox::related_type.eq(related_type.to_owned()))
            .filter(outbox::related_id.eq_any(ids.to_vec()))
    };
    diesel::update(about().filter(outbox::state.ne(OutboxState::Sent)))
        .set((
            outbox::state.eq(OutboxState::Dead),
            outbox::last_error.eq(CONTENTS_ERASED),
            outbox::lease_owner.eq(None::<String>),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(about())
        .set((outbox::body_text.eq(""), outbox::body_html.eq("")))
        .execute(conn)?;
    Ok(())
}

/// Replaces an erased person's address in every message to them.
pub fn forget_recipient(
    conn: &mut DbConnection,
    address: &str,
    replacement: &str,
) -> StoreResult<()> {
    diesel::update(outbox::table.filter(outbox::recipient.eq(address)))
        .set(outbox::recipient.eq(replacement))
        .execute(conn)?;
    Ok(())
}

/// Puts dead message `id` back in the queue, due at once, with its attempts reset, guarded by
/// its being dead (whether it may be retried is the operation's to check:
/// [`OutboxState::ensure_retryable`]). Returns the message as it is now.
pub fn requeue_dead(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> StoreResult<OutboxRow> {
    let requeued = diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::state.eq(OutboxState::Dead)),
    )
    .set((
        outbox::state.eq(OutboxState::Pending),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::updated_at.eq(now),
    ))
    .execute(conn)?;
    if requeued != 1 {
        return Err(concurrent_change(ENTITY));
    }
    find(conn, id)?.ok_or_else(|| StoreError::not_found(ENTITY, id))
}

/// What `GET /v1/outbox` may filter on.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub state: Option<OutboxState>,
    pub kind: Option<String>,
}

/// One page of the outbox, oldest first (ids are UUIDv7).
pub fn list(
    conn: &mut DbConnection,
    filter: &ListFilter,
    page: &super::page::PageRequest,
) -> StoreResult<Vec<OutboxRow>> {
    let mut query = outbox::table
        .order(outbox::id.asc())
        .limit(page.fetch())
        .select(OutboxRow::as_select())
        .into_boxed();
    if let Some(state) = filter.state {
        query = query.filter(outbox::state.eq(state));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(outbox::kind.eq(kind.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(outbox::id.gt(after.clone()));
    }
    Ok(query.load(conn)?)
}

/// An SMTP reply often quotes the recipient's address; the error kept and shown to admins must
/// not. Also bounds the length.
pub fn scrub(error: &str, recipient: &str) -> String {
    let mut out = if recipient.is_empty() {
        error.to_owned()
    } else {
        error.replace(recipient, "<recipient>")
    };
    if let Some((_, address)) = recipient.rsplit_once('<') {
        let address = address.trim_end_matches('>');
        if !address.is_empty() {
            out = out.replace(address, "<recipient>");
        }
    }
    out.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            backoff_base: Duration::seconds(30),
            backoff_max: Duration::seconds(600),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = policy();
        assert_eq!(p.delay(1, 0.0), Duration::seconds(30));
        assert_eq!(p.delay(2, 0.0), Duration::seconds(60));
        assert_eq!(p.delay(3, 0.0), Duration::seconds(120));
        assert_eq!(p.delay(10, 0.0), Duration::seconds(600));
        assert_eq!(p.delay(1000, 1.0), Duration::seconds(600));
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        let p = policy();
        assert_eq!(p.delay(1, 1.0), Duration::milliseconds(37_500));
        let d = p.delay(2, 0.5);
        assert!(
            d > Duration::seconds(60) && d < Duration::seconds(75),
            "{d}"
        );
    }

    #[test]
    fn errors_lose_the_recipient_address() {
        let e = scrub(
            "permanent error (550): <jan@example.org> unknown",
            "Jan <jan@example.org>",
        );
        assert!(!e.contains("jan@example.org"), "{e}");
        assert_eq!(scrub("x", "a@example.org"), "x");
    }

    #[test]
    fn states_round_trip() {
        for s in [
            OutboxState::Pending,
            OutboxState::Sending,
            OutboxState::Sent,
            OutboxState::Dead,
        ] {
            assert_eq!(s.as_str().parse::<OutboxState>().unwrap(), s);
        }
        assert!("lost".parse::<OutboxState>().is_err());
    }
}
