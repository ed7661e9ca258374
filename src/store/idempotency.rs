//! The `idempotency_keys` table: one row per caller and `Idempotency-Key` (see
//! [`crate::http::idempotency`], which decides; this module only stores).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::idempotency_keys as keys;
use crate::db::DbConnection;

pub const IN_FLIGHT: &str = "in_flight";
pub const APPLIED: &str = "applied";
pub const DONE: &str = "done";
pub const FORGOTTEN: &str = "forgotten";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = keys)]
pub struct KeyRow {
    pub request_hash: String,
    pub state: String,
    pub started_at: NaiveDateTime,
    pub object_id: Option<String>,
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Option<String>,
}

/// A stored answer.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

#[derive(Insertable)]
#[diesel(table_name = keys)]
#[diesel(treat_none_as_default_value = false)]
struct NewKey<'a> {
    caller: &'a str,
    idem_key: &'a str,
    request_hash: &'a str,
    state: &'a str,
    started_at: NaiveDateTime,
}

/// The row of `caller`'s `key`, if there is one.
pub fn find(conn: &mut DbConnection, caller: &str, key: &str) -> QueryResult<Option<KeyRow>> {
    keys::table
        .find((caller, key))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()
}

/// Deletes `caller`'s `key` if it was first used before `expired_before`.
pub fn delete_expired(
    conn: &mut DbConnection,
    caller: &str,
    key: &str,
    expired_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        keys::table
            .find((caller, key))
            .filter(keys::started_at.lt(expired_before)),
    )
    .execute(conn)
}

/// Claims `caller`'s `key` for a request with `request_hash`: fails with a unique violation when
/// another request claimed it first.
pub fn insert(
    conn: &mut DbConnection,
    caller: &str,
    key: &str,
    request_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(keys::table)
        .values(&NewKey {
            caller,
            idem_key: key,
            request_hash,
            state: IN_FLIGHT,
            started_at: now,
        })
        .execute(conn)
}

/// Takes over a key whose request was in flight since `was_started` and never changed anything
/// (its instance stopped): true when this call got it.
pub fn take_over(
    conn: &mut DbConnection,
    caller: &str,
    key: &str,
    was_started: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        keys::table
            .find((caller, key))
            .filter(keys::state.eq(IN_FLIGHT))
            .filter(keys::started_at.eq(was_started)),
    )
    .set(keys::started_at.eq(now))
    .execute(conn)
    .map(|n| n == 1)
}

/// Marks the key applied, in the transaction of the change its request made.
pub fn mark_applied(
    conn: &mut DbConnection,
    caller: &str,
    key: &str,
    object_id: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(
        keys::table
            .find((caller, key))
            .filter(keys::state.eq(IN_FLIGHT)),
    )
    .set((keys::state.eq(APPLIED), keys::object_id.eq(object_id)))
    .execute(conn)
}

/// Stores the answer to the key's request.
pub fn complete(
    conn: &mut DbConnection,
    caller: &str,
    key: &str,
    object_id: Option<&str>,
    answer: &StoredAnswer,
) -> QueryResult<usize> {
    diesel::update(
        keys::table
            .find((caller, key))
            .filter(keys::state.ne(FORGOTTEN)),
    )
    .set((
        keys::state.eq(DONE),
        keys::object_id.eq(object_id),
        keys::status.eq(Some(i32::from(answer.status))),
        keys::content_type.eq(answer.content_type.as_deref()),
        keys::location.eq(answer.location.as_deref()),
        keys::body.eq(Some(answer.body.as_str())),
    ))
    .execute(conn)
}

/// Releases a key whose request changed nothing and failed on the service's side (a 5xx), so
/// that a retry does the work.
pub fn release(conn: &mut DbConnection, caller: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(
        keys::table
            .find((caller, key))
            .filter(keys::state.eq(IN_FLIGHT)),
    )
    .execute(conn)
}

/// Deletes every key first used before `before` (the keep period is over), with its answer.
pub fn purge(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(keys::table.filter(keys::started_at.lt(before))).execute(conn)
}

/// Deletes the stored answers about the objects `ids` (they are being erased). The keys stay,
/// forgotten, so that a retry still does nothing again; it is told the answer is gone.
pub fn forget_objects(conn: &mut DbConnection, ids: &[String]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(keys::table.filter(keys::object_id.eq_any(ids)))
        .set((
            keys::state.eq(FORGOTTEN),
            keys::status.eq(None::<i32>),
            keys::content_type.eq(None::<String>),
            keys::location.eq(None::<String>),
            keys::body.eq(None::<String>),
        ))
        .execute(conn)
}
