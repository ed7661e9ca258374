//! The Prometheus metrics: scraped over HTTP from the metrics listener of a real server, after
//! real requests. Each server has instruments of its own, so the values are exact.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use serde_json::json;

use crate::fixtures;
use crate::helpers::{spawn_app_with, TestApp, STAFF_PASSWORD};
use crate::mail::{enqueue, message, wait_for_state};

const ON: (&str, &str) = ("MAATJE__METRICS__ENABLED", "true");

/// One sample of the exposition: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape, parsed.
struct Scrape {
    /// The exposition as served.
    text: String,
    samples: Vec<Sample>,
    /// `# TYPE` of each metric family.
    types: BTreeMap<String, String>,
}

impl Scrape {
    /// The value of the series `name` with exactly `labels`, if it exists.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .map(|s| s.value)
    }

    /// As [`Scrape::value`], 0 when the series does not exist (yet).
    fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or(0.0)
    }

    #[track_caller]
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or_else(|| {
            let names: Vec<String> = self
                .samples
                .iter()
                .filter(|s| s.name == name)
                .map(|s| format!("{:?}", s.labels))
                .collect();
            panic!("no series {name} {labels:?}; the series of that name: {names:?}")
        })
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses the Prometheus text format (version 0.0.4) strictly: every line a `# HELP`, a
/// `# TYPE` or a sample whose family was typed before it; names and label names well formed,
/// label values quoted with only the three escapes, values numbers (or `+Inf`, `-Inf`, `NaN`).
fn parse(text: &str) -> Scrape {
    let mut types = BTreeMap::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.splitn(3, ' ');
            let (keyword, name) = (words.next().unwrap(), words.next().unwrap_or(""));
            assert!(is_metric_name(name), "a comment names a metric: {line:?}");
            match keyword {
                "HELP" => {}
                "TYPE" => {
                    let kind = words.next().unwrap_or("");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "a known type: {line:?}"
                    );
                    assert!(
                        types.insert(name.to_owned(), kind.to_owned()).is_none(),
                        "one TYPE per family: {line:?}"
                    );
                }
                _ => panic!("an unknown comment: {line:?}"),
            }
            continue;
        }
        assert!(!line.is_empty() && !line.starts_with('#'), "{line:?}");
        let name_end = line.find(['{', ' ']).expect("a sample has a value");
        let name = &line[..name_end];
        assert!(is_metric_name(name), "a metric name: {line:?}");
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(after) = rest.strip_prefix('{') {
            let bytes = after.as_bytes();
            let mut i = 0;
            while bytes[i] != b'}' {
                let eq = after[i..].find('=').expect("label=value") + i;
                let key = &after[i..eq];
                assert!(
                    is_metric_name(key) && !key.contains(':'),
                    "a label name: {line:?}"
                );
                assert_eq!(bytes[eq + 1], b'"', "a quoted value: {line:?}");
                let mut value = String::new();
                i = eq + 2;
                while bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        value.push(match bytes[i + 1] {
                            b'\\' => '\\',
                            b'"' => '"',
                            b'n' => '\n',
                            other => panic!("a bad escape \\{}: {line:?}", other as char),
                        });
                        i += 2;
                    } else {
                        let c = after[i..].chars().next().unwrap();
                        value.push(c);
                        i += c.len_utf8();
                    }
                }
                assert!(
                    labels.insert(key.to_owned(), value).is_none(),
                    "a label once: {line:?}"
                );
                i += 1;
                match bytes[i] {
                    b',' => i += 1,
                    b'}' => {}
                    _ => panic!("a comma or the end of the labels: {line:?}"),
                }
            }
            rest = &after[i + 1..];
        }
        let value_text = rest.strip_prefix(' ').expect("a space before the value");
        let value_text = value_text.split(' ').next().unwrap();
        let value: f64 = match value_text {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other
                .parse()
                .unwrap_or_else(|_| panic!("a number: {line:?}")),
        };
        assert!(
            ["_bucket", "_sum", "_count", ""].iter().any(|suffix| name
                .strip_suffix(suffix)
                .is_some_and(|base| types.contains_key(base))),
            "a sample of a typed family: {line:?}"
        );
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Scrape {
        text: text.to_owned(),
        samples,
        types,
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let port = app.metrics_port.expect("the metrics listener is on");
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("the metrics listener answers");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(
        answer.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = answer.text().await.unwrap();
    let scrape = parse(&text);
    assert_no_ids_or_addresses(&scrape);
    scrape
}

fn looks_like_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// No label value is an id or an e-mail address, wherever it came from.
#[track_caller]
fn assert_no_ids_or_addresses(scrape: &Scrape) {
    // Anywhere in the text (help lines included): no e-mail address, no UUID.
    assert!(!scrape.text.contains('@'), "an address in {}", scrape.text);
    for token in scrape
        .text
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
    {
        assert!(!looks_like_uuid(token), "an id in the metrics: {token}");
    }
    for sample in &scrape.samples {
        for value in sample.labels.values() {
            assert!(
                !value.contains('@')
                    && !value
                        .split(['/', '-', '_', '.'])
                        .any(|part| part.len() >= 16 && part.chars().all(|c| c.is_ascii_hexdigit()))
                    && !value.split('/').any(looks_like_uuid),
                "a label value that looks personal or like an id: {sample:?}"
            );
        }
    }
}

fn requests(route: &str, method: &str, status: &str) -> [(&'static str, String); 3] {
    [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_owned()),
    ]
}

fn labels<'a>(owned: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    owned.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn requests_count_by_route_pattern_method_and_status_with_their_latency() {
    let app = spawn_app_with(&[ON]).await;
    let org = fixtures::organisation(&app).await;
    let before = scrape(&app).await;
    let listed = requests("/v1/organisations", "GET", "200");
    let listed_before = before.count("maatje_http_requests_total", &labels(&listed));

    assert_eq!(app.get("/v1/organisations").await.status, 200);
    assert_eq!(app.get("/v1/organisations").await.status, 200);
    assert_eq!(
        app.get(&format!("/v1/organisations/{org}")).await.status,
        200
    );
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(
        app.get(&format!("/v1/buddy-requests/{unknown}"))
            .await
            .status,
        404
    );
    assert_eq!(app.get("/no/such/route/a@b.example").await.status, 404);
    app.use_token(None);
    assert_eq!(app.get("/v1/buddies").await.status, 401);
    app.use_admin();

    let after = scrape(&app).await;
    assert!(!after.text.contains(&org) && !after.text.contains(&unknown.to_string()));
    assert_eq!(
        after.get("maatje_http_requests_total", &labels(&listed)),
        listed_before + 2.0
    );
    let one = [
        requests("/v1/organisations/{id}", "GET", "200"),
        requests("/v1/buddy-requests/{id}", "GET", "404"),
        requests("unmatched", "GET", "404"),
        requests("/v1/buddies", "GET", "401"),
    ];
    for series in &one {
        assert_eq!(
            after.get("maatje_http_requests_total", &labels(series)),
            before.count("maatje_http_requests_total", &labels(series)) + 1.0,
            "{series:?}"
        );
    }
    // The latency histogram has the same labels, buckets up to +Inf, and a count per series.
    assert_eq!(
        after.types["maatje_http_request_duration_seconds"],
        "histogram"
    );
    let mut with_le = labels(&listed);
    with_le.push(("le", "+Inf"));
    assert_eq!(
        after.get("maatje_http_request_duration_seconds_bucket", &with_le),
        listed_before + 2.0
    );
    assert_eq!(
        after.get(
            "maatje_http_request_duration_seconds_count",
            &labels(&listed)
        ),
        listed_before + 2.0
    );
    assert!(after.get("maatje_http_request_duration_seconds_sum", &labels(&listed)) > 0.0);
    // The pool: its size, what is open, in use and idle, and the waits for a connection.
    let read = [("pool", "read")];
    assert_eq!(after.get("maatje_db_pool_max_connections", &read), 3.0);
    let open = after.get("maatje_db_pool_connections", &read);
    assert_eq!(
        after.get("maatje_db_pool_idle_connections", &read)
            + after.get("maatje_db_pool_in_use_connections", &read),
        open
    );
    assert!(
        after.get("maatje_db_pool_wait_seconds_count", &read)
            > before.get("maatje_db_pool_wait_seconds_count", &read)
    );
    if !app.server_db.is_postgres() {
        assert_eq!(
            after.get("maatje_db_pool_max_connections", &[("pool", "write")]),
            1.0
        );
    }
    assert_eq!(after.get("maatje_database_up", &[]), 1.0);
    // The audit writer appended the records of the reads above.
    assert!(
        after.get("maatje_audit_records_appended_total", &[])
            > before.count("maatje_audit_records_appended_total", &[])
    );
    assert!(after.get("maatje_audit_append_duration_seconds_count", &[]) > 0.0);
}

#[tokio::test]
async fn the_public_port_does_not_serve_the_metrics_nor_the_metrics_port_the_api() {
    let app = spawn_app_with(&[ON]).await;
    let public = app.get("/metrics").await;
    assert_eq!(public.status, 404);
    assert!(!public.text.contains("maatje_"), "{}", public.text);
    let port = app.metrics_port.unwrap();
    assert_ne!(port, app.port);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for path in ["/v1/organisations", "/", "/metrics/x"] {
        let answer = client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 404, "{path}");
    }
    let posted = client
        .post(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_client_error());
    // Off by default in the tests: no listener at all.
    let off = spawn_app_with(&[]).await;
    assert_eq!(off.metrics_port, None);
}

#[tokio::test]
async fn failed_logins_lockouts_and_rate_limit_refusals_count() {
    let app = spawn_app_with(&[
        ON,
        ("MAATJE__AUTH__MAX_FAILED_LOGINS", "2"),
        ("MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE", "3"),
    ])
    .await;
    app.use_token(None);
    let login = |password: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                "/v1/auth/login",
                &json!({ "email": "admin@example.org", "password": password }),
            )
            .await
        }
    };
    let api = [("channel", "api")];
    assert_eq!(login(STAFF_PASSWORD).await.status, 200);
    let first = scrape(&app).await;
    assert_eq!(first.count("maatje_login_failures_total", &api), 0.0);
    assert_eq!(login("wrong password 1").await.status, 401);
    let failed = scrape(&app).await;
    assert_eq!(failed.get("maatje_login_failures_total", &api), 1.0);
    assert_eq!(failed.count("maatje_login_lockouts_total", &api), 0.0);
    // The second failure locks this address out of the account.
    assert_eq!(login("wrong password 2").await.status, 401);
    let locked = scrape(&app).await;
    assert_eq!(locked.get("maatje_login_failures_total", &api), 2.0);
    assert_eq!(locked.get("maatje_login_lockouts_total", &api), 1.0);
    assert_eq!(
        locked.get(
            "maatje_http_requests_total",
            &labels(&requests("/v1/auth/login", "POST", "401"))
        ),
        2.0
    );
    // The fourth login in the minute is refused by the login limit.
    assert_eq!(login(STAFF_PASSWORD).await.status, 429);
    let limited = scrape(&app).await;
    assert_eq!(
        limited.get("maatje_rate_limited_total", &[("limit", "login")]),
        1.0
    );
    assert_eq!(
        limited.get(
            "maatje_http_requests_total",
            &labels(&requests("/v1/auth/login", "POST", "429"))
        ),
        1.0
    );
    // A refused login is no failed login: the password was never checked.
    assert_eq!(limited.get("maatje_login_failures_total", &api), 2.0);
}

#[tokio::test]
async fn the_queues_show_their_depth_and_oldest_age_and_overdue_requests_count() {
    // No mail worker: the messages wait.
    let app = spawn_app_with(&[ON]).await;
    let empty = scrape(&app).await;
    assert_eq!(empty.get("maatje_outbox_queue_depth", &[]), 0.0);
    assert_eq!(empty.get("maatje_outbox_oldest_age_seconds", &[]), 0.0);
    assert_eq!(empty.get("maatje_webhook_queue_depth", &[]), 0.0);
    assert_eq!(empty.get("maatje_requests_overdue", &[]), 0.0);
    enqueue(&app, message("els@example.org", "Een"));
    app.clock.advance(chrono::Duration::seconds(90));
    enqueue(&app, message("piet@example.org", "Twee"));
    let waiting = scrape(&app).await;
    assert_eq!(waiting.get("maatje_outbox_queue_depth", &[]), 2.0);
    assert_eq!(waiting.get("maatje_outbox_oldest_age_seconds", &[]), 90.0);
    assert_eq!(waiting.get("maatje_outbox_dead_messages", &[]), 0.0);
    let org = fixtures::organisation(&app).await;
    fixtures::open_request(&app, &org, "C-1").await;
    let opened = scrape(&app).await;
    assert_eq!(opened.get("maatje_requests_overdue", &[]), 0.0);
    // Past the service level (workflow.overdue_after_days = 5) the open request is overdue.
    app.clock.advance(chrono::Duration::days(6));
    let later = scrape(&app).await;
    assert_eq!(later.get("maatje_requests_overdue", &[]), 1.0);
    assert_eq!(
        later.get("maatje_outbox_oldest_age_seconds", &[]),
        90.0 + 6.0 * 86400.0
    );
}

#[tokio::test]
async fn a_sent_mail_counts() {
    let dir = tempfile::tempdir().unwrap();
    let file_dir = dir.path().join("mail");
    let app = spawn_app_with(&[
        ON,
        ("MAATJE__MAIL__WORKER_ENABLED", "true"),
        ("MAATJE__MAIL__TRANSPORT", "file"),
        ("MAATJE__MAIL__FILE_DIR", file_dir.to_str().unwrap()),
        ("MAATJE__MAIL__POLL_INTERVAL_MS", "20"),
    ])
    .await;
    let before = scrape(&app).await;
    assert_eq!(before.get("maatje_outbox_sent_total", &[]), 0.0);
    let id = enqueue(&app, message("els@example.org", "Verstuurd"));
    wait_for_state(&app, &id, "sent").await;
    let after = scrape(&app).await;
    assert_eq!(after.get("maatje_outbox_sent_total", &[]), 1.0);
    assert_eq!(after.get("maatje_outbox_retried_total", &[]), 0.0);
    assert_eq!(after.get("maatje_outbox_dead_total", &[]), 0.0);
    assert_eq!(after.get("maatje_outbox_queue_depth", &[]), 0.0);
}

#[test]
fn the_metrics_cannot_share_the_public_port() {
    let env = |port: &str| {
        [
            ("MAATJE__SERVER__PORT", "8080"),
            ("MAATJE__METRICS__ENABLED", "true"),
            ("MAATJE__METRICS__PORT", port),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    };
    let error = maatje::config::Settings::load_from(None, env("8080"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("metrics.port"), "{error}");
    assert!(maatje::config::Settings::load_from(None, env("9464")).is_ok());
}

#[test]
fn the_parser_refuses_what_is_not_the_text_format() {
    for bad in [
        "no_type 1\n",
        "# TYPE x counter\nx{a=b} 1\n",
        "# TYPE x counter\nx one\n",
        "# TYPE x counter\nx 1",
        "# TYPE x widget\nx 1\n",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
    let good = parse(
        "# HELP x_total A counter.\n# TYPE x_total counter\nx_total{a=\"q\\\"\\\\\",b=\"\"} 2\n",
    );
    assert_eq!(good.get("x_total", &[("a", "q\"\\"), ("b", "")]), 2.0);
}

/// Scrapes until `done` holds for a scrape (10 s at most), then returns that scrape.
async fn scrape_until(app: &TestApp, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = scrape(app).await;
        if done(&now) {
            return now;
        }
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_failing_mail_transport_counts_retries_then_a_dead_letter() {
    // An SMTP server that is not there: a port that was free a moment ago.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let app = spawn_app_with(&[
        ON,
        ("MAATJE__MAIL__WORKER_ENABLED", "true"),
        ("MAATJE__MAIL__TRANSPORT", "smtp"),
        ("MAATJE__MAIL__SMTP__HOST", "127.0.0.1"),
        ("MAATJE__MAIL__SMTP__PORT", &port),
        ("MAATJE__MAIL__SMTP__TLS", "none"),
        ("MAATJE__MAIL__SMTP__TIMEOUT_SECONDS", "2"),
        ("MAATJE__MAIL__MAX_ATTEMPTS", "2"),
        ("MAATJE__MAIL__POLL_INTERVAL_MS", "20"),
    ])
    .await;
    let id = enqueue(&app, message("els@example.org", "Vast"));
    let retried = scrape_until(&app, "a retry", |s| {
        s.count("maatje_outbox_retried_total", &[]) == 1.0
    })
    .await;
    assert_eq!(retried.get("maatje_outbox_sent_total", &[]), 0.0);
    assert_eq!(retried.get("maatje_outbox_dead_total", &[]), 0.0);
    assert_eq!(retried.get("maatje_outbox_queue_depth", &[]), 1.0);
    // Past the back-off the second attempt fails too: dead.
    app.clock.advance(chrono::Duration::hours(1));
    wait_for_state(&app, &id, "dead").await;
    let dead = scrape_until(&app, "a dead letter", |s| {
        s.count("maatje_outbox_dead_total", &[]) == 1.0
    })
    .await;
    assert_eq!(dead.get("maatje_outbox_dead_messages", &[]), 1.0);
    // The dead letter's alert to the bureau is queued, and fails (and is retried) the same way.
    assert!(dead.get("maatje_outbox_retried_total", &[]) >= 1.0);
    assert_eq!(dead.get("maatje_outbox_sent_total", &[]), 0.0);
}

/// A webhook receiver on loopback answering `status`.
async fn receiver(status: Arc<AtomicU16>) -> String {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let server = HttpServer::new(move || {
        let status = status.clone();
        App::new().default_service(web::to(move || {
            let code = status.load(Ordering::SeqCst);
            async move {
                HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).finish()
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    format!("http://127.0.0.1:{port}/hooks")
}

#[tokio::test]
async fn webhook_deliveries_count_delivered_retried_and_dead() {
    let app = spawn_app_with(&[
        ON,
        ("MAATJE__WEBHOOKS__WORKER_ENABLED", "true"),
        ("MAATJE__WEBHOOKS__POLL_INTERVAL_MS", "20"),
    ])
    .await;
    let status = Arc::new(AtomicU16::new(200));
    let url = receiver(status.clone()).await;
    let org = fixtures::organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    app.use_token(Some(&key));
    let subscribed = app
        .post_json(
            "/v1/webhook-endpoints",
            &json!({ "url": url, "event_types": ["buddy_request.created"] }),
        )
        .await;
    assert_eq!(subscribed.status, 201, "{}", subscribed.text);
    app.use_admin();
    fixtures::open_request(&app, &org, "C-HOOK-1").await;
    // The counter moves when the attempt is recorded; the queue is empty once that committed.
    let delivered = scrape_until(&app, "a delivery, and an empty queue", |s| {
        s.count("maatje_webhook_delivered_total", &[]) == 1.0
            && s.count("maatje_webhook_queue_depth", &[]) == 0.0
    })
    .await;
    assert_eq!(delivered.get("maatje_webhook_retried_total", &[]), 0.0);

    status.store(503, Ordering::SeqCst);
    fixtures::open_request(&app, &org, "C-HOOK-2").await;
    let retried = scrape_until(&app, "a retry", |s| {
        s.count("maatje_webhook_retried_total", &[]) >= 1.0
    })
    .await;
    assert_eq!(retried.get("maatje_webhook_queue_depth", &[]), 1.0);
    assert_eq!(retried.get("maatje_webhook_delivered_total", &[]), 1.0);
    // Still failing past webhooks.give_up_after_hours (24): dead. A step of the clock may fall
    // short of the next attempt (the back-off has up to 25 % jitter): then the next step does.
    let mut rounds = 0;
    let dead = loop {
        let before = scrape(&app)
            .await
            .count("maatje_webhook_retried_total", &[]);
        app.clock
            .advance(chrono::Duration::hours(4) + chrono::Duration::minutes(30));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let now = loop {
            let now = scrape(&app).await;
            if now.count("maatje_webhook_retried_total", &[]) > before
                || now.count("maatje_webhook_dead_total", &[]) == 1.0
                || std::time::Instant::now() > deadline
            {
                break now;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        };
        if now.count("maatje_webhook_dead_total", &[]) == 1.0 {
            break now;
        }
        rounds += 1;
        assert!(rounds < 15, "never given up");
    };
    assert_eq!(dead.get("maatje_webhook_dead_deliveries", &[]), 1.0);
    assert_eq!(dead.get("maatje_webhook_queue_depth", &[]), 0.0);
}

#[tokio::test]
async fn scheduler_runs_and_the_overdue_requests_it_reports_count() {
    let app = spawn_app_with(&[
        ON,
        ("MAATJE__WORKFLOW__SCHEDULER_ENABLED", "true"),
        ("MAATJE__WORKFLOW__SCHEDULER_INTERVAL_SECONDS", "1"),
    ])
    .await;
    let ran = scrape_until(&app, "a scheduler run", |s| {
        s.count(
            "maatje_job_runs_total",
            &[("job", "scheduler"), ("outcome", "ok")],
        ) >= 1.0
    })
    .await;
    assert_eq!(
        ran.count(
            "maatje_job_runs_total",
            &[("job", "scheduler"), ("outcome", "failed")]
        ),
        0.0
    );
    let org = fixtures::organisation(&app).await;
    fixtures::open_request(&app, &org, "C-LATE").await;
    app.clock.advance(chrono::Duration::days(6));
    let reported = scrape_until(&app, "an overdue request reported", |s| {
        s.count(
            "maatje_job_items_total",
            &[("job", "scheduler"), ("kind", "overdue_reported")],
        ) == 1.0
    })
    .await;
    assert_eq!(reported.get("maatje_requests_overdue", &[]), 1.0);
    let text = reported.text.clone();
    assert!(!text.contains(&org), "no organisation id in the metrics");
}
