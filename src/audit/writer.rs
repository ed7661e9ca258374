//! Group commit of the audit records that no change's own transaction carries: reads, searches,
//! exports, refusals and failures (see [`crate::audit`]).
//!
//! A request hands its record to [`AuditWriter::append`] and waits; one thread takes every
//! record waiting at that moment (up to [`MAX_BATCH`]), appends them in one write transaction
//! (the chain's head locked, read and moved once, one commit: [`store::append_all`]), and only
//! then lets each request answer. Under load
//! a batch grows to cover the requests that queued during the previous commit, so the trail costs
//! one commit per batch rather than one per request; alone, a request waits for one commit.
//!
//! A record is durable before its answer goes out: an answered read always has its record. When
//! a batch cannot be written the requests of that batch are answered with the error (a 503 while
//! the database is unavailable), never with their content.

use std::thread;

use tokio::sync::{mpsc, oneshot};

use crate::db::{write_transaction, Database};
use crate::domain::clock::Clock;
use crate::error::{ApiError, ApiResult};
use crate::store::audit::{self as store, NewRecord};

/// The most records one transaction appends.
pub const MAX_BATCH: usize = 512;

/// How many records may wait for the writer before requests wait to hand theirs over.
const QUEUE: usize = 4096;

struct Job {
    record: NewRecord,
    done: oneshot::Sender<ApiResult<()>>,
}

/// The handle requests use to append records. Cheap to clone; the writer thread ends when the
/// last handle is dropped.
#[derive(Clone)]
pub struct AuditWriter {
    jobs: mpsc::Sender<Job>,
    clock: Clock,
}

impl AuditWriter {
    /// Starts the writer thread for `db`.
    pub fn start(db: Database, clock: Clock) -> AuditWriter {
        let (jobs, queue) = mpsc::channel(QUEUE);
        thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || run(db, queue))
            .expect("cannot start the audit writer thread");
        AuditWriter { jobs, clock }
    }

    /// The service clock, which stamps the records.
    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now_naive()
    }

    /// Appends `record` and returns once it is committed.
    pub async fn append(&self, record: NewRecord) -> ApiResult<()> {
        let (done, committed) = oneshot::channel();
        self.jobs
            .send(Job { record, done })
            .await
            .map_err(|_| ApiError::internal("the audit writer has stopped"))?;
        committed
            .await
            .map_err(|_| ApiError::internal("the audit writer has stopped"))?
    }
}

fn run(db: Database, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let records: Vec<NewRecord> = batch.iter().map(|job| job.record.clone()).collect();
        let began = std::time::Instant::now();
        let appended = append_all(&db, records);
        let metrics = db.metrics();
        metrics.audit_append.observe(began.elapsed().as_secs_f64());
        match appended {
            Ok(()) => {
                metrics.audit_records.inc_by(batch.len() as u64);
                for job in batch.drain(..) {
                    let _ = job.done.send(Ok(()));
                }
            }
            Err(error) => {
                tracing::error!(
                    records = batch.len(),
                    error = %error,
                    "audit records not written: their requests are refused"
                );
                for job in batch.drain(..) {
                    let _ = job.done.send(Err(error.again()));
                }
            }
        }
    }
}

/// Appends `records` in order in one write transaction.
fn append_all(db: &Database, records: Vec<NewRecord>) -> ApiResult<()> {
    let mut conn = db.blocking_writer()?;
    write_transaction(&mut conn, |conn| {
        store::append_all(conn, records, super::chain::hash)?;
        Ok(())
    })
}
