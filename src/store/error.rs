//! The store's own error: what a query found, never what a rule of the programme says. Whether a
//! duplicate is a `duplicate-client-ref` conflict, or a missing row a 404, is the operations'
//! call; [`From<StoreError> for DomainError`](DomainError) gives the plain reading.

use crate::domain::error::DomainError;

/// Why a store function did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row with this id.
    #[error("{} {id} not found", resource.replace('_', " "))]
    NotFound { resource: &'static str, id: String },
    /// A unique key already holds this value (the insert did nothing).
    #[error("a {} with this {key} exists already", resource.replace('_', " "))]
    Duplicate {
        resource: &'static str,
        key: &'static str,
    },
    /// A guarded update touched no row: another change got to the row since it was read.
    #[error("the {} was changed by another request", resource.replace('_', " "))]
    ConcurrentChange { resource: &'static str },
    /// A stored value that does not parse, or rows that contradict each other: a bug or a
    /// tampered database, never the caller's fault.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The query failed (an outage, a full disk, a bug): see [`crate::db::classify`].
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn not_found(resource: &'static str, id: impl std::fmt::Display) -> Self {
        StoreError::NotFound {
            resource,
            id: id.to_string(),
        }
    }

    /// This error as the operation sees it, where a duplicate key breaks the rule `conflict`
    /// states (e.g. one request per client reference); any other error reads as usual.
    pub fn duplicate_is(self, conflict: impl FnOnce() -> DomainError) -> DomainError {
        match self {
            StoreError::Duplicate { .. } => conflict(),
            other => other.into(),
        }
    }
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { resource, id } => DomainError::NotFound { resource, id },
            // An operation that expects a duplicate names its conflict (`duplicate_is`); one it
            // did not expect is still the caller's conflict, not a server error.
            StoreError::Duplicate { .. } => DomainError::Conflict {
                kind: "duplicate",
                title: "Already exists",
                detail: e.to_string(),
            },
            StoreError::ConcurrentChange { resource } => DomainError::ConcurrentChange { resource },
            StoreError::Corrupt(message) => DomainError::internal(message),
            StoreError::Db(e) => DomainError::Storage(e),
        }
    }
}

/// The insert's unique-key violation as [`StoreError::Duplicate`].
pub(crate) fn on_duplicate(
    resource: &'static str,
    key: &'static str,
) -> impl FnOnce(diesel::result::Error) -> StoreError {
    move |e| {
        if crate::db::is_unique_violation(&e) {
            StoreError::Duplicate { resource, key }
        } else {
            StoreError::Db(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::Connection;

    use super::*;
    use crate::db::{run_migrations, DbConnection};
    use crate::domain::actor::Actor;
    use crate::store::organisations;

    #[test]
    fn a_taken_key_is_a_duplicate_which_the_operation_names() {
        let sqlite = diesel::SqliteConnection::establish(":memory:").unwrap();
        let mut conn = DbConnection::Sqlite(sqlite);
        run_migrations(&mut conn).unwrap();
        let now = chrono::DateTime::UNIX_EPOCH.naive_utc();
        organisations::create(&mut conn, "Instelling".into(), &Actor::System, now).unwrap();
        let again = organisations::create(&mut conn, "Instelling".into(), &Actor::System, now)
            .expect_err("the name is taken");
        assert!(
            matches!(
                again,
                StoreError::Duplicate {
                    resource: "organisation",
                    key: "name"
                }
            ),
            "{again:?}"
        );
        let named = again.duplicate_is(|| DomainError::conflict("taken", "Taken", "taken"));
        assert!(matches!(named, DomainError::Conflict { kind: "taken", .. }));
        // Anything else keeps its reading.
        let missing = StoreError::not_found("organisation", "o-1")
            .duplicate_is(|| DomainError::conflict("taken", "Taken", "taken"));
        assert!(matches!(
            missing,
            DomainError::NotFound {
                resource: "organisation",
                ..
            }
        ));
    }

    #[test]
    fn corrupt_data_is_an_internal_error_and_a_failed_query_keeps_its_diesel_error() {
        assert!(matches!(
            DomainError::from(StoreError::Corrupt("x".into())),
            DomainError::Internal(_)
        ));
        assert!(matches!(
            DomainError::from(StoreError::Db(diesel::result::Error::NotFound)),
            DomainError::Storage(diesel::result::Error::NotFound)
        ));
        assert!(matches!(
            DomainError::from(StoreError::ConcurrentChange { resource: "buddy" }),
            DomainError::ConcurrentChange { resource: "buddy" }
        ));
    }
}
