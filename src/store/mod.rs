//! Queries and guarded writes, one file per table or resource: diesel only, with its own error
//! ([`StoreError`]). The rules of the programme (which move is legal, what a duplicate means) are
//! the domain's and the operations'; the store only records what they decided. Everything here runs
//! inside [`crate::db::Database::run`] or [`crate::db::Database::write`], on the blocking pool.

pub mod api_clients;
pub mod audit;
pub mod buddies;
pub mod candidates;
pub mod casework;
pub mod console;
pub mod contacts;
pub mod credential_version;
pub mod error;
pub mod events;
pub mod exclusions;
pub mod exit_interviews;
pub mod feedback;
pub mod history;
pub mod idempotency;
pub mod organisations;
pub mod outbox;
pub mod page;
pub mod pairings;
pub mod portal;
pub mod privacy;
pub mod queues;
pub mod reports;
pub mod requests;
pub mod staff;
pub mod webhooks;

pub use error::{StoreError, StoreResult};

/// A stored value that does not parse is a bug or a tampered row: an internal error, not a 4xx.
pub(crate) fn parse_stored<T: std::str::FromStr<Err = String>>(text: &str) -> StoreResult<T> {
    text.parse::<T>()
        .map_err(|e| StoreError::Corrupt(format!("stored value: {e}")))
}

/// A stored JSON list that does not parse: corrupt data, as [`parse_stored`].
pub(crate) fn corrupt_list(e: anyhow::Error) -> StoreError {
    StoreError::Corrupt(format!("a stored list: {e}"))
}

/// The row of one resource, locked before a change compares the resource's current state with
/// the one the caller last read (`If-Match`, see [`crate::ops::Precondition`]). Built by the
/// resource's module (`buddies::row`, ...), which names its table.
#[derive(Debug, Clone)]
pub struct RowLock {
    table: &'static str,
    entity: &'static str,
    id: String,
}

impl RowLock {
    fn new(table: &'static str, entity: &'static str, id: &str) -> RowLock {
        RowLock {
            table,
            entity,
            id: id.to_owned(),
        }
    }

    /// The kind of resource (`buddy`, `buddy_request`, ...), as its history names it.
    pub fn entity(&self) -> &'static str {
        self.entity
    }

    /// The resource's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Locks the row until the transaction ends. On PostgreSQL `SELECT … FOR UPDATE`: a change
    /// of the row by another transaction waits for this one, and this one waits for a change
    /// under way, then reads its result (READ COMMITTED). SQLite's write transaction (`BEGIN
    /// IMMEDIATE`) holds the database's one write lock already. A missing row locks nothing;
    /// the reading that follows finds it missing.
    pub fn lock(&self, conn: &mut crate::db::DbConnection) -> diesel::QueryResult<()> {
        use diesel::RunQueryDsl;
        if let crate::db::DbConnection::Postgres(pg) = conn {
            diesel::sql_query(format!(
                "SELECT id FROM {} WHERE id = $1 FOR UPDATE",
                self.table
            ))
            .bind::<diesel::sql_types::Text, _>(&self.id)
            .execute(pg)?;
        }
        Ok(())
    }
}

/// An update guarded by the state read earlier touched no row: someone else changed it first.
pub(crate) fn concurrent_change(resource: &'static str) -> StoreError {
    StoreError::ConcurrentChange { resource }
}
