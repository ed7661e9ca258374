//! What a database error means for the caller: unavailable, full, read-only, or something else.
//! The one place that knows the backends' messages.

/// What a database failure means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database cannot be reached, or the connection was lost: 503 `unavailable`.
    Unavailable,
    /// The disk (or the database's size limit) is full: 503 `storage-full`.
    StorageFull,
    /// The database takes no writes (a read-only file, transaction or standby): 503 `read-only`.
    ReadOnly,
    /// Anything else: a bug or a rule of the schema; the caller decides (usually 500).
    Other,
}

/// Classifies a diesel error by its kind and, where the kind says nothing (SQLite's result
/// codes and PostgreSQL's SQLSTATE are not all exposed), by the backend's message. The one
/// place that knows these messages.
pub fn classify(e: &diesel::result::Error) -> Failure {
    use diesel::result::{DatabaseErrorKind, Error};
    let Error::DatabaseError(kind, info) = e else {
        return Failure::Other;
    };
    let message = info.message().to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| message.contains(n));
    if matches!(kind, DatabaseErrorKind::ReadOnlyTransaction)
        || has(&[
            // SQLite: SQLITE_READONLY (a read-only file, `PRAGMA query_only`).
            "attempt to write a readonly database",
            // PostgreSQL: a read-only transaction or a hot standby (SQLSTATE 25006).
            "in a read-only transaction",
            "during recovery",
        ])
    {
        return Failure::ReadOnly;
    }
    if has(&[
        // SQLite: SQLITE_FULL.
        "database or disk is full",
        // PostgreSQL: SQLSTATE 53100 disk_full and the I/O errors behind it.
        "no space left on device",
        "could not extend file",
        "disk full",
    ]) {
        return Failure::StorageFull;
    }
    if matches!(kind, DatabaseErrorKind::ClosedConnection)
        || has(&[
            // libpq, when the server went away under a query.
            "server closed the connection unexpectedly",
            "no connection to the server",
            "could not send data to server",
            "could not receive data from server",
            "connection to server",
            "terminating connection",
            "the database system is shutting down",
            "the database system is starting up",
            // SQLite: the file went away or cannot be read.
            "unable to open database file",
            "disk i/o error",
        ])
    {
        return Failure::Unavailable;
    }
    Failure::Other
}

/// What a diesel error somewhere in `cause`'s chain (an internal error wrapping a failed query)
/// means, if there is one.
pub fn wrapped(cause: &anyhow::Error) -> Option<Failure> {
    cause
        .chain()
        .find_map(|c| c.downcast_ref::<diesel::result::Error>())
        .map(classify)
}
