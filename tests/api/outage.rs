//! Honest answers while the database is in trouble: unreachable, full or read-only are each a
//! 503 problem with `Retry-After`, answered fast, and the service recovers by itself.
//!
//! The full and read-only cases change a setting of the server's one pooled connection
//! (`MAATJE__DATABASE__POOL_SIZE=1`, [`TestApp::server_db`]). The unreachable case needs
//! PostgreSQL (`MAATJE_TEST_POSTGRES_URL`): a [`Proxy`] between the server and the database is
//! cut and restored.

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{
    assert_problem, spawn_app_routed, spawn_app_with, Method, Response, TestApp, POSTGRES_ENV,
    STAFF_PASSWORD,
};
use crate::proxy::Proxy;

/// One pooled connection: on PostgreSQL the one the test changes is the one the server uses (on
/// SQLite the server writes through one connection of its own anyway).
const ONE_CONNECTION: &[(&str, &str)] = &[("MAATJE__DATABASE__POOL_SIZE", "1")];

/// The bound on every answer during an outage, and on recovery.
const FAST: Duration = Duration::from_secs(1);

/// Runs `sql` on the server's connection that writes.
fn on_server_connection(app: &TestApp, sql: &str) {
    let mut conn = app
        .server_db
        .blocking_writer()
        .unwrap_or_else(|e| panic!("the server's connection: {e}"));
    conn.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[derive(QueryableByName)]
struct Pages {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    page_count: i64,
}

/// Caps the SQLite file at the pages it has, on the server's writer connection: the next write
/// that needs a page fails with `SQLITE_FULL`, as on a full disk.
fn fill_sqlite(app: &TestApp) {
    let mut conn = app
        .server_db
        .blocking_writer()
        .expect("the server's connection");
    let pages: Pages = diesel::sql_query("SELECT page_count FROM pragma_page_count()")
        .get_result(&mut *conn)
        .expect("the page count");
    conn.batch_execute(&format!("PRAGMA max_page_count = {}", pages.page_count))
        .expect("capping the file");
}

fn assert_storage_problem(response: &Response, kind: &str) {
    assert_problem(response, 503, kind);
    assert_eq!(
        response.header("retry-after"),
        Some("30"),
        "{}",
        response.text
    );
}

fn assert_unavailable(response: &Response, what: &str, took: Duration) {
    assert_problem(response, 503, "unavailable");
    assert_eq!(response.header("retry-after"), Some("5"), "{what}");
    assert!(took < FAST, "{what} took {took:?} during the outage");
}

async fn login(app: &TestApp) -> Response {
    app.request_with_headers(
        Method::POST,
        "/v1/auth/login",
        Some("application/json"),
        serde_json::to_vec(&json!({ "email": "admin@example.org", "password": STAFF_PASSWORD }))
            .unwrap(),
        &[("authorization", "")],
    )
    .await
}

async fn create(app: &TestApp, name: &str) -> Response {
    app.post_json("/v1/organisations", &json!({ "name": name }))
        .await
}

/// The writes a full database refuses are each a 503 `storage-full`; nothing is stored, the
/// probes say not ready, and once there is room again everything works without a restart.
#[tokio::test]
async fn a_full_sqlite_database_is_a_503_storage_full_until_there_is_room() {
    let app = spawn_app_with(ONE_CONNECTION).await;
    if app.is_postgres() {
        eprintln!("skipped: the SQLite size cap needs SQLite");
        return;
    }
    assert_eq!(create(&app, "Voor de volle schijf").await.status, 201);
    fill_sqlite(&app);

    // Rows of one size until one needs a page the file cannot grow by: the room left in the
    // last pages is used up first.
    let name = |n: usize| format!("Organisatie {n:03} {}", "x".repeat(150));
    let mut refused = None;
    for n in 0..200 {
        let before = app.table_counts();
        let response = create(&app, &name(n)).await;
        if response.status != 201 {
            assert_eq!(app.table_counts(), before, "a refused write stores nothing");
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("a write is refused once the file cannot grow");
    assert_storage_problem(&refused, "storage-full");
    assert_eq!(refused.body["title"], "Storage full");
    let before = app.table_counts();
    assert_storage_problem(&create(&app, &name(999)).await, "storage-full");
    assert_eq!(app.table_counts(), before, "a refused write stores nothing");
    // Reading still works.
    assert_eq!(app.get("/v1/organisations").await.status, 200);

    for path in ["/health/ready", "/v1/health/ready"] {
        let started = Instant::now();
        let ready = app.get(path).await;
        assert_storage_problem(&ready, "storage-full");
        assert!(
            started.elapsed() < FAST,
            "{path} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(app.get("/health/live").await.status, 200);

    on_server_connection(&app, "PRAGMA max_page_count = 4294967294");
    assert_eq!(app.get("/health/ready").await.status, 200);
    let created = create(&app, "Na de volle schijf").await;
    assert_eq!(created.status, 201, "{}", created.text);
}

/// A database that takes no changes: every write is a 503 `read-only`, the probes say not
/// ready, reads still work, and once it takes changes again so does the service.
#[tokio::test]
async fn a_read_only_database_is_a_503_read_only_until_it_takes_changes_again() {
    let app = spawn_app_with(ONE_CONNECTION).await;
    assert_eq!(create(&app, "Voor alleen-lezen").await.status, 201);
    let (read_only, read_write) = if app.is_postgres() {
        (
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        )
    } else {
        ("PRAGMA query_only = ON", "PRAGMA query_only = OFF")
    };
    on_server_connection(&app, read_only);
    let before = app.table_counts();

    let refused = create(&app, "Tijdens alleen-lezen").await;
    assert_storage_problem(&refused, "read-only");
    assert_eq!(refused.body["title"], "Database read-only");
    assert_eq!(app.table_counts(), before, "a refused write stores nothing");
    for path in ["/health/ready", "/v1/health/ready"] {
        let started = Instant::now();
        assert_storage_problem(&app.get(path).await, "read-only");
        assert!(
            started.elapsed() < FAST,
            "{path} took {:?}",
            started.elapsed()
        );
    }

    on_server_connection(&app, read_write);
    assert_eq!(app.get("/health/ready").await.status, 200);
    let created = create(&app, "Na alleen-lezen").await;
    assert_eq!(created.status, 201, "{}", created.text);
}

/// The PostgreSQL server behind [`POSTGRES_ENV`] and a proxy in front of it, or `None` (the
/// test is skipped) on SQLite.
async fn postgres_proxy() -> Option<Proxy> {
    let Some(admin_url) = std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("skipped: needs {POSTGRES_ENV}");
        return None;
    };
    let parsed = url::Url::parse(&admin_url).expect("a URL");
    let upstream = (
        parsed.host_str().expect("a host"),
        parsed.port().unwrap_or(5432),
    )
        .to_socket_addrs()
        .expect("the database's address")
        .next()
        .expect("an address");
    Some(Proxy::start(upstream).await)
}

/// PostgreSQL goes away (its connections are closed, new ones refused): reads, writes, logins
/// and the probes are all 503 `unavailable` with `Retry-After`, each within a second; when it is
/// back, the service is too within a second, without a restart.
#[tokio::test]
async fn an_unreachable_postgres_is_a_fast_503_and_the_service_recovers_by_itself() {
    let Some(proxy) = postgres_proxy().await else {
        return;
    };
    let app = spawn_app_routed(|url| proxy.route(url), &[]).await;
    assert_eq!(create(&app, "Voor de storing").await.status, 201);
    assert_eq!(login(&app).await.status, 200);
    assert_eq!(app.get("/v1/organisations").await.status, 200);

    proxy.cut().await;
    let mut slowest = Duration::ZERO;
    // Many at once, more than the pool holds: those that wait for a new connection give up
    // as soon as it fails, not after the pool's timeout.
    let burst = (0..12).map(|_| async {
        let started = Instant::now();
        let response = app.get("/v1/organisations").await;
        (response, started.elapsed())
    });
    for (response, took) in futures_util::future::join_all(burst).await {
        assert_unavailable(&response, "a read of a burst", took);
        slowest = slowest.max(took);
    }
    for round in 0..3 {
        for (what, path) in [
            ("a read", "/v1/organisations"),
            ("a write", "/v1/organisations"),
            ("a login", "/v1/auth/login"),
            ("readiness", "/health/ready"),
            ("readiness under /v1", "/v1/health/ready"),
        ] {
            let started = Instant::now();
            let response = match what {
                "a write" => create(&app, "Tijdens de storing").await,
                "a login" => login(&app).await,
                _ => app.get(path).await,
            };
            let took = started.elapsed();
            eprintln!(
                "outage round {round}: {what}: {} in {took:?}",
                response.status
            );
            assert_unavailable(&response, what, took);
            slowest = slowest.max(took);
        }
    }
    assert_eq!(
        app.get("/health/live").await.status,
        200,
        "liveness needs no database"
    );
    eprintln!("slowest answer during the outage: {slowest:?}");

    proxy.restore().await;
    let restored = Instant::now();
    loop {
        let response = app.get("/v1/health/ready").await;
        if response.status == 200 {
            break;
        }
        assert_problem(&response, 503, "unavailable");
        assert!(
            restored.elapsed() < FAST,
            "still not ready {:?} after the database came back",
            restored.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "ready again {:?} after the database came back",
        restored.elapsed()
    );
    let created = create(&app, "Na de storing").await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(login(&app).await.status, 200);
    assert_eq!(app.get("/v1/organisations").await.status, 200);
    assert!(
        restored.elapsed() < FAST,
        "back to normal {:?} after the database came back",
        restored.elapsed()
    );
}

/// A request that needs a new connection when the database has gone (no idle one to fail on)
/// does not wait for the pool's connection timeout: the failed connection attempt opens the
/// breaker, and the request is answered at once.
#[tokio::test]
async fn a_request_waiting_for_a_new_connection_is_answered_as_soon_as_connecting_fails() {
    let Some(proxy) = postgres_proxy().await else {
        return;
    };
    let app = spawn_app_routed(
        |url| proxy.route(url),
        &[("MAATJE__DATABASE__POOL_SIZE", "2")],
    )
    .await;
    assert_eq!(app.get("/v1/organisations").await.status, 200);
    // The pool's idle connection is held here, so the request below needs a new one.
    let held = app.server_db.blocking().expect("the idle connection");
    proxy.cut().await;
    let started = Instant::now();
    let response = app.get("/v1/organisations").await;
    let took = started.elapsed();
    eprintln!(
        "first request needing a new connection: {} in {took:?}",
        response.status
    );
    assert_unavailable(&response, "a read needing a new connection", took);
    drop(held);
    proxy.restore().await;
    let restored = Instant::now();
    while app.get("/health/ready").await.status != 200 {
        assert!(restored.elapsed() < FAST, "not ready again within {FAST:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.get("/v1/organisations").await.status, 200);
}
