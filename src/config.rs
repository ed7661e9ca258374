//! Layered configuration: built-in defaults, `config/local.toml`, an optional `--config` file and
//! `MAATJE__SECTION__KEY` environment variables, validated before anything starts.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

/// The defaults, compiled in so that the binary runs from any working directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// The optional, git-ignored override file read from the working directory.
pub const LOCAL_FILE: &str = "config/local.toml";

/// A setting that takes one of a fixed set of words. It is read from a string, so that a wrong
/// value is answered with the words allowed (the config crate's own enum support says only
/// "enum X does not have variant constructor y").
macro_rules! config_choice {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
        #[serde(try_from = "String")]
        pub enum $name {
            $($variant),+
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                match value.as_str() {
                    $($text => Ok($name::$variant),)+
                    other => Err(one_of(other, &[$($text),+])),
                }
            }
        }
    };
}

/// "expected one of: pretty, json; got `xml`" (the config crate adds "for key `log.format`").
fn one_of(value: &str, allowed: &[&str]) -> String {
    format!("expected one of: {}; got `{value}`", allowed.join(", "))
}

/// The mail language of the bureau, read as [`config_choice!`] reads its words.
fn mail_language<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<crate::domain::buddy::MailLanguage, D::Error> {
    use crate::domain::buddy::MailLanguage;
    let value = String::deserialize(deserializer)?;
    value.parse().map_err(|_| {
        let allowed: Vec<&str> = MailLanguage::ALL.iter().map(|l| l.as_str()).collect();
        serde::de::Error::custom(one_of(&value, &allowed))
    })
}

#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[validate(nested)]
    pub server: ServerSettings,
    #[validate(nested)]
    pub database: DatabaseSettings,
    pub log: LogSettings,
    #[validate(nested)]
    pub auth: AuthSettings,
    #[validate(nested)]
    pub limits: LimitSettings,
    #[validate(nested)]
    pub privacy: PrivacySettings,
    #[validate(nested)]
    pub mail: MailSettings,
    #[validate(nested)]
    pub matching: MatchingSettings,
    #[validate(nested)]
    pub workflow: WorkflowSettings,
    #[validate(nested)]
    pub api: ApiSettings,
}

/// The published contract's contact, and which browser origins may call the API (CORS; see
/// `http::cors`).
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// `info.contact.name` of the OpenAPI document.
    pub contact_name: String,
    /// `info.contact.url`: an http(s) URL.
    pub contact_url: String,
    /// `info.contact.email`.
    pub contact_email: String,
    /// Origins (`https://host[:port]`) whose pages may call the API from a browser. Empty: CORS
    /// is off (the contract at `/openapi.json` may be read from any origin regardless).
    pub cors_allowed_origins: Vec<String>,
    /// How long a browser may cache the answer to a preflight request, in seconds.
    #[validate(range(min = 1, max = 86400))]
    pub cors_max_age_seconds: u32,
}

/// How candidates for a request are ranked, and whether the service proposes the best one
/// itself (see `matching`).
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct MatchingSettings {
    /// Weight of the language component (a buddy speaks one of the client's languages).
    #[validate(range(min = 0.0, max = 100.0))]
    pub weight_language: f64,
    /// Weight of the region component (the buddy lives in the client's region).
    #[validate(range(min = 0.0, max = 100.0))]
    pub weight_region: f64,
    /// Weight of the experience component (the buddy went through the same kind of measure).
    #[validate(range(min = 0.0, max = 100.0))]
    pub weight_experience: f64,
    /// Weight of the load component (free capacity against capacity).
    #[validate(range(min = 0.0, max = 100.0))]
    pub weight_load: f64,
    /// Weight of the rotation component (time since the buddy's last proposal).
    #[validate(range(min = 0.0, max = 100.0))]
    pub weight_rotation: f64,
    /// Days since the last proposal after which rotation counts in full.
    #[validate(range(min = 1, max = 3650))]
    pub rotation_full_after_days: u32,
    /// Propose the best candidate automatically when a request arrives, or its proposal is
    /// declined or expires.
    pub auto_propose: bool,
    /// The least score (0 to 1, as a share of the sum of the weights) for an automatic proposal.
    #[validate(range(min = 0.0, max = 1.0))]
    pub auto_propose_min_score: f64,
}

impl MatchingSettings {
    /// The weights the ranking uses.
    pub fn weights(&self) -> crate::matching::Weights {
        crate::matching::Weights {
            language: self.weight_language,
            region: self.weight_region,
            experience: self.weight_experience,
            load: self.weight_load,
            rotation: self.weight_rotation,
            rotation_full_after_days: self.rotation_full_after_days,
        }
    }
}

/// Time in the workflow: proposal expiry, reminders and the service level for open requests,
/// kept by the scheduler (see `jobs::scheduler`).
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSettings {
    /// Hours after which an unanswered proposal expires.
    #[validate(range(min = 1, max = 2160))]
    pub proposal_ttl_hours: u32,
    /// Hours after which the buddy is reminded of an unanswered proposal (once).
    pub reminder_after_hours: u32,
    /// Days a request may stay open before it is overdue.
    #[validate(range(min = 1, max = 365))]
    pub overdue_after_days: u32,
    /// Run the scheduler in this process.
    pub scheduler_enabled: bool,
    /// Seconds between two scheduler runs.
    #[validate(range(min = 1, max = 86400))]
    pub scheduler_interval_seconds: u64,
}

/// E-mail: the outbox worker and the transport it sends through (see `mail`).
#[derive(Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransportKind,
    pub file_dir: PathBuf,
    pub from: String,
    pub bureau_address: String,
    /// The language of the mails to the client bureau: `nl` or `en`.
    #[serde(deserialize_with = "mail_language")]
    pub bureau_language: crate::domain::buddy::MailLanguage,
    pub message_id_domain: String,
    pub worker_enabled: bool,
    #[validate(range(min = 10, max = 600000))]
    pub poll_interval_ms: u64,
    #[validate(range(min = 1, max = 3600))]
    pub lease_seconds: u64,
    #[validate(range(min = 1, max = 100))]
    pub max_attempts: u32,
    #[validate(range(min = 1, max = 86400))]
    pub backoff_base_seconds: u64,
    pub backoff_max_seconds: u64,
    #[validate(range(min = 1, max = 1000))]
    pub batch_size: u32,
    /// The address the service is reached at from a buddy's mail client, e.g.
    /// `https://maatje.example.org`. Response links are built from it, never from a request's
    /// Host header.
    pub public_base_url: String,
    /// The secret from which response links are derived (see `respond`). Empty: a random secret
    /// is generated once and kept in `link_secret_file`.
    pub link_secret: String,
    /// Where a generated link secret is kept.
    pub link_secret_file: PathBuf,
    #[validate(nested)]
    pub smtp: SmtpSettings,
}

/// Never print the link secret: whoever has it can make working response links.
impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("transport", &self.transport)
            .field("file_dir", &self.file_dir)
            .field("from", &self.from)
            .field("bureau_address", &self.bureau_address)
            .field("bureau_language", &self.bureau_language)
            .field("message_id_domain", &self.message_id_domain)
            .field("worker_enabled", &self.worker_enabled)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("lease_seconds", &self.lease_seconds)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base_seconds", &self.backoff_base_seconds)
            .field("backoff_max_seconds", &self.backoff_max_seconds)
            .field("batch_size", &self.batch_size)
            .field("public_base_url", &self.public_base_url)
            .field("link_secret", &redacted(&self.link_secret))
            .field("link_secret_file", &self.link_secret_file)
            .field("smtp", &self.smtp)
            .finish()
    }
}

/// How a secret appears in `Debug` output: empty when unset, `<redacted>` otherwise.
fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() {
        ""
    } else {
        "<redacted>"
    }
}

config_choice! {
    MailTransportKind {
        File => "file",
        Smtp => "smtp",
    }
}

config_choice! {
    SmtpTls {
        None => "none",
        Starttls => "starttls",
        Tls => "tls",
    }
}

#[derive(Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    pub password: String,
    #[validate(range(min = 1, max = 600))]
    pub timeout_seconds: u64,
    #[validate(range(min = 1, max = 100))]
    pub pool_size: u32,
}

/// Never print the password.
impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("timeout_seconds", &self.timeout_seconds)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// Retention of client contact data (see `jobs::retention`).
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettings {
    /// Run the retention job in the background.
    pub retention_enabled: bool,
    /// Days after a request is closed or withdrawn that its client's contact data is kept.
    #[validate(range(min = 1, max = MAX_RETENTION_DAYS, message = "set privacy.retention_enabled = false to stop anonymising"))]
    pub retention_days: u32,
    /// Seconds between two runs of the retention job.
    #[validate(range(min = 1, max = 86400))]
    pub retention_check_interval_seconds: u64,
}

/// The longest retention period accepted: 20 years, the longest any youth-care record is kept.
pub const MAX_RETENTION_DAYS: u32 = 7300;

#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    #[validate(range(min = 5, max = 1440))]
    pub session_ttl_minutes: u32,
    /// Consecutive failed logins from one source address after which that address is locked
    /// out of the account.
    #[validate(range(min = 1, max = 100))]
    pub max_failed_logins: u32,
    #[validate(range(min = 1, max = 3600))]
    pub lockout_seconds: u32,
    /// Password checks (argon2id, 19 MiB each) running at once; 0 is one per CPU core.
    #[validate(range(min = 0, max = 256, message = "0 is one per CPU core"))]
    pub max_concurrent_verifications: usize,
    /// How long a login waits for its turn before it is answered 503.
    #[validate(range(min = 0, max = 30000))]
    pub verification_wait_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    #[validate(range(min = 0, max = 256, message = "0 is one per core"))]
    pub workers: usize,
    #[validate(range(min = 1024, max = 16777216))]
    pub max_body_bytes: usize,
}

#[derive(Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    #[validate(range(min = 1, max = 200))]
    pub pool_size: u32,
    #[validate(range(min = 1, max = 300))]
    pub connect_timeout_seconds: u64,
    pub migrate_on_start: bool,
    #[validate(range(min = 0, max = 600000))]
    pub sqlite_busy_timeout_ms: u32,
}

/// Never print the URL itself: it may carry a password.
impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = DatabaseTarget::parse(&self.url)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| "<invalid>".to_owned());
        f.debug_struct("DatabaseSettings")
            .field("url", &target)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_seconds", &self.connect_timeout_seconds)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("sqlite_busy_timeout_ms", &self.sqlite_busy_timeout_ms)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// Abuse limits: token buckets per source address and per caller (see `http::rate_limit`).
/// Each `*_per_minute` is both the bucket's size (how many requests may come at once) and how
/// many tokens it regains per minute.
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub enabled: bool,
    #[validate(range(
        min = 1,
        max = 1000000,
        message = "set limits.enabled = false to turn the limits off"
    ))]
    pub per_address_per_minute: u32,
    #[validate(range(
        min = 1,
        max = 1000000,
        message = "set limits.enabled = false to turn the limits off"
    ))]
    pub per_client_per_minute: u32,
    #[validate(range(
        min = 1,
        max = 1000000,
        message = "set limits.enabled = false to turn the limits off"
    ))]
    pub login_per_address_per_minute: u32,
    #[validate(range(min = 100, max = 10000000))]
    pub max_buckets: usize,
}

config_choice! {
    LogFormat {
        Pretty => "pretty",
        Json => "json",
    }
}

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

/// A configuration problem, always naming the key (or file) at fault.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Loads defaults, `config/local.toml` (if present), `extra_file` (must exist if given) and
    /// the environment, then validates the result.
    pub fn load(extra_file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(extra_file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given explicitly (for tests).
    pub fn load_from(
        extra_file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        use config::{Config, File, FileFormat};
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .add_source(File::new(LOCAL_FILE, FileFormat::Toml).required(false));
        if let Some(path) = extra_file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "--config {}: no such file",
                    path.display()
                )));
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        let env_map: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("MAATJE__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("MAATJE")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("api.cors_allowed_origins")
                .source(Some(env_map)),
        );
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(redact(&e.to_string())))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The compiled-in defaults alone, without `config/local.toml` or the environment: what the
    /// committed OpenAPI document is generated with.
    pub fn built_in() -> Self {
        use config::{Config, File, FileFormat};
        let settings: Settings = Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("the built-in defaults parse");
        settings
            .validate()
            .expect("the built-in defaults are valid");
        settings
    }

    /// The ranges declared on the fields first (`#[validate(range(..))]`), every one broken
    /// listed; then the rules a range cannot state, the first one broken.
    fn validate(&self) -> Result<(), ConfigError> {
        Validate::validate(self).map_err(|errors| ConfigError(out_of_range(&errors)))?;
        let fail = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        if self.server.host.trim().is_empty() {
            return fail("server.host", "must not be empty");
        }
        if let Err(why) = DatabaseTarget::parse(&self.database.url) {
            return fail("database.url", &why);
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return fail("log.level", &format!("not a valid filter: {e}"));
        }
        self.validate_mail()?;
        self.validate_matching()?;
        self.validate_workflow()?;
        self.validate_api()
    }

    fn validate_api(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        let a = &self.api;
        if a.contact_name.trim().is_empty() || a.contact_name.chars().any(char::is_control) {
            return fail("api.contact_name", "must be a name, e.g. \"Bureau maatje\"");
        }
        match url::Url::parse(&a.contact_url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {}
            _ => {
                return fail(
                    "api.contact_url",
                    "must be an http(s) URL, e.g. https://maatje.example.org",
                )
            }
        }
        if a.contact_email.parse::<lettre::Address>().is_err() {
            return fail(
                "api.contact_email",
                "must be an e-mail address, e.g. maatje@example.org",
            );
        }
        for origin in &a.cors_allowed_origins {
            if !is_origin(origin) {
                return fail(
                    "api.cors_allowed_origins",
                    &format!(
                        "{origin:?} is not an origin: scheme, host and optional port, without \
                         path or trailing slash, e.g. https://case-system.example.org"
                    ),
                );
            }
        }
        Ok(())
    }

    fn validate_matching(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        let m = &self.matching;
        let weights = [
            ("matching.weight_language", m.weight_language),
            ("matching.weight_region", m.weight_region),
            ("matching.weight_experience", m.weight_experience),
            ("matching.weight_load", m.weight_load),
            ("matching.weight_rotation", m.weight_rotation),
        ];
        for (key, weight) in weights {
            if weight.is_nan() {
                return fail(key, "must be a number between 0 and 100");
            }
        }
        if weights.iter().all(|(_, w)| *w == 0.0) {
            return fail(
                "matching.weight_language",
                "at least one weight must be above 0",
            );
        }
        if m.auto_propose_min_score.is_nan() {
            return fail(
                "matching.auto_propose_min_score",
                "must be a number between 0 and 1",
            );
        }
        Ok(())
    }

    fn validate_workflow(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        let w = &self.workflow;
        if w.reminder_after_hours == 0 || w.reminder_after_hours >= w.proposal_ttl_hours {
            return fail(
                "workflow.reminder_after_hours",
                "must be at least 1 and less than workflow.proposal_ttl_hours",
            );
        }
        Ok(())
    }

    fn validate_mail(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        let m = &self.mail;
        for (key, value) in [
            ("mail.from", &m.from),
            ("mail.bureau_address", &m.bureau_address),
        ] {
            if value.parse::<lettre::message::Mailbox>().is_err() {
                return fail(key, "must be an e-mail address, e.g. maatje@example.org");
            }
        }
        if m.message_id_domain.is_empty()
            || !m
                .message_id_domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return fail(
                "mail.message_id_domain",
                "must be a domain name (letters, digits, dots and hyphens)",
            );
        }
        if m.transport == MailTransportKind::File && m.file_dir.as_os_str().is_empty() {
            return fail(
                "mail.file_dir",
                "must not be empty with mail.transport = \"file\"",
            );
        }
        if !(m.backoff_base_seconds..=604_800).contains(&m.backoff_max_seconds) {
            return fail(
                "mail.backoff_max_seconds",
                "must be between mail.backoff_base_seconds and 604800",
            );
        }
        match url::Url::parse(&m.public_base_url) {
            Ok(u)
                if (u.scheme() == "https" || u.scheme() == "http")
                    && u.host().is_some()
                    && u.query().is_none()
                    && u.fragment().is_none() => {}
            _ => return fail(
                "mail.public_base_url",
                "must be an http(s) URL without query or fragment, e.g. https://maatje.example.org",
            ),
        }
        if !m.link_secret.is_empty() && m.link_secret.len() < 32 {
            return fail(
                "mail.link_secret",
                "must be at least 32 characters (or empty, to generate one)",
            );
        }
        if m.link_secret.is_empty() && m.link_secret_file.as_os_str().is_empty() {
            return fail(
                "mail.link_secret_file",
                "must not be empty when mail.link_secret is empty",
            );
        }
        if m.transport == MailTransportKind::Smtp {
            if m.smtp.host.trim().is_empty() {
                return fail(
                    "mail.smtp.host",
                    "must not be empty with mail.transport = \"smtp\"",
                );
            }
            if m.smtp.port == 0 {
                return fail("mail.smtp.port", "must be between 1 and 65535");
            }
            if m.smtp.username.is_empty() != m.smtp.password.is_empty() {
                return fail(
                    "mail.smtp.username",
                    "mail.smtp.username and mail.smtp.password go together: set both or neither",
                );
            }
        }
        Ok(())
    }

    pub fn login_policy(&self) -> crate::domain::session::LoginPolicy {
        crate::domain::session::LoginPolicy {
            session_ttl: chrono::Duration::minutes(i64::from(self.auth.session_ttl_minutes)),
            max_failures: self.auth.max_failed_logins as i32,
            lockout: chrono::Duration::seconds(i64::from(self.auth.lockout_seconds)),
        }
    }

    /// The bound on concurrent password checks.
    pub fn verifications(&self) -> crate::auth::password::Verifications {
        let max = match self.auth.max_concurrent_verifications {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        crate::auth::password::Verifications::new(
            max,
            std::time::Duration::from_millis(self.auth.verification_wait_ms),
        )
    }

    /// How long client contact data is kept after a request is closed or withdrawn.
    pub fn retention(&self) -> crate::domain::privacy::Retention {
        crate::domain::privacy::Retention::days(self.privacy.retention_days)
    }

    /// How long a request may stay open before it is overdue.
    pub fn service_level(&self) -> crate::domain::request::ServiceLevel {
        crate::domain::request::ServiceLevel {
            overdue_after_days: self.workflow.overdue_after_days,
        }
    }

    pub fn database_target(&self) -> DatabaseTarget {
        DatabaseTarget::parse(&self.database.url).expect("validated at load")
    }
}

/// "database.pool_size: must be between 1 and 200, got 0" for each range broken, by key, with
/// the field's `message` as a hint.
fn out_of_range(errors: &ValidationErrors) -> String {
    fn collect(prefix: &str, errors: &ValidationErrors, out: &mut Vec<String>) {
        for (field, kind) in errors.errors() {
            let key = format!("{prefix}{field}");
            match kind {
                ValidationErrorsKind::Struct(inner) => collect(&format!("{key}."), inner, out),
                ValidationErrorsKind::List(_) => out.push(format!("{key}: invalid")),
                ValidationErrorsKind::Field(errors) => {
                    for error in errors {
                        let param = |name: &str| {
                            error
                                .params
                                .get(name)
                                .map(|v| v.to_string())
                                .unwrap_or_default()
                        };
                        let hint = error
                            .message
                            .as_ref()
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default();
                        out.push(format!(
                            "{key}: must be between {} and {}{hint}, got {}",
                            param("min"),
                            param("max"),
                            param("value")
                        ));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    collect("", errors, &mut out);
    out.sort();
    out.join("; ")
}

/// An http(s) origin exactly as a browser sends it in `Origin` (`https://host[:port]`).
fn is_origin(candidate: &str) -> bool {
    url::Url::parse(candidate).is_ok_and(|u| {
        matches!(u.scheme(), "https" | "http")
            && u.host().is_some()
            && u.origin().ascii_serialization() == candidate
    })
}

/// Error messages of the config crate may quote a value; a database URL must never be echoed.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for word in message.split_inclusive(char::is_whitespace) {
        if word.contains("://") && word.contains('@') {
            out.push_str("<redacted-url>");
            if word.ends_with(char::is_whitespace) {
                out.push(' ');
            }
        } else {
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load_from(
            None,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn defaults_are_safe() {
        let s = load(&[]).unwrap();
        assert_eq!(s.server.host, "127.0.0.1");
        assert_eq!(s.server.port, 8080);
        assert!(matches!(s.database_target(), DatabaseTarget::Sqlite { .. }));
        assert!(s.database.migrate_on_start);
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let s = load(&[
            ("MAATJE__SERVER__PORT", "9191"),
            ("MAATJE__DATABASE__POOL_SIZE", "3"),
            ("MAATJE__LOG__FORMAT", "json"),
        ])
        .unwrap();
        assert_eq!(s.server.port, 9191);
        assert_eq!(s.database.pool_size, 3);
        assert_eq!(s.log.format, LogFormat::Json);
    }

    #[test]
    fn wrong_values_name_the_key() {
        let e = load(&[("MAATJE__SERVER__PORT", "eighty")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("server.port"), "{e}");
        let e = load(&[("MAATJE__LOG__FORMAT", "xml")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("log.format"), "{e}");
        assert!(
            e.contains("expected one of: pretty, json; got `xml`"),
            "{e}"
        );
        for (key, name, allowed) in [
            ("MAATJE__MAIL__TRANSPORT", "mail.transport", "file, smtp"),
            (
                "MAATJE__MAIL__SMTP__TLS",
                "mail.smtp.tls",
                "none, starttls, tls",
            ),
            (
                "MAATJE__MAIL__BUREAU_LANGUAGE",
                "mail.bureau_language",
                "nl, en",
            ),
        ] {
            let e = load(&[(key, "xml")]).unwrap_err().to_string();
            assert!(e.contains(name) && e.contains(allowed), "{key}: {e}");
        }
        let e = load(&[("MAATJE__DATABASE__POOL_SIZE", "0")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.pool_size"), "{e}");
        let e = load(&[("MAATJE__DATABASE__URL", "data/maatje.db")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("database.url"), "{e}");
    }

    #[test]
    fn limits_have_defaults_that_leave_normal_use_alone() {
        let s = load(&[]).unwrap();
        assert!(s.limits.enabled);
        assert_eq!(s.limits.per_address_per_minute, 600);
        assert_eq!(s.limits.per_client_per_minute, 600);
        assert_eq!(s.limits.login_per_address_per_minute, 10);
        assert_eq!(s.limits.max_buckets, 100_000);
        let s = load(&[
            ("MAATJE__LIMITS__ENABLED", "false"),
            ("MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE", "5"),
            ("MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE", "2"),
        ])
        .unwrap();
        assert!(!s.limits.enabled);
        assert_eq!(s.limits.per_address_per_minute, 5);
        assert_eq!(s.limits.login_per_address_per_minute, 2);
    }

    #[test]
    fn a_value_out_of_range_is_told_with_the_range_and_what_was_given() {
        let e = load(&[("MAATJE__DATABASE__POOL_SIZE", "0")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "configuration error: database.pool_size: must be between 1 and 200, got 0"
        );
        // Every range broken is listed, by key, nested keys in full, with the field's hint.
        let e = load(&[
            ("MAATJE__SERVER__WORKERS", "300"),
            ("MAATJE__MAIL__SMTP__POOL_SIZE", "0"),
            ("MAATJE__MATCHING__WEIGHT_LOAD", "101.5"),
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "configuration error: mail.smtp.pool_size: must be between 1 and 100, got 0; \
             matching.weight_load: must be between 0.0 and 100.0, got 101.5; \
             server.workers: must be between 0 and 256 (0 is one per core), got 300"
        );
        let e = load(&[("MAATJE__MATCHING__WEIGHT_REGION", "NaN")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("matching.weight_region: must be a number"),
            "{e}"
        );
    }

    #[test]
    fn wrong_limits_name_the_key() {
        for (key, value, named) in [
            (
                "MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE",
                "0",
                "limits.per_address_per_minute",
            ),
            (
                "MAATJE__LIMITS__PER_CLIENT_PER_MINUTE",
                "1000001",
                "limits.per_client_per_minute",
            ),
            (
                "MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE",
                "0",
                "limits.login_per_address_per_minute",
            ),
            (
                "MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE",
                "ten",
                "limits.login_per_address_per_minute",
            ),
            ("MAATJE__LIMITS__MAX_BUCKETS", "10", "limits.max_buckets"),
            ("MAATJE__LIMITS__ENABLED", "maybe", "limits.enabled"),
        ] {
            let e = load(&[(key, value)]).unwrap_err().to_string();
            assert!(e.contains(named), "{key}={value}: {e}");
        }
        let e = load(&[("MAATJE__LIMITS__PER_MINUTE", "5")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("per_minute"), "{e}");
    }

    #[test]
    fn retention_has_a_default_of_a_year_and_is_validated() {
        let s = load(&[]).unwrap();
        assert!(s.privacy.retention_enabled);
        assert_eq!(s.privacy.retention_days, 365);
        assert_eq!(s.privacy.retention_check_interval_seconds, 3600);
        assert_eq!(s.retention().period, chrono::Duration::days(365));
        let s = load(&[
            ("MAATJE__PRIVACY__RETENTION_DAYS", "730"),
            ("MAATJE__PRIVACY__RETENTION_ENABLED", "false"),
            ("MAATJE__PRIVACY__RETENTION_CHECK_INTERVAL_SECONDS", "60"),
        ])
        .unwrap();
        assert_eq!(s.privacy.retention_days, 730);
        assert!(!s.privacy.retention_enabled);
        assert_eq!(s.privacy.retention_check_interval_seconds, 60);
        for (key, value, named) in [
            (
                "MAATJE__PRIVACY__RETENTION_DAYS",
                "0",
                "privacy.retention_days",
            ),
            (
                "MAATJE__PRIVACY__RETENTION_DAYS",
                "7301",
                "privacy.retention_days",
            ),
            (
                "MAATJE__PRIVACY__RETENTION_DAYS",
                "-1",
                "privacy.retention_days",
            ),
            (
                "MAATJE__PRIVACY__RETENTION_DAYS",
                "a year",
                "privacy.retention_days",
            ),
            (
                "MAATJE__PRIVACY__RETENTION_CHECK_INTERVAL_SECONDS",
                "0",
                "privacy.retention_check_interval_seconds",
            ),
            (
                "MAATJE__PRIVACY__RETENTION_CHECK_INTERVAL_SECONDS",
                "86401",
                "privacy.retention_check_interval_seconds",
            ),
            (
                "MAATJE__PRIVACY__RETENTION_ENABLED",
                "sometimes",
                "privacy.retention_enabled",
            ),
        ] {
            let e = load(&[(key, value)]).unwrap_err().to_string();
            assert!(e.contains(named), "{key}={value}: {e}");
        }
    }

    #[test]
    fn mail_defaults_write_files_and_are_validated() {
        let s = load(&[]).unwrap();
        assert_eq!(s.mail.transport, MailTransportKind::File);
        assert_eq!(s.mail.file_dir, PathBuf::from("data/mail"));
        assert!(s.mail.worker_enabled);
        assert_eq!(s.mail.smtp.tls, SmtpTls::Starttls);
        let s = load(&[
            ("MAATJE__MAIL__TRANSPORT", "smtp"),
            ("MAATJE__MAIL__SMTP__HOST", "127.0.0.1"),
            ("MAATJE__MAIL__SMTP__PORT", "2525"),
            ("MAATJE__MAIL__SMTP__TLS", "none"),
            ("MAATJE__MAIL__MAX_ATTEMPTS", "3"),
        ])
        .unwrap();
        assert_eq!(s.mail.transport, MailTransportKind::Smtp);
        assert_eq!(s.mail.smtp.port, 2525);
        assert_eq!(s.mail.smtp.tls, SmtpTls::None);
        assert_eq!(s.mail.max_attempts, 3);
        for (key, value, named) in [
            ("MAATJE__MAIL__TRANSPORT", "pigeon", "mail.transport"),
            ("MAATJE__MAIL__FROM", "not an address", "mail.from"),
            ("MAATJE__MAIL__BUREAU_ADDRESS", "", "mail.bureau_address"),
            (
                "MAATJE__MAIL__MESSAGE_ID_DOMAIN",
                "a b",
                "mail.message_id_domain",
            ),
            (
                "MAATJE__MAIL__POLL_INTERVAL_MS",
                "0",
                "mail.poll_interval_ms",
            ),
            ("MAATJE__MAIL__LEASE_SECONDS", "0", "mail.lease_seconds"),
            ("MAATJE__MAIL__MAX_ATTEMPTS", "0", "mail.max_attempts"),
            (
                "MAATJE__MAIL__BACKOFF_BASE_SECONDS",
                "0",
                "mail.backoff_base_seconds",
            ),
            (
                "MAATJE__MAIL__BACKOFF_MAX_SECONDS",
                "1",
                "mail.backoff_max_seconds",
            ),
            ("MAATJE__MAIL__SMTP__TLS", "ssl", "mail.smtp.tls"),
            (
                "MAATJE__MAIL__SMTP__TIMEOUT_SECONDS",
                "0",
                "mail.smtp.timeout_seconds",
            ),
            ("MAATJE__MAIL__SMTP__POOL_SIZE", "0", "mail.smtp.pool_size"),
            (
                "MAATJE__MAIL__WORKER_ENABLED",
                "perhaps",
                "mail.worker_enabled",
            ),
        ] {
            let e = load(&[(key, value)]).unwrap_err().to_string();
            assert!(e.contains(named), "{key}={value}: {e}");
        }
        let e = load(&[
            ("MAATJE__MAIL__TRANSPORT", "smtp"),
            ("MAATJE__MAIL__SMTP__HOST", ""),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("mail.smtp.host"), "{e}");
    }

    #[test]
    fn smtp_password_is_never_printed() {
        let s = load(&[
            ("MAATJE__MAIL__SMTP__USERNAME", "maatje"),
            ("MAATJE__MAIL__SMTP__PASSWORD", "hunter2-smtp"),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter2-smtp"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn api_contact_and_cors_have_defaults_and_are_validated() {
        let s = load(&[]).unwrap();
        assert!(!s.api.contact_name.is_empty());
        assert!(s.api.contact_url.starts_with("https://"));
        assert!(s.api.contact_email.contains('@'));
        assert!(
            s.api.cors_allowed_origins.is_empty(),
            "CORS is off by default"
        );
        let s = load(&[
            (
                "MAATJE__API__CORS_ALLOWED_ORIGINS",
                "https://a.example.org,http://localhost:3000",
            ),
            ("MAATJE__API__CONTACT_NAME", "Bureau"),
        ])
        .unwrap();
        assert_eq!(
            s.api.cors_allowed_origins,
            ["https://a.example.org", "http://localhost:3000"]
        );
        assert_eq!(s.api.contact_name, "Bureau");
        for (key, value, named) in [
            ("MAATJE__API__CONTACT_NAME", " ", "api.contact_name"),
            (
                "MAATJE__API__CONTACT_URL",
                "maatje.example.org",
                "api.contact_url",
            ),
            (
                "MAATJE__API__CONTACT_URL",
                "ftp://x.example.org",
                "api.contact_url",
            ),
            (
                "MAATJE__API__CONTACT_EMAIL",
                "a,b@example.org",
                "api.contact_email",
            ),
            (
                "MAATJE__API__CORS_ALLOWED_ORIGINS",
                "https://a.example.org/",
                "api.cors_allowed_origins",
            ),
            (
                "MAATJE__API__CORS_ALLOWED_ORIGINS",
                "*",
                "api.cors_allowed_origins",
            ),
            (
                "MAATJE__API__CORS_ALLOWED_ORIGINS",
                "https://a.example.org/path",
                "api.cors_allowed_origins",
            ),
            (
                "MAATJE__API__CORS_MAX_AGE_SECONDS",
                "0",
                "api.cors_max_age_seconds",
            ),
        ] {
            let e = load(&[(key, value)]).unwrap_err().to_string();
            assert!(e.contains(named), "{key}={value}: {e}");
        }
    }

    #[test]
    fn built_in_settings_are_the_defaults_alone() {
        let s = Settings::built_in();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.api.contact_email, load(&[]).unwrap().api.contact_email);
    }

    #[test]
    fn no_secret_is_ever_printed() {
        let s = load(&[
            (
                "MAATJE__MAIL__LINK_SECRET",
                "link-secret-0123456789abcdef0123456789",
            ),
            ("MAATJE__MAIL__SMTP__USERNAME", "maatje"),
            ("MAATJE__MAIL__SMTP__PASSWORD", "hunter2-smtp"),
            (
                "MAATJE__DATABASE__URL",
                "postgres://maatje:s3cr3t-pw@db.internal:6543/maatje",
            ),
        ])
        .unwrap();
        for debug in [
            format!("{s:?}"),
            format!("{s:#?}"),
            format!("{:?}", s.mail),
            format!("{:?}", s.database_target()),
        ] {
            for secret in [
                "link-secret-0123456789abcdef0123456789",
                "hunter2-smtp",
                "s3cr3t-pw",
            ] {
                assert!(!debug.contains(secret), "{secret} printed: {debug}");
            }
        }
        let debug = format!("{:?}", s.mail);
        assert!(debug.contains("link_secret: \"<redacted>\""), "{debug}");
        // An empty secret (generate one) is shown as empty, so the two cases can be told apart.
        let debug = format!("{:?}", load(&[]).unwrap().mail);
        assert!(debug.contains("link_secret: \"\""), "{debug}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = load(&[("MAATJE__SERVER__PROT", "1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("prot"), "{e}");
    }

    #[test]
    fn database_url_password_is_never_printed() {
        let url = "postgres://maatje:s3cr3t-pw@db.internal:6543/maatje";
        let s = load(&[("MAATJE__DATABASE__URL", url)]).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("s3cr3t-pw"), "{debug}");
        assert!(debug.contains("db.internal:6543"), "{debug}");
        // A wrong value elsewhere must not echo the URL either.
        let e = load(&[
            ("MAATJE__DATABASE__URL", url),
            ("MAATJE__DATABASE__POOL_SIZE", "x"),
        ])
        .unwrap_err()
        .to_string();
        assert!(!e.contains("s3cr3t-pw"), "{e}");
    }

    #[test]
    fn database_targets_parse_by_scheme() {
        assert_eq!(
            DatabaseTarget::parse("sqlite://data/x.db").unwrap(),
            DatabaseTarget::Sqlite {
                path: "data/x.db".into()
            }
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseTarget::Sqlite {
                path: "/tmp/x.db".into()
            }
        );
        match DatabaseTarget::parse("postgresql://u:p@localhost/m").unwrap() {
            DatabaseTarget::Postgres {
                host,
                port,
                database,
                ..
            } => {
                assert_eq!(
                    (host.as_str(), port, database.as_str()),
                    ("localhost", 5432, "m")
                )
            }
            other => panic!("{other}"),
        }
        assert!(DatabaseTarget::parse("mysql://x").is_err());
        assert!(DatabaseTarget::parse("sqlite://:memory:").is_err());
        assert!(DatabaseTarget::parse("postgres://localhost").is_err());
    }
}
