//! The outbox and its worker against a real SMTP server on loopback (the harness's own, in
//! `smtp.rs`) and against the file transport. Messages are enqueued through the store, as the
//! domain code does inside its transactions. The worker polls in real time every 20 ms, so the
//! tests wait for the outbox to reach a state (bounded); time that must pass (backoff, leases) is
//! moved with the manual clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;

use maatje::mail::notices::Notices;
use maatje::mail::transport::Transport;
use maatje::mail::worker::MailWorker;
use maatje::respond::links::Links;
use maatje::store::outbox::{self, Message, OutboxRow};

use crate::access::{Row, ADMIN};
use crate::helpers::{spawn_app_sharing, spawn_app_with, TestApp};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    // The mail outbox: administrators only.
    ("GET", "/v1/outbox", ADMIN),
    ("POST", "/v1/outbox/{id}/retry", ADMIN),
];
pub use crate::smtp::SmtpSink;

pub async fn spawn_app_with_sink(sink: &SmtpSink, extra: &[(&str, &str)]) -> TestApp {
    let settings = sink.settings();
    let mut overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    overrides.extend_from_slice(extra);
    spawn_app_with(&overrides).await
}

pub fn message(recipient: &str, subject: &str) -> Message {
    Message {
        kind: "test_message".into(),
        recipient: recipient.into(),
        language: "nl".into(),
        subject: subject.into(),
        body_text: format!("Hallo,\n\n{subject}\n"),
        body_html: format!("<p>Hallo,</p><p>{subject}</p>"),
        related: Some((
            "pairing".into(),
            "0192f0c4-0000-7000-8000-000000000001".into(),
        )),
    }
}

/// Enqueues in a write transaction, as domain code does; returns the outbox id.
pub fn enqueue(app: &TestApp, message: Message) -> String {
    let now = app.clock.now_naive();
    app.with_connection(|conn| {
        maatje::db::write_transaction(conn, |c| outbox::enqueue(c, now, message))
    })
    .expect("enqueued")
}

pub fn row(app: &TestApp, id: &str) -> OutboxRow {
    app.with_connection(|conn| outbox::find(conn, id))
        .expect("readable")
        .expect("the row exists")
}

pub fn all_rows(app: &TestApp) -> Vec<OutboxRow> {
    use diesel::prelude::*;
    use maatje::db::schema::outbox::dsl;
    app.with_connection(|conn| {
        dsl::outbox
            .order(dsl::id.asc())
            .select(OutboxRow::as_select())
            .load(conn)
    })
    .expect("readable")
}

/// The outbox messages of `kind`, oldest first.
pub fn mails(app: &TestApp, kind: &str) -> Vec<OutboxRow> {
    all_rows(app)
        .into_iter()
        .filter(|r| r.kind == kind)
        .collect()
}

/// Waits (at most 30 s) until `done` holds for the row; returns it.
pub async fn wait_for(
    app: &TestApp,
    id: &str,
    what: &str,
    done: impl Fn(&OutboxRow) -> bool,
) -> OutboxRow {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = row(app, id);
        if done(&current) {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "outbox message {id} never became {what}: {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn wait_for_state(app: &TestApp, id: &str, state: &str) -> OutboxRow {
    wait_for(app, id, state, |r| r.state.as_str() == state).await
}

/// The received messages by Message-ID.
fn by_message_id(received: &[String]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for text in received {
        let id = header(text, "Message-ID").unwrap_or_else(|| panic!("no Message-ID in {text}"));
        *out.entry(id).or_insert(0) += 1;
    }
    out
}

fn header(text: &str, name: &str) -> Option<String> {
    text.lines().take_while(|l| !l.is_empty()).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

fn assert_complete_message(text: &str, id: &str, recipient: &str, subject: &str) {
    assert_eq!(
        header(text, "Message-ID").as_deref(),
        Some(format!("<{id}@maatje.local>").as_str()),
        "{text}"
    );
    assert_eq!(header(text, "To").as_deref(), Some(recipient), "{text}");
    assert_eq!(header(text, "Subject").as_deref(), Some(subject), "{text}");
    assert!(
        header(text, "From")
            .unwrap_or_default()
            .contains("maatje@example.org"),
        "{text}"
    );
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("multipart/alternative"), "{text}");
    assert!(lower.contains("content-type: text/plain"), "{text}");
    assert!(lower.contains("content-type: text/html"), "{text}");
    assert!(text.contains(&format!("<p>{subject}</p>")), "{text}");
}

#[tokio::test]
async fn a_message_arrives_over_smtp_with_both_parts_and_its_message_id() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, &[]).await;
    let id = enqueue(&app, message("jan@example.org", "Welkom bij maatje"));
    let sent = wait_for_state(&app, &id, "sent").await;
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some());
    assert!(sent.lease_owner.is_none() && sent.lease_until.is_none());
    let received = sink.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        received[0].starts_with("X-Sink-Rcpt: jan@example.org"),
        "{}",
        received[0]
    );
    assert_complete_message(&received[0], &id, "jan@example.org", "Welkom bij maatje");
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_the_backoff_and_then_delivered() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, &[("MAATJE__MAIL__BACKOFF_BASE_SECONDS", "60")]).await;
    let id = enqueue(&app, message("fail451x1@example.org", "Tweede poging"));
    let waiting = wait_for(&app, &id, "pending after a failure", |r| {
        r.state.as_str() == "pending" && r.attempts == 1
    })
    .await;
    let error = waiting.last_error.clone().unwrap_or_default();
    assert!(error.contains("451"), "{error}");
    assert!(
        !error.contains("fail451x1@example.org"),
        "no address in errors: {error}"
    );
    let delay = waiting.next_attempt_at - app.clock.now_naive();
    assert!(
        delay >= chrono::Duration::seconds(60) && delay <= chrono::Duration::seconds(75),
        "base * 2^0 plus at most 25% jitter: {delay}"
    );
    // Not before its time.
    assert_eq!(row(&app, &id).state.as_str(), "pending");
    assert!(sink.received().is_empty());
    app.clock.advance(chrono::Duration::seconds(76));
    let sent = wait_for_state(&app, &id, "sent").await;
    assert_eq!(sent.attempts, 2);
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_complete_message(&received[0], &id, "fail451x1@example.org", "Tweede poging");
}

#[tokio::test]
async fn transient_failures_end_dead_after_max_attempts() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, &[("MAATJE__MAIL__MAX_ATTEMPTS", "2")]).await;
    let id = enqueue(&app, message("fail451x9@example.org", "Blijft mislukken"));
    wait_for(&app, &id, "pending after a failure", |r| {
        r.attempts == 1 && r.state.as_str() == "pending"
    })
    .await;
    app.clock.advance(chrono::Duration::hours(1));
    let dead = wait_for_state(&app, &id, "dead").await;
    assert_eq!(dead.attempts, 2);
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once_and_alerts_the_bureau() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, &[]).await;
    let id = enqueue(&app, message("reject550@example.org", "Kan niet"));
    let dead = wait_for_state(&app, &id, "dead").await;
    assert_eq!(dead.attempts, 1, "no retry after a 5xx");
    let error = dead.last_error.clone().unwrap_or_default();
    assert!(error.contains("550"), "{error}");
    let rows = all_rows(&app);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let alert = rows.iter().find(|r| r.id != id).unwrap();
    assert_eq!(alert.kind, outbox::KIND_DEAD_LETTER_ALERT);
    assert_eq!(alert.recipient, "bureau@example.org");
    assert_eq!(alert.related_type.as_deref(), Some("outbox"));
    assert_eq!(alert.related_id.as_deref(), Some(id.as_str()));
    // The alert itself is delivered (its stored text is cleared once sent, so it is read as
    // the sink received it): it names the message and its kind, not its recipient or subject.
    wait_for_state(&app, &alert.id, "sent").await;
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let text = &received[0];
    assert!(
        text.starts_with("X-Sink-Rcpt: bureau@example.org"),
        "{text}"
    );
    assert!(
        text.contains(&id) && text.contains("test_message"),
        "{text}"
    );
    assert!(!text.contains("reject550@example.org"), "{text}");
    assert!(
        !text.contains("Kan niet"),
        "no subject in the alert: {text}"
    );
}

#[tokio::test]
async fn a_dead_alert_raises_no_alert_of_its_own() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(
        &sink,
        &[(
            "MAATJE__MAIL__BUREAU_ADDRESS",
            "reject550-bureau@example.org",
        )],
    )
    .await;
    let id = enqueue(&app, message("reject550@example.org", "Kan niet"));
    wait_for_state(&app, &id, "dead").await;
    let alert = all_rows(&app).into_iter().find(|r| r.id != id).unwrap();
    wait_for_state(&app, &alert.id, "dead").await;
    // Give the worker every chance to (wrongly) enqueue more: it would do so in the same
    // transaction that made the alert dead, so the count is final now.
    assert_eq!(all_rows(&app).len(), 2);
}

#[tokio::test]
async fn the_file_transport_writes_a_readable_eml_named_after_the_outbox_id() {
    let dir = tempfile::tempdir().unwrap();
    let file_dir = dir.path().join("mail");
    let app = spawn_app_with(&[
        ("MAATJE__MAIL__WORKER_ENABLED", "true"),
        ("MAATJE__MAIL__TRANSPORT", "file"),
        ("MAATJE__MAIL__FILE_DIR", file_dir.to_str().unwrap()),
        ("MAATJE__MAIL__POLL_INTERVAL_MS", "20"),
    ])
    .await;
    let id = enqueue(&app, message("els@example.org", "Een bestand"));
    wait_for_state(&app, &id, "sent").await;
    let names: Vec<PathBuf> = std::fs::read_dir(&file_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        names,
        vec![file_dir.join(format!("{id}.eml"))],
        "no temporary file left"
    );
    let text = std::fs::read_to_string(&names[0]).unwrap();
    assert_complete_message(&text, &id, "els@example.org", "Een bestand");
}

#[tokio::test]
async fn two_instances_on_one_database_send_every_message_exactly_once() {
    let sink = SmtpSink::start();
    let first = spawn_app_with_sink(&sink, &[("MAATJE__MAIL__BATCH_SIZE", "3")]).await;
    let settings = sink.settings();
    let mut overrides: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    overrides.push(("MAATJE__MAIL__BATCH_SIZE", "3"));
    let second = spawn_app_sharing(&first, &overrides).await;
    let ids: Vec<String> = (0..30)
        .map(|n| {
            enqueue(
                &first,
                message(&format!("buddy{n}@example.org"), &format!("Bericht {n}")),
            )
        })
        .collect();
    for id in &ids {
        wait_for_state(&first, id, "sent").await;
    }
    let received = sink.received();
    let counts = by_message_id(&received);
    assert_eq!(counts.len(), 30, "{counts:?}");
    for id in &ids {
        assert_eq!(
            counts.get(&format!("<{id}@maatje.local>")),
            Some(&1),
            "{id}: {counts:?}"
        );
    }
    let owners: std::collections::BTreeSet<_> =
        all_rows(&first).iter().map(|r| r.attempts).collect();
    assert_eq!(owners, [1].into(), "every message was claimed once");
    drop(second);
}

#[tokio::test]
async fn a_message_whose_worker_died_mid_send_is_sent_once_its_lease_expires() {
    let sink = SmtpSink::start();
    // The service's own worker stays off: this test drives a worker step by step.
    let app = spawn_app_with_sink(
        &sink,
        &[
            ("MAATJE__MAIL__WORKER_ENABLED", "false"),
            ("MAATJE__MAIL__LEASE_SECONDS", "60"),
        ],
    )
    .await;
    // A worker claimed it and died: state `sending`, its lease still running.
    let now = app.clock.now_naive();
    let id = app
        .with_connection(|conn| {
            maatje::db::write_transaction(conn, |c| {
                let id = outbox::enqueue(c, now, message("piet@example.org", "Na een crash"))?;
                outbox::claim(
                    c,
                    "a-worker-that-died",
                    now,
                    chrono::Duration::seconds(60),
                    10,
                )?;
                Ok::<_, maatje::domain::error::DomainError>(id)
            })
        })
        .unwrap();
    let claimed = row(&app, &id);
    assert_eq!(claimed.state.as_str(), "sending");
    assert_eq!(claimed.lease_owner.as_deref(), Some("a-worker-that-died"));
    // The service restarts: a new worker, as `Application::build` makes it.
    let transport = Arc::new(Transport::from_settings(&app.settings.mail).unwrap());
    let links = Links::from_settings(&app.settings.mail).unwrap();
    let worker = MailWorker::new(
        app.db.clone(),
        app.clock.clone(),
        transport,
        Notices::new(&app.settings, links),
        &app.settings,
    );
    // While the lease runs, nobody else takes it.
    app.clock.advance(chrono::Duration::seconds(30));
    assert_eq!(worker.work_once().await.unwrap(), 0);
    assert_eq!(row(&app, &id).state.as_str(), "sending");
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(worker.work_once().await.unwrap(), 1);
    let sent = row(&app, &id);
    assert_eq!(sent.state.as_str(), "sent");
    assert_eq!(sent.attempts, 2);
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_complete_message(&received[0], &id, "piet@example.org", "Na een crash");
}

#[tokio::test]
async fn admins_list_the_outbox_without_recipients_or_contents() {
    let app = spawn_app_with(&[]).await; // worker off: everything stays pending
    let first = enqueue(&app, message("an@example.org", "Eerste"));
    let mut other = message("bo@example.org", "Tweede");
    other.kind = "other_kind".into();
    let second = enqueue(&app, other);
    let third = enqueue(&app, message("cor@example.org", "Derde"));
    let all = app.collect_pages("/v1/outbox?limit=2").await;
    let ids: Vec<&str> = all.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str(), third.as_str()]);
    let item = &all[0];
    assert_eq!(item["state"], "pending");
    assert_eq!(item["kind"], "test_message");
    assert_eq!(item["attempts"], 0);
    assert_eq!(item["related_type"], "pairing");
    for field in [
        "recipient",
        "subject",
        "body_text",
        "body_html",
        "lease_owner",
    ] {
        assert!(
            item.get(field).is_none(),
            "{field} must not be shown: {item}"
        );
    }
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("@example.org") && !text.contains("Eerste"),
        "{text}"
    );
    let r = app.get("/v1/outbox?kind=other_kind").await;
    assert_eq!(r.status, 200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], second.as_str());
    let r = app.get("/v1/outbox?state=dead").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    let r = app.get("/v1/outbox?state=lost").await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn an_admin_retries_a_dead_letter_and_it_is_delivered() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, &[]).await;
    // Dead at the first attempt: the sink refuses the address.
    let id = enqueue(&app, message("reject550@example.org", "Opnieuw"));
    wait_for_state(&app, &id, "dead").await;
    let r = app.get("/v1/outbox?state=dead").await;
    assert_eq!(r.status, 200);
    let dead = &r.body["items"].as_array().unwrap()[0];
    assert_eq!(dead["id"], id.as_str());
    assert_eq!(dead["attempts"], 1);
    assert!(dead["last_error"].as_str().unwrap().contains("550"));
    assert!(!dead["last_error"]
        .as_str()
        .unwrap()
        .contains("reject550@example.org"));
    // The address is corrected at the source (here: in the row); the admin sends it again.
    app.with_connection(|conn| {
        use diesel::prelude::*;
        use maatje::db::schema::outbox::dsl;
        diesel::update(dsl::outbox.find(&id))
            .set(dsl::recipient.eq("fixed@example.org"))
            .execute(conn)
    })
    .unwrap();
    let r = app.post_empty(&format!("/v1/outbox/{id}/retry")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["attempts"], 0);
    let sent = wait_for_state(&app, &id, "sent").await;
    assert_eq!(sent.attempts, 1);
    assert!(sink
        .received()
        .iter()
        .any(|m| m.starts_with("X-Sink-Rcpt: fixed@example.org")));
    // Only a dead letter can be retried.
    let r = app.post_empty(&format!("/v1/outbox/{id}/retry")).await;
    crate::helpers::assert_problem(&r, 409, "illegal-transition");
    assert!(r.text.contains("sent"), "{}", r.text);
    let r = app
        .post_empty(&format!("/v1/outbox/{}/retry", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(r.status, 404);
}

/// The built binary as a child process, sending through `sink`; killed (SIGKILL) when dropped.
fn start_binary(sink: &SmtpSink, dir: &Path, database_url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_maatje"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MAATJE__SERVER__PORT", "0")
        .env("MAATJE__DATABASE__URL", database_url)
        // The same secret as the test server on this database, as every instance must have.
        .env(
            "MAATJE__MAIL__LINK_SECRET",
            crate::helpers::TEST_LINK_SECRET,
        )
        .env("MAATJE__PRIVACY__RETENTION_ENABLED", "false")
        .env("MAATJE__MAIL__TRANSPORT", "smtp")
        .env("MAATJE__MAIL__SMTP__HOST", "127.0.0.1")
        .env("MAATJE__MAIL__SMTP__PORT", sink.port.to_string())
        .env("MAATJE__MAIL__SMTP__TLS", "none")
        .env("MAATJE__MAIL__POLL_INTERVAL_MS", "20")
        .env("MAATJE__MAIL__BATCH_SIZE", "2")
        // The binary runs on the system clock: a short lease lets the restart take over quickly.
        .env("MAATJE__MAIL__LEASE_SECONDS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the maatje binary starts")
}

#[tokio::test]
async fn nothing_is_lost_when_the_service_is_killed_mid_run() {
    let sink = SmtpSink::start();
    // An app of the harness only to get a fresh, migrated database (its worker stays off).
    let app = spawn_app_with(&[]).await;
    let url = app.settings.database.url.clone();
    let ids: Vec<String> = (0..40)
        .map(|n| {
            let mut m = message(&format!("kill{n}@example.org"), &format!("Bericht {n}"));
            m.body_text = "x".repeat(20_000); // slows each send down a little
            let now = chrono::Utc::now().naive_utc();
            app.with_connection(|conn| {
                maatje::db::write_transaction(conn, |c| outbox::enqueue(c, now, m))
            })
            .unwrap()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut first = start_binary(&sink, dir.path(), &url);
    // Kill it as soon as it has sent something, most likely mid-run.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.received().is_empty() {
        assert!(Instant::now() < deadline, "the first run sent nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    first.wait().unwrap();
    let left = all_rows(&app)
        .iter()
        .filter(|r| r.state.as_str() != "sent")
        .count();
    eprintln!("killed with {left} of 40 messages not sent");
    assert!(
        left > 0,
        "the first run finished before it was killed; the test proves nothing"
    );
    let mut second = start_binary(&sink, dir.path(), &url);
    for id in &ids {
        wait_for(&app, id, "sent", |r| r.state.as_str() == "sent").await;
    }
    let _ = second.kill();
    let _ = second.wait();
    let counts = by_message_id(&sink.received());
    for id in &ids {
        assert!(
            counts
                .get(&format!("<{id}@maatje.local>"))
                .is_some_and(|n| *n >= 1),
            "{id} never arrived: {counts:?}"
        );
    }
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    // A port nobody listens on: bound, read and released again.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
        .to_string();
    let app = spawn_app_with(&[
        ("MAATJE__MAIL__WORKER_ENABLED", "true"),
        ("MAATJE__MAIL__TRANSPORT", "smtp"),
        ("MAATJE__MAIL__SMTP__HOST", "127.0.0.1"),
        ("MAATJE__MAIL__SMTP__PORT", port.as_str()),
        ("MAATJE__MAIL__SMTP__TLS", "none"),
        ("MAATJE__MAIL__SMTP__USERNAME", "maatje"),
        ("MAATJE__MAIL__SMTP__PASSWORD", "s3cret-smtp-pw"),
        ("MAATJE__MAIL__POLL_INTERVAL_MS", "20"),
    ])
    .await;
    let id = enqueue(&app, message("jan@example.org", "Geen verbinding"));
    let failed = wait_for(&app, &id, "pending after a failure", |r| {
        r.state.as_str() == "pending" && r.attempts == 1
    })
    .await;
    let error = failed.last_error.unwrap_or_default();
    assert!(!error.is_empty());
    assert!(!error.contains("s3cret-smtp-pw"), "{error}");
    assert_eq!(all_rows(&app).len(), 1, "no alert for a transient failure");
}

#[tokio::test]
async fn every_tls_mode_builds_a_transport() {
    for tls in ["none", "starttls", "tls"] {
        let settings = maatje::config::Settings::load_from(
            None,
            [
                ("MAATJE__MAIL__TRANSPORT", "smtp"),
                ("MAATJE__MAIL__SMTP__HOST", "mail.example.org"),
                ("MAATJE__MAIL__SMTP__TLS", tls),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .unwrap();
        let transport = Transport::from_settings(&settings.mail).unwrap();
        assert!(matches!(transport, Transport::Smtp { .. }), "{tls}");
    }
}

/// The bureau every test below configures: unlike the built-in example, so that a mail showing
/// the example by accident fails.
pub(crate) const BUREAU: &[(&str, &str)] = &[
    ("MAATJE__BUREAU__NAME", "Bureau Maatjes Utrecht"),
    ("MAATJE__BUREAU__PHONE", "030 123 4567"),
    ("MAATJE__BUREAU__EMAIL", "vragen@bureau-utrecht.nl"),
    (
        "MAATJE__BUREAU__POSTAL_ADDRESS",
        "Oudegracht 1, 3511 AA Utrecht",
    ),
    // An address alone: the sender is named after the bureau.
    ("MAATJE__MAIL__FROM", "maatje@bureau-utrecht.nl"),
];

/// Registers a buddy speaking `languages` (with `mail_language` when given) through the API;
/// returns the id and the mail language the service chose.
async fn buddy_speaking(
    app: &TestApp,
    org: &str,
    n: u32,
    languages: &[&str],
    mail_language: Option<&str>,
) -> (String, String) {
    let mut body = crate::fixtures::profile(n);
    body["organisation_id"] = serde_json::json!(org);
    body["languages"] = serde_json::json!(languages);
    if let Some(chosen) = mail_language {
        body["mail_language"] = serde_json::json!(chosen);
    }
    let response = app.post_json("/v1/buddies", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    (
        crate::helpers::id_of(&response.body),
        response.body["mail_language"]
            .as_str()
            .expect("a mail language")
            .to_owned(),
    )
}

/// Waits (at most 30 s) for the message to `recipient` whose subject is `subject`.
async fn received_by(sink: &SmtpSink, recipient: &str, subject: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = sink.received().into_iter().find(|m| {
            m.starts_with(&format!("X-Sink-Rcpt: {recipient}\r\n"))
                && header(m, "Subject").as_deref() == Some(subject)
        }) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no {subject:?} to {recipient}: {:?}",
            sink.received()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_bureau_in_both_parts(parts: &BTreeMap<String, String>, phone_label: &str) {
    assert_eq!(parts.len(), 2, "{parts:?}");
    let text = &parts["text/plain"];
    let (_, footer) = text
        .split_once("\n-- \n")
        .unwrap_or_else(|| panic!("no footer in {text}"));
    for detail in [
        "Bureau Maatjes Utrecht",
        "Oudegracht 1, 3511 AA Utrecht",
        "030 123 4567",
        "vragen@bureau-utrecht.nl",
        phone_label,
    ] {
        assert!(footer.contains(detail), "{detail}: {footer}");
        assert!(
            parts["text/html"].contains(detail),
            "{detail}: {}",
            parts["text/html"]
        );
    }
    for part in parts.values() {
        assert!(
            !part.contains("Voorbeeldstraat") && !part.contains("030 000 0000"),
            "the example bureau: {part}"
        );
        assert!(!part.contains("(UTC)"), "a time in UTC: {part}");
    }
}

/// The proposal to a buddy who speaks English but not Dutch, and the bureau's note about the
/// request, as they arrive over SMTP: in the buddy's language by default, both parts, times in
/// Dutch local time, languages by name, the bureau in both parts, from the configured sender
/// named after the bureau, replies to the bureau; and the response page the same.
#[tokio::test]
async fn mails_over_smtp_show_local_time_language_names_and_the_bureau_from_its_sender() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, BUREAU).await;
    let org = crate::fixtures::organisation(&app).await;
    let (buddy, language) = buddy_speaking(&app, &org, 5, &["ar", "en"], None).await;
    assert_eq!(
        language, "en",
        "English for a buddy who speaks it and not Dutch"
    );
    for step in ["start-screening"] {
        crate::fixtures::act(&app, &format!("/v1/buddies/{buddy}/{step}")).await;
    }
    let response = app
        .patch_json(
            &format!("/v1/buddies/{buddy}"),
            &serde_json::json!({
                "vog_issued_on": crate::fixtures::VOG_ISSUED_ON,
                "training_completed_on": crate::fixtures::TRAINED_ON,
                "agreement_signed_on": crate::fixtures::SIGNED_ON,
            }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    crate::fixtures::act(&app, &format!("/v1/buddies/{buddy}/activate")).await;
    let mut request = crate::fixtures::request_body(&org, "CASE-TRUST");
    request["client"]["languages"] = serde_json::json!(["nl", "ar"]);
    let created = app.post_json("/v1/buddy-requests", &request).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let request = crate::helpers::id_of(&created.body);
    // The test clock stands at 2026-11-22 09:00 UTC: 10:00 in Amsterdam (winter time).
    app.clock.advance(chrono::Duration::minutes(5));
    let pairing = crate::fixtures::propose(&app, &request, &buddy).await;

    // The buddy's proposal, in English.
    let proposal = received_by(
        &sink,
        "buddy5@example.org",
        "Would you be the buddy of a new client?",
    )
    .await;
    assert_eq!(
        header(&proposal, "From").as_deref(),
        Some("\"Bureau Maatjes Utrecht\" <maatje@bureau-utrecht.nl>"),
        "{proposal}"
    );
    assert_eq!(
        header(&proposal, "Reply-To").as_deref(),
        Some("\"Bureau Maatjes Utrecht\" <vragen@bureau-utrecht.nl>"),
        "{proposal}"
    );
    let parts = crate::respond::mime_parts(&proposal);
    assert_bureau_in_both_parts(&parts, "Phone");
    // Proposed at 09:05 UTC, answerable for 72 hours: until 10:05 Dutch time on the 25th.
    for part in parts.values() {
        assert!(part.contains("Dutch, Arabic"), "{part}");
        assert!(
            part.contains("25 November 2026 at 10:05 (Dutch time)"),
            "{part}"
        );
        assert!(!part.contains("09:05"), "{part}");
    }
    // The page the link opens: the same time, names and bureau.
    let (accept, _) = crate::respond::links_in(&parts["text/plain"]);
    let page = crate::respond::open_link(&app, &accept).await;
    assert_eq!(page.status, 200, "{}", page.text);
    for detail in [
        "Dutch, Arabic",
        "25 November 2026 at 10:05 (Dutch time)",
        "Bureau Maatjes Utrecht",
        "Oudegracht 1, 3511 AA Utrecht",
        "030 123 4567",
        "mailto:vragen@bureau-utrecht.nl",
    ] {
        assert!(page.text.contains(detail), "{detail}: {}", page.text);
    }
    let _ = pairing;

    // The bureau's note about the new request, in Dutch (mail.bureau_language).
    let note = received_by(
        &sink,
        "bureau@example.org",
        "maatje: Nieuwe maatjesaanvraag (Gecertificeerde Instelling Test)",
    )
    .await;
    assert_eq!(
        header(&note, "From").as_deref(),
        Some("\"Bureau Maatjes Utrecht\" <maatje@bureau-utrecht.nl>")
    );
    let parts = crate::respond::mime_parts(&note);
    assert_bureau_in_both_parts(&parts, "Telefoon");
    for part in parts.values() {
        assert!(
            part.contains("22 november 2026 om 10:00 (Nederlandse tijd)"),
            "{part}"
        );
    }
}

/// A new buddy's mail language: one they speak unless they chose (the API; the console and
/// exit interviews use the same rule).
#[tokio::test]
async fn a_new_buddy_s_mail_language_is_one_they_speak_unless_chosen() {
    let app = spawn_app_with(&[]).await;
    let org = crate::fixtures::organisation(&app).await;
    for (n, languages, chosen, expected) in [
        (1, &["en"][..], None, "en"),
        (2, &["en", "tr"][..], None, "en"),
        (3, &["nl", "en"][..], None, "nl"),
        (4, &["ar"][..], None, "nl"),
        (5, &["en"][..], Some("nl"), "nl"),
        (6, &["nl"][..], Some("en"), "en"),
    ] {
        let (id, language) = buddy_speaking(&app, &org, n, languages, chosen).await;
        assert_eq!(language, expected, "{languages:?} {chosen:?}");
        let stored = app.get(&format!("/v1/buddies/{id}")).await;
        assert_eq!(stored.body["mail_language"], expected);
    }
}
