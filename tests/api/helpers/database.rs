//! The test databases (a SQLite file, or a PostgreSQL database cloned from a migrated template;
//! see [`crate::helpers`]), and a test's direct access to its server's database: table counts,
//! connections, dropping it under the running server.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use maatje::config::DatabaseTarget;
use maatje::db::DbConnection;
use tempfile::TempDir;
use uuid::Uuid;

use super::TestApp;

/// The environment variable that switches the tests to PostgreSQL.
pub const POSTGRES_ENV: &str = "MAATJE_TEST_POSTGRES_URL";

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
    "credential_version",
    "history",
    "staff",
    "staff_sessions",
    "login_throttle",
    "idempotency_keys",
    "events",
    "api_clients",
    "api_keys",
    "outbox",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "response_tokens",
    "contact_moments",
    "client_feedback_invitations",
    "client_feedback",
];

impl TestApp {
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

/// The database a test server runs against; cleaned up on drop.
pub(super) enum TestDatabase {
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
    pub(super) fn create() -> Self {
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

    pub(super) fn url(&self) -> &str {
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
