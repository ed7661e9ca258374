//! The `credential_version` counter: moved by every change that makes a verified credential
//! invalid or changes what it allows, read by every instance to know when its cache of verified
//! credentials is out of date (see [`crate::auth::cache`]).

use diesel::prelude::*;

use crate::db::schema::credential_version;
use crate::db::DbConnection;

/// Moves the counter, in the caller's transaction: the other instances drop their caches once
/// it commits. [`crate::ops::Tx::credentials_changed`] calls it last in the transaction.
pub fn bump(conn: &mut DbConnection) -> QueryResult<usize> {
    diesel::update(credential_version::table.find(1))
        .set(credential_version::version.eq(credential_version::version + 1))
        .execute(conn)
}

/// The counter as committed now.
pub fn read(conn: &mut DbConnection) -> QueryResult<i64> {
    credential_version::table
        .find(1)
        .select(credential_version::version)
        .first(conn)
}
