//! `maatje backup --to FILE`: a consistent copy of the SQLite database, taken while the service
//! runs. SQLite's `VACUUM INTO` reads the database in one read transaction (in WAL mode writers
//! carry on meanwhile) and writes a compact copy of what that transaction sees: every committed
//! write up to its start, none after. PostgreSQL is backed up with its own tools (`pg_dump`).

use std::path::Path;

use anyhow::{bail, Context};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::config::{DatabaseSettings, DatabaseTarget};

/// Writes the database of `target` to `to`, which must not exist: it is created empty, readable
/// and writable by its owner only (it holds personal data), and filled by `VACUUM INTO`; then
/// the copy is checked (`PRAGMA quick_check`). On any failure the file is removed again.
/// Returns the size of the copy in bytes.
pub fn to_file(
    settings: &DatabaseSettings,
    target: &DatabaseTarget,
    to: &Path,
) -> anyhow::Result<u64> {
    let source = match target {
        DatabaseTarget::Sqlite { path } => path,
        DatabaseTarget::Postgres { .. } => bail!(
            "maatje backup copies a SQLite database; {target} is backed up with pg_dump \
             (see the README, \"Backups and restore\")"
        ),
    };
    if !source.is_file() {
        bail!(
            "there is no database at {} (database.url)",
            source.display()
        );
    }
    create_private(to)?;
    let copied = copy(settings, target, to);
    if copied.is_err() {
        let _ = std::fs::remove_file(to);
    }
    copied
}

/// Creates `to` empty with mode 0600, refusing an existing file (or anything else at that path).
fn create_private(to: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(to) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{} already exists: a backup never overwrites a file; choose a new name",
            to.display()
        ),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", to.display())),
    }
}

fn copy(settings: &DatabaseSettings, target: &DatabaseTarget, to: &Path) -> anyhow::Result<u64> {
    let to_text = to
        .to_str()
        .with_context(|| format!("{}: the path is not UTF-8", to.display()))?;
    // The service's own connection set-up (busy timeout, WAL), on one connection of its own.
    let db = super::Database::connect(settings, target.clone())?;
    let mut conn = db.blocking().map_err(|e| anyhow::anyhow!("{e}"))?;
    let super::DbConnection::Sqlite(conn) = &mut *conn else {
        unreachable!("a SQLite target gives SQLite connections")
    };
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(to_text)
        .execute(conn)
        .with_context(|| format!("cannot write the backup to {}", to.display()))?;
    check(to_text)?;
    Ok(std::fs::metadata(to)?.len())
}

/// Opens the copy and runs SQLite's `quick_check` on it.
fn check(path: &str) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = Text)]
        quick_check: String,
    }
    let mut copy = diesel::SqliteConnection::establish(path)
        .with_context(|| format!("cannot open the backup {path} to check it"))?;
    copy.batch_execute("PRAGMA query_only = ON")?;
    let rows: Vec<Check> = diesel::sql_query("PRAGMA quick_check").load(&mut copy)?;
    match rows.first().map(|r| r.quick_check.as_str()) {
        Some("ok") => Ok(()),
        other => bail!("the backup {path} failed SQLite's quick_check: {other:?}"),
    }
}
