//! Storage: one diesel code base for SQLite (embedded default) and PostgreSQL (production),
//! chosen by the URL scheme, behind an r2d2 pool. Diesel work never runs on the async workers:
//! [`Database::run`] and [`Database::write`] move it to actix's blocking pool with the caller's
//! tracing span.

use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use actix_web::web;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{HandleError, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{DatabaseSettings, DatabaseTarget};
use crate::domain::error::{DomainError, DomainResult};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Why a connection could not be made. The message names the target (host and port, or file),
/// never the URL, which may hold a password.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {target}: {cause}")]
pub struct ConnectError {
    target: String,
    cause: String,
}

/// An r2d2 manager that dispatches on the configured backend itself. (The derive's own
/// `establish` tries every backend in turn, hides the real error, and would accept any string
/// as a SQLite file name.)
#[derive(Debug)]
pub struct Manager {
    target: DatabaseTarget,
    sqlite_busy_timeout_ms: u32,
    sqlite_synchronous: crate::config::SqliteSynchronous,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        let fail = |cause: String| ConnectError {
            target: self.target.to_string(),
            cause,
        };
        match &self.target {
            DatabaseTarget::Sqlite { path } => {
                let path_str = path
                    .to_str()
                    .ok_or_else(|| fail("path is not UTF-8".into()))?;
                let mut conn = diesel::SqliteConnection::establish(path_str)
                    .map_err(|e| fail(e.to_string()))?;
                conn.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
                     PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};",
                    self.sqlite_busy_timeout_ms,
                    self.sqlite_synchronous.pragma()
                ))
                .map_err(|e| fail(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseTarget::Postgres { url, .. } => diesel::PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(|e| fail(e.to_string().trim().to_owned())),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        conn.ping().map_err(|e| ConnectError {
            target: self.target.to_string(),
            cause: e.to_string(),
        })
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// How often the breaker's probe tries to connect while the database is unreachable: the
/// service is back at most this long (plus one connection set-up) after the database is.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(200);

/// How often the SQLite checkpoint thread copies the write-ahead log into the database file
/// ([`Shared::start_checkpointer`]).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// SQLite's own checkpoint threshold, in pages of the write-ahead log (SQLite's default is
/// 1,000): reached only if the checkpoint thread falls behind, e.g. while a long read holds
/// the log.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// How long a checkout waits at a time before it looks at the breaker again, so that a checkout
/// waiting for a new connection gives up as soon as that connection is known to fail.
const CHECKOUT_SLICE: Duration = Duration::from_millis(25);

/// The pool and the knowledge of which backend it talks to.
///
/// A small circuit breaker guards the pool. When a connection cannot be made, or a query fails
/// because its connection was lost, the breaker opens: every checkout then fails at once with
/// [`DomainError::Unavailable`] (503) instead of waiting for the pool's connection timeout. While it
/// is open one probe at a time (a thread of its own, every [`PROBE_INTERVAL`]) tries a direct
/// connection; the first that succeeds replaces the pool with a fresh one (its idle connections
/// are dead) and closes the breaker.
#[derive(Clone)]
pub struct Database {
    shared: Arc<Shared>,
    target: DatabaseTarget,
}

struct Shared {
    /// Replaced as a whole when the database is reachable again.
    pool: RwLock<Pool<Manager>>,
    /// On SQLite, the one connection that writes ([`Lane::Write`]), replaced with `pool`. SQLite
    /// takes one writer at a time anyway: writers queue here for the connection, in turn, instead
    /// of each taking a pooled connection and sleeping in `busy_timeout` for the file's lock
    /// (which only polls, and gave p99s of 300 ms). `None` on PostgreSQL, whose writers run
    /// side by side on the one pool.
    writer: RwLock<Option<Pool<Manager>>>,
    breaker: Mutex<Breaker>,
    settings: DatabaseSettings,
    target: DatabaseTarget,
    /// To hand the probe and the pool's error handler, which must not keep the pool alive.
    this: Weak<Shared>,
    /// The service's instruments (see [`crate::metrics`]); the wait for a connection is
    /// measured here, in [`Shared::checkout`].
    metrics: crate::metrics::Metrics,
}

/// How one pool stands, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// `read` (every query; on PostgreSQL the writes too) or `write` (SQLite's writer).
    pub name: &'static str,
    pub max: u32,
    pub connections: u32,
    pub idle: u32,
}

/// `None` while the database is reachable.
#[derive(Default)]
struct Breaker {
    open: Option<Open>,
}

struct Open {
    /// Why the database is taken to be unreachable (the last failure), for the 503's log line.
    cause: String,
    since: Instant,
}

/// Tells the breaker when the pool fails to make a connection in the background.
struct TripOnConnectError(Weak<Shared>);

impl std::fmt::Debug for TripOnConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TripOnConnectError")
    }
}

impl HandleError<ConnectError> for TripOnConnectError {
    fn handle_error(&self, error: ConnectError) {
        if let Some(shared) = self.0.upgrade() {
            shared.trip(error.to_string());
        }
    }
}

fn manager(target: &DatabaseTarget, settings: &DatabaseSettings) -> Manager {
    Manager {
        target: target.clone(),
        sqlite_busy_timeout_ms: settings.sqlite_busy_timeout_ms,
        sqlite_synchronous: settings.sqlite_synchronous,
    }
}

/// Which connections a piece of work needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Read,
    /// A write transaction: on SQLite the writer connection, on PostgreSQL any.
    Write,
}

fn build_pool(settings: &DatabaseSettings, manager: Manager, this: Weak<Shared>) -> Pool<Manager> {
    build_pool_of(settings.pool_size, settings, manager, this)
}

/// The writer's pool of one, on SQLite only.
fn build_writer(
    target: &DatabaseTarget,
    settings: &DatabaseSettings,
    this: Weak<Shared>,
) -> Option<Pool<Manager>> {
    matches!(target, DatabaseTarget::Sqlite { .. })
        .then(|| build_pool_of(1, settings, manager(target, settings), this))
}

fn build_pool_of(
    size: u32,
    settings: &DatabaseSettings,
    manager: Manager,
    this: Weak<Shared>,
) -> Pool<Manager> {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(settings.connect_timeout_seconds))
        .test_on_check_out(false)
        .error_handler(Box::new(TripOnConnectError(this)))
        .build_unchecked(manager)
}

impl Shared {
    fn manager(&self) -> Manager {
        manager(&self.target, &self.settings)
    }

    fn pool(&self, lane: Lane) -> Pool<Manager> {
        if lane == Lane::Write {
            if let Some(writer) = &*self.writer.read().unwrap_or_else(|e| e.into_inner()) {
                return writer.clone();
            }
        }
        self.pool.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cause of the outage while the breaker is open.
    fn open_cause(&self) -> Option<String> {
        self.breaker().open.as_ref().map(|open| open.cause.clone())
    }

    /// Opens the breaker (or keeps it open with a newer cause) and starts the probe.
    fn trip(&self, cause: String) {
        let mut breaker = self.breaker();
        match &mut breaker.open {
            Some(open) => open.cause = cause,
            None => {
                tracing::warn!(
                    database = %self.target,
                    %cause,
                    "database unreachable: answering 503 at once until a probe connects"
                );
                breaker.open = Some(Open {
                    cause,
                    since: Instant::now(),
                });
                drop(breaker);
                self.start_probe();
            }
        }
    }

    /// One probe per outage: a thread that tries a direct connection every [`PROBE_INTERVAL`]
    /// until one succeeds, or the database handle is dropped.
    fn start_probe(&self) {
        let weak = self.this.clone();
        let spawned = std::thread::Builder::new()
            .name("maatje-db-probe".into())
            .spawn(move || loop {
                std::thread::sleep(PROBE_INTERVAL);
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                match shared.manager().connect() {
                    Ok(conn) => {
                        drop(conn);
                        shared.recover();
                        return;
                    }
                    Err(e) => {
                        if let Some(open) = shared.breaker().open.as_mut() {
                            open.cause = e.to_string();
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            // Without a probe, close at once: checkouts then find out for themselves.
            tracing::error!(error = %e, "cannot start the database probe");
            self.breaker().open = None;
        }
    }

    /// On SQLite, a thread that copies the write-ahead log into the database file every
    /// [`CHECKPOINT_INTERVAL`] (a passive checkpoint: it waits for no reader or writer), until the
    /// database handle is dropped. Left to SQLite, the checkpoint runs inside whichever commit
    /// finds the log over `wal_autocheckpoint` pages, and that commit, with every write queued
    /// behind it on the one writer connection, waits for the copy and its `fsync`. The
    /// connections keep a far higher `wal_autocheckpoint` ([`WAL_AUTOCHECKPOINT_PAGES`]) only as
    /// a bound should this thread fall behind.
    fn start_checkpointer(&self) {
        let weak = self.this.clone();
        let spawned = std::thread::Builder::new()
            .name("maatje-db-checkpoint".into())
            .spawn(move || loop {
                std::thread::sleep(CHECKPOINT_INTERVAL);
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                if shared.open_cause().is_some() {
                    continue;
                }
                let Ok(mut conn) = shared.checkout(Lane::Read, CHECKPOINT_INTERVAL) else {
                    continue;
                };
                if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
                    tracing::debug!(error = %e, "write-ahead log checkpoint failed");
                }
            });
        if let Err(e) = spawned {
            // SQLite's own checkpoints (at WAL_AUTOCHECKPOINT_PAGES) still bound the log.
            tracing::error!(error = %e, "cannot start the SQLite checkpoint thread");
        }
    }

    /// A fresh pool (the old one's idle connections died with the outage), then the breaker
    /// closes.
    fn recover(&self) {
        let fresh = build_pool(&self.settings, self.manager(), self.this.clone());
        *self.pool.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        let writer = build_writer(&self.target, &self.settings, self.this.clone());
        *self.writer.write().unwrap_or_else(|e| e.into_inner()) = writer;
        if let Some(open) = self.breaker().open.take() {
            tracing::info!(
                database = %self.target,
                outage_ms = open.since.elapsed().as_millis() as u64,
                "database reachable again"
            );
        }
    }

    /// A connection within `timeout`; at once a 503 while the breaker is open or as soon as it
    /// opens.
    fn checkout(&self, lane: Lane, timeout: Duration) -> DomainResult<PooledConnection<Manager>> {
        let began = Instant::now();
        let result = self.checkout_now(lane, timeout);
        let pool = match (lane, matches!(self.target, DatabaseTarget::Sqlite { .. })) {
            (Lane::Write, true) => "write",
            _ => "read",
        };
        self.metrics
            .pool_wait
            .get_or_create(&crate::metrics::PoolLabels { pool })
            .observe(began.elapsed().as_secs_f64());
        result
    }

    fn checkout_now(
        &self,
        lane: Lane,
        timeout: Duration,
    ) -> DomainResult<PooledConnection<Manager>> {
        if let Some(cause) = self.open_cause() {
            return Err(DomainError::Unavailable(cause));
        }
        let pool = self.pool(lane);
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            let slice = CHECKOUT_SLICE.min(deadline.saturating_duration_since(now));
            match pool.get_timeout(slice) {
                Ok(conn) => return Ok(conn),
                Err(e) => {
                    if let Some(cause) = self.open_cause() {
                        return Err(DomainError::Unavailable(cause));
                    }
                    if Instant::now() >= deadline {
                        return Err(DomainError::Unavailable(format!(
                                "no database connection within {} ms{}",
                                timeout.as_millis(),
                                Some(e.to_string())
                                    .filter(|m| !m.is_empty()
                                        && m != "timed out waiting for connection")
                                    .map(|m| format!(": {m}"))
                                    .unwrap_or_default()
                            )));
                    }
                }
            }
        }
    }

    /// Runs `f` on a checked-out connection; a lost connection opens the breaker.
    fn with_connection<T, E: StoreFailure>(
        &self,
        lane: Lane,
        timeout: Duration,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.checkout(lane, timeout)?;
        let result = f(&mut conn).map_err(E::reclassified);
        if let Err(e) = &result {
            if e.failure() == Some(Failure::Unavailable) {
                self.trip(e.to_string());
            }
        }
        result
    }
}

impl Database {
    /// Connects once up front, so that a wrong host or port is reported clearly at start
    /// instead of as a pool timeout, then builds the pool. Creates the SQLite directory if needed.
    pub fn connect(
        settings: &DatabaseSettings,
        target: DatabaseTarget,
    ) -> Result<Self, ConnectError> {
        if let DatabaseTarget::Sqlite { path } = &target {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| ConnectError {
                    target: target.to_string(),
                    cause: format!("cannot create directory {}: {e}", dir.display()),
                })?;
            }
        }
        let shared = Arc::new_cyclic(|this: &Weak<Shared>| Shared {
            pool: RwLock::new(build_pool(
                settings,
                manager(&target, settings),
                this.clone(),
            )),
            writer: RwLock::new(build_writer(&target, settings, this.clone())),
            breaker: Mutex::new(Breaker::default()),
            settings: settings.clone(),
            target: target.clone(),
            this: this.clone(),
            metrics: crate::metrics::Metrics::new(),
        });
        let first = shared.manager().connect()?;
        drop(first);
        if matches!(target, DatabaseTarget::Sqlite { .. }) {
            shared.start_checkpointer();
        }
        Ok(Database { shared, target })
    }

    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.target, DatabaseTarget::Postgres { .. })
    }

    /// The instruments of the service this handle belongs to (see [`crate::metrics`]).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.shared.metrics
    }

    /// How the pools stand now: the shared one, and on SQLite the writer's.
    pub fn pool_states(&self) -> Vec<PoolState> {
        let state = |name, pool: &Pool<Manager>| {
            let s = pool.state();
            PoolState {
                name,
                max: pool.max_size(),
                connections: s.connections,
                idle: s.idle_connections,
            }
        };
        let mut states = vec![state("read", &self.shared.pool(Lane::Read))];
        if let Some(writer) = &*self.shared.writer.read().unwrap_or_else(|e| e.into_inner()) {
            states.push(state("write", writer));
        }
        states
    }

    fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.shared.settings.connect_timeout_seconds)
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: StoreFailure,
    {
        self.on_lane(Lane::Read, f).await
    }

    /// Runs `f` in a write transaction on the blocking pool: all of it is stored, or none. On
    /// SQLite it runs on the one writer connection, after the writes before it.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: StoreFailure,
    {
        self.writing(move |conn| write_transaction(conn, f)).await
    }

    /// Runs `f`, which opens its own write transaction ([`write_transaction`]), as
    /// [`Database::write`] runs its transaction: on SQLite on the writer connection.
    pub async fn writing<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: StoreFailure,
    {
        self.on_lane(Lane::Write, f).await
    }

    async fn on_lane<T, E, F>(&self, lane: Lane, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: StoreFailure,
    {
        let shared = self.shared.clone();
        let timeout = self.connect_timeout();
        let span = tracing::Span::current();
        web::block(move || span.in_scope(|| shared.with_connection(lane, timeout, f)))
            .await
            .map_err(|e| E::from(DomainError::internal(format!("blocking task failed: {e}"))))?
    }

    /// Synchronous access for the command line and start-up.
    pub fn blocking(&self) -> DomainResult<PooledConnection<Manager>> {
        self.shared.checkout(Lane::Read, self.connect_timeout())
    }

    /// Synchronous access for a write transaction outside a request (the audit trail's
    /// group commit): on SQLite the writer connection, as [`Database::write`] takes it.
    pub fn blocking_writer(&self) -> DomainResult<PooledConnection<Manager>> {
        self.shared.checkout(Lane::Write, self.connect_timeout())
    }

    /// True when the database takes a write within `timeout`: see [`Database::check_ready`].
    pub async fn is_ready(&self, timeout: Duration) -> bool {
        self.check_ready(timeout).await.is_ok()
    }

    /// Whether the service can take requests: a connection within `timeout` (at once a 503
    /// while the breaker is open) that stores a write, the one row of `readiness`. Fails with
    /// [`DomainError::Unavailable`], [`DomainError::StorageFull`] or [`DomainError::ReadOnly`]. On SQLite
    /// the database must also be able to grow by a page (`max_page_count`), as a write that
    /// fits in the pages it has would not notice.
    pub async fn check_ready(&self, timeout: Duration) -> DomainResult<()> {
        let shared = self.shared.clone();
        let span = tracing::Span::current();
        web::block(move || {
            span.in_scope(|| {
                shared.with_connection(Lane::Write, timeout, |conn| {
                    write_transaction(conn, readiness_write)
                })
            })
        })
        .await
        .map_err(|e| DomainError::internal(format!("blocking task failed: {e}")))?
    }
}

/// The readiness probe's write: touches the one row of `readiness` (making it if missing).
fn readiness_write(conn: &mut DbConnection) -> DomainResult<()> {
    let touched =
        diesel::sql_query("UPDATE readiness SET checked_at = CURRENT_TIMESTAMP WHERE id = 1")
            .execute(conn)?;
    if touched == 0 {
        diesel::sql_query("INSERT INTO readiness (id, checked_at) VALUES (1, CURRENT_TIMESTAMP)")
            .execute(conn)?;
    }
    if let DbConnection::Sqlite(_) = conn {
        #[derive(QueryableByName)]
        struct Room {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            pages: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            max_pages: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            free_pages: i64,
        }
        let room: Room = diesel::sql_query(
            "SELECT p.page_count AS pages, m.max_page_count AS max_pages, \
             f.freelist_count AS free_pages \
             FROM pragma_page_count() p, pragma_max_page_count() m, pragma_freelist_count() f",
        )
        .get_result(conn)?;
        if room.free_pages == 0 && room.pages >= room.max_pages {
            return Err(DomainError::StorageFull(format!(
                "readiness probe: the database has reached its maximum of {} pages",
                room.max_pages
            )));
        }
    }
    Ok(())
}

/// What a database closure may fail with: built from the pool's own failures (a
/// [`DomainError`]) and from diesel's, and able to say which database failure it is, so the
/// breaker opens on a lost connection and the caller gets the failure's own answer.
pub trait StoreFailure:
    From<DomainError> + From<diesel::result::Error> + std::fmt::Display + Send + 'static
{
    /// The database failure this error is, if it is one.
    fn failure(&self) -> Option<Failure>;
    /// The error as the database failure it wraps, if it wraps one (a diesel error inside an
    /// internal error's chain).
    fn reclassified(self) -> Self;
}

impl StoreFailure for DomainError {
    fn failure(&self) -> Option<Failure> {
        match self {
            DomainError::Unavailable(_) => Some(Failure::Unavailable),
            DomainError::StorageFull(_) => Some(Failure::StorageFull),
            DomainError::ReadOnly(_) => Some(Failure::ReadOnly),
            DomainError::Storage(e) => Some(classify(e)).filter(|f| *f != Failure::Other),
            _ => None,
        }
    }

    fn reclassified(self) -> Self {
        let failure = match &self {
            DomainError::Storage(e) => classify(e),
            DomainError::Internal(cause) => failure::wrapped(cause).unwrap_or(Failure::Other),
            _ => return self,
        };
        let message = self.to_string();
        match failure {
            Failure::Unavailable => DomainError::Unavailable(message),
            Failure::StorageFull => DomainError::StorageFull(message),
            Failure::ReadOnly => DomainError::ReadOnly(message),
            Failure::Other => self,
        }
    }
}

/// A transaction that takes the write lock up front. On SQLite a deferred transaction that reads
/// and then writes fails at once with `SQLITE_BUSY` when another writer got in between; `BEGIN
/// IMMEDIATE` makes it wait (up to the busy timeout) instead. PostgreSQL uses a plain transaction.
pub fn write_transaction<T, E: From<diesel::result::Error>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    match conn {
        DbConnection::Postgres(_) => conn.transaction(f),
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            let outcome = f(conn);
            let DbConnection::Sqlite(inner) = conn else {
                unreachable!("variant cannot change")
            };
            match outcome {
                Ok(value) => {
                    AnsiTransactionManager::commit_transaction(inner)?;
                    Ok(value)
                }
                Err(e) => {
                    // The first error says what went wrong; SQLite may already have rolled back
                    // by itself (a full disk, a lost file), so a failing ROLLBACK is logged only.
                    if let Err(rollback) = AnsiTransactionManager::rollback_transaction(inner) {
                        tracing::warn!(error = %rollback, "rollback after a failed write failed");
                    }
                    Err(e)
                }
            }
        }
    }
}

/// Applies pending migrations for the connection's backend and returns their names. On
/// PostgreSQL an advisory lock keeps two instances starting together from racing.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .iter()
            .map(ToString::to_string)
            .collect(),
        DbConnection::Postgres(c) => {
            const LOCK: i64 = 0x6d61_6174_6a65; // "maatje"
            c.batch_execute(&format!("SELECT pg_advisory_lock({LOCK})"))?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
            c.batch_execute(&format!("SELECT pg_advisory_unlock({LOCK})"))?;
            result?
        }
    };
    Ok(applied)
}

/// True when a diesel error is a unique-constraint violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

pub mod backup;
pub mod failure;
pub mod schema;

pub use failure::{classify, Failure};

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::*;

    fn db_error(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn failures_are_classified_by_kind_and_message() {
        use DatabaseErrorKind::{ClosedConnection, ReadOnlyTransaction, Unknown};
        let cases = [
            // SQLite
            (Unknown, "database or disk is full", Failure::StorageFull),
            (
                Unknown,
                "attempt to write a readonly database",
                Failure::ReadOnly,
            ),
            (
                Unknown,
                "unable to open database file",
                Failure::Unavailable,
            ),
            (Unknown, "disk I/O error", Failure::Unavailable),
            (Unknown, "database is locked", Failure::Other),
            // PostgreSQL
            (
                Unknown,
                "could not extend file \"base/16384/16385\": No space left on device",
                Failure::StorageFull,
            ),
            (
                Unknown,
                "could not write to file \"pg_wal/xlogtemp.123\": No space left on device",
                Failure::StorageFull,
            ),
            (
                ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction",
                Failure::ReadOnly,
            ),
            (
                Unknown,
                "cannot execute UPDATE in a read-only transaction",
                Failure::ReadOnly,
            ),
            (
                ClosedConnection,
                "server closed the connection unexpectedly",
                Failure::Unavailable,
            ),
            (
                DatabaseErrorKind::UnableToSendCommand,
                "no connection to the server",
                Failure::Unavailable,
            ),
            (
                Unknown,
                "terminating connection due to administrator command",
                Failure::Unavailable,
            ),
            (
                DatabaseErrorKind::UniqueViolation,
                "duplicate key value violates unique constraint",
                Failure::Other,
            ),
            (Unknown, "syntax error at or near \"SELEC\"", Failure::Other),
        ];
        for (kind, message, want) in cases {
            assert_eq!(classify(&db_error(kind, message)), want, "{message}");
        }
        assert_eq!(classify(&Error::NotFound), Failure::Other);
        assert_eq!(classify(&Error::BrokenTransactionManager), Failure::Other);
    }

    fn sqlite_database(dir: &std::path::Path) -> Database {
        let settings = DatabaseSettings {
            url: String::new(),
            pool_size: 2,
            connect_timeout_seconds: 5,
            migrate_on_start: false,
            sqlite_busy_timeout_ms: 1000,
            sqlite_synchronous: crate::config::SqliteSynchronous::Full,
        };
        let target = DatabaseTarget::Sqlite {
            path: dir.join("breaker.sqlite3"),
        };
        Database::connect(&settings, target).expect("a SQLite file")
    }

    #[test]
    fn an_open_breaker_fails_checkouts_at_once_until_the_probe_connects() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_database(dir.path());
        assert!(db.blocking().is_ok());
        db.shared.trip("connection lost".into());
        let started = Instant::now();
        match db.blocking() {
            Err(DomainError::Unavailable(cause)) => assert_eq!(cause, "connection lost"),
            other => panic!("expected unavailable, got {:?}", other.err()),
        }
        assert!(started.elapsed() < Duration::from_millis(100));
        // The probe connects (the file is there) and closes the breaker.
        let deadline = Instant::now() + Duration::from_secs(1);
        while db.shared.open_cause().is_some() {
            assert!(
                Instant::now() < deadline,
                "the probe did not close the breaker"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(db.blocking().is_ok());
    }

    #[test]
    fn a_lost_connection_in_a_query_opens_the_breaker() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_database(dir.path());
        let lost = db.shared.with_connection(
            Lane::Read,
            Duration::from_secs(1),
            |_| -> DomainResult<()> {
                Err(db_error(
                    DatabaseErrorKind::ClosedConnection,
                    "server closed the connection unexpectedly",
                )
                .into())
            },
        );
        assert!(matches!(lost, Err(DomainError::Unavailable(_))));
        assert!(db.shared.open_cause().is_some(), "the breaker is open");
        // A full database is no outage of the connection: the breaker stays as it is.
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_database(dir.path());
        let full = db.shared.with_connection(
            Lane::Write,
            Duration::from_secs(1),
            |_| -> DomainResult<()> {
                Err(db_error(DatabaseErrorKind::Unknown, "database or disk is full").into())
            },
        );
        assert!(matches!(full, Err(DomainError::StorageFull(_))));
        assert!(db.shared.open_cause().is_none());
    }

    #[test]
    fn errors_wrapping_a_database_failure_are_reclassified() {
        let full = || db_error(DatabaseErrorKind::Unknown, "database or disk is full");
        let wrapped = DomainError::Internal(anyhow::Error::new(full()).context("storing it"));
        assert!(matches!(
            wrapped.reclassified(),
            DomainError::StorageFull(_)
        ));
        assert!(matches!(
            DomainError::from(full()).reclassified(),
            DomainError::StorageFull(_)
        ));
        let other = DomainError::internal("something else");
        assert!(matches!(other.reclassified(), DomainError::Internal(_)));
        let wrapped = crate::error::ApiError::Internal(anyhow::Error::new(full()).context("x"));
        assert!(matches!(
            StoreFailure::reclassified(wrapped),
            crate::error::ApiError::StorageFull(_)
        ));
    }

    /// The bundled SQLite is built with the query planner stability guarantee
    /// (`.cargo/config.toml`): without it every query with `LIMIT ?` is compiled anew on each
    /// call (see the comment there).
    #[test]
    fn the_bundled_sqlite_keeps_its_query_plans() {
        #[derive(QueryableByName)]
        struct Used {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            used: i32,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let row: Used =
            diesel::sql_query("SELECT sqlite_compileoption_used('ENABLE_QPSG') AS used")
                .get_result(&mut conn)
                .unwrap();
        assert_eq!(row.used, 1, "SQLite was built without SQLITE_ENABLE_QPSG");
    }
}
