//! Where mail goes, built once from `[mail]` at start: `.eml` files in a directory (the default,
//! for development and tests) or an SMTP server (lettre's client on connections of our own:
//! [`super::smtp`]). Failures come back judged
//! transient or permanent; their text never holds the SMTP password.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use lettre::transport::smtp::authentication::Credentials;

use super::smtp::{SmtpFailure, SmtpPool};
use crate::config::{MailSettings, MailTransportKind};
use crate::store::outbox::FailureKind;

pub enum Transport {
    /// Writes `<outbox id>.eml` into `dir`, atomically (a temporary file, then a rename).
    File { dir: PathBuf },
    Smtp {
        pool: SmtpPool,
        /// Only to strike it from error texts, should a server ever echo it.
        password: String,
    },
}

/// A failed send.
#[derive(Debug, Clone)]
pub struct SendError {
    pub kind: FailureKind,
    pub message: String,
}

impl Transport {
    /// Builds the transport `[mail]` describes. Nothing is contacted yet: an SMTP server that is
    /// down at start only delays mail.
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        match settings.transport {
            MailTransportKind::File => Ok(Transport::File {
                dir: settings.file_dir.clone(),
            }),
            MailTransportKind::Smtp => {
                let smtp = &settings.smtp;
                let credentials = (!smtp.username.is_empty())
                    .then(|| Credentials::new(smtp.username.clone(), smtp.password.clone()));
                Ok(Transport::Smtp {
                    pool: SmtpPool::new(
                        smtp.host.clone(),
                        smtp.port,
                        smtp.tls,
                        Duration::from_secs(smtp.timeout_seconds),
                        credentials,
                        smtp.pool_size,
                    ),
                    password: smtp.password.clone(),
                })
            }
        }
    }

    /// How many messages the worker may send at once: the SMTP connections allowed, or a few
    /// files.
    pub fn concurrency(&self) -> usize {
        match self {
            Transport::File { .. } => 4,
            Transport::Smtp { pool, .. } => pool.size(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::File { dir } => format!("files in {}", dir.display()),
            Transport::Smtp { .. } => "SMTP".to_owned(),
        }
    }

    /// Sends one message; `id` names the file of the file transport.
    pub async fn send(&self, id: &str, email: &lettre::Message) -> Result<(), SendError> {
        match self {
            Transport::File { dir } => {
                let bytes = email.formatted();
                let dir = dir.clone();
                let id = id.to_owned();
                actix_web::web::block(move || write_atomically(&dir, &id, &bytes))
                    .await
                    .map_err(|e| SendError {
                        kind: FailureKind::Transient,
                        message: format!("file transport: {e}"),
                    })?
                    .map_err(|e| SendError {
                        kind: FailureKind::Transient,
                        message: format!("file transport: {e:#}"),
                    })
            }
            Transport::Smtp { pool, password } => pool
                .send(email.envelope(), &email.formatted())
                .await
                .map_err(|e| SendError {
                    kind: judge(&e),
                    message: smtp_error_text(&e, password),
                }),
        }
    }
}

/// 5xx replies are permanent; 4xx replies, timeouts, refused or dropped connections and
/// everything else are worth another try (the attempt limit still ends them).
fn judge(e: &SmtpFailure) -> FailureKind {
    if e.is_permanent() {
        FailureKind::Permanent
    } else {
        FailureKind::Transient
    }
}

/// lettre's error text with its cause chain. It never contains the credentials (lettre does not
/// put them in errors), but the password is removed anyway should a server echo it.
fn smtp_error_text(e: &SmtpFailure, password: &str) -> String {
    let mut text = e.to_string();
    // A lettre error is shown through (transparent); its causes follow.
    let mut source = match e {
        SmtpFailure::Smtp(inner) => std::error::Error::source(inner),
        other => std::error::Error::source(other),
    };
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if !password.is_empty() {
        text = text.replace(password, "<redacted>");
    }
    text
}

fn write_atomically(dir: &Path, id: &str, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let target = dir.join(format!("{id}.eml"));
    let tmp = dir.join(format!(".{id}.eml.tmp"));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &target)
        .with_context(|| format!("cannot rename to {}", target.display()))?;
    Ok(())
}
