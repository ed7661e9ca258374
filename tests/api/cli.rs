//! The `maatje` command, run as a separate process in an empty temporary working directory with a
//! clean environment (only what each test sets), so no local config or variable leaks in.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// A generous bound so that a hanging command fails the test instead of hanging the suite.
const HANG_GUARD: Duration = Duration::from_secs(120);

const CLOSED_PORT_URL: &str = "postgres://maatje:Sup3rSecret@127.0.0.1:1/maatje";

fn maatje(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_maatje"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

async fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let child = maatje(dir, args, env).spawn().expect("maatje starts");
    tokio::time::timeout(HANG_GUARD, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("maatje {args:?} did not exit within {HANG_GUARD:?}"))
        .expect("maatje runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("maatje-cli-")
        .tempdir()
        .expect("a temporary directory")
}

/// How many migrations a backend has (`migrations/<backend>/<version>_<name>/`).
fn migration_count(backend: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter(|entry| entry.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn openapi_prints_the_spec() {
    let dir = workdir();
    let output = run(dir.path(), &["openapi"], &[]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output) == maatje::startup::openapi_json(),
        "`maatje openapi` differs from openapi_json()"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn migrate_creates_and_migrates_a_sqlite_file() {
    let dir = workdir();
    let file = dir.path().join("x.db");
    let url = format!("sqlite://{}", file.display());
    let env = [("MAATJE__DATABASE__URL", url.as_str())];
    let output = run(dir.path(), &["migrate"], &env).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(file.is_file(), "{} was not created", file.display());
    let out = stdout(&output);
    let applied = format!(
        "{} migration(s) applied to SQLite file",
        migration_count("sqlite")
    );
    assert!(out.contains(&applied), "{out}");
    // A second run has nothing left to do.
    let output = run(dir.path(), &["migrate"], &env).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("0 migration(s) applied"),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn migrate_creates_a_relative_sqlite_path_in_the_working_directory() {
    let dir = workdir();
    let env = [("MAATJE__DATABASE__URL", "sqlite://db/maatje.sqlite3")];
    let output = run(dir.path(), &["migrate"], &env).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("db/maatje.sqlite3").is_file());
}

/// Runs only on PostgreSQL (`MAATJE_TEST_POSTGRES_URL` set).
#[tokio::test]
async fn migrate_migrates_a_postgres_database() {
    let Ok(admin_url) = std::env::var(crate::helpers::POSTGRES_ENV) else {
        eprintln!("skipped: needs MAATJE_TEST_POSTGRES_URL");
        return;
    };
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let name = format!("maatje_cli_{}", uuid::Uuid::now_v7().simple());
    let mut admin = diesel::PgConnection::establish(&admin_url).expect("admin connection");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let dir = workdir();
    let env = [("MAATJE__DATABASE__URL", url.as_str())];
    let first = run(dir.path(), &["migrate"], &env).await;
    let second = run(dir.path(), &["migrate"], &env).await;
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .expect("drop database");
    assert!(first.status.success(), "{}", stderr(&first));
    let applied = format!(
        "{} migration(s) applied to PostgreSQL database",
        migration_count("postgres")
    );
    assert!(stdout(&first).contains(&applied), "{}", stdout(&first));
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(stdout(&second).contains("0 migration(s) applied"));
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn an_unreachable_postgres_fails_fast_without_leaking_the_password() {
    for command in ["migrate", "serve"] {
        let dir = workdir();
        let output = run(
            dir.path(),
            &[command],
            &[("MAATJE__DATABASE__URL", CLOSED_PORT_URL)],
        )
        .await;
        let err = stderr(&output);
        let out = stdout(&output);
        assert!(!output.status.success(), "{command}: {err}");
        assert!(err.contains("127.0.0.1:1"), "{command}: {err}");
        for text in [&err, &out] {
            assert!(
                !text.contains("Sup3rSecret"),
                "{command} printed the password: {text}"
            );
        }
        assert!(
            entries(dir.path()).is_empty(),
            "{command} left {:?} in the working directory (no SQLite fallback)",
            entries(dir.path())
        );
    }
}

#[tokio::test]
async fn a_wrong_setting_names_its_key() {
    let dir = workdir();
    for command in ["serve", "migrate"] {
        let output = run(dir.path(), &[command], &[("MAATJE__SERVER__PORT", "abc")]).await;
        assert!(!output.status.success());
        assert!(
            stderr(&output).contains("server.port"),
            "{}",
            stderr(&output)
        );
    }
    let output = run(
        dir.path(),
        &["serve"],
        &[("MAATJE__DATABASE__URL", "data/maatje.db")],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("database.url"),
        "{}",
        stderr(&output)
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn a_missing_config_file_is_named() {
    let dir = workdir();
    let output = run(dir.path(), &["--config", "missing.toml", "serve"], &[]).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("missing.toml"),
        "{}",
        stderr(&output)
    );
    let output = run(dir.path(), &["migrate", "--config", "missing.toml"], &[]).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("missing.toml"),
        "{}",
        stderr(&output)
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn a_bad_value_in_a_config_file_is_reported_with_its_key() {
    let dir = workdir();
    for (toml, key) in [
        ("[database]\npool_size = 0\n", "database.pool_size"),
        ("[server]\nport = \"abc\"\n", "server.port"),
        ("[server]\nprot = 8081\n", "prot"),
    ] {
        std::fs::write(dir.path().join("bad.toml"), toml).unwrap();
        let output = run(dir.path(), &["--config", "bad.toml", "migrate"], &[]).await;
        assert!(!output.status.success(), "{toml}");
        assert!(stderr(&output).contains(key), "{toml}: {}", stderr(&output));
    }
    assert_eq!(entries(dir.path()), ["bad.toml"]);
}

#[tokio::test]
async fn serve_listens_on_the_port_of_the_config_file() {
    let dir = workdir();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().unwrap().port()
    };
    let file = dir.path().join("test.toml");
    let db = dir.path().join("serve.sqlite3");
    std::fs::write(
        &file,
        format!(
            "[server]\nhost = \"127.0.0.1\"\nport = {port}\nworkers = 1\n\n\
             [database]\nurl = \"sqlite://{}\"\n\n[log]\nformat = \"json\"\n",
            db.display()
        ),
    )
    .unwrap();
    let mut child = maatje(dir.path(), &["serve", "--config", "test.toml"], &[])
        .spawn()
        .expect("maatje starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let wanted = format!("listening on http://127.0.0.1:{port}");
    let listening = tokio::time::timeout(HANG_GUARD, async {
        while let Some(line) = lines.next_line().await.expect("readable stdout") {
            if line.contains(&wanted) {
                return true;
            }
        }
        false
    })
    .await
    .expect("the server reports it is listening");
    if !listening {
        let output = child.wait_with_output().await.unwrap();
        panic!("serve exited: {}", stderr(&output));
    }
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/health/ready"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    child.kill().await.expect("the server stops");
    assert!(db.is_file(), "the configured database was used");
}
