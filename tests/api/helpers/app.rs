//! Spawning a test server on a fresh database, the [`TestApp`] that drives it, and the staff
//! accounts, case systems and organisations a test starts from. See [`crate::helpers`] for the
//! databases and what every request checks.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use maatje::auth::StaffRole;
use maatje::config::Settings;
use maatje::db::Database;
use maatje::domain::clock::Clock;
use maatje::startup::Application;
use serde_json::Value;
use uuid::Uuid;

use super::database::TestDatabase;
use super::http::to_bytes;
use super::logs::init_test_log;
use super::Method;

/// When every test's manual clock starts.
pub const START: &str = "2026-11-22T09:00:00Z";

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
    /// The port of the metrics listener, when `MAATJE__METRICS__ENABLED` is `true` (off by
    /// default in the tests; `metrics` turns it on).
    pub metrics_port: Option<u16>,
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
    pub(super) database: TestDatabase,
    /// The bearer token sent when a request names no `authorization` header itself.
    pub(super) token: Mutex<Option<String>>,
    /// The token of the admin every test app starts with.
    pub admin_token: String,
}

/// Starts the server with the test defaults: see [`spawn_app_with`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the server on a free port of 127.0.0.1 with one worker, a small pool, a fresh database
/// (see [`crate::helpers`]) and a manual clock at [`START`]. `overrides` are extra
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
        // The webhook worker too: `webhooks` drives it on demand, against receivers on loopback.
        ("MAATJE__WEBHOOKS__WORKER_ENABLED", "false"),
        ("MAATJE__WEBHOOKS__ALLOW_LOCAL_TARGETS", "true"),
        ("MAATJE__MATCHING__AUTO_PROPOSE", "false"),
        // The metrics listener, on a free port where a test turns it on.
        ("MAATJE__METRICS__ENABLED", "false"),
        ("MAATJE__METRICS__HOST", "127.0.0.1"),
        ("MAATJE__METRICS__PORT", "0"),
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
    let metrics_port = application.metrics_port();
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
        metrics_port,
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
                let token = maatje::ops::admin::open_session(
                    c,
                    &row.id,
                    now,
                    now + chrono::Duration::days(3650),
                )?;
                Ok::<_, maatje::domain::error::DomainError>((row.id.into(), token))
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
                    &maatje::domain::ids::PairingId::from(pairing),
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
