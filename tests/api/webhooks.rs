//! Webhooks: a case system subscribes an endpoint for its organisation's events, and the worker
//! delivers them signed per the Standard Webhooks specification to a real receiver on loopback.
//! Every signature is checked with the `standardwebhooks` crate (the specification's own
//! reference library, not our code). Also: failure, retry with backoff, dead with an alert,
//! replay, secret rotation, a killed worker, two workers at once, redirects, and bad input.

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::Duration;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::access::{Allowed, Role, Row};
use crate::crash::Service;
use crate::fixtures::{open_request, organisation};
use crate::helpers::{
    assert_invalid_fields, assert_problem, create_organisation, id_of, Method, TestApp,
};
use crate::helpers::{spawn_app, spawn_app_with};
use maatje::webhooks::worker::{RoundReport, WebhookWorker};

const CASE: Allowed = Allowed::Roles(&[Role::CaseSystem]);
const CASE_OR_ADMIN: Allowed = Allowed::Roles(&[Role::CaseSystem, Role::Admin]);

pub(crate) const ACCESS: &[Row] = &[
    ("POST", "/v1/webhook-endpoints", CASE),
    ("GET", "/v1/webhook-endpoints", CASE_OR_ADMIN),
    ("GET", "/v1/webhook-endpoints/{id}", CASE_OR_ADMIN),
    ("PATCH", "/v1/webhook-endpoints/{id}", CASE_OR_ADMIN),
    ("DELETE", "/v1/webhook-endpoints/{id}", CASE),
    ("POST", "/v1/webhook-endpoints/{id}/rotate-secret", CASE),
    (
        "GET",
        "/v1/webhook-endpoints/{id}/deliveries",
        CASE_OR_ADMIN,
    ),
    (
        "POST",
        "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/replay",
        CASE_OR_ADMIN,
    ),
    ("GET", "/v1/webhook-endpoints/{id}/attempts", CASE_OR_ADMIN),
];

/// One message as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A webhook receiver on loopback: records what it gets and answers `status` (a 3xx with a
/// `Location` to `/elsewhere`).
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    /// While set, a message is recorded and then not answered for a minute.
    hold: Arc<AtomicBool>,
}

impl Receiver {
    async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let hold = Arc::new(AtomicBool::new(false));
        let (g, s, h) = (got.clone(), status.clone(), hold.clone());
        let server = HttpServer::new(move || {
            let (g, s, h) = (g.clone(), s.clone(), h.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (g, s, h) = (g.clone(), s.clone(), h.clone());
                async move {
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    g.lock().unwrap().push(Received {
                        path: req.path().to_owned(),
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8(body.to_vec()).unwrap(),
                    });
                    if h.load(Ordering::SeqCst) {
                        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    }
                    let code = s.load(Ordering::SeqCst);
                    let mut answer =
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap());
                    if (300..400).contains(&code) {
                        answer.insert_header(("location", "/elsewhere"));
                    }
                    answer.body("ok")
                }
            }))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/maatje"),
            got,
            status,
            hold,
        }
    }

    fn hold(&self, hold: bool) {
        self.hold.store(hold, Ordering::SeqCst);
    }

    /// Waits (at most `seconds`) until at least `n` messages came.
    async fn wait_for(&self, n: usize, seconds: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let got = self.received();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Checks `message` against `secret` with the `standardwebhooks` crate: one of the header's
/// signatures must be the one it computes. (Its `verify` also wants the timestamp within 5
/// minutes of the wall clock; the test server's clock is set to `START`, so the signature is
/// compared here and the timestamp against the test clock.)
fn signed_with(message: &Received, secret: &str) -> bool {
    let hook = standardwebhooks::Webhook::new(secret).expect("a Standard Webhooks secret");
    let timestamp: i64 = message.timestamp.parse().expect("a Unix timestamp");
    let expected = hook
        .sign(&message.id, timestamp, message.body.as_bytes())
        .unwrap();
    message.signature.split(' ').any(|s| s == expected)
}

/// Whether the crate's own `verify` (timestamp check included) accepts the message when its
/// clock agrees with the sender's: run only where the test clock is the wall clock.
fn verified(message: &Received, secret: &str) -> bool {
    let hook = standardwebhooks::Webhook::new(secret).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("webhook-id", message.id.parse().unwrap());
    headers.insert("webhook-timestamp", message.timestamp.parse().unwrap());
    headers.insert("webhook-signature", message.signature.parse().unwrap());
    hook.verify(message.body.as_bytes(), &headers).is_ok()
}

fn worker(app: &TestApp) -> WebhookWorker {
    WebhookWorker::new(
        app.db.clone(),
        app.clock.clone(),
        app.reactions(),
        &app.settings.webhooks,
    )
    .expect("a webhook worker")
}

/// Subscribes `url` for `types` as the case system holding `key`; the endpoint and its secret.
async fn subscribe(app: &TestApp, key: &str, url: &str, types: &[&str]) -> (String, String) {
    app.use_token(Some(key));
    let response = app
        .post_json(
            "/v1/webhook-endpoints",
            &json!({ "url": url, "event_types": types, "description": "Test receiver" }),
        )
        .await;
    app.use_admin();
    assert_eq!(response.status, 201, "{}", response.text);
    let id = id_of(&response.body["endpoint"]);
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/webhook-endpoints/{id}").as_str())
    );
    let secret = response.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (id, secret)
}

async fn withdraw(app: &TestApp, request: &str) {
    let response = app
        .post_json(
            &format!("/v1/buddy-requests/{request}/withdraw"),
            &json!({ "reason": "Moved away" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
}

fn round(delivered: usize, retried: usize, dead: usize) -> RoundReport {
    RoundReport {
        claimed: delivered + retried + dead,
        delivered,
        retried,
        dead,
    }
}

#[tokio::test]
async fn subscribed_events_arrive_signed_and_only_the_own_organisations() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = organisation(&app).await;
    let other = id_of(&create_organisation(&app, "Andere GI").await);
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (_, other_key) = app.create_case_system(&other, "Other case system").await;
    let types = ["buddy_request.created", "buddy_request.withdrawn"];
    let (endpoint, secret) = subscribe(&app, &key, &receiver.url, &types).await;
    // The other organisation subscribes to everything, at the same receiver.
    let everything = [
        "buddy_request.created",
        "buddy_request.proposed",
        "buddy_request.matched",
        "buddy_request.reopened",
        "buddy_request.closed",
        "buddy_request.withdrawn",
        "buddy_request.overdue",
        "exit_interview.recorded",
    ];
    let other_url = receiver.url.replace("/hooks/maatje", "/hooks/other");
    subscribe(&app, &other_key, &other_url, &everything).await;

    let request = open_request(&app, &org, "CASE-HOOK-1").await;
    withdraw(&app, &request).await;

    assert_eq!(worker(&app).work_once().await.unwrap(), round(2, 0, 0));
    let got = receiver.received();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got.iter().all(|m| m.path == "/hooks/maatje"), "{got:#?}");
    for message in &got {
        assert!(signed_with(message, &secret), "{message:#?}");
        assert!(!signed_with(
            message,
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        ));
        assert_eq!(
            message.timestamp,
            app.clock.now().timestamp().to_string(),
            "signed at the service's time"
        );
        assert!(!message.body.contains("CASE-HOOK-1"), "no client_ref");
        assert!(!message.body.contains("client1@example.org"), "no contact");
    }
    // The same documents as the feed, with the event id as webhook-id.
    // (On PostgreSQL an event shows in the feed once every older transaction on the server
    // ended, and other tests share the server: ask again for a while. The worker sends a
    // batch side by side, so the messages may come in any order.)
    app.use_token(Some(&key));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let events = loop {
        let feed = app.get("/v1/events").await;
        let events = feed.body["items"].as_array().unwrap().clone();
        if events.len() >= 2 || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(events.len(), 2, "{events:#?}");
    for event in &events {
        let message = got
            .iter()
            .find(|m| m.id == event["id"].as_str().unwrap())
            .expect("each event was sent, with its id as webhook-id");
        let body: Value = serde_json::from_str(&message.body).unwrap();
        assert_eq!(&body, event);
    }
    assert_eq!(events[1]["type"], "buddy_request.withdrawn");

    // Its deliveries and attempts, as the case system sees them.
    let deliveries = app
        .get(&format!("/v1/webhook-endpoints/{endpoint}/deliveries"))
        .await;
    assert_eq!(deliveries.status, 200, "{}", deliveries.text);
    let items = deliveries.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items.iter().all(|d| d["state"] == "delivered"),
        "{items:#?}"
    );
    let attempts = app
        .get(&format!("/v1/webhook-endpoints/{endpoint}/attempts"))
        .await;
    assert_eq!(attempts.status, 200, "{}", attempts.text);
    let items = attempts.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|a| a["status"] == 200 && a["succeeded"] == true),
        "{items:#?}"
    );
    // Nothing more is due.
    assert_eq!(
        worker(&app).work_once().await.unwrap(),
        RoundReport::default()
    );
}

#[tokio::test]
async fn a_wall_clock_service_passes_the_reference_verify_including_the_timestamp() {
    let app = spawn_app().await;
    app.clock.advance(chrono::Utc::now() - app.clock.now());
    let receiver = Receiver::start().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (_, secret) = subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    open_request(&app, &org, "CASE-HOOK-CLOCK").await;
    assert_eq!(worker(&app).work_once().await.unwrap(), round(1, 0, 0));
    let got = receiver.received();
    assert!(verified(&got[0], &secret), "{got:#?}");
    let mut tampered = got[0].clone();
    tampered.body.push(' ');
    assert!(!verified(&tampered, &secret), "a changed body fails");
}

#[tokio::test]
async fn failures_are_retried_with_backoff_then_dead_with_an_alert_and_can_be_replayed() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.answer(503);
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (endpoint, secret) = subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    open_request(&app, &org, "CASE-HOOK-RETRY").await;
    let worker = worker(&app);

    assert_eq!(worker.work_once().await.unwrap(), round(0, 1, 0));
    // Not due again at once: the first wait is 30 s, give or take 25 %.
    app.clock.advance(Duration::seconds(22));
    assert_eq!(worker.work_once().await.unwrap(), RoundReport::default());
    app.clock.advance(Duration::seconds(16));
    assert_eq!(worker.work_once().await.unwrap(), round(0, 1, 0));
    // The second wait is about a minute.
    app.clock.advance(Duration::seconds(44));
    assert_eq!(worker.work_once().await.unwrap(), RoundReport::default());
    app.clock.advance(Duration::seconds(32));
    assert_eq!(worker.work_once().await.unwrap(), round(0, 1, 0));

    app.use_token(Some(&key));
    let attempts = app
        .get(&format!("/v1/webhook-endpoints/{endpoint}/attempts"))
        .await;
    let items = attempts.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for attempt in items {
        assert_eq!(attempt["status"], 503);
        assert_eq!(attempt["succeeded"], false);
        assert_eq!(attempt["error"], "answered 503 Service Unavailable");
    }
    let deliveries = app
        .get(&format!(
            "/v1/webhook-endpoints/{endpoint}/deliveries?state=pending"
        ))
        .await;
    let delivery = deliveries.body["items"][0].clone();
    assert_eq!(delivery["attempts"], 3);
    let delivery_id = id_of(&delivery);

    // A pending delivery is under way: no replay.
    let replay_path = format!("/v1/webhook-endpoints/{endpoint}/deliveries/{delivery_id}/replay");
    let early = app.post_empty(&replay_path).await;
    assert_problem(&early, 409, "illegal-transition");
    assert!(early.text.contains("pending"), "{}", early.text);

    // Still failing a day later: dead, and the bureau is told.
    let mut rounds = 0;
    loop {
        app.clock
            .advance(Duration::hours(4) + Duration::minutes(30));
        let report = worker.work_once().await.unwrap();
        rounds += 1;
        if report.dead == 1 {
            break;
        }
        assert!(rounds < 12, "never given up");
    }
    let dead = app
        .get(&format!(
            "/v1/webhook-endpoints/{endpoint}/deliveries?state=dead"
        ))
        .await;
    assert_eq!(
        dead.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        dead.text
    );
    let alerts: i64 = app.with_connection(|conn| {
        maatje::db::schema::outbox::table
            .filter(maatje::db::schema::outbox::kind.eq("bureau_webhook_dead"))
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(alerts, 1);
    let tried = receiver.received().len();
    app.clock.advance(Duration::days(2));
    assert_eq!(worker.work_once().await.unwrap(), RoundReport::default());
    assert_eq!(
        receiver.received().len(),
        tried,
        "a dead delivery is not tried"
    );

    // The receiver works again; the case system replays the delivery: same webhook-id.
    receiver.answer(204);
    let replayed = app.post_empty(&replay_path).await;
    assert_eq!(replayed.status, 200, "{}", replayed.text);
    assert_eq!(replayed.body["state"], "pending");
    assert_eq!(replayed.body["attempts"], 0);
    assert_eq!(worker.work_once().await.unwrap(), round(1, 0, 0));
    let got = receiver.received();
    let last = got.last().unwrap();
    assert_eq!(last.id, got[0].id, "the same webhook-id on every attempt");
    assert!(signed_with(last, &secret));
    // Delivered can be replayed too (the receiver lost it), by an administrator as well.
    app.use_admin();
    let again = app.post_empty(&replay_path).await;
    assert_eq!(again.status, 200, "{}", again.text);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.answer(307);
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (endpoint, _) = subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    open_request(&app, &org, "CASE-HOOK-REDIRECT").await;
    assert_eq!(worker(&app).work_once().await.unwrap(), round(0, 1, 0));
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert!(got.iter().all(|m| m.path != "/elsewhere"));
    app.use_token(Some(&key));
    let attempts = app
        .get(&format!("/v1/webhook-endpoints/{endpoint}/attempts"))
        .await;
    let attempt = &attempts.body["items"][0];
    assert_eq!(attempt["status"], 307);
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{attempt}"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_without_leaking_its_url() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/hook?token=receiver-secret");
    let (endpoint, _) = subscribe(&app, &key, &url, &["buddy_request.created"]).await;
    open_request(&app, &org, "CASE-HOOK-DOWN").await;
    assert_eq!(worker(&app).work_once().await.unwrap(), round(0, 1, 0));
    app.use_token(Some(&key));
    let attempts = app
        .get(&format!("/v1/webhook-endpoints/{endpoint}/attempts"))
        .await;
    let attempt = &attempts.body["items"][0];
    assert!(attempt.get("status").is_none(), "{attempt}");
    let error = attempt["error"].as_str().unwrap();
    assert!(error.starts_with("could not connect"), "{error}");
    assert!(!error.contains("receiver-secret"), "{error}");
}

#[tokio::test]
async fn the_delivery_worker_refuses_local_addresses_unless_allowed() {
    // Saved while local targets were allowed (a trial), delivered by an instance that refuses
    // them: the receiver is never called.
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (endpoint, _) = subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    open_request(&app, &org, "CASE-HOOK-LOCAL").await;
    let mut settings = app.settings.webhooks.clone();
    settings.allow_local_targets = false;
    let strict = WebhookWorker::new(
        app.db.clone(),
        app.clock.clone(),
        app.reactions(),
        &settings,
    )
    .unwrap();
    assert_eq!(strict.work_once().await.unwrap(), round(0, 1, 0));
    assert!(receiver.received().is_empty());
    app.use_token(Some(&key));
    let attempts = app
        .get(&format!("/v1/webhook-endpoints/{endpoint}/attempts"))
        .await;
    let error = attempts.body["items"][0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("must be an https URL"), "{error}");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_during_the_overlap() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (endpoint, old) = subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    app.use_token(Some(&key));
    let rotated = app
        .post_empty(&format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated.body["endpoint"]["previous_secret_valid_until"].is_string());
    // The secret is never shown again.
    let read = app.get(&format!("/v1/webhook-endpoints/{endpoint}")).await;
    assert!(!read.text.contains(&new) && !read.text.contains(&old));
    assert!(read.body.get("secret").is_none());
    app.use_admin();

    open_request(&app, &org, "CASE-HOOK-ROT-1").await;
    assert_eq!(worker(&app).work_once().await.unwrap(), round(1, 0, 0));
    let first = receiver.received()[0].clone();
    assert_eq!(first.signature.split(' ').count(), 2, "{first:#?}");
    assert!(signed_with(&first, &old) && signed_with(&first, &new));

    app.clock.advance(Duration::hours(25));
    open_request(&app, &org, "CASE-HOOK-ROT-2").await;
    assert_eq!(worker(&app).work_once().await.unwrap(), round(1, 0, 0));
    let second = receiver.received()[1].clone();
    assert_eq!(second.signature.split(' ').count(), 1, "{second:#?}");
    assert!(signed_with(&second, &new) && !signed_with(&second, &old));
}

#[tokio::test]
async fn a_killed_worker_loses_nothing_and_its_delivery_is_sent_again_with_the_same_id() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    open_request(&app, &org, "CASE-HOOK-KILL").await;
    // A worker claims the delivery and dies before it records anything (kill -9).
    let now = app.clock.now_naive();
    let claimed = app.with_connection(|conn| {
        maatje::store::webhooks::claim(conn, "killed-worker", now, Duration::seconds(60), 10)
            .unwrap()
    });
    assert_eq!(claimed.len(), 1);
    let worker = worker(&app);
    // Held by the dead worker until its lease runs out ...
    assert_eq!(worker.work_once().await.unwrap(), RoundReport::default());
    app.clock.advance(Duration::seconds(61));
    // ... then taken over and delivered, with the event's id.
    assert_eq!(worker.work_once().await.unwrap(), round(1, 0, 0));
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, claimed[0].event_id);
}

#[tokio::test]
async fn two_workers_never_send_the_same_delivery_at_once() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    for n in 0..24 {
        open_request(&app, &org, &format!("CASE-HOOK-PAR-{n}")).await;
    }
    let mut settings = app.settings.webhooks.clone();
    settings.batch_size = 5;
    let make = || {
        WebhookWorker::new(
            app.db.clone(),
            app.clock.clone(),
            app.reactions(),
            &settings,
        )
        .unwrap()
    };
    let (a, b) = (make(), make());
    let run = |w: WebhookWorker| async move {
        let mut delivered = 0;
        loop {
            let report = w.work_once().await.unwrap();
            if report.claimed == 0 {
                return delivered;
            }
            delivered += report.delivered;
        }
    };
    let (da, db) = tokio::join!(run(a), run(b));
    assert_eq!(da + db, 24);
    let got = receiver.received();
    let ids: std::collections::BTreeSet<_> = got.iter().map(|m| m.id.clone()).collect();
    assert_eq!((got.len(), ids.len()), (24, 24), "each sent exactly once");
}

#[tokio::test]
async fn endpoints_are_the_case_systems_own_and_admins_may_only_disable_them() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = organisation(&app).await;
    let other = id_of(&create_organisation(&app, "Andere GI").await);
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (_, other_key) = app.create_case_system(&other, "Other case system").await;
    let (endpoint, _) = subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    let (foreign, _) = subscribe(&app, &other_key, &receiver.url, &["buddy_request.created"]).await;

    // Another organisation's case system sees nothing of it.
    app.use_token(Some(&other_key));
    let list = app.get("/v1/webhook-endpoints").await;
    let ids: Vec<String> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ids, vec![foreign.clone()]);
    let before = app.table_counts();
    for response in [
        app.get(&format!("/v1/webhook-endpoints/{endpoint}")).await,
        app.patch_json(
            &format!("/v1/webhook-endpoints/{endpoint}"),
            &json!({ "enabled": false }),
        )
        .await,
        app.post_empty(&format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"))
            .await,
        app.get(&format!("/v1/webhook-endpoints/{endpoint}/deliveries"))
            .await,
        app.get(&format!("/v1/webhook-endpoints/{endpoint}/attempts"))
            .await,
        app.post_empty(&format!(
            "/v1/webhook-endpoints/{endpoint}/deliveries/{}/replay",
            uuid::Uuid::now_v7()
        ))
        .await,
        app.request(
            Method::DELETE,
            &format!("/v1/webhook-endpoints/{endpoint}"),
            None,
            Vec::new(),
        )
        .await,
    ] {
        assert_problem(&response, 404, "not-found");
    }
    assert_eq!(app.table_counts(), before, "nothing changed");

    // The owner changes what it likes.
    app.use_token(Some(&key));
    let changed = app
        .patch_json(
            &format!("/v1/webhook-endpoints/{endpoint}"),
            &json!({
                "event_types": ["buddy_request.created", "buddy_request.overdue"],
                "description": null,
            }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(
        changed.body["event_types"],
        json!(["buddy_request.created", "buddy_request.overdue"])
    );
    assert!(changed.body.get("description").is_none());

    // Administrators see every endpoint, and may disable one but change nothing else.
    app.use_admin();
    let all = app.get("/v1/webhook-endpoints").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let before = app.table_counts();
    let refused = app
        .patch_json(
            &format!("/v1/webhook-endpoints/{endpoint}"),
            &json!({ "url": "https://evil.example.org/", "enabled": false }),
        )
        .await;
    assert_invalid_fields(&refused, &["url"]);
    assert_eq!(app.table_counts(), before);
    let disabled = app
        .patch_json(
            &format!("/v1/webhook-endpoints/{endpoint}"),
            &json!({ "enabled": false }),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    assert_eq!(disabled.body["enabled"], false);
    // An administrator has no organisation to subscribe for.
    let own = app
        .post_json(
            "/v1/webhook-endpoints",
            &json!({ "url": receiver.url, "event_types": ["buddy_request.created"] }),
        )
        .await;
    assert_problem(&own, 403, "forbidden");

    // A disabled endpoint gets nothing; the other organisation's gets only its own events.
    open_request(&app, &org, "CASE-HOOK-OFF").await;
    assert_eq!(
        worker(&app).work_once().await.unwrap(),
        RoundReport::default()
    );
    assert!(receiver.received().is_empty());

    // The other case system deletes its endpoint, with what was queued for it.
    open_request(&app, &other, "CASE-HOOK-GONE").await;
    app.use_token(Some(&other_key));
    let path = format!("/v1/webhook-endpoints/{foreign}");
    let deleted = app.request(Method::DELETE, &path, None, Vec::new()).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_problem(&app.get(&path).await, 404, "not-found");
    let again = app.request(Method::DELETE, &path, None, Vec::new()).await;
    assert_problem(&again, 404, "not-found");
    assert_eq!(
        worker(&app).work_once().await.unwrap(),
        RoundReport::default()
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn bad_subscriptions_are_refused_and_change_nothing() {
    let app = spawn_app_with(&[("MAATJE__WEBHOOKS__ALLOW_LOCAL_TARGETS", "false")]).await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    app.use_token(Some(&key));
    let before = app.table_counts();
    let ok_types = json!(["buddy_request.created"]);
    let long = format!("https://cases.example.org/{}", "a".repeat(2000));
    for url in [
        "not a url",
        "http://cases.example.org/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://u:p@cases.example.org/hook",
        long.as_str(),
    ] {
        let body = json!({ "url": url, "event_types": ok_types });
        let response = app.post_json("/v1/webhook-endpoints", &body).await;
        assert_invalid_fields(&response, &["url"]);
    }
    for (body, field) in [
        (
            json!({ "url": "https://cases.example.org/hook", "event_types": [] }),
            "event_types",
        ),
        (
            json!({ "url": "https://cases.example.org/hook", "event_types": ["buddy_request.created", "buddy_request.created"] }),
            "event_types",
        ),
        (
            json!({ "url": "https://cases.example.org/hook", "event_types": ok_types, "description": "x".repeat(201) }),
            "description",
        ),
    ] {
        let response = app.post_json("/v1/webhook-endpoints", &body).await;
        assert_invalid_fields(&response, &[field]);
    }
    for body in [
        json!({ "url": "https://cases.example.org/hook", "event_types": ["buddy.created"] }),
        json!({ "url": "https://cases.example.org/hook", "event_types": "buddy_request.created" }),
        json!({ "url": 42, "event_types": ok_types }),
        json!({ "url": "https://cases.example.org/hook", "event_types": ok_types, "secret": "mine" }),
        json!({ "event_types": ok_types }),
    ] {
        let response = app.post_json("/v1/webhook-endpoints", &body).await;
        assert_problem(&response, 400, "validation");
    }
    let malformed = app
        .request(
            Method::POST,
            "/v1/webhook-endpoints",
            Some("application/json"),
            b"{\"url\": ".to_vec(),
        )
        .await;
    assert_eq!(malformed.status, 400, "{}", malformed.text);
    // The answer carries a secret: no Idempotency-Key.
    let keyed = app
        .request_with_headers(
            Method::POST,
            "/v1/webhook-endpoints",
            Some("application/json"),
            serde_json::to_vec(
                &json!({ "url": "https://cases.example.org/hook", "event_types": ok_types }),
            )
            .unwrap(),
            &[
                ("authorization", &format!("Bearer {key}")),
                ("idempotency-key", "once-only"),
            ],
        )
        .await;
    assert_problem(&keyed, 400, "validation");
    // An unknown endpoint.
    let unknown = app
        .patch_json(
            &format!("/v1/webhook-endpoints/{}", uuid::Uuid::now_v7()),
            &json!({ "enabled": false }),
        )
        .await;
    assert_problem(&unknown, 404, "not-found");
    let empty = app
        .patch_json(
            &format!("/v1/webhook-endpoints/{}", uuid::Uuid::now_v7()),
            &json!({}),
        )
        .await;
    assert_eq!(empty.status, 400, "{}", empty.text);
    assert_eq!(app.table_counts(), before, "nothing stored");
    // A valid one is taken.
    let ok = app
        .post_json(
            "/v1/webhook-endpoints",
            &json!({ "url": "https://cases.example.org/hook", "event_types": ok_types }),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
}

/// The state of the one delivery in the database, and how many attempts are recorded.
fn stored_delivery(app: &TestApp) -> (String, i64) {
    use maatje::db::schema::{webhook_attempts, webhook_deliveries};
    app.with_connection(|conn| {
        let state: String = webhook_deliveries::table
            .select(webhook_deliveries::state)
            .first(conn)
            .unwrap();
        let attempts: i64 = webhook_attempts::table.count().get_result(conn).unwrap();
        (state, attempts)
    })
}

#[tokio::test]
async fn kill_9_of_the_service_mid_delivery_loses_nothing() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (_, secret) = subscribe(&app, &key, &receiver.url, &["buddy_request.created"]).await;
    open_request(&app, &org, "CASE-HOOK-KILL9").await;
    // The real binary, with its own worker, on the test's database.
    let settings = [
        ("MAATJE__WEBHOOKS__WORKER_ENABLED", "true"),
        ("MAATJE__WEBHOOKS__ALLOW_LOCAL_TARGETS", "true"),
        ("MAATJE__WEBHOOKS__POLL_INTERVAL_MS", "50"),
        ("MAATJE__WEBHOOKS__TIMEOUT_SECONDS", "5"),
        ("MAATJE__WEBHOOKS__LEASE_SECONDS", "6"),
    ];
    receiver.hold(true);
    let mut first = Service::start_with(&app, &settings).await;
    let got = receiver.wait_for(1, 30).await;
    assert_eq!(got.len(), 1, "the first instance sent the message");
    // SIGKILL while the message is in flight: nothing recorded, the claim left behind.
    first.child.start_kill().expect("SIGKILL sent");
    first.child.wait().await.expect("the service is reaped");
    assert_eq!(stored_delivery(&app), ("sending".to_owned(), 0));

    // Another instance takes the claim over once its lease ran out, and delivers.
    receiver.hold(false);
    let mut second = Service::start_with(&app, &settings).await;
    let got = receiver.wait_for(2, 60).await;
    assert_eq!(got.len(), 2, "sent again after the kill");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while stored_delivery(&app).0 != "delivered" && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    second.child.start_kill().expect("SIGKILL sent");
    second.child.wait().await.expect("the service is reaped");
    assert_eq!(stored_delivery(&app), ("delivered".to_owned(), 1));
    assert_eq!(
        got[0].id, got[1].id,
        "the same webhook-id: the receiver deduplicates"
    );
    // The real service signs with the wall clock: the reference library's whole check passes.
    assert!(verified(&got[0], &secret) && verified(&got[1], &secret));
}
