//! The floor: the baseline plus exactly the writes issue 11 requires of maatje, and nothing else
//! (no authentication, validation, rules, middleware, triggers or rendering). It answers the
//! question "how fast can any service be that keeps these records on this machine?".
//!
//! - `POST /floor/requests`: one write transaction (SQLite `BEGIN IMMEDIATE`; on PostgreSQL the
//!   chain's head row locked `FOR UPDATE`), as the issue prescribes: the request, its history
//!   row, an outbox row (a fixed text), the audit record chained by SHA-256 to the head, and the
//!   head moved: 2 reads-or-writes of the head and 4 inserts, every statement prepared once per
//!   connection.
//! - `GET /floor/requests/{id}`: the SELECT, then its audit record appended by group commit
//!   before the answer: the request's own blocking thread queues the record, and the first
//!   thread to find no batch being written writes every queued record in one transaction
//!   (leader and followers), so a read crosses threads only to the blocking pool and back.
//!
//! It runs in the baseline's process setup (same pool, pragmas, workers, blocking pool).

use std::sync::{Condvar, Mutex};

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::baseline::Db;

diesel::table! {
    floor_requests (id) {
        id -> Text,
        body -> Text,
        state -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    floor_history (id) {
        id -> Text,
        request_id -> Text,
        state -> Text,
        at -> Text,
    }
}

diesel::table! {
    floor_outbox (id) {
        id -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    floor_audit (seq) {
        seq -> BigInt,
        at -> Text,
        action -> Text,
        object_id -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    floor_loose_audit (id) {
        id -> Text,
        at -> Text,
        action -> Text,
        object_id -> Text,
    }
}

diesel::table! {
    floor_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

const CREATE: &str = "
    CREATE TABLE IF NOT EXISTS floor_requests (id TEXT PRIMARY KEY, body TEXT NOT NULL,
        state TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS floor_history (id TEXT PRIMARY KEY, request_id TEXT NOT NULL,
        state TEXT NOT NULL, at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS floor_outbox (id TEXT PRIMARY KEY, recipient TEXT NOT NULL,
        subject TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS floor_audit (seq BIGINT PRIMARY KEY, at TEXT NOT NULL,
        action TEXT NOT NULL, object_id TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS floor_loose_audit (id TEXT PRIMARY KEY, at TEXT NOT NULL,
        action TEXT NOT NULL, object_id TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS floor_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL,
        hash TEXT NOT NULL);
    INSERT INTO floor_head (id, seq, hash) SELECT 1, 0, '' WHERE NOT EXISTS (SELECT 1 FROM floor_head);
";

/// The mail a new request queues for the bureau, about as long as maatje's.
const MAIL: &str = "Er is een nieuwe aanvraag voor een maatje binnengekomen. Bekijk de aanvraag \
    en de kandidaten in de console. Deze e-mail bevat geen persoonsgegevens van de cliënt.";

#[derive(Insertable)]
#[diesel(table_name = floor_requests)]
struct RequestRow<'a> {
    id: &'a str,
    body: &'a str,
    state: &'a str,
    created_at: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = floor_history)]
struct HistoryRow<'a> {
    id: &'a str,
    request_id: &'a str,
    state: &'a str,
    at: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = floor_outbox)]
struct OutboxRow<'a> {
    id: &'a str,
    recipient: &'a str,
    subject: &'a str,
    body: &'a str,
    created_at: &'a str,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = floor_audit)]
struct AuditRow {
    seq: i64,
    at: String,
    action: String,
    object_id: String,
    prev_hash: String,
    hash: String,
}

#[derive(Insertable)]
#[diesel(table_name = floor_loose_audit)]
struct LooseAuditRow<'a> {
    id: &'a str,
    at: &'a str,
    action: &'a str,
    object_id: &'a str,
}

/// What a record says before it is chained.
struct Record {
    at: String,
    action: &'static str,
    object_id: String,
}

impl Record {
    fn chained(self, seq: i64, prev_hash: &str) -> AuditRow {
        let mut digest = Sha256::new();
        for part in [
            prev_hash,
            &seq.to_string(),
            &self.at,
            self.action,
            &self.object_id,
        ] {
            digest.update(part.as_bytes());
            digest.update([0]);
        }
        let hash = format!("{:x}", digest.finalize());
        AuditRow {
            seq,
            at: self.at,
            action: self.action.into(),
            object_id: self.object_id,
            prev_hash: prev_hash.into(),
            hash,
        }
    }
}

/// `UPDATE floor_head SET seq = $1, hash = $2 WHERE id = 1`, written out so that it is prepared
/// once per connection (diesel compiles its own UPDATEs anew each time).
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
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("UPDATE floor_head SET seq = ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.seq)?;
        out.push_sql(", hash = ");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.hash)?;
        out.push_sql(" WHERE id = 1");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for MoveHead {}

/// Appends `records` after the head, moves the head once: inside a write transaction.
macro_rules! append {
    ($conn:expr, $records:expr, $lock:expr) => {{
        let conn = &mut *$conn;
        let (mut seq, mut hash): (i64, String) = $lock(conn)?;
        for record in $records {
            seq += 1;
            let row = record.chained(seq, &hash);
            diesel::insert_into(floor_audit::table)
                .values(&row)
                .execute(conn)?;
            hash = row.hash;
        }
        MoveHead { seq, hash }.execute(conn)?;
        QueryResult::Ok(())
    }};
}

/// Inserts the request, its history row and the bureau's outbox row.
macro_rules! insert_request {
    ($conn:expr, $id:expr, $body:expr, $at:expr) => {{
        let (conn, id, at): (&mut _, &str, &str) = (&mut *$conn, $id, $at);
        diesel::insert_into(floor_requests::table)
            .values(&RequestRow {
                id,
                body: $body,
                state: "open",
                created_at: at,
            })
            .execute(conn)?;
        diesel::insert_into(floor_history::table)
            .values(&HistoryRow {
                id: &uuid::Uuid::now_v7().to_string(),
                request_id: id,
                state: "open",
                at,
            })
            .execute(conn)?;
        diesel::insert_into(floor_outbox::table)
            .values(&OutboxRow {
                id: &uuid::Uuid::now_v7().to_string(),
                recipient: "bureau@example.org",
                subject: "Nieuwe aanvraag voor een maatje",
                body: MAIL,
                created_at: at,
            })
            .execute(conn)?;
    }};
}

/// Runs `$body` (which may use `$conn`) in a write transaction of either backend.
macro_rules! write_transaction {
    ($db:expr, $conn:ident, $lock:ident => $body:expr) => {
        match $db {
            Db::Sqlite(pool) => {
                let conn = &mut *pool.get().map_err(|e| e.to_string())?;
                conn.immediate_transaction(|$conn| {
                    let $lock = |c: &mut SqliteConnection| {
                        floor_head::table
                            .find(1)
                            .select((floor_head::seq, floor_head::hash))
                            .first::<(i64, String)>(c)
                    };
                    $body
                })
                .map_err(|e: diesel::result::Error| e.to_string())
            }
            Db::Postgres(pool) => {
                let conn = &mut *pool.get().map_err(|e| e.to_string())?;
                conn.transaction(|$conn| {
                    let $lock = |c: &mut PgConnection| {
                        floor_head::table
                            .find(1)
                            .select((floor_head::seq, floor_head::hash))
                            .for_update()
                            .first::<(i64, String)>(c)
                    };
                    $body
                })
                .map_err(|e: diesel::result::Error| e.to_string())
            }
        }
    };
}

pub fn create_tables(db: &Db) {
    let run = |result: QueryResult<()>| result.expect("the floor's tables");
    match db {
        Db::Sqlite(pool) => run(pool.get().unwrap().batch_execute(CREATE)),
        Db::Postgres(pool) => run(pool.get().unwrap().batch_execute(CREATE)),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// The connections the floor writes with (the baseline's pool; see `baseline::serve`).
#[derive(Clone)]
pub struct Writer(pub Db);

pub async fn create(writer: web::Data<Writer>, body: web::Json<serde_json::Value>) -> HttpResponse {
    let db = writer.0.clone();
    let body = body.into_inner().to_string();
    let stored = web::block(move || -> Result<(String, String), String> {
        let id = uuid::Uuid::now_v7().to_string();
        let at = now();
        write_transaction!(&db, conn, lock => {
            insert_request!(conn, &id, &body, &at);
            let record = Record { at: at.clone(), action: "create", object_id: id.clone() };
            append!(conn, [record], lock)
        })?;
        Ok((id, at))
    })
    .await;
    created(stored)
}

/// Below the floor, to show what the chain costs: the same POST with its audit record in the
/// transaction but not chained (no head to lock, read and move).
pub async fn create_unchained(
    writer: web::Data<Writer>,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    let db = writer.0.clone();
    let body = body.into_inner().to_string();
    let stored = web::block(move || -> Result<(String, String), String> {
        let id = uuid::Uuid::now_v7().to_string();
        let at = now();
        write_transaction!(&db, conn, _lock => {
            insert_request!(conn, &id, &body, &at);
            diesel::insert_into(floor_loose_audit::table)
                .values(&LooseAuditRow {
                    id: &uuid::Uuid::now_v7().to_string(),
                    at: &at,
                    action: "create",
                    object_id: &id,
                })
                .execute(conn)?;
            QueryResult::Ok(())
        })?;
        Ok((id, at))
    })
    .await;
    created(stored)
}

fn created(
    stored: Result<Result<(String, String), String>, actix_web::error::BlockingError>,
) -> HttpResponse {
    match stored {
        Ok(Ok((id, at))) => HttpResponse::Created().json(serde_json::json!({
            "id": id,
            "state": "open",
            "created_at": at,
        })),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// Group commit of read records (see the module's documentation).
pub struct Group {
    writer: Db,
    state: Mutex<GroupState>,
    committed: Condvar,
}

#[derive(Default)]
struct GroupState {
    queue: Vec<Record>,
    /// How many records were ever queued and ever committed.
    queued: u64,
    done: u64,
    writing: bool,
}

impl Group {
    pub fn new(writer: Writer) -> Group {
        Group {
            writer: writer.0,
            state: Mutex::default(),
            committed: Condvar::new(),
        }
    }

    /// Queues `record` and returns once it is committed, writing it (and every other queued
    /// record) itself when no other thread is.
    fn append(&self, record: Record) -> Result<(), String> {
        let mut state = self.state.lock().unwrap();
        state.queue.push(record);
        state.queued += 1;
        let ticket = state.queued;
        loop {
            if state.done >= ticket {
                return Ok(());
            }
            if state.writing {
                state = self.committed.wait(state).unwrap();
                continue;
            }
            state.writing = true;
            let batch = std::mem::take(&mut state.queue);
            drop(state);
            let n = batch.len() as u64;
            let written = write_batch(&self.writer, batch);
            state = self.state.lock().unwrap();
            state.writing = false;
            state.done += n;
            self.committed.notify_all();
            // A failed batch ends the benchmark: the floor must not answer unrecorded reads.
            written.expect("the floor's audit batch");
        }
    }
}

impl Group {
    /// Below the floor, to show what waiting for the record costs: queues `record` and returns
    /// at once, unless no batch is being written, in which case it writes the queue itself.
    fn append_unwaited(&self, record: Record) -> Result<(), String> {
        let mut state = self.state.lock().unwrap();
        state.queue.push(record);
        state.queued += 1;
        if state.writing {
            return Ok(());
        }
        state.writing = true;
        let batch = std::mem::take(&mut state.queue);
        drop(state);
        let n = batch.len() as u64;
        let written = write_batch(&self.writer, batch);
        let mut state = self.state.lock().unwrap();
        state.writing = false;
        state.done += n;
        self.committed.notify_all();
        written
    }
}

fn write_batch(db: &Db, batch: Vec<Record>) -> Result<(), String> {
    write_transaction!(db, conn, lock => append!(conn, batch, lock))
}

pub async fn read(
    db: web::Data<Db>,
    group: web::Data<Group>,
    id: web::Path<String>,
) -> HttpResponse {
    read_then(db, group, id, Group::append).await
}

/// The GET answering before its record is committed (see [`Group::append_unwaited`]).
pub async fn read_unwaited(
    db: web::Data<Db>,
    group: web::Data<Group>,
    id: web::Path<String>,
) -> HttpResponse {
    read_then(db, group, id, Group::append_unwaited).await
}

async fn read_then(
    db: web::Data<Db>,
    group: web::Data<Group>,
    id: web::Path<String>,
    record: fn(&Group, Record) -> Result<(), String>,
) -> HttpResponse {
    let db = db.get_ref().clone();
    let group = group.into_inner();
    let id = id.into_inner();
    let found = web::block(
        move || -> Result<Option<(String, String, String)>, String> {
            let query = floor_requests::table.find(&id).select((
                floor_requests::body,
                floor_requests::state,
                floor_requests::created_at,
            ));
            let row = match &db {
                Db::Sqlite(pool) => {
                    let conn = &mut *pool.get().map_err(|e| e.to_string())?;
                    query.first(conn).optional()
                }
                Db::Postgres(pool) => {
                    let conn = &mut *pool.get().map_err(|e| e.to_string())?;
                    query.first(conn).optional()
                }
            }
            .map_err(|e| e.to_string())?;
            record(
                &group,
                Record {
                    at: now(),
                    action: "read",
                    object_id: id.clone(),
                },
            )?;
            Ok(row)
        },
    )
    .await;
    match found {
        Ok(Ok(Some((body, state, created_at)))) => {
            let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            HttpResponse::Ok().json(serde_json::json!({
                "state": state,
                "created_at": created_at,
                "request": body,
            }))
        }
        Ok(Ok(None)) => HttpResponse::NotFound().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}
