//! The audit trail's two tables: `audit_log`, append-only, and `audit_head`, the one row naming
//! the last record of the hash chain. Triggers on both backends refuse `UPDATE`, `DELETE` and
//! (PostgreSQL) `TRUNCATE` of records and a record anywhere but at the head; the head row cannot
//! be removed or added, and an update must leave it as it is or move it forward, to a record
//! appended after it ([`append_all`]). How records are made and chained is told in
//! [`crate::audit`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::page::PageRequest;
use super::{StoreError, StoreResult};
use crate::db::schema::{audit_head, audit_log};
use crate::db::DbConnection;

/// The id of the single `audit_head` row.
const HEAD: i32 = 1;

/// One stored record of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
// A missing value is NULL, not DEFAULT (the columns have none): one shape of INSERT, which diesel
// then prepares once per connection.
#[diesel(treat_none_as_default_value = false)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub on_behalf_of: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub client_ref: Option<String>,
    pub outcome: String,
    pub status: i32,
    pub source_address: Option<String>,
    pub request_id: Option<String>,
    pub route: String,
    pub prev_hash: String,
    pub hash: String,
    /// The caller's own `X-Request-Id`, beside the service's `request_id`.
    pub caller_request_id: Option<String>,
}

/// A record to append: everything but its place in the chain.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub at: NaiveDateTime,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub on_behalf_of: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub client_ref: Option<String>,
    pub outcome: String,
    pub status: i32,
    pub source_address: Option<String>,
    /// The service's own id of the request.
    pub request_id: Option<String>,
    /// The caller's `X-Request-Id`, when it sent one.
    pub caller_request_id: Option<String>,
    pub route: String,
}

/// How many records one `INSERT` carries on PostgreSQL (18 parameters each: well inside its 65,535
/// bound parameters).
const INSERT_ROWS: usize = 256;

/// Appends a record at the head of the chain: [`append_all`] of one.
pub fn append(
    conn: &mut DbConnection,
    record: NewRecord,
    hash: fn(&AuditRow) -> String,
) -> StoreResult<AuditRow> {
    let mut rows = append_all(conn, vec![record], hash)?;
    rows.pop()
        .ok_or_else(|| StoreError::Corrupt("an append stored no record".into()))
}

/// Appends `records`, in order, at the head of the chain, and moves the head to the last. Must
/// run inside a write transaction ([`crate::db::write_transaction`]): its first statement locks
/// the head row ([`locked_head`]), so two writers, even in two service instances, cannot both
/// chain to the same predecessor.
///
/// However many records there are, the head is locked, read and moved once. On PostgreSQL the
/// records go in multi-row `INSERT`s of up to [`INSERT_ROWS`]; on SQLite one prepared `INSERT`
/// is run per record. The triggers still check each record: it follows the head, or the record
/// just appended after it.
///
/// `hash` computes a record's hash from its fields and `prev_hash` (the chain's rule,
/// [`crate::audit::chain::hash`]).
pub fn append_all(
    conn: &mut DbConnection,
    records: Vec<NewRecord>,
    hash: fn(&AuditRow) -> String,
) -> StoreResult<Vec<AuditRow>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let (mut seq, mut prev_hash) = locked_head(conn)?;
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        seq += 1;
        let mut row = AuditRow {
            seq,
            id: Uuid::now_v7().to_string(),
            at: record.at,
            actor_type: record.actor_type,
            actor_id: record.actor_id,
            on_behalf_of: record.on_behalf_of,
            action: record.action,
            object_type: record.object_type,
            object_id: record.object_id,
            client_ref: record.client_ref,
            outcome: record.outcome,
            status: record.status,
            source_address: record.source_address,
            request_id: record.request_id,
            route: record.route,
            prev_hash,
            hash: String::new(),
            caller_request_id: record.caller_request_id,
        };
        row.hash = hash(&row);
        prev_hash = row.hash.clone();
        rows.push(row);
    }
    match conn {
        // In-process: one prepared INSERT, stepped per record, beats compiling a statement of
        // many rows anew for every batch.
        DbConnection::Sqlite(conn) => {
            for row in &rows {
                diesel::insert_into(audit_log::table)
                    .values(row)
                    .execute(conn)?;
            }
        }
        // Over the network: one round trip per [`INSERT_ROWS`] records. (diesel builds no
        // multi-row INSERT for its MultiConnection, hence the backend's own connection.)
        DbConnection::Postgres(conn) => {
            for chunk in rows.chunks(INSERT_ROWS) {
                match chunk {
                    // One record (a change's own): the INSERT prepared once per connection.
                    [one] => diesel::insert_into(audit_log::table)
                        .values(one)
                        .execute(conn)?,
                    many => diesel::insert_into(audit_log::table)
                        .values(many)
                        .execute(conn)?,
                };
            }
        }
    }
    MoveHead {
        seq,
        hash: prev_hash,
    }
    .execute(conn)?;
    Ok(rows)
}

/// The head, locked for this transaction: on PostgreSQL `SELECT … FOR UPDATE` takes the row
/// lock until commit; on SQLite the transaction's `BEGIN IMMEDIATE` already holds the
/// database's write lock.
fn locked_head(conn: &mut DbConnection) -> StoreResult<(i64, String)> {
    let head = match conn {
        DbConnection::Postgres(pg) => audit_head::table
            .find(HEAD)
            .select((audit_head::seq, audit_head::hash))
            .for_update()
            .first(pg)
            .optional()?,
        DbConnection::Sqlite(_) => head(conn).optional()?,
    };
    head.ok_or_else(|| StoreError::Corrupt("the audit_head row is missing".into()))
}

/// `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = $3` ([`HEAD`]), written out because diesel
/// prepares none of its own `UPDATE`s once per connection (every one is compiled anew, on
/// SQLite with its triggers); this one is run by every append.
#[derive(diesel::query_builder::QueryId)]
struct MoveHead {
    seq: i64,
    hash: String,
}

impl<DB> diesel::query_builder::QueryFragment<DB> for MoveHead
where
    DB: diesel::backend::Backend,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("UPDATE audit_head SET seq = ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.seq)?;
        out.push_sql(", hash = ");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.hash)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<diesel::sql_types::Integer, _>(&HEAD)?;
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for MoveHead {}

/// The head: the sequence number and hash of the last record (0 and the genesis hash when the
/// trail is empty).
pub fn head(conn: &mut DbConnection) -> QueryResult<(i64, String)> {
    audit_head::table
        .find(HEAD)
        .select((audit_head::seq, audit_head::hash))
        .first(conn)
}

/// Up to `n` records after `after_seq`, in chain order.
pub fn after(conn: &mut DbConnection, after_seq: i64, n: i64) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::seq.gt(after_seq))
        .order(audit_log::seq.asc())
        .limit(n)
        .select(AuditRow::as_select())
        .load(conn)
}

/// Filters of the audit list; every one given must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// At or after.
    pub from: Option<NaiveDateTime>,
    /// Before.
    pub to: Option<NaiveDateTime>,
    pub actor_id: Option<String>,
    pub actor_type: Option<String>,
    pub client_ref: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub outcome: Option<String>,
}

/// One page of records in chain order; the page's key is the sequence number.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &PageRequest,
) -> StoreResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .order(audit_log::seq.asc())
        .limit(page.fetch())
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(audit_log::at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::at.lt(to));
    }
    if let Some(actor_id) = &filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(actor_id.clone()));
    }
    if let Some(actor_type) = &filter.actor_type {
        query = query.filter(audit_log::actor_type.eq(actor_type.clone()));
    }
    if let Some(client_ref) = &filter.client_ref {
        query = query.filter(audit_log::client_ref.eq(client_ref.clone()));
    }
    if let Some(object_type) = &filter.object_type {
        query = query.filter(audit_log::object_type.eq(object_type.clone()));
    }
    if let Some(object_id) = &filter.object_id {
        query = query.filter(audit_log::object_id.eq(object_id.clone()));
    }
    if let Some(outcome) = &filter.outcome {
        query = query.filter(audit_log::outcome.eq(outcome.clone()));
    }
    if let Some(after) = &page.after {
        let after: i64 = after.parse().map_err(|_| {
            StoreError::Corrupt("an audit cursor that is not a sequence number".into())
        })?;
        query = query.filter(audit_log::seq.gt(after));
    }
    Ok(query.load(conn)?)
}
