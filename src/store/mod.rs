//! Queries and guarded writes, one file per table or resource: diesel only, with its own error
//! ([`StoreError`]). The rules of the programme (which move is legal, what a duplicate means) are
//! the domain's and the operations'; the store only records what they decided. Everything here runs
//! inside [`crate::db::Database::run`] or [`crate::db::Database::write`], on the blocking pool.

pub mod api_clients;
pub mod audit;
pub mod buddies;
pub mod candidates;
pub mod credential_version;
pub mod error;
pub mod events;
pub mod exclusions;
pub mod exit_interviews;
pub mod history;
pub mod idempotency;
pub mod organisations;
pub mod outbox;
pub mod page;
pub mod pairings;
pub mod privacy;
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

/// An update guarded by the state read earlier touched no row: someone else changed it first.
pub(crate) fn concurrent_change(resource: &'static str) -> StoreError {
    StoreError::ConcurrentChange { resource }
}
