//! Storage: one diesel code base for SQLite (embedded default) and PostgreSQL (production),
//! chosen by the URL scheme, behind an r2d2 pool. Diesel work never runs on the async workers:
//! [`Database::run`] and [`Database::write`] move it to actix's blocking pool with the caller's
//! tracing span.

use std::time::Duration;

use actix_web::web;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{DatabaseSettings, DatabaseTarget};
use crate::error::{ApiError, ApiResult};

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
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                    self.sqlite_busy_timeout_ms
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

/// The pool and the knowledge of which backend it talks to.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    target: DatabaseTarget,
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
        let manager = Manager {
            target: target.clone(),
            sqlite_busy_timeout_ms: settings.sqlite_busy_timeout_ms,
        };
        let first = manager.connect()?;
        let pool = Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(settings.connect_timeout_seconds))
            .test_on_check_out(false)
            .build_unchecked(manager);
        drop(first);
        Ok(Database { pool, target })
    }

    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.target, DatabaseTarget::Postgres { .. })
    }

    fn checkout(pool: &Pool<Manager>) -> ApiResult<PooledConnection<Manager>> {
        pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        web::block(move || {
            span.in_scope(|| {
                let mut conn = Self::checkout(&pool)?;
                f(&mut conn)
            })
        })
        .await?
    }

    /// Runs `f` in a write transaction on the blocking pool: all of it is stored, or none.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| write_transaction(conn, f)).await
    }

    /// Synchronous access for the command line and start-up.
    pub fn blocking(&self) -> ApiResult<PooledConnection<Manager>> {
        Self::checkout(&self.pool)
    }

    /// True when a connection can be had and answers a trivial query within `timeout`.
    pub async fn is_ready(&self, timeout: Duration) -> bool {
        let pool = self.pool.clone();
        web::block(move || {
            pool.get_timeout(timeout)
                .map(|mut conn| conn.batch_execute("SELECT 1").is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}

/// A transaction that takes the write lock up front. On SQLite a deferred transaction that reads
/// and then writes fails at once with `SQLITE_BUSY` when another writer got in between; `BEGIN
/// IMMEDIATE` makes it wait (up to the busy timeout) instead. PostgreSQL uses a plain transaction.
pub fn write_transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> ApiResult<T>,
) -> ApiResult<T> {
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
                    AnsiTransactionManager::rollback_transaction(inner)?;
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

pub mod schema;
