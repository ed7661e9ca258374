//! The reference: a bare actix-web + diesel + r2d2 service with no rules. `POST /requests` parses
//! the JSON body and stores it with one INSERT; `GET /requests/{id}` is one SELECT by primary key.
//! Its pool has maatje's settings (size, timeout, SQLite pragmas), it hands each query to the
//! blocking pool as maatje does, and it runs with maatje's default worker count.

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};

diesel::table! {
    bare_requests (id) {
        id -> Text,
        body -> Text,
        created_at -> Text,
    }
}

#[derive(Insertable, Queryable)]
#[diesel(table_name = bare_requests)]
struct Row {
    id: String,
    body: String,
    created_at: String,
}

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
             PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

#[derive(Clone)]
pub enum Db {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// The same code for either backend.
macro_rules! with_conn {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            Db::Sqlite(pool) => {
                let $conn = &mut *pool.get().map_err(|e| e.to_string())?;
                $body
            }
            Db::Postgres(pool) => {
                let $conn = &mut *pool.get().map_err(|e| e.to_string())?;
                $body
            }
        }
    };
}

const CREATE: &str =
    "CREATE TABLE IF NOT EXISTS bare_requests (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at TEXT NOT NULL)";

fn connect(url: &str, pool_size: u32) -> Db {
    let timeout = Duration::from_secs(5);
    if let Some(path) = url.strip_prefix("sqlite://") {
        let pool = Pool::builder()
            .max_size(pool_size)
            .connection_timeout(timeout)
            .connection_customizer(Box::new(Pragmas))
            .build(ConnectionManager::<SqliteConnection>::new(path))
            .expect("the baseline's SQLite pool");
        pool.get().unwrap().batch_execute(CREATE).unwrap();
        let db = Db::Sqlite(pool);
        super::floor::create_tables(&db);
        db
    } else {
        let pool = Pool::builder()
            .max_size(pool_size)
            .connection_timeout(timeout)
            .build(ConnectionManager::<PgConnection>::new(url))
            .expect("the baseline's PostgreSQL pool");
        pool.get().unwrap().batch_execute(CREATE).unwrap();
        let db = Db::Postgres(pool);
        super::floor::create_tables(&db);
        db
    }
}

async fn create(db: web::Data<Db>, body: web::Json<serde_json::Value>) -> HttpResponse {
    let row = Row {
        id: uuid::Uuid::now_v7().to_string(),
        body: body.into_inner().to_string(),
        created_at: chrono::Utc::now().to_rfc3339(),
    };
    let db = db.get_ref().clone();
    let stored = web::block(move || -> Result<Row, String> {
        with_conn!(&db, conn => {
            diesel::insert_into(bare_requests::table)
                .values(&row)
                .execute(conn)
                .map_err(|e| e.to_string())?;
        });
        Ok(row)
    })
    .await;
    match stored {
        Ok(Ok(row)) => HttpResponse::Created().json(serde_json::json!({
            "id": row.id,
            "created_at": row.created_at,
        })),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

async fn read(db: web::Data<Db>, id: web::Path<String>) -> HttpResponse {
    let db = db.get_ref().clone();
    let id = id.into_inner();
    let found = web::block(move || -> Result<Option<Row>, String> {
        with_conn!(&db, conn => {
            bare_requests::table
                .find(&id)
                .first::<Row>(conn)
                .optional()
                .map_err(|e| e.to_string())
        })
    })
    .await;
    match found {
        Ok(Ok(Some(row))) => {
            let body: serde_json::Value = serde_json::from_str(&row.body).unwrap_or_default();
            HttpResponse::Ok().json(serde_json::json!({
                "id": row.id,
                "created_at": row.created_at,
                "request": body,
            }))
        }
        Ok(Ok(None)) => HttpResponse::NotFound().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// Serves the baseline on 127.0.0.1:`port` until killed.
pub fn serve(url: &str, port: u16, pool_size: u32) {
    let db = connect(url, pool_size);
    // The floor writes through the same pool: a single writer connection measured slower for it
    // on SQLite (3,220 POST/s against 4,270–4,480 with the pool of 8; see BENCHMARKS.md).
    let writer = super::floor::Writer(db.clone());
    let group = web::Data::new(super::floor::Group::new(writer.clone()));
    let writer = web::Data::new(writer);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(db.clone()))
                .app_data(group.clone())
                .app_data(writer.clone())
                .route("/floor/requests", web::post().to(super::floor::create))
                .route("/floor/requests/{id}", web::get().to(super::floor::read))
                .route(
                    "/floor/unchained",
                    web::post().to(super::floor::create_unchained),
                )
                .route(
                    "/floor/unwaited/{id}",
                    web::get().to(super::floor::read_unwaited),
                )
                .route("/requests", web::post().to(create))
                .route("/requests/{id}", web::get().to(read))
        })
        .bind(("127.0.0.1", port))
        .expect("the baseline's port")
        .run()
        .await
        .expect("the baseline server")
    });
}
