//! How fast the outbox drains (issue 11, point 3): `maatje serve` with its mail worker sending
//! through SMTP to the loopback server of the test suite ([`crate::smtp`], in this process on a
//! thread of its own). 2000 messages are queued in one transaction once the service is up; the
//! figure is messages accepted by the SMTP server per second, from that commit until the last.

use std::time::{Duration, Instant};

use crate::smtp::SmtpSink;

const QUEUED: usize = 2000;

fn message(n: usize) -> maatje::store::outbox::Message {
    let paragraph = "Er is een nieuwe hulpvraag binnengekomen die bij je zou kunnen passen. \
                     Bekijk de gegevens en laat weten of je het wilt doen.\n";
    maatje::store::outbox::Message {
        kind: "bench_message".into(),
        recipient: format!("buddy{n}@example.org"),
        language: "nl".into(),
        subject: format!("Bench {n}"),
        body_text: paragraph.repeat(8),
        body_html: format!("<p>{}</p>", paragraph.repeat(8)),
        related: None,
    }
}

/// Drains [`QUEUED`] messages through a fresh maatje on `url`; returns mails per second.
pub fn drain(url: &str) -> f64 {
    let sink = SmtpSink::start();
    crate::maatje_cli(url, &["migrate"]);
    let settings = maatje::config::Settings::load_from(
        None,
        crate::maatje_env(url, 0)
            .into_iter()
            .chain(std::iter::once((
                "MAATJE__DATABASE__MIGRATE_ON_START".into(),
                "false".into(),
            ))),
    )
    .expect("the bench settings");
    let db = maatje::db::Database::connect(&settings.database, settings.database_target())
        .expect("the bench database");
    let mut extra: Vec<(String, String)> = sink
        .settings()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    extra.retain(|(k, _)| k != "MAATJE__MAIL__WORKER_ENABLED");
    extra.push(("MAATJE__MAIL__WORKER_ENABLED".into(), "true".into()));
    let server = crate::start_serve(url, &extra);
    let now = chrono::Utc::now().naive_utc();
    let mut conn = db.blocking().expect("a connection");
    maatje::db::write_transaction(&mut conn, |c| {
        for n in 0..QUEUED {
            maatje::store::outbox::enqueue(c, now, message(n))?;
        }
        Ok::<_, maatje::domain::error::DomainError>(())
    })
    .expect("queueing the messages");
    drop(conn);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    while sink.messages().len() < QUEUED {
        assert!(
            Instant::now() < deadline,
            "only {} of {QUEUED} messages arrived within 5 minutes",
            sink.messages().len()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let rate = QUEUED as f64 / started.elapsed().as_secs_f64();
    drop(server);
    rate
}
