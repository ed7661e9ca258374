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

#[test]
fn the_bureau_is_validated_and_names_the_sender_unless_mail_from_names_one() {
    let s = load(&[
        ("MAATJE__BUREAU__NAME", "Cliëntenbureau Utrecht"),
        ("MAATJE__BUREAU__PHONE", "+31 30 123 4567"),
        ("MAATJE__BUREAU__EMAIL", "info@bureau-utrecht.nl"),
        (
            "MAATJE__BUREAU__POSTAL_ADDRESS",
            "Postbus 123, 3500 AA Utrecht",
        ),
        ("MAATJE__MAIL__FROM", "maatje@bureau-utrecht.nl"),
    ])
    .unwrap();
    assert_eq!(s.sender().name.as_deref(), Some("Cliëntenbureau Utrecht"));
    assert_eq!(s.sender().email.to_string(), "maatje@bureau-utrecht.nl");
    assert_eq!(
        s.reply_to().to_string(),
        "Cliëntenbureau Utrecht <info@bureau-utrecht.nl>"
    );
    let s = load(&[(
        "MAATJE__MAIL__FROM",
        "Maatjes Utrecht <maatje@bureau-utrecht.nl>",
    )])
    .unwrap();
    assert_eq!(s.sender().name.as_deref(), Some("Maatjes Utrecht"));
    for (key, value, named) in [
        ("MAATJE__BUREAU__NAME", " ", "bureau.name"),
        ("MAATJE__BUREAU__NAME", &"x".repeat(101), "bureau.name"),
        ("MAATJE__BUREAU__PHONE", "call us", "bureau.phone"),
        ("MAATJE__BUREAU__PHONE", "123", "bureau.phone"),
        ("MAATJE__BUREAU__EMAIL", "info-at-bureau", "bureau.email"),
        (
            "MAATJE__BUREAU__POSTAL_ADDRESS",
            "",
            "bureau.postal_address",
        ),
        (
            "MAATJE__BUREAU__POSTAL_ADDRESS",
            &"x".repeat(201),
            "bureau.postal_address",
        ),
    ] {
        let e = load(&[(key, value)]).unwrap_err().to_string();
        assert!(e.contains(named), "{key}={value:?}: {e}");
    }
}

#[test]
fn example_bureau_details_are_warned_about_only_in_production() {
    assert!(
        load(&[]).unwrap().warnings().is_empty(),
        "not in development"
    );
    let https = (
        "MAATJE__MAIL__PUBLIC_BASE_URL",
        "https://maatje.bureau-utrecht.nl",
    );
    let warnings = load(&[https]).unwrap().warnings();
    for key in [
        "mail.from",
        "mail.bureau_address",
        "bureau.email",
        "bureau.name",
        "bureau.phone",
        "bureau.postal_address",
    ] {
        assert!(
            warnings.iter().any(|w| w.starts_with(key)),
            "{key}: {warnings:?}"
        );
    }
    let configured = load(&[
        https,
        ("MAATJE__BUREAU__NAME", "Cliëntenbureau Utrecht"),
        ("MAATJE__BUREAU__PHONE", "+31 30 123 4567"),
        ("MAATJE__BUREAU__EMAIL", "info@bureau-utrecht.nl"),
        (
            "MAATJE__BUREAU__POSTAL_ADDRESS",
            "Postbus 123, 3500 AA Utrecht",
        ),
        ("MAATJE__MAIL__FROM", "maatje@bureau-utrecht.nl"),
        ("MAATJE__MAIL__BUREAU_ADDRESS", "staf@bureau-utrecht.nl"),
    ])
    .unwrap();
    assert_eq!(configured.warnings(), Vec::<String>::new());
}

#[test]
fn sqlite_synchronous_defaults_to_full_and_takes_four_words() {
    assert_eq!(
        load(&[]).unwrap().database.sqlite_synchronous,
        SqliteSynchronous::Full
    );
    for (word, want) in [
        ("off", SqliteSynchronous::Off),
        ("normal", SqliteSynchronous::Normal),
        ("full", SqliteSynchronous::Full),
        ("extra", SqliteSynchronous::Extra),
    ] {
        let s = load(&[("MAATJE__DATABASE__SQLITE_SYNCHRONOUS", word)]).unwrap();
        assert_eq!(s.database.sqlite_synchronous, want);
    }
    let e = load(&[("MAATJE__DATABASE__SQLITE_SYNCHRONOUS", "sometimes")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("database.sqlite_synchronous"), "{e}");
    assert!(
        e.contains("expected one of: off, normal, full, extra; got `sometimes`"),
        "{e}"
    );
}

#[test]
fn trusted_proxies_are_a_validated_list_of_blocks() {
    let s = load(&[]).unwrap();
    assert!(s.server.trusted_proxies.is_empty());
    let s = load(&[(
        "MAATJE__SERVER__TRUSTED_PROXIES",
        "127.0.0.1/32,10.0.0.0/8, 2001:db8::/32",
    )])
    .unwrap();
    let trusted = s.server.trusted_proxies();
    assert!(trusted.contains("10.20.30.40".parse().unwrap()));
    assert!(trusted.contains("2001:db8::1".parse().unwrap()));
    assert!(!trusted.contains("127.0.0.2".parse().unwrap()));
    let e = load(&[(
        "MAATJE__SERVER__TRUSTED_PROXIES",
        "10.0.0.0/8,proxy.example.org",
    )])
    .unwrap_err()
    .to_string();
    assert!(e.contains("server.trusted_proxies"), "{e}");
    assert!(
        e.contains("\"proxy.example.org\" is not an address or a CIDR block"),
        "{e}"
    );
}

#[test]
fn connection_limits_default_and_are_ranged() {
    let s = load(&[]).unwrap();
    assert_eq!(s.server.keep_alive_seconds, 5);
    assert_eq!(s.server.client_request_timeout_ms, 5000);
    assert_eq!(s.server.client_disconnect_timeout_ms, 0);
    assert_eq!(s.server.max_connections, 2048);
    for (key, value) in [
        ("MAATJE__SERVER__KEEP_ALIVE_SECONDS", "3601"),
        ("MAATJE__SERVER__CLIENT_REQUEST_TIMEOUT_MS", "99"),
        ("MAATJE__SERVER__CLIENT_DISCONNECT_TIMEOUT_MS", "60001"),
        ("MAATJE__SERVER__MAX_CONNECTIONS", "0"),
    ] {
        let e = load(&[(key, value)]).unwrap_err().to_string();
        let name = key
            .trim_start_matches("MAATJE__SERVER__")
            .to_ascii_lowercase();
        assert!(
            e.contains(&format!("server.{name}: must be between")),
            "{e}"
        );
    }
}
