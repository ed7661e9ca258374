//! The `events` table: the feed of what happened (see [`crate::ops::feed`], which decides what an
//! event says, and the PostgreSQL migration `000019_events` for the order under concurrent
//! commits).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::events;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub seq: i64,
    pub txid: i64,
    pub payload: String,
}

#[derive(Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub organisation_id: &'a str,
    pub event_type: &'a str,
    pub occurred_at: NaiveDateTime,
    pub payload: &'a str,
}

/// Appends an event, in the caller's (the change's) transaction.
pub fn insert(conn: &mut DbConnection, event: &NewEvent<'_>) -> QueryResult<usize> {
    diesel::insert_into(events::table)
        .values(event)
        .execute(conn)
}

/// Where a reader of the feed is: after the event at (`txid`, `seq`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

/// Up to `n` events after `after` in feed order, of `organisation` only when given, and only of
/// transactions that can no longer be followed by an earlier one (on PostgreSQL: older than the
/// oldest transaction still running; on SQLite every committed one).
pub fn after(
    conn: &mut DbConnection,
    organisation: Option<&str>,
    after: Position,
    n: i64,
) -> QueryResult<Vec<EventRow>> {
    macro_rules! page {
        ($conn:expr, $settled:expr) => {{
            let mut query = events::table
                .filter(
                    events::txid
                        .gt(after.txid)
                        .or(events::txid.eq(after.txid).and(events::seq.gt(after.seq))),
                )
                .filter($settled)
                .order((events::txid, events::seq))
                .limit(n)
                .select(EventRow::as_select())
                .into_boxed();
            if let Some(organisation) = organisation {
                query = query.filter(events::organisation_id.eq(organisation));
            }
            query.load($conn)
        }};
    }
    match conn {
        DbConnection::Postgres(pg) => page!(
            pg,
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
            )
        ),
        DbConnection::Sqlite(sqlite) => {
            page!(sqlite, diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 1"))
        }
    }
}

/// Deletes the events older than `before` (their keep period is over).
pub fn purge(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(events::table.filter(events::occurred_at.lt(before))).execute(conn)
}
