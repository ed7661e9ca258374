//! `/v1/events`: the event feed. What happened to a caller's requests and exit interviews, in
//! commit order, with a cursor to catch up from; nothing of another organisation, no personal
//! data; events kept for `api.event_keep_days`.

use chrono::Duration;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::access::{Row, ANY};
use crate::fixtures::{active_buddy, open_request, organisation, profile, propose};
use crate::helpers::{assert_invalid_fields, create_organisation, id_of, TestApp};
use crate::helpers::{spawn_app, with_query};

pub(crate) const ACCESS: &[Row] = &[("GET", "/v1/events", ANY)];

/// Every event after `cursor` (all pages), and the cursor to go on from.
async fn read_feed(app: &TestApp, cursor: Option<&str>, limit: u32) -> (Vec<Value>, String) {
    let mut events = Vec::new();
    let mut cursor = cursor.map(str::to_owned);
    loop {
        let mut path = with_query("/v1/events", "limit", &limit.to_string());
        if let Some(after) = &cursor {
            path = with_query(&path, "after", after);
        }
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.body["items"].as_array().unwrap().clone();
        let next = page.body["next_cursor"].as_str().unwrap().to_owned();
        if items.is_empty() {
            return (events, next);
        }
        events.extend(items);
        cursor = Some(next);
    }
}

/// As [`read_feed`], asked again until at least `n` events are there (at most 10 s). On
/// PostgreSQL an event shows once every transaction on the server that began before it has
/// ended, and the other tests' databases share the server.
async fn read_at_least(
    app: &TestApp,
    cursor: Option<&str>,
    limit: u32,
    n: usize,
) -> (Vec<Value>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (events, next) = read_feed(app, cursor, limit).await;
        if events.len() >= n || std::time::Instant::now() > deadline {
            return (events, next);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_case_system_reads_what_happened_to_its_requests_in_order_and_catches_up() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other = id_of(&create_organisation(&app, "Andere GI").await);
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let (_, other_key) = app.create_case_system(&other, "Other case system").await;

    // As staff: one request matched, one declined and reopened, one withdrawn, an interview.
    let first = active_buddy(&app, &org, 1, 2).await;
    let matched = open_request(&app, &org, "CASE-FEED-1").await;
    let pairing = propose(&app, &matched, &first).await;
    let accepted = app
        .post_empty(&format!("/v1/pairings/{pairing}/accept"))
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let reopened = open_request(&app, &org, "CASE-FEED-2").await;
    let declined_pairing = propose(&app, &reopened, &first).await;
    let declined = app
        .post_json(
            &format!("/v1/pairings/{declined_pairing}/decline"),
            &json!({ "reason": "No time" }),
        )
        .await;
    assert_eq!(declined.status, 200, "{}", declined.text);
    let withdrawn = open_request(&app, &org, "CASE-FEED-3").await;
    let w = app
        .post_json(
            &format!("/v1/buddy-requests/{withdrawn}/withdraw"),
            &json!({ "reason": "Moved away" }),
        )
        .await;
    assert_eq!(w.status, 200, "{}", w.text);
    let interview = app
        .post_json(
            "/v1/exit-interviews",
            &json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "yes", "candidate": profile(9) }),
        )
        .await;
    assert_eq!(interview.status, 201, "{}", interview.text);
    // Another organisation's request: never in this organisation's feed.
    open_request(&app, &other, "CASE-ELSEWHERE").await;

    app.use_token(Some(&key));
    let (events, cursor) = read_at_least(&app, None, 2, 9).await;
    assert_eq!(
        types(&events),
        vec![
            "buddy_request.created",
            "buddy_request.proposed",
            "buddy_request.matched",
            "buddy_request.created",
            "buddy_request.proposed",
            "buddy_request.reopened",
            "buddy_request.created",
            "buddy_request.withdrawn",
            "exit_interview.recorded",
        ]
    );
    let request_of = |e: &Value| e["data"]["buddy_request_id"].as_str().map(str::to_owned);
    assert_eq!(request_of(&events[0]), Some(matched.clone()));
    assert_eq!(events[1]["data"]["state"], "proposed");
    assert_eq!(events[1]["data"]["pairing_id"], pairing.as_str());
    assert_eq!(events[1]["data"]["pairing_state"], "proposed");
    assert_eq!(events[2]["data"]["state"], "matched");
    assert_eq!(events[2]["data"]["pairing_state"], "accepted");
    assert_eq!(request_of(&events[5]), Some(reopened.clone()));
    assert_eq!(events[5]["data"]["state"], "open");
    assert_eq!(events[7]["data"]["state"], "withdrawn");
    assert_eq!(
        events[8]["data"]["exit_interview_id"],
        id_of(&interview.body["exit_interview"]).as_str()
    );
    assert_eq!(events[8]["data"]["answer"], "yes");
    for event in &events {
        assert_eq!(event["organisation_id"], org.as_str());
    }
    let ids: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events.len(), "every event has its own id");
    // No personal data: no client reference, name or contact, no buddy's.
    let text = serde_json::to_string(&events).unwrap();
    for personal in [
        "CASE-FEED",
        "Client",
        "client1@example.org",
        "06-87654321",
        "buddy9@",
        "Buddy Voorbeeld",
    ] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }

    // Caught up: nothing more, and the same cursor to ask with later.
    let (none, same) = read_feed(&app, Some(&cursor), 50).await;
    assert!(none.is_empty());
    assert_eq!(same, cursor);
    // What happens next follows the cursor, once: no event missed or repeated.
    app.use_admin();
    let next = open_request(&app, &org, "CASE-FEED-4").await;
    app.use_token(Some(&key));
    let (after, _) = read_at_least(&app, Some(&cursor), 50, 1).await;
    assert_eq!(types(&after), vec!["buddy_request.created"]);
    assert_eq!(request_of(&after[0]), Some(next));
    // The same history read in one page or in pages of one is the same.
    let (whole, _) = read_at_least(&app, None, 200, 10).await;
    let (one_by_one, _) = read_at_least(&app, None, 1, 10).await;
    assert_eq!(whole, one_by_one);
    assert_eq!(whole.len(), events.len() + 1);

    // The other organisation's case system sees only its own request.
    app.use_token(Some(&other_key));
    let (theirs, _) = read_at_least(&app, None, 50, 1).await;
    assert_eq!(types(&theirs), vec!["buddy_request.created"]);
    assert_eq!(theirs[0]["organisation_id"], other.as_str());
    // Staff see every organisation's.
    app.use_admin();
    let (all, _) = read_at_least(&app, None, 50, 11).await;
    assert_eq!(all.len(), whole.len() + 1);
}

#[tokio::test]
async fn bad_cursors_and_limits_are_refused() {
    let app = spawn_app().await;
    let other_list = base64_of("audit:1");
    for (query, field) in [
        ("after=not-a-cursor", "after"),
        (&*format!("after={other_list}"), "after"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
    ] {
        let response = app.get(&format!("/v1/events?{query}")).await;
        assert_invalid_fields(&response, &[field]);
    }
    let unknown = app.get("/v1/events?since=1").await;
    assert_eq!(unknown.status, 400, "{}", unknown.text);
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn events_are_kept_for_the_configured_period_and_overdue_requests_are_told() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    open_request(&app, &org, "CASE-OLD").await;
    assert_eq!(read_at_least(&app, None, 50, 1).await.0.len(), 1);
    app.clock.advance(Duration::days(31));
    crate::workflow::scheduler(&app).run_once().await.unwrap();
    // The same run reported the request overdue: that event is new; the creation, older than
    // 30 days, is deleted.
    let (left, _) = read_at_least(&app, None, 50, 1).await;
    assert_eq!(types(&left), vec!["buddy_request.overdue"]);
    assert_eq!(left[0]["data"]["state"], "open");
}

/// On PostgreSQL an event that commits after a later one was read must not be skipped: the
/// feed shows nothing of a transaction younger than the oldest one still running.
#[tokio::test]
async fn an_event_committing_late_is_not_passed_by_a_cursor() {
    let app = spawn_app().await;
    if !app.is_postgres() {
        return; // SQLite has one writer: events commit in the order they are written.
    }
    let org = organisation(&app).await;
    let mut held = diesel::PgConnection::establish(&app.settings.database.url).unwrap();
    let late = uuid::Uuid::now_v7().to_string();
    let payload = json!({
        "id": late, "type": "exit_interview.recorded", "occurred_at": "2026-12-01T10:00:00Z",
        "organisation_id": org, "data": { "answer": "no" }
    });
    diesel::connection::SimpleConnection::batch_execute(
        &mut held,
        &format!(
            "BEGIN; INSERT INTO events (id, organisation_id, event_type, occurred_at, payload) \
             VALUES ('{late}', '{org}', 'exit_interview.recorded', '2026-12-01 10:00:00', '{payload}')"
        ),
    )
    .unwrap();
    // A change that commits while the first transaction is still open.
    open_request(&app, &org, "CASE-MEANWHILE").await;
    let (seen, cursor) = read_feed(&app, None, 50).await;
    assert!(
        seen.is_empty(),
        "not before the older transaction ended: {seen:?}"
    );
    diesel::connection::SimpleConnection::batch_execute(&mut held, "COMMIT").unwrap();
    let (seen, _) = read_at_least(&app, Some(&cursor), 50, 2).await;
    assert_eq!(
        types(&seen),
        vec!["exit_interview.recorded", "buddy_request.created"],
        "both, the one that began first first"
    );
}
