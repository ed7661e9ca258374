//! `maatje backup --to FILE`: a consistent copy of a SQLite database taken while the service
//! runs and writes, restored into a fresh service whose audit chain still verifies; refused
//! clearly for PostgreSQL and for a file that exists. Run as a separate process, as the CLI
//! tests run it (`cli.rs`), always on a SQLite file (the command is for SQLite only).

use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::process::Command;

use crate::fixtures::{candidate, organisation};
use crate::helpers::{spawn_app_sharing, spawn_app_with, TestApp};

/// A generous bound so that a hanging command fails the test instead of hanging the suite.
const HANG_GUARD: Duration = Duration::from_secs(120);

async fn run(dir: &Path, args: &[&str], url: &str) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_maatje"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("MAATJE__DATABASE__URL", url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("maatje starts");
    tokio::time::timeout(HANG_GUARD, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("maatje {args:?} did not exit within {HANG_GUARD:?}"))
        .expect("maatje runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// `maatje audit verify` on the database at `url`, optionally expecting `head` in the chain;
/// returns the head it prints (SEQ:HASH) and the number of records.
async fn verified_head(dir: &Path, url: &str, head: Option<&str>) -> (String, u64) {
    let mut args = vec!["audit", "verify"];
    if let Some(head) = head {
        args.extend(["--expect-head", head]);
    }
    let output = run(dir, &args, url).await;
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "audit verify on {url}: {stdout}{}",
        text(&output.stderr)
    );
    let head = stdout
        .lines()
        .find_map(|l| l.strip_prefix("head: "))
        .unwrap_or_else(|| panic!("a head line: {stdout}"))
        .to_owned();
    let records = stdout
        .lines()
        .find_map(|l| l.strip_prefix("audit chain intact: "))
        .and_then(|l| l.strip_suffix(" records"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a record count: {stdout}"));
    (head, records)
}

async fn buddies(app: &TestApp) -> usize {
    let response = app.get("/v1/buddies?limit=200").await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["items"].as_array().expect("items").len()
}

#[tokio::test]
async fn a_backup_taken_while_the_service_writes_restores_into_a_service_whose_chain_verifies() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let live = sqlite_url(&dir.path().join("live.sqlite3"));
    let app = spawn_app_with(&[("MAATJE__DATABASE__URL", &live)]).await;
    let org = organisation(&app).await;
    for n in 0..3 {
        candidate(&app, &org, n).await;
    }
    let before = buddies(&app).await;

    // The backup runs while the service keeps registering buddies (each with its audit record).
    let file = dir.path().join("backup.sqlite3");
    let file_arg = file.to_str().expect("a UTF-8 path");
    let done = AtomicBool::new(false);
    let writing = async {
        let mut n = 100;
        while !done.load(Ordering::SeqCst) {
            candidate(&app, &org, n).await;
            n += 1;
        }
    };
    let backing_up = async {
        let output = run(dir.path(), &["backup", "--to", file_arg], &live).await;
        done.store(true, Ordering::SeqCst);
        output
    };
    let ((), output) = tokio::join!(writing, backing_up);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("backup of SQLite file"), "{stdout}");
    assert!(stdout.contains(file_arg), "{stdout}");
    let metadata = std::fs::metadata(&file).expect("the backup exists");
    assert!(
        stdout.contains(&format!("({} bytes)", metadata.len())),
        "{stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "owner only");
    }
    let after = buddies(&app).await;

    // The copy's chain verifies, and its head is in the live chain: a prefix of it, cut at a
    // commit.
    let (backup_head, backup_records) = verified_head(dir.path(), &sqlite_url(&file), None).await;
    let (_, live_records) = verified_head(dir.path(), &live, Some(&backup_head)).await;
    assert!(
        backup_records <= live_records,
        "{backup_records} > {live_records}"
    );

    // Restored as a new service's database: the data up to the backup is there, the service
    // works and appends to the trail, and the chain still verifies from the backup's head on.
    let restored_path = dir.path().join("restored.sqlite3");
    std::fs::copy(&file, &restored_path).expect("the backup is copied");
    let restored_url = sqlite_url(&restored_path);
    // (An admin of its own: the backup holds the first service's admin already.)
    let restored = spawn_app_sharing(&app, &[("MAATJE__DATABASE__URL", &restored_url)]).await;
    let count = buddies(&restored).await;
    assert!(
        (before..=after).contains(&count),
        "{count} buddies restored, {before} before the backup and {after} after"
    );
    let org_again = restored.get(&format!("/v1/organisations/{org}")).await;
    assert_eq!(org_again.status, 200, "{}", org_again.text);
    candidate(&restored, &org, 999).await;
    assert_eq!(buddies(&restored).await, count + 1);
    let (_, restored_records) = verified_head(dir.path(), &restored_url, Some(&backup_head)).await;
    assert!(
        restored_records > backup_records,
        "the restored service appended to the trail: {restored_records} vs {backup_records}"
    );
}

#[tokio::test]
async fn a_backup_never_overwrites_a_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let live = sqlite_url(&dir.path().join("live.sqlite3"));
    let _app = spawn_app_with(&[("MAATJE__DATABASE__URL", &live)]).await;
    let file = dir.path().join("precious.txt");
    std::fs::write(&file, "keep me").expect("a file");
    let output = run(
        dir.path(),
        &["backup", "--to", file.to_str().expect("UTF-8")],
        &live,
    )
    .await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("still there"),
        "keep me"
    );
}

#[tokio::test]
async fn a_backup_of_a_missing_database_or_postgres_says_what_to_do() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let to = dir.path().join("backup.sqlite3");
    let to_arg = to.to_str().expect("UTF-8");
    // PostgreSQL: pointed to pg_dump, without connecting and without printing the password.
    let output = run(
        dir.path(),
        &["backup", "--to", to_arg],
        "postgres://maatje:Sup3rSecret@127.0.0.1:1/maatje",
    )
    .await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(stderr.contains("Backups and restore"), "{stderr}");
    assert!(!stderr.contains("Sup3rSecret"), "{stderr}");
    assert!(!to.exists(), "no file is left behind");
    // A SQLite file that is not there is named, and not created.
    let missing = dir.path().join("missing.sqlite3");
    let output = run(
        dir.path(),
        &["backup", "--to", to_arg],
        &sqlite_url(&missing),
    )
    .await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("there is no database at"), "{stderr}");
    assert!(!missing.exists() && !to.exists());
}
