//! The rules a setting must meet beyond the ranges declared on its field: each broken rule names
//! its key and says what would be right.

use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::{ConfigError, DatabaseTarget, MailTransportKind, Settings};

impl Settings {
    /// The ranges declared on the fields first (`#[validate(range(..))]`), every one broken
    /// listed; then the rules a range cannot state, the first one broken.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        Validate::validate(self).map_err(|errors| ConfigError(out_of_range(&errors)))?;
        let fail = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        if self.server.host.trim().is_empty() {
            return fail("server.host", "must not be empty");
        }
        if let Err(why) =
            crate::http::client_addr::TrustedProxies::parse(&self.server.trusted_proxies)
        {
            return fail("server.trusted_proxies", &why);
        }
        if let Err(why) = DatabaseTarget::parse(&self.database.url) {
            return fail("database.url", &why);
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return fail("log.level", &format!("not a valid filter: {e}"));
        }
        self.validate_metrics()?;
        self.validate_mail()?;
        self.validate_bureau()?;
        self.validate_matching()?;
        self.validate_workflow()?;
        self.validate_webhooks()?;
        self.validate_api()
    }

    fn validate_metrics(&self) -> Result<(), ConfigError> {
        let m = &self.metrics;
        if !m.enabled {
            return Ok(());
        }
        if m.host.trim().is_empty() {
            return Err(ConfigError("metrics.host: must not be empty".to_owned()));
        }
        if m.port != 0 && m.port == self.server.port {
            return Err(ConfigError(format!(
                "metrics.port: must differ from server.port ({}): the metrics are never served \
                 on the public port",
                self.server.port
            )));
        }
        Ok(())
    }

    fn validate_webhooks(&self) -> Result<(), ConfigError> {
        let w = &self.webhooks;
        if w.lease_seconds <= w.timeout_seconds {
            return Err(ConfigError(format!(
                "webhooks.lease_seconds: must exceed webhooks.timeout_seconds ({}), or a \
                 delivery still under way could be taken over and sent twice at once",
                w.timeout_seconds
            )));
        }
        if w.backoff_max_seconds < w.backoff_base_seconds {
            return Err(ConfigError(format!(
                "webhooks.backoff_max_seconds: must be at least webhooks.backoff_base_seconds ({})",
                w.backoff_base_seconds
            )));
        }
        Ok(())
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
