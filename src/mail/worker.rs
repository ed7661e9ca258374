//! The outbox worker: claims due messages with a lease, sends each through the transport with a
//! Message-ID derived from its outbox id, and records the outcome. It sleeps `poll_interval_ms`
//! when nothing is due. A panic while sending one message is caught and counted as a transient
//! failure of that message; the worker carries on.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use super::notices::Notices;
use super::transport::{SendError, Transport};
use crate::config::Settings;
use crate::db::Database;
use crate::domain::clock::Clock;
use crate::domain::error::DomainResult;
use crate::store::outbox::{self, FailureKind, FailureOutcome, OutboxRow, RetryPolicy};

pub struct MailWorker {
    pub db: Database,
    pub clock: Clock,
    pub transport: Arc<Transport>,
    /// Names this worker's claims; unique per process.
    pub owner: String,
    /// `mail.from`, named after the bureau unless it names itself.
    pub from: Mailbox,
    /// The bureau (`bureau.name`, `bureau.email`): a buddy's reply reaches people.
    pub reply_to: Mailbox,
    /// Renders the dead-letter alert and expands response links at send time.
    pub notices: Notices,
    pub message_id_domain: String,
    pub poll_interval: Duration,
    pub lease: chrono::Duration,
    pub batch: i64,
    pub retry: RetryPolicy,
}

impl MailWorker {
    pub fn new(
        db: Database,
        clock: Clock,
        transport: Arc<Transport>,
        notices: Notices,
        settings: &Settings,
    ) -> Self {
        let m = &settings.mail;
        MailWorker {
            db,
            clock,
            transport,
            owner: uuid::Uuid::now_v7().to_string(),
            from: settings.sender(),
            reply_to: settings.reply_to(),
            notices,
            message_id_domain: m.message_id_domain.clone(),
            poll_interval: Duration::from_millis(m.poll_interval_ms),
            lease: chrono::Duration::seconds(m.lease_seconds as i64),
            batch: i64::from(m.batch_size),
            retry: RetryPolicy {
                max_attempts: m.max_attempts,
                backoff_base: chrono::Duration::seconds(m.backoff_base_seconds as i64),
                backoff_max: chrono::Duration::seconds(m.backoff_max_seconds as i64),
            },
        }
    }

    /// Works for ever; the server drops it when it stops. A message dropped mid-send stays
    /// `sending` until its lease runs out, and is then sent again (at-least-once).
    pub async fn run(self) {
        tracing::info!(
            owner = %self.owner,
            transport = %self.transport.describe(),
            "mail worker started"
        );
        loop {
            match self.work_once().await {
                Ok(0) => tokio::time::sleep(self.poll_interval).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = ?error, "mail worker: cannot reach the outbox; trying again");
                    tokio::time::sleep(self.poll_interval).await;
                }
            }
        }
    }

    /// Claims one batch and handles every message in it; returns how many were claimed.
    pub async fn work_once(&self) -> DomainResult<usize> {
        let (owner, now, lease, batch) = (
            self.owner.clone(),
            self.clock.now_naive(),
            self.lease,
            self.batch,
        );
        let claimed = self
            .db
            .writing(move |conn| -> DomainResult<_> {
                Ok(outbox::claim(conn, &owner, now, lease, batch)?)
            })
            .await?;
        let count = claimed.len();
        // Sent side by side, as many at once as the transport takes; the outcomes are recorded
        // together: the successes in one statement, each failure with its own retry time.
        let results: Vec<(String, String, Result<(), SendError>)> =
            futures_util::stream::iter(claimed)
                .map(|row| async move {
                    let result = AssertUnwindSafe(self.deliver(&row))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| {
                            Err(SendError {
                                kind: FailureKind::Transient,
                                message: "the worker panicked while sending".to_owned(),
                            })
                        })
                        .map_err(|e| SendError {
                            // Logs and the outbox keep no recipient address.
                            message: outbox::scrub(&e.message, &row.recipient),
                            ..e
                        });
                    (row.id, row.kind, result)
                })
                .buffer_unordered(self.transport.concurrency())
                .collect()
                .await;
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        for (id, kind, result) in results {
            match result {
                Ok(()) => sent.push((id, kind)),
                Err(error) => failed.push((id, kind, error)),
            }
        }
        self.db.metrics().mail_sent.inc_by(sent.len() as u64);
        if let Err(error) = self.record_sent(&sent).await {
            // The leases run out and the messages are sent again (at-least-once).
            tracing::warn!(error = ?error, "mail worker: cannot record sent messages");
        }
        for (id, kind, error) in failed {
            if let Err(error) = self.record_failure(&id, &kind, error).await {
                // The lease runs out and the message is tried again.
                tracing::warn!(outbox_id = %id, error = ?error, "mail worker: cannot record the outcome");
            }
        }
        Ok(count)
    }

    /// Marks the messages the transport accepted as sent, in one statement.
    async fn record_sent(&self, sent: &[(String, String)]) -> DomainResult<()> {
        if sent.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_naive();
        let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
        let recorded = self
            .db
            .writing(move |conn| -> DomainResult<_> { Ok(outbox::mark_sent(conn, &ids, now)?) })
            .await?;
        for (id, kind) in sent {
            tracing::info!(outbox_id = %id, kind, "mail sent");
        }
        if recorded < sent.len() {
            tracing::warn!(
                sent = sent.len(),
                recorded,
                "mail sent, but some were no longer claimed by this worker"
            );
        }
        Ok(())
    }

    async fn deliver(&self, row: &OutboxRow) -> Result<(), SendError> {
        let email = self.compose(row)?;
        self.transport.send(&row.id, &email).await
    }

    /// The message as sent: from `mail.from` (see [`Settings::sender`]), replies to the bureau,
    /// Message-ID `<outbox id@message_id_domain>`, text and
    /// HTML as alternatives, response links put in where the stored bodies hold their markers
    /// (see [`crate::respond::links`]).
    pub fn compose(&self, row: &OutboxRow) -> Result<lettre::Message, SendError> {
        let permanent = |message: String| SendError {
            kind: FailureKind::Permanent,
            message,
        };
        let links = self.notices.links();
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|_| permanent("the recipient is not a valid e-mail address".to_owned()))?;
        lettre::Message::builder()
            .from(self.from.clone())
            .reply_to(self.reply_to.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(message_id(&row.id, &self.message_id_domain)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(readable_part(
                        ContentType::TEXT_PLAIN,
                        links.expand(&row.body_text),
                    ))
                    .singlepart(readable_part(
                        ContentType::TEXT_HTML,
                        links.expand(&row.body_html),
                    )),
            )
            .map_err(|e| permanent(format!("cannot build the message: {e}")))
    }

    /// Records a failed attempt: a retry later, or dead (with the bureau alerted).
    async fn record_failure(&self, id: &str, kind: &str, error: SendError) -> DomainResult<()> {
        let now = self.clock.now_naive();
        let id_owned = id.to_owned();
        let retry = self.retry;
        let notices = self.notices.clone();
        let jitter = fastrand::f64();
        let message = error.message.clone();
        let failure = error.kind;
        let outcome = self
            .db
            .writing(move |conn| -> DomainResult<_> {
                outbox::mark_failed(
                    conn,
                    &id_owned,
                    now,
                    failure,
                    &message,
                    &retry,
                    jitter,
                    |dead, error| notices.dead_letter(dead, error),
                )
            })
            .await?;
        let metrics = self.db.metrics();
        match outcome {
            FailureOutcome::RetryAt(at) => {
                metrics.mail_retried.inc();
                tracing::warn!(
                    outbox_id = %id, kind, error = %error.message, retry_at = %at,
                    "mail not sent; will retry"
                )
            }
            FailureOutcome::Dead { alert } => {
                metrics.mail_dead.inc();
                tracing::error!(
                    outbox_id = %id, kind, error = %error.message, alert = ?alert,
                    "mail dead-lettered"
                )
            }
            FailureOutcome::Unchanged => {}
        }
        Ok(())
    }
}

/// A part as people can read it in the `.eml` file or the raw message: 8-bit UTF-8 with CRLF
/// line ends (every SMTP server of this century takes 8BITMIME) when every line stays within
/// RFC 5322's 998 octets and no NUL or bare CR is in it, else whatever lettre finds best
/// (quoted-printable or base64). lettre itself would pick quoted-printable for any line past 76
/// characters, which every response link is, and so scramble the links in the file.
fn readable_part(content_type: ContentType, text: String) -> SinglePart {
    let normalised = text.replace("\r\n", "\n");
    let fits = !normalised.contains(['\0', '\r']) && normalised.lines().all(|l| l.len() <= 998);
    let body = if fits {
        Body::dangerous_pre_encoded(
            normalised.replace('\n', "\r\n").into_bytes(),
            ContentTransferEncoding::EightBit,
        )
    } else {
        Body::new(text)
    };
    SinglePart::builder().header(content_type).body(body)
}

/// `<outbox id@domain>`: the same for every attempt, so a receiver can spot a duplicate.
pub fn message_id(outbox_id: &str, domain: &str) -> String {
    format!("<{outbox_id}@{domain}>")
}
