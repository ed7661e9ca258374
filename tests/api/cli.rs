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

/// How many migrations the binary embeds for `backend` (`sqlite` or `postgres`).
fn migrations(backend: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
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
    assert!(
        out.contains(&format!(
            "{} migration(s) applied to SQLite file",
            migrations("sqlite")
        )),
        "{out}"
    );
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
    assert!(
        stdout(&first).contains(&format!(
            "{} migration(s) applied to PostgreSQL database",
            migrations("postgres")
        )),
        "{}",
        stdout(&first)
    );
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
             [database]\nurl = \"sqlite://{}\"\n\n[log]\nformat = \"json\"\n\n\
             [metrics]\nport = 0\n",
            db.display()
        ),
    )
    .unwrap();
    let mut child = maatje(dir.path(), &["serve", "--config", "test.toml"], &[])
        .spawn()
        .expect("maatje starts");
    // Logs go to standard error.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let wanted = format!("listening on http://127.0.0.1:{port}");
    let mut seen = Vec::new();
    let listening = tokio::time::timeout(HANG_GUARD, async {
        while let Some(line) = lines.next_line().await.expect("readable stderr") {
            if line.contains(&wanted) {
                return true;
            }
            seen.push(line);
        }
        false
    })
    .await
    .expect("the server reports it is listening");
    assert!(listening, "serve exited: {}", seen.join("\n"));
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/v1/health/ready"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    child.kill().await.expect("the server stops");
    assert!(db.is_file(), "the configured database was used");
}

/// Runs `maatje` with `input` on its standard input.
async fn run_with_stdin(dir: &Path, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut child = maatje(dir, args, env)
        .stdin(Stdio::piped())
        .spawn()
        .expect("maatje starts");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("stdin is writable");
    drop(stdin);
    tokio::time::timeout(HANG_GUARD, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("maatje {args:?} did not exit within {HANG_GUARD:?}"))
        .expect("maatje runs")
}

/// A fresh SQLite file in `dir`, as a database URL.
fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("maatje.sqlite3").display())
}

/// A test server on the database at `url` (the command line's SQLite file).
async fn server_on(url: &str) -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(&[("MAATJE__DATABASE__URL", url)]).await
}

/// The lines of standard output.
fn stdout_lines(output: &Output) -> Vec<String> {
    stdout(output).lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn admin_create_staff_reads_the_password_from_stdin() {
    let dir = workdir();
    let url = sqlite_url(dir.path());
    let env = [("MAATJE__DATABASE__URL", url.as_str())];
    let args = [
        "admin",
        "create-staff",
        "--email",
        "Beheer@Example.org",
        "--name",
        "Beheerder",
        "--role",
        "admin",
    ];

    let output = run_with_stdin(dir.path(), &args, &env, "te kort\n").await;
    assert!(!output.status.success(), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains("password") && err.contains("at least 12"),
        "{err}"
    );
    assert!(!err.contains("te kort"), "the password is echoed: {err}");
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));

    let output = run_with_stdin(dir.path(), &args, &env, "een lang genoeg wachtwoord\n").await;
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("Beheer@example.org"), "{out}");
    assert!(!out.contains("wachtwoord"), "{out}");

    // The same address again, and a role that does not exist.
    let output = run_with_stdin(dir.path(), &args, &env, "een ander lang wachtwoord\n").await;
    assert!(!output.status.success());
    assert!(stderr(&output).contains("exists"), "{}", stderr(&output));
    let mut bad_role = args;
    bad_role[7] = "root";
    let output = run_with_stdin(dir.path(), &bad_role, &env, "een lang genoeg wachtwoord\n").await;
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--role"), "{}", stderr(&output));

    // A server on the same file lets the account log in.
    let app = server_on(&url).await;
    app.use_token(None);
    let response = app
        .post_json(
            "/v1/auth/login",
            &serde_json::json!({
                "email": "Beheer@example.org",
                "password": "een lang genoeg wachtwoord",
            }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["staff"]["role"], "admin");
    assert_eq!(response.body["staff"]["name"], "Beheerder");
    let token = response.body["token"].as_str().unwrap().to_owned();
    app.use_token(Some(&token));
    assert_eq!(app.get("/v1/staff").await.status, 200);
}

#[tokio::test]
async fn admin_create_organisation_prints_its_id() {
    let dir = workdir();
    let url = sqlite_url(dir.path());
    let env = [("MAATJE__DATABASE__URL", url.as_str())];
    // On a fresh file, so the command migrates first: that must not show on stdout.
    let output = run(
        dir.path(),
        &["admin", "create-organisation", "--name", "GI Noord"],
        &env,
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 1, "one line on stdout: {lines:#?}");
    let id = uuid::Uuid::parse_str(&lines[0]).expect("the line is the organisation's id");

    let app = server_on(&url).await;
    let response = app.get(&format!("/v1/organisations/{id}")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["name"], "GI Noord");
    assert_eq!(response.body["state"], "active");
}

#[tokio::test]
async fn admin_create_api_client_prints_only_a_key_that_works() {
    let dir = workdir();
    let url = sqlite_url(dir.path());
    let env = [("MAATJE__DATABASE__URL", url.as_str())];
    let output = run(
        dir.path(),
        &["admin", "create-organisation", "--name", "GI Zuid"],
        &env,
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let organisation = stdout(&output).trim().to_owned();

    let output = run(
        dir.path(),
        &[
            "admin",
            "create-api-client",
            "--organisation",
            &organisation,
            "--name",
            "Zaaksysteem",
        ],
        &env,
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 1, "only the key on stdout: {lines:#?}");
    let key = lines[0].clone();
    assert!(key.starts_with("mtj_ak_"), "{key}");

    // An organisation that does not exist: an error, and no key.
    let output = run(
        dir.path(),
        &[
            "admin",
            "create-api-client",
            "--organisation",
            &uuid::Uuid::now_v7().to_string(),
            "--name",
            "Zaaksysteem",
        ],
        &env,
    )
    .await;
    assert!(!output.status.success());
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert!(stderr(&output).contains("not found"), "{}", stderr(&output));

    let app = server_on(&url).await;
    app.use_token(Some(&key));
    let me = app.get("/v1/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["role"], "case_system");
    assert_eq!(me.body["organisation_id"], organisation.as_str());
    assert_eq!(app.get("/v1/buddy-requests").await.status, 200);
}
