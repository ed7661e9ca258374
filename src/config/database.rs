//! The database URL: which backend, and what may be printed of it.

use std::fmt;
use std::path::PathBuf;

/// Where the database lives, decided by the URL scheme and nothing else.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        url: String,
        host: String,
        port: u16,
        database: String,
    },
}

impl DatabaseTarget {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(rest) = raw.strip_prefix("sqlite://") {
            if rest.is_empty() || rest == ":memory:" {
                return Err(
                    "a SQLite URL needs a file path, e.g. sqlite://data/maatje.sqlite3 \
                            (an in-memory database is not shared between pooled connections)"
                        .into(),
                );
            }
            return Ok(DatabaseTarget::Sqlite {
                path: PathBuf::from(rest),
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let parsed =
                url::Url::parse(raw).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            let host = parsed
                .host_str()
                .filter(|h| !h.is_empty())
                .ok_or("a PostgreSQL URL needs a host")?
                .to_owned();
            let database = parsed.path().trim_start_matches('/').to_owned();
            if database.is_empty() {
                return Err("a PostgreSQL URL needs a database name after the host".into());
            }
            return Ok(DatabaseTarget::Postgres {
                url: raw.to_owned(),
                host,
                port: parsed.port().unwrap_or(5432),
                database,
            });
        }
        Err("must start with sqlite:// or postgres:// (the scheme picks the backend)".into())
    }
}

/// Safe to print: no password, no user name.
impl fmt::Display for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseTarget::Sqlite { path } => write!(f, "SQLite file {}", path.display()),
            DatabaseTarget::Postgres {
                host,
                port,
                database,
                ..
            } => {
                write!(f, "PostgreSQL database {database} at {host}:{port}")
            }
        }
    }
}

impl fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
