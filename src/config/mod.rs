//! Layered configuration: built-in defaults, `config/local.toml`, an optional `--config` file and
//! `MAATJE__SECTION__KEY` environment variables, validated before anything starts.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use validator::Validate;

mod bureau;
mod checks;
mod database;

pub use bureau::BureauSettings;
pub use database::DatabaseTarget;

/// The defaults, compiled in so that the binary runs from any working directory.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

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
    #[validate(nested)]
    pub webhooks: WebhookSettings,
    #[validate(nested)]
    pub console: ConsoleSettings,
    /// The client bureau as buddies and clients see it (see `bureau`).
    pub bureau: BureauSettings,
    pub metrics: MetricsSettings,
    #[validate(nested)]
    pub portal: PortalSettings,
    #[validate(nested)]
    pub feedback: FeedbackSettings,
}

/// The Prometheus metrics (see `crate::metrics`), on a listener of their own: never on the
/// public port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `GET /metrics` on `host:port`.
    pub enabled: bool,
    pub host: String,
    /// 0 picks a free port (the tests do).
    pub port: u16,
}

/// The buddy portal in the browser (see `crate::portal`).
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct PortalSettings {
    /// How long an e-mailed sign-in link works, in minutes.
    #[validate(range(min = 5, max = 120))]
    pub sign_in_link_minutes: u32,
    /// At most this many sign-in links are sent to one buddy per hour; beyond that nothing is
    /// sent (the page says the same).
    #[validate(range(min = 1, max = 20))]
    pub links_per_hour: u32,
    /// A portal session ends after this many minutes without a request.
    #[validate(range(min = 2, max = 720))]
    pub idle_minutes: u32,
    /// A portal session ends at the latest this many hours after signing in.
    #[validate(range(min = 1, max = 24))]
    pub session_hours: u32,
}

impl PortalSettings {
    pub fn policy(&self) -> crate::domain::session::PortalPolicy {
        crate::domain::session::PortalPolicy {
            link_ttl: chrono::Duration::minutes(i64::from(self.sign_in_link_minutes)),
            links_per_hour: i64::from(self.links_per_hour),
            idle: chrono::Duration::minutes(i64::from(self.idle_minutes)),
            absolute: chrono::Duration::hours(i64::from(self.session_hours)),
        }
    }
}

/// Client feedback (README, "Client feedback").
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct FeedbackSettings {
    /// A feedback link works this many days (rounded up to the end of the last day, UTC).
    #[validate(range(min = 1, max = 365))]
    pub link_days: u32,
}

/// The staff console in the browser (see `crate::console`).
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// A console session ends after this many minutes without a request.
    #[validate(range(min = 2, max = 720))]
    pub idle_minutes: u32,
    /// A console session ends at the latest this many hours after the login.
    #[validate(range(min = 1, max = 24))]
    pub session_hours: u32,
}

impl ConsoleSettings {
    pub fn policy(&self) -> crate::domain::session::ConsolePolicy {
        crate::domain::session::ConsolePolicy {
            idle: chrono::Duration::minutes(i64::from(self.idle_minutes)),
            absolute: chrono::Duration::hours(i64::from(self.session_hours)),
        }
    }
}

/// Webhooks to case systems (see `crate::webhooks`): where they may point, how long an attempt
/// may take, and how failed deliveries are retried.
#[derive(Debug, Clone, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Run the delivery worker in this process. Several instances may share one PostgreSQL
    /// database: no delivery is attempted by two of them at once.
    pub worker_enabled: bool,
    /// Allow endpoint URLs on loopback, private and link-local addresses, and plain `http`.
    /// Off in production (a case system could otherwise make the service call into the
    /// bureau's own network); on for tests and local trials.
    pub allow_local_targets: bool,
    /// How long one attempt may take in all (connect, send, answer), in seconds.
    #[validate(range(min = 1, max = 60))]
    pub timeout_seconds: u64,
    /// How often an idle worker looks for due deliveries, in milliseconds.
    #[validate(range(min = 10, max = 600000))]
    pub poll_interval_ms: u64,
    /// How long a claimed delivery is reserved for its worker; a worker killed mid-delivery
    /// leaves its claim, which is taken over after this many seconds. Must exceed
    /// `timeout_seconds`.
    #[validate(range(min = 2, max = 3600))]
    pub lease_seconds: u64,
    /// Deliveries claimed at once.
    #[validate(range(min = 1, max = 1000))]
    pub batch_size: u32,
    /// The wait after the first failed attempt, in seconds; it doubles with every further one
    /// (with 25 % jitter either way) ...
    #[validate(range(min = 1, max = 86400))]
    pub backoff_base_seconds: u64,
    /// ... up to this many seconds.
    #[validate(range(min = 1, max = 86400))]
    pub backoff_max_seconds: u64,
    /// A delivery still failing this many hours after its event is marked dead, and the client
    /// bureau is told.
    #[validate(range(min = 1, max = 168))]
    pub give_up_after_hours: u32,
    /// After a secret rotation the previous secret also signs for this many hours, so the
    /// receiver can switch without missing a message.
    #[validate(range(min = 0, max = 720))]
    pub rotation_overlap_hours: u32,
    /// Delivered and dead deliveries, with their attempts, are deleted after this many days.
    #[validate(range(min = 1, max = 3650))]
    pub keep_days: u32,
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
    /// How long an `Idempotency-Key` and its stored answer are kept after its first use, in
    /// hours (see `http::idempotency`).
    #[validate(range(min = 1, max = 720))]
    pub idempotency_keep_hours: u32,
    /// How long a retry waits for the answer of the first request with its key while that is
    /// still under way, in seconds, before it is answered 409.
    #[validate(range(min = 0, max = 60))]
    pub idempotency_wait_seconds: u64,
    /// After how many seconds a first request that has not answered is taken to have died (its
    /// instance stopped), so that a retry may take its key over.
    #[validate(range(min = 10, max = 3600))]
    pub idempotency_lease_seconds: u64,
    /// How long the event feed (`GET /v1/events`) keeps an event, in days.
    #[validate(range(min = 1, max = 3650))]
    pub event_keep_days: u32,
}

impl ApiSettings {
    pub fn idempotency(&self) -> crate::http::idempotency::IdempotencySettings {
        crate::http::idempotency::IdempotencySettings {
            keep: chrono::Duration::hours(i64::from(self.idempotency_keep_hours)),
            wait: std::time::Duration::from_secs(self.idempotency_wait_seconds),
            lease: chrono::Duration::seconds(self.idempotency_lease_seconds as i64),
        }
    }
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
    /// Days without a recorded contact after which the buddy of a running pairing is reminded
    /// (once per quiet period); after twice this the client bureau is told and the pairing is
    /// flagged.
    #[validate(range(min = 1, max = 180))]
    pub contact_reminder_days: u32,
    /// Days after the start of a pairing at which the buddy is asked once how it goes.
    #[validate(range(min = 1, max = 730))]
    pub check_in_after_days: u32,
}

impl WorkflowSettings {
    pub fn contact_rhythm(&self) -> crate::domain::contact::ContactRhythm {
        crate::domain::contact::ContactRhythm::from_days(
            self.contact_reminder_days,
            self.check_in_after_days,
        )
    }
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
    /// Reverse proxies (CIDR blocks or addresses) whose `Forwarded` and `X-Forwarded-For` are
    /// believed (see `http::client_addr`). Empty: none, the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
    /// An idle keep-alive connection is closed after this many seconds; 0 closes every
    /// connection after its answer.
    #[validate(range(min = 0, max = 3600))]
    pub keep_alive_seconds: u64,
    /// A connection that has not sent a whole request head within this many milliseconds of
    /// opening is answered 408 and closed.
    #[validate(range(min = 100, max = 300000))]
    pub client_request_timeout_ms: u64,
    /// How long closing a connection may take, in milliseconds, before it is dropped; while it
    /// lasts, actix reads and discards the rest of an unread body. 0 (the default): closed at
    /// once, so the rest of an oversized body is not read.
    #[validate(range(min = 0, max = 60000))]
    pub client_disconnect_timeout_ms: u64,
    /// Connections one worker holds at once; past it the worker accepts no more until one ends.
    #[validate(range(min = 1, max = 1000000))]
    pub max_connections: usize,
}

impl ServerSettings {
    /// The trusted proxies, as validated at load.
    pub fn trusted_proxies(&self) -> crate::http::client_addr::TrustedProxies {
        crate::http::client_addr::TrustedProxies::parse(&self.trusted_proxies)
            .expect("validated at load")
    }
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
    /// SQLite only: `PRAGMA synchronous` of every connection (the database runs in WAL mode).
    pub sqlite_synchronous: SqliteSynchronous,
}

config_choice! {
    SqliteSynchronous {
        Off => "off",
        Normal => "normal",
        Full => "full",
        Extra => "extra",
    }
}

impl SqliteSynchronous {
    /// The pragma's value, as SQLite names it.
    pub fn pragma(self) -> &'static str {
        match self {
            SqliteSynchronous::Off => "OFF",
            SqliteSynchronous::Normal => "NORMAL",
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Extra => "EXTRA",
        }
    }
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
            .field("sqlite_synchronous", &self.sqlite_synchronous)
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
                .with_list_parse_key("server.trusted_proxies")
                .source(Some(env_map)),
        );
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(redact(&e.to_string())))?;
        settings.check()?;
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
        settings.check().expect("the built-in defaults are valid");
        settings
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
mod tests;
