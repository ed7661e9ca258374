//! The test harness: the real server on a free port against a fresh database per test, request
//! helpers that check every answer against the OpenAPI contract, and fixtures.
//!
//! ```ignore
//! let app = spawn_app().await;
//! let before = app.table_counts();
//! let resp = app.post_json("/v1/organisations", &json!({ "name": 5 })).await;
//! assert_invalid_fields(&resp, &["name"]);
//! assert_eq!(app.table_counts(), before, "a bad request stores nothing");
//! ```
//!
//! # Databases
//!
//! SQLite by default: a file in a temporary directory that lives as long as the [`TestApp`].
//!
//! PostgreSQL when `MAATJE_TEST_POSTGRES_URL` is set to a maintenance database on a server where
//! the test may create databases, e.g. `postgres://postgres@127.0.0.1:55432/postgres` (see
//! `.ci/run`). Once per test process a template database `maatje_tpl_<pid>` is created and
//! migrated; each test then gets its own `maatje_t_<uuid>` cloned from it, dropped again when the
//! [`TestApp`] is dropped. A template outlives its process; the next run on a local server drops
//! those whose process has ended. A test process that is killed leaves its databases behind.
//!
//! # What every request checks
//!
//! Each helper that sends a request panics unless the answer
//! - carries an `X-Request-Id` header;
//! - for 4xx and 5xx: is `application/problem+json` whose `status` equals the HTTP status, with
//!   `type`, `title` and a `request_id` equal to the header;
//! - has a status code that the OpenAPI spec documents for the operation matching the method
//!   and path (paths the spec does not describe, such as `/docs` or unknown routes, and methods
//!   it does not list for a path are exempt);
//! - keeps the contract, checked by a JSON Schema 2020-12 validator (see [`crate::contract`]):
//!   the answer's content type is documented for its status and a JSON body validates against
//!   the documented schema (enums, formats, patterns, `additionalProperties`), problems
//!   included; and a request the server accepted (2xx) validates too: its JSON body, its query
//!   and path parameters, and a required body is there.
//!
//! Set `TEST_LOG=1` to see the server's logs (`TEST_LOG=debug` for more). [`capture_logs`] keeps
//! them in memory at debug level, for tests about what is (not) logged.
//!
//! # Adding a module
//!
//! A new resource gets `tests/api/<resource>.rs` and a `mod <resource>;` line in `main.rs`. Use
//! `#[tokio::test]`, one [`spawn_app`] per test, the request helpers of [`TestApp`] (never a
//! bare `reqwest` call, which would skip the checks above), [`assert_problem`] and
//! [`assert_invalid_fields`] for failures, and `app.table_counts()` before and after every
//! request that must store nothing. Put fixtures that other modules need (`create_buddy`, ...)
//! here, next to [`create_organisation`], and new tables in [`TABLES`]. Move time with
//! `app.clock.advance(chrono::Duration::days(n))` instead of sleeping.

#![allow(dead_code)] // Not every test module uses every helper.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use maatje::auth::StaffRole;
use maatje::config::{DatabaseTarget, Settings};
use maatje::db::{Database, DbConnection};
use maatje::domain::clock::Clock;
use maatje::startup::Application;
pub use reqwest::Method;
use serde_json::Value;
use tempfile::TempDir;
use uuid::Uuid;

pub use crate::contract::Sent;

/// The environment variable that switches the tests to PostgreSQL.
pub const POSTGRES_ENV: &str = "MAATJE_TEST_POSTGRES_URL";

/// When every test's manual clock starts.
pub const START: &str = "2026-11-22T09:00:00Z";

/// Every table of the schema, for [`TestApp::table_counts`]. Add new tables here. The audit
/// trail (`audit_log`, `audit_head`) is left out on purpose: a refused request stores nothing
/// else, but it is audited; read it with [`TestApp::audit_records`].
pub const TABLES: &[&str] = &[
    "organisations",
    "buddies",
    "exit_interviews",
    "buddy_requests",
    "pairings",
    "request_exclusions",
    "matching_version",
    "history",
    "staff",
    "staff_sessions",
    "login_throttle",
    "api_clients",
    "api_keys",
    "outbox",
    "response_tokens",
];

/// The body limit of a test server (the default configuration's 64 KiB).
pub const MAX_BODY_BYTES: usize = 65536;

/// The time every test starts at, as a `DateTime`.
pub fn start_time() -> DateTime<Utc> {
    START.parse().expect("START is RFC 3339")
}

/// A running server and the handles a test needs to drive and inspect it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub address: String,
    pub port: u16,
    /// The server's clock: a manual clock at [`START`]; move it with `app.clock.advance(...)`.
    pub clock: Clock,
    /// The settings the server was built with.
    pub settings: Settings,
    /// A client that does not follow redirects.
    pub client: reqwest::Client,
    /// A pool of its own on the server's database, for [`TestApp::table_counts`] and
    /// [`TestApp::with_connection`].
    pub db: Database,
    /// The server's own pool (not a copy): with `MAATJE__DATABASE__POOL_SIZE=1` its one
    /// connection is the server's, for tests that change a connection's settings.
    pub server_db: Database,
    database: TestDatabase,
    /// The bearer token sent when a request names no `authorization` header itself.
    token: Mutex<Option<String>>,
    /// The token of the admin every test app starts with.
    pub admin_token: String,
}

/// What a request got back.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The body parsed as JSON, or `Value::Null` when it is not JSON.
    pub body: Value,
    /// The body as text (lossy UTF-8).
    pub text: String,
}

impl Response {
    /// A header's value, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `X-Request-Id` header (every response has one; the helpers check it).
    pub fn request_id(&self) -> &str {
        self.header("x-request-id").expect("checked on receipt")
    }

    /// The `Content-Type` without parameters, lower-cased ("" when absent).
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

/// Starts the server with the test defaults: see [`spawn_app_with`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the server on a free port of 127.0.0.1 with one worker, a small pool, a fresh database
/// (see the module docs) and a manual clock at [`START`]. `overrides` are extra
/// `MAATJE__SECTION__KEY` settings, e.g. `&[("MAATJE__SERVER__MAX_BODY_BYTES", "2048")]`; they
/// win over the test defaults.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_on(TestDatabase::create(), "admin@example.org", overrides).await
}

/// As [`spawn_app_with`], with the server's database URL passed through `route` first (e.g. to
/// point it at a proxy); the test's own pool ([`TestApp::db`]) uses the routed URL too.
pub async fn spawn_app_routed(
    route: impl FnOnce(&str) -> String,
    overrides: &[(&str, &str)],
) -> TestApp {
    let database = TestDatabase::create();
    let url = route(database.url());
    let mut overrides = overrides.to_vec();
    overrides.push(("MAATJE__DATABASE__URL", &url));
    spawn_app_on(database, "admin@example.org", &overrides).await
}

/// A second server on the database of `other`, as a second instance of the service in
/// production would be (its own pool, clock and workers; it logs in an admin of its own).
pub async fn spawn_app_sharing(other: &TestApp, overrides: &[(&str, &str)]) -> TestApp {
    let database = TestDatabase::Shared {
        url: other.database.url().to_owned(),
    };
    let admin = format!("admin-{}@example.org", Uuid::now_v7().simple());
    spawn_app_on(database, &admin, overrides).await
}

async fn spawn_app_on(database: TestDatabase, admin: &str, overrides: &[(&str, &str)]) -> TestApp {
    init_test_log();
    let max_body_bytes = MAX_BODY_BYTES.to_string();
    // Every key is set, so that a developer's `config/local.toml` cannot change the tests.
    let mut env: BTreeMap<String, String> = [
        ("MAATJE__SERVER__HOST", "127.0.0.1"),
        ("MAATJE__SERVER__PORT", "0"),
        ("MAATJE__SERVER__WORKERS", "1"),
        ("MAATJE__SERVER__MAX_BODY_BYTES", max_body_bytes.as_str()),
        ("MAATJE__DATABASE__URL", database.url()),
        ("MAATJE__DATABASE__POOL_SIZE", "3"),
        ("MAATJE__DATABASE__CONNECT_TIMEOUT_SECONDS", "5"),
        ("MAATJE__DATABASE__MIGRATE_ON_START", "true"),
        ("MAATJE__DATABASE__SQLITE_BUSY_TIMEOUT_MS", "5000"),
        ("MAATJE__LOG__FORMAT", "pretty"),
        ("MAATJE__LOG__LEVEL", "info"),
        // The background job would race the tests that move the clock; they run it on demand
        // (`POST /v1/privacy/retention/run`), and `privacy` turns it on where it is the subject.
        ("MAATJE__PRIVACY__RETENTION_ENABLED", "false"),
        ("MAATJE__PRIVACY__RETENTION_DAYS", "365"),
        ("MAATJE__PRIVACY__RETENTION_CHECK_INTERVAL_SECONDS", "3600"),
        // The mail worker too: `mail` turns it on, with a transport of its own.
        ("MAATJE__MAIL__WORKER_ENABLED", "false"),
        ("MAATJE__MAIL__TRANSPORT", "file"),
        // Shared by every instance on a database, as production instances must share theirs;
        // and no secret file is written into the working directory.
        ("MAATJE__MAIL__LINK_SECRET", TEST_LINK_SECRET),
        // Not the test server's address: links must come from here, never from a Host header.
        ("MAATJE__MAIL__PUBLIC_BASE_URL", PUBLIC_BASE_URL),
        // The scheduler would race the tests that move the clock; `workflow` runs it on demand.
        ("MAATJE__WORKFLOW__SCHEDULER_ENABLED", "false"),
        ("MAATJE__MATCHING__AUTO_PROPOSE", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in overrides {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let settings = Settings::load_from(None, env).expect("test settings are valid");
    let clock = Clock::manual(start_time());
    let application = Application::build(&settings, clock.clone()).expect("the application starts");
    let port = application.port();
    let server_db = application.database().clone();
    tokio::spawn(application.run_until_stopped());
    let db = Database::connect(&settings.database, settings.database_target())
        .expect("the test connects to the server's database");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("a reqwest client");
    let mut app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        clock,
        settings,
        client,
        db,
        server_db,
        database,
        token: Mutex::new(None),
        admin_token: String::new(),
    };
    let (_, token) = app.create_staff(StaffRole::Admin, admin).await;
    app.admin_token = token.clone();
    app.use_token(Some(&token));
    app
}

/// The link secret of every test server.
pub const TEST_LINK_SECRET: &str = "test-link-secret-0123456789abcdef0123456789";

/// The public base URL of every test server; [`TestApp::local_link`] points a link from a mail
/// at the test server instead.
pub const PUBLIC_BASE_URL: &str = "https://maatje.example.test";

/// The password every staff account made by the harness has.
pub const STAFF_PASSWORD: &str = "correct horse battery staple";

/// Its argon2id hash, computed once per test process (hashing is slow by design).
pub fn staff_password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| maatje::auth::password::hash(STAFF_PASSWORD))
        .clone()
}

impl TestApp {
    /// Sends `token` as bearer with every later request (`None`: no credentials).
    pub fn use_token(&self, token: Option<&str>) {
        *self.token.lock().unwrap() = token.map(str::to_owned);
    }

    /// Goes back to the admin the app started with.
    pub fn use_admin(&self) {
        self.use_token(Some(&self.admin_token.clone()));
    }

    /// Creates a staff account directly in the database (as `maatje admin create-staff` does)
    /// with a session that outlives any clock movement of a test. Returns its id and token.
    /// (Logging in through the API is tested in `auth`; its tokens expire with the clock.)
    pub async fn create_staff(&self, role: StaffRole, email: &str) -> (String, String) {
        let now = self.clock.now_naive();
        let email = email.to_owned();
        self.with_connection(|conn| {
            maatje::db::write_transaction(conn, |c| {
                let row = maatje::store::staff::create(
                    c,
                    email,
                    "Staff Voorbeeld".into(),
                    role,
                    staff_password_hash(),
                    now,
                )?;
                let token = maatje::store::staff::open_session(
                    c,
                    &row.id,
                    chrono::Duration::days(3650),
                    now,
                )?;
                Ok((row.id, token))
            })
            .expect("staff account created")
        })
    }

    /// Registers a case-management system for `organisation` through the API (as the admin) and
    /// returns its client id and key.
    pub async fn create_case_system(&self, organisation: &str, name: &str) -> (String, String) {
        let response = self
            .request_with_headers(
                Method::POST,
                "/v1/api-clients",
                Some("application/json"),
                to_bytes(&serde_json::json!({ "organisation_id": organisation, "name": name })),
                &[("authorization", &format!("Bearer {}", self.admin_token))],
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.text);
        (
            response.body["client"]["id"].as_str().unwrap().to_owned(),
            response.body["key"]["token"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None, Vec::new()).await
    }

    /// POSTs `body` as `application/json`.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some("application/json"), to_bytes(body))
            .await
    }

    /// POSTs without a body (and without a content type), as for action endpoints.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.request(Method::POST, path, None, Vec::new()).await
    }

    /// PATCHes `body` as `application/json`.
    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.request(
            Method::PATCH,
            path,
            Some("application/json"),
            to_bytes(body),
        )
        .await
    }

    /// Any method, any bytes, any content type (`None`: no `Content-Type` header).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        self.request_with_headers(method, path, content_type, body, &[])
            .await
    }

    /// As [`TestApp::request`], with extra request headers.
    pub async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Response {
        assert!(path.starts_with('/'), "paths start with '/': {path}");
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.address));
        let explicit_auth = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        if !explicit_auth {
            if let Some(token) = self.token.lock().unwrap().clone() {
                request = request.header("authorization", format!("Bearer {token}"));
            }
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        for (name, value) in headers {
            // An empty authorization header stands for "send no credentials".
            if !(name.eq_ignore_ascii_case("authorization") && value.is_empty()) {
                request = request.header(*name, *value);
            }
        }
        let sent_body = body.clone();
        if !body.is_empty() {
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: no response: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: unreadable body: {e}"));
        let response = Response {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        };
        let sent = Sent {
            content_type,
            body: &sent_body,
        };
        check_exchange(&method, path, sent, &response);
        response
    }

    /// Follows `next_cursor` from `path` (which may carry a query) and returns every item of
    /// every page, asserting each page is a 200.
    pub async fn collect_pages(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let url = match &cursor {
                None => path.to_owned(),
                Some(c) => with_query(path, "cursor", c),
            };
            let page = self.get(&url).await;
            assert_eq!(page.status, 200, "GET {url}: {}", page.text);
            items.extend(
                page.body["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .cloned(),
            );
            match page.body.get("next_cursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("{path}: more than 1000 pages");
    }

    /// Every history entry of a resource, e.g. `app.history("/v1/organisations/<id>")`,
    /// oldest first, following `next_cursor` to the end.
    pub async fn history(&self, resource_path: &str) -> Vec<Value> {
        self.collect_pages(&format!("{resource_path}/history"))
            .await
    }

    /// The records of the audit trail matching `query` (e.g. `"outcome=denied"`, or `""` for
    /// all), oldest first, read through `GET /v1/audit` as the admin the app started with,
    /// following `next_cursor` to the end. Reading the trail does not add to it.
    pub async fn audit_records_where(&self, query: &str) -> Vec<Value> {
        let admin = format!("Bearer {}", self.admin_token);
        let mut items = Vec::new();
        let mut url = format!("/v1/audit?limit=200&{query}");
        for _ in 0..1000 {
            let page = self
                .request_with_headers(
                    Method::GET,
                    &url,
                    None,
                    Vec::new(),
                    &[("authorization", &admin)],
                )
                .await;
            assert_eq!(page.status, 200, "GET {url}: {}", page.text);
            items.extend(
                page.body["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .cloned(),
            );
            match page.body.get("next_cursor").and_then(Value::as_str) {
                Some(next) => {
                    url = with_query(&format!("/v1/audit?limit=200&{query}"), "cursor", next)
                }
                None => return items,
            }
        }
        panic!("/v1/audit: more than 1000 pages");
    }

    /// Every record of the audit trail, oldest first (see [`TestApp::audit_records_where`]).
    pub async fn audit_records(&self) -> Vec<Value> {
        self.audit_records_where("").await
    }

    /// Rows in every table of [`TABLES`], read directly from the database.
    pub fn table_counts(&self) -> BTreeMap<&'static str, i64> {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        self.with_connection(|conn| {
            TABLES
                .iter()
                .map(|table| {
                    let rows: Vec<Count> =
                        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                            .load(conn)
                            .unwrap_or_else(|e| panic!("counting {table}: {e}"));
                    (*table, rows[0].n)
                })
                .collect()
        })
    }

    /// Expires a proposal now, as the scheduler does when its time is up (no API operation
    /// does): the domain's own transition in a write transaction, with the request's return to
    /// `open`, the history and the mail. For tests that need an expired pairing without moving
    /// the clock past the proposal's lifetime.
    pub fn expire_pairing(&self, pairing: &str) {
        let now = self.clock.now_naive();
        let reactions = self.reactions();
        self.with_connection(|conn| {
            maatje::ops::change_on(conn, &reactions, maatje::ops::Ctx::system(now), |tx| {
                maatje::ops::pairings::act(
                    tx,
                    pairing,
                    maatje::domain::pairing::PairingAction::Expire,
                    None,
                    None,
                )
            })
        })
        .expect("the proposal expires");
    }

    /// The server's mail notices, built as `Application::build` builds them.
    pub fn notices(&self) -> maatje::mail::notices::Notices {
        let links = maatje::respond::links::Links::from_settings(&self.settings.mail)
            .expect("the test link secret");
        maatje::mail::notices::Notices::new(&self.settings, links)
    }

    /// The server's reactions to changes (mails and automatic proposal), as
    /// `Application::build` builds them.
    pub fn reactions(&self) -> maatje::ops::Reactions {
        maatje::ops::Reactions::new(&self.settings, self.notices())
    }

    /// Runs `f` with a connection to the server's database (blocking; fine in tests).
    pub fn with_connection<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let mut conn = self
            .db
            .blocking()
            .unwrap_or_else(|e| panic!("no connection to the test database: {e}"));
        f(&mut conn)
    }

    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }

    /// Drops the server's PostgreSQL database while the server runs, terminating its
    /// connections, so that it cannot reach its database any more. Returns `false` (and does
    /// nothing) on SQLite, whose file cannot be made unreachable to an open connection.
    pub fn drop_database(&self) -> bool {
        match &self.database {
            TestDatabase::Sqlite { .. } | TestDatabase::Shared { .. } => false,
            TestDatabase::Postgres {
                admin_url, name, ..
            } => {
                admin_connection(admin_url)
                    .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
                    .unwrap_or_else(|e| panic!("dropping {name}: {e}"));
                true
            }
        }
    }
}

/// Panics with a clear message when the exchange breaks a rule every response must keep, or the
/// contract (see the module docs and [`crate::contract`]).
pub fn check_exchange(method: &Method, path: &str, sent: Sent<'_>, response: &Response) {
    check_response(method, path, response);
    let violations = crate::contract::violations(method, path, sent, response);
    assert!(
        violations.is_empty(),
        "{method} {path} -> {}: breaks the OpenAPI contract:\n  - {}\nbody: {}",
        response.status,
        violations.join("\n  - "),
        response.text
    );
}

/// A response as the server might have sent it, with request id `req-1`: for the harness's own
/// tests of its checks, which must be able to fail.
pub fn canned_response(status: u16, content_type: &str, body: Value) -> Response {
    use reqwest::header::{HeaderMap, HeaderValue};
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", HeaderValue::from_static("req-1"));
    headers.insert("content-type", HeaderValue::from_str(content_type).unwrap());
    Response {
        status,
        headers,
        text: body.to_string(),
        body,
    }
}

/// Panics with a clear message when `response` breaks a rule every response must keep (see the
/// module docs).
pub fn check_response(method: &Method, path: &str, response: &Response) {
    let what = format!("{method} {path} -> {}", response.status);
    let request_id = response
        .header("x-request-id")
        .unwrap_or_else(|| panic!("{what}: no X-Request-Id header"));
    assert!(!request_id.is_empty(), "{what}: empty X-Request-Id");
    if path.starts_with("/respond/") {
        // The buddy response pages are HTML for people, errors included (see `respond`).
        assert_eq!(
            response.content_type(),
            "text/html",
            "{what}: {}",
            response.text
        );
        return;
    }
    if response.status >= 400 {
        assert_eq!(
            response.content_type(),
            "application/problem+json",
            "{what}: an error must be application/problem+json; body: {}",
            response.text
        );
        let body = &response.body;
        assert!(
            body.is_object(),
            "{what}: problem body is not a JSON object: {}",
            response.text
        );
        assert_eq!(
            body["status"].as_u64(),
            Some(u64::from(response.status)),
            "{what}: problem `status` differs from the HTTP status: {body}"
        );
        for member in ["type", "title"] {
            assert!(
                body[member].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: problem without `{member}`: {body}"
            );
        }
        assert_eq!(
            body["request_id"].as_str(),
            Some(request_id),
            "{what}: problem `request_id` differs from the X-Request-Id header: {body}"
        );
    }
    if let Some((template, operation)) = find_operation(method, path) {
        assert!(
            documents_status(operation, response.status),
            "{what}: status {} is not documented in the OpenAPI spec for {} {template} \
             (documented: {:?}); body: {}",
            response.status,
            method,
            operation["responses"]
                .as_object()
                .map(|r| r.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default(),
            response.text
        );
    }
}

/// The spec as JSON, built once per process.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::to_value(maatje::startup::openapi_spec()).expect("the spec serialises")
    })
}

/// The spec's paths with their full path: the document's server (`/v1`) or the path item's
/// own (`/` for the probes) joined with the path, e.g. `("/v1/buddies", item)`.
pub fn spec_paths() -> &'static [(String, &'static Value)] {
    static PATHS: OnceLock<Vec<(String, &'static Value)>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let spec = spec();
        let base = spec["servers"][0]["url"].as_str().unwrap_or("");
        spec["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .map(|(path, item)| {
                let server = item["servers"][0]["url"].as_str().unwrap_or(base);
                (format!("{}{path}", server.trim_end_matches('/')), item)
            })
            .collect()
    })
}

/// The spec's operation for a request, and the full path template it matched (see
/// [`spec_paths`]). A concrete path matches a template segment by segment, `{param}` matching
/// any one segment; when several templates match, the one with the most literal segments wins.
/// The query string is ignored.
pub fn find_operation(method: &Method, path: &str) -> Option<(&'static str, &'static Value)> {
    find_spec_operation(method, path).map(|found| (found.template, found.operation))
}

/// What [`find_spec_operation`] found for a request.
pub struct SpecOperation {
    /// The full path template, e.g. `/v1/buddies/{id}`.
    pub template: &'static str,
    /// The key of the path in the document's `paths`, relative to its server: `/buddies/{id}`.
    pub key: &'static str,
    pub operation: &'static Value,
}

/// As [`find_operation`], with the path's key in the document as well (for JSON pointers into
/// it, such as `/paths/~1buddies~1{id}/get`).
pub fn find_spec_operation(method: &Method, path: &str) -> Option<SpecOperation> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let (template, item) = spec_paths()
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') && part.ends_with('}') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, (template, item)))
        })
        .max_by_key(|(literal, _)| *literal)?
        .1;
    let operation = item.get(method.as_str().to_ascii_lowercase())?;
    let key = spec()["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .find_map(|(key, candidate)| std::ptr::eq(candidate, *item).then_some(key.as_str()))
        .expect("every entry of spec_paths is a path of the spec");
    Some(SpecOperation {
        template: template.as_str(),
        key,
        operation,
    })
}

/// True when the operation documents `status` itself, its class (`4XX`) or a `default`.
pub fn documents_status(operation: &Value, status: u16) -> bool {
    let Some(responses) = operation["responses"].as_object() else {
        return false;
    };
    let class = format!("{}XX", status / 100);
    responses.contains_key(&status.to_string())
        || responses.contains_key(&class)
        || responses.contains_key(&class.to_ascii_lowercase())
        || responses.contains_key("default")
}

/// Asserts a problem answer with this status whose `type` is `urn:maatje:problem:<type_suffix>`.
#[track_caller]
pub fn assert_problem(response: &Response, status: u16, type_suffix: &str) {
    assert_eq!(
        response.status, status,
        "expected {status} {type_suffix}, got: {}",
        response.text
    );
    assert_eq!(
        response.content_type(),
        "application/problem+json",
        "{}",
        response.text
    );
    assert_eq!(
        response.body["type"].as_str(),
        Some(format!("urn:maatje:problem:{type_suffix}").as_str()),
        "{}",
        response.text
    );
}

/// Asserts a 400 whose `errors` name exactly these fields (in any order), each with a message.
/// `""` stands for the body as a whole.
#[track_caller]
pub fn assert_invalid_fields(response: &Response, fields: &[&str]) {
    assert_problem(response, 400, "validation");
    let errors = response.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 400 without `errors`: {}", response.text));
    for error in errors {
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error without message: {}",
            response.text
        );
    }
    let got: BTreeSet<&str> = errors.iter().filter_map(|e| e["field"].as_str()).collect();
    let want: BTreeSet<&str> = fields.iter().copied().collect();
    assert_eq!(got, want, "invalid fields of {}", response.text);
}

/// Registers an organisation named `name` and returns the created resource.
pub async fn create_organisation(app: &TestApp, name: &str) -> Value {
    let response = app
        .post_json("/v1/organisations", &serde_json::json!({ "name": name }))
        .await;
    assert_eq!(
        response.status, 201,
        "creating organisation {name}: {}",
        response.text
    );
    response.body
}

/// The `id` member of a resource, as a string.
#[track_caller]
pub fn id_of(resource: &Value) -> String {
    resource["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {resource}"))
        .to_owned()
}

/// Parses an RFC 3339 time member of a resource.
#[track_caller]
pub fn time_of(resource: &Value, member: &str) -> DateTime<Utc> {
    resource[member]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("no RFC 3339 `{member}` in {resource}"))
        .with_timezone(&Utc)
}

/// `path` with `key=value` appended to its query string (value URL-encoded).
pub fn with_query(path: &str, key: &str, value: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .append_pair(key, value)
        .finish();
    format!("{path}{separator}{encoded}")
}

fn to_bytes(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).expect("a JSON value serialises")
}

/// What [`capture_logs`] keeps: everything the service and actix log, down to debug level.
pub const CAPTURE_FILTER: &str = "maatje=debug,actix_web=debug,actix_http=debug,actix_server=debug";

/// The log lines captured since the first [`capture_logs`] of this process.
static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// How many [`LogCapture`]s are alive; lines are kept only while there is one.
static CAPTURING: AtomicUsize = AtomicUsize::new(0);

struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if CAPTURING.load(Ordering::SeqCst) > 0 {
            CAPTURED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the servers of this test process log while the capture lives, at the levels of
/// [`CAPTURE_FILTER`] whatever their `log.level`, as plain text.
///
/// Tests run in parallel and the subscriber is global, so the text holds the lines of every
/// server running meanwhile: look for values only your test uses.
pub struct LogCapture {
    start: usize,
}

impl LogCapture {
    /// Everything captured since this capture began.
    pub fn text(&self) -> String {
        let captured = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&captured[self.start.min(captured.len())..]).into_owned()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts capturing the logs of every server in this process; see [`LogCapture`].
pub fn capture_logs() -> LogCapture {
    init_test_log();
    let start = CAPTURED.lock().unwrap_or_else(|e| e.into_inner()).len();
    CAPTURING.fetch_add(1, Ordering::SeqCst);
    LogCapture { start }
}

/// Installs the process's subscriber once: the in-memory capture of [`capture_logs`], and with
/// `TEST_LOG` set, standard error at that level (`1` means `info`).
fn init_test_log() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{fmt, EnvFilter, Layer};

    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let capture = fmt::layer()
            .with_ansi(false)
            .with_writer(|| CaptureWriter)
            .with_filter(EnvFilter::new(CAPTURE_FILTER));
        let stderr = std::env::var("TEST_LOG").ok().map(|level| {
            let level = if level == "1" || level == "true" {
                "info".to_owned()
            } else {
                level
            };
            fmt::layer()
                .with_target(false)
                .with_writer(std::io::stderr)
                .with_filter(EnvFilter::new(level))
        });
        let _ = tracing_subscriber::registry()
            .with(capture)
            .with(stderr)
            .try_init();
    });
}

/// The database a test server runs against; cleaned up on drop.
enum TestDatabase {
    Sqlite {
        url: String,
        _dir: TempDir,
    },
    Postgres {
        url: String,
        admin_url: String,
        name: String,
    },
    /// Another app's database, which that app drops.
    Shared {
        url: String,
    },
}

impl TestDatabase {
    fn create() -> Self {
        match std::env::var(POSTGRES_ENV) {
            Ok(admin_url) if !admin_url.trim().is_empty() => Self::create_postgres(admin_url),
            _ => {
                let dir = tempfile::Builder::new()
                    .prefix("maatje-test-")
                    .tempdir()
                    .expect("a temporary directory");
                let path = dir.path().join("maatje.sqlite3");
                TestDatabase::Sqlite {
                    url: format!("sqlite://{}", path.display()),
                    _dir: dir,
                }
            }
        }
    }

    fn create_postgres(admin_url: String) -> Self {
        let template = postgres_template(&admin_url);
        let name = format!("maatje_t_{}", Uuid::now_v7().simple());
        {
            // Clones of one template are made one at a time: PostgreSQL refuses to copy a
            // database that another session is copying or connected to.
            static CLONING: Mutex<()> = Mutex::new(());
            let _guard = CLONING.lock().unwrap_or_else(|e| e.into_inner());
            admin_connection(&admin_url)
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
        }
        TestDatabase::Postgres {
            url: database_url(&admin_url, &name),
            admin_url,
            name,
        }
    }

    fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. }
            | TestDatabase::Postgres { url, .. }
            | TestDatabase::Shared { url } => url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
        {
            // Never panic here: this may run while a failed test unwinds.
            let dropped = diesel::PgConnection::establish(admin_url)
                .map_err(|e| e.to_string())
                .and_then(|mut admin| {
                    admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = dropped {
                eprintln!("warning: could not drop test database {name}: {e}");
            }
        }
    }
}

/// Creates and migrates this process's template database once, and returns its name.
fn postgres_template(admin_url: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("maatje_tpl_{}", std::process::id());
        let mut admin = admin_connection(admin_url);
        drop_stale_templates(&mut admin, admin_url);
        // A leftover of an earlier run whose process had the same id.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap_or_else(|e| panic!("dropping stale template {name}: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating template {name}: {e}"));
        let url = database_url(admin_url, &name);
        // The connection is closed at the end of this block: a template must have none open
        // when it is cloned.
        let mut conn = DbConnection::Postgres(
            diesel::PgConnection::establish(&url)
                .unwrap_or_else(|e| panic!("connecting to template {name}: {e}")),
        );
        maatje::db::run_migrations(&mut conn)
            .unwrap_or_else(|e| panic!("migrating template {name}: {e:#}"));
        drop(conn);
        name
    })
}

/// Drops the templates of earlier test runs on a local server whose processes have ended, so a
/// developer's own PostgreSQL does not fill up with them. Only for a loopback server on a system
/// with `/proc`, where "that process has ended" can be known; a template something is connected
/// to or cloning is not dropped (PostgreSQL refuses without `FORCE`).
fn drop_stale_templates(admin: &mut diesel::PgConnection, admin_url: &str) {
    let local = url::Url::parse(admin_url).is_ok_and(|url| {
        matches!(
            url.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        )
    });
    if !local || !std::path::Path::new("/proc/self").exists() {
        return;
    }
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> =
        diesel::sql_query(r"SELECT datname FROM pg_database WHERE datname LIKE 'maatje\_tpl\_%'")
            .load(admin)
            .unwrap_or_default();
    for Name { datname } in names {
        let Some(pid) = datname
            .strip_prefix("maatje_tpl_")
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {datname}"));
        }
    }
}

fn admin_connection(admin_url: &str) -> diesel::PgConnection {
    diesel::PgConnection::establish(admin_url).unwrap_or_else(|e| {
        panic!(
            "cannot connect to {POSTGRES_ENV} ({}): {e}",
            DatabaseTarget::parse(admin_url)
                .map(|t| t.to_string())
                .unwrap_or_else(|why| why)
        )
    })
}

/// The admin URL with its database replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> String {
    let mut url =
        url::Url::parse(admin_url).unwrap_or_else(|e| panic!("{POSTGRES_ENV} is not a URL: {e}"));
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// The harness checks themselves: each must be able to fail.
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ORG: &str = "/v1/organisations/0193a5c4-0000-7000-8000-000000000000";

    use crate::helpers::canned_response as response;

    fn problem(status: u16) -> Response {
        response(
            status,
            "application/problem+json",
            json!({ "type": "urn:maatje:problem:x", "title": "X", "status": status,
                    "request_id": "req-1" }),
        )
    }

    #[test]
    fn concrete_paths_match_their_templates() {
        let (template, _) =
            find_operation(&Method::GET, &format!("{ORG}/history?limit=2&cursor=x")).unwrap();
        assert_eq!(template, "/v1/organisations/{id}/history");
        let (template, _) = find_operation(&Method::POST, "/v1/organisations").unwrap();
        assert_eq!(template, "/v1/organisations");
        let (template, _) = find_operation(&Method::POST, &format!("{ORG}/deactivate")).unwrap();
        assert_eq!(template, "/v1/organisations/{id}/deactivate");
        assert!(find_operation(&Method::GET, "/docs/").is_none());
        assert!(find_operation(&Method::GET, "/v1/organisations/").is_none());
        assert!(find_operation(&Method::DELETE, "/v1/organisations").is_none());
        assert!(find_operation(&Method::GET, &format!("{ORG}/nope")).is_none());
        // Paths are relative to the server `/v1`, the probes' too.
        let (template, _) = find_operation(&Method::GET, "/v1/health/live").unwrap();
        assert_eq!(template, "/v1/health/live");
        assert!(find_operation(&Method::GET, "/organisations").is_none());
        assert!(find_operation(&Method::GET, "/health/live").is_none());
    }

    #[test]
    fn documented_answers_pass() {
        check_response(
            &Method::POST,
            "/v1/organisations",
            &response(201, "application/json", json!({})),
        );
        check_response(&Method::GET, &format!("{ORG}?x=1"), &problem(404));
        // Paths outside the spec only get the general checks.
        check_response(&Method::GET, "/nope", &problem(404));
    }

    #[test]
    #[should_panic(expected = "is not documented in the OpenAPI spec")]
    fn an_undocumented_status_fails() {
        check_response(&Method::GET, "/v1/organisations", &problem(409));
    }

    #[test]
    #[should_panic(expected = "must be application/problem+json")]
    fn an_error_that_is_not_a_problem_fails() {
        check_response(
            &Method::GET,
            "/nope",
            &response(404, "application/json", json!({})),
        );
    }

    #[test]
    #[should_panic(expected = "differs from the X-Request-Id header")]
    fn a_problem_with_another_request_id_fails() {
        let mut r = problem(404);
        r.body["request_id"] = json!("req-2");
        check_response(&Method::GET, "/nope", &r);
    }

    #[test]
    #[should_panic(expected = "differs from the HTTP status")]
    fn a_problem_with_another_status_fails() {
        let mut r = problem(404);
        r.body["status"] = json!(400);
        check_response(&Method::GET, "/nope", &r);
    }

    #[test]
    #[should_panic(expected = "no X-Request-Id header")]
    fn a_response_without_request_id_fails() {
        let mut r = response(200, "application/json", json!({}));
        r.headers.remove("x-request-id");
        check_response(&Method::GET, "/v1/health/live", &r);
    }

    #[test]
    #[should_panic(expected = "invalid fields")]
    fn invalid_fields_must_match_exactly() {
        let mut r = problem(400);
        r.body["type"] = json!("urn:maatje:problem:validation");
        r.body["errors"] = json!([{ "field": "name", "message": "bad" }]);
        assert_invalid_fields(&r, &["name"]);
        assert_invalid_fields(&r, &["name", "extra"]);
    }

    #[test]
    fn query_values_are_appended_encoded() {
        assert_eq!(with_query("/a", "cursor", "x y"), "/a?cursor=x+y");
        assert_eq!(
            with_query("/a?limit=1", "cursor", "c"),
            "/a?limit=1&cursor=c"
        );
    }
}
