//! `/v1/pairings`: proposing a buddy, the buddy's answer, the pairing's life and its end.

use chrono::Duration;
use serde_json::{json, Value};

use crate::access::{Row, STAFF};
use crate::fixtures::{
    act, active_buddy, history_actions, open_request, organisation, pairing_in, propose, state_of,
};
use crate::helpers::{
    assert_invalid_fields, assert_problem, spawn_app, start_time, time_of, TestApp,
};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    ("POST", "/v1/pairings", STAFF),
    ("GET", "/v1/pairings", STAFF),
    ("GET", "/v1/pairings/{id}", STAFF),
    ("POST", "/v1/pairings/{id}/accept", STAFF),
    ("POST", "/v1/pairings/{id}/decline", STAFF),
    ("POST", "/v1/pairings/{id}/activate", STAFF),
    ("POST", "/v1/pairings/{id}/end", STAFF),
    ("GET", "/v1/pairings/{id}/history", STAFF),
];

/// The designed lifecycle, written out independently of the implementation.
fn legal(state: &str, action: &str) -> Option<&'static str> {
    match (state, action) {
        ("proposed", "accept") => Some("accepted"),
        ("proposed", "decline") => Some("declined"),
        ("accepted", "activate") => Some("active"),
        ("accepted" | "active", "end") => Some("ended"),
        _ => None,
    }
}

const ACTIONS: [&str; 4] = ["accept", "decline", "activate", "end"];

async fn run(app: &TestApp, pairing: &str, action: &str) -> crate::helpers::Response {
    let path = format!("/v1/pairings/{pairing}/{action}");
    if action == "end" {
        app.post_json(&path, &json!({ "reason": "goal_reached" }))
            .await
    } else {
        app.post_empty(&path).await
    }
}

#[tokio::test]
async fn the_full_cycle_from_proposal_to_evaluation() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;

    app.clock.advance(Duration::hours(1));
    let response = app
        .post_json(
            "/v1/pairings",
            &json!({ "request_id": request, "buddy_id": buddy }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let pairing = crate::helpers::id_of(&response.body);
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/pairings/{pairing}").as_str())
    );
    assert_eq!(response.body["state"], "proposed");
    assert_eq!(
        time_of(&response.body, "proposed_at"),
        start_time() + Duration::hours(1)
    );
    let request_path = format!("/v1/buddy-requests/{request}");
    assert_eq!(state_of(&app, &request_path).await, "proposed");
    assert_eq!(
        app.get(&format!("/v1/buddies/{buddy}")).await.body["live_pairings"],
        1
    );

    app.clock.advance(Duration::hours(5));
    let accepted = act(&app, &format!("/v1/pairings/{pairing}/accept")).await;
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(
        time_of(&accepted, "responded_at"),
        start_time() + Duration::hours(6)
    );
    let followed = app.get(&request_path).await.body;
    assert_eq!(followed["state"], "matched");
    assert_eq!(followed["pairing"]["state"], "accepted");

    app.clock.advance(Duration::days(7));
    let active = act(&app, &format!("/v1/pairings/{pairing}/activate")).await;
    assert_eq!(active["state"], "active");
    assert_eq!(
        time_of(&active, "activated_at"),
        start_time() + Duration::hours(6) + Duration::days(7)
    );
    assert_eq!(state_of(&app, &request_path).await, "matched");

    app.clock.advance(Duration::days(90));
    let end = json!({
        "reason": "goal_reached",
        "note": "Client feels heard.",
        "evaluation": { "client_score": 5, "buddy_score": 4, "comment": "Good talks." },
    });
    let response = app
        .post_json(&format!("/v1/pairings/{pairing}/end"), &end)
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let ended = &response.body;
    assert_eq!(ended["state"], "ended");
    assert_eq!(ended["end_reason"], "goal_reached");
    assert_eq!(ended["end_note"], "Client feels heard.");
    assert_eq!(
        ended["evaluation"],
        json!({ "client_score": 5, "buddy_score": 4, "comment": "Good talks." })
    );
    assert!(ended.get("ended_at").is_some());
    assert_eq!(
        &app.get(&format!("/v1/pairings/{pairing}")).await.body,
        ended
    );

    let request_now = app.get(&request_path).await.body;
    assert_eq!(request_now["state"], "closed");
    assert_eq!(request_now["pairing"]["state"], "ended");
    assert!(request_now.get("closed_at").is_some());
    assert_eq!(
        app.get(&format!("/v1/buddies/{buddy}")).await.body["live_pairings"],
        0
    );

    assert_eq!(
        history_actions(&app, &format!("/v1/pairings/{pairing}")).await,
        ["propose", "accept", "activate", "end"]
    );
    assert_eq!(
        history_actions(&app, &request_path).await,
        ["create", "propose", "match", "close"]
    );
}

#[tokio::test]
async fn a_decline_reopens_the_request_and_bars_that_buddy_from_it() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let first = active_buddy(&app, &org, 1, 2).await;
    let second = active_buddy(&app, &org, 2, 1).await;
    let request = open_request(&app, &org, "CASE-D").await;
    let pairing = propose(&app, &request, &first).await;

    let response = app
        .post_json(
            &format!("/v1/pairings/{pairing}/decline"),
            &json!({ "reason": "No time this month" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["state"], "declined");
    assert_eq!(response.body["decline_reason"], "No time this month");
    assert_eq!(
        state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
        "open"
    );
    assert_eq!(
        app.get(&format!("/v1/buddies/{first}")).await.body["live_pairings"],
        0
    );

    // The same buddy is never proposed for this request again ...
    let before = app.table_counts();
    let response = app
        .post_json(
            "/v1/pairings",
            &json!({ "request_id": request, "buddy_id": first }),
        )
        .await;
    assert_problem(&response, 409, "buddy-unavailable");
    assert!(response.body["detail"]
        .as_str()
        .unwrap()
        .contains("declined"));
    assert_eq!(app.table_counts(), before);

    // ... but another buddy can be, and the first one for another request.
    let again = propose(&app, &request, &second).await;
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{again}")).await,
        "proposed"
    );
    let other_request = open_request(&app, &org, "CASE-E").await;
    propose(&app, &other_request, &first).await;
}

#[tokio::test]
async fn a_proposal_needs_an_open_request_and_an_available_buddy() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;

    // At most one live pairing per request: a proposed request takes no second proposal.
    let other_buddy = active_buddy(&app, &org, 2, 1).await;
    propose(&app, &request, &buddy).await;
    let before = app.table_counts();
    let response = app
        .post_json(
            "/v1/pairings",
            &json!({ "request_id": request, "buddy_id": other_buddy }),
        )
        .await;
    assert_problem(&response, 409, "illegal-transition");
    assert_eq!(response.body["current_state"], "proposed");
    assert_eq!(response.body["attempted_action"], "propose");
    assert_eq!(app.table_counts(), before);

    // A buddy at capacity cannot take another request.
    let second_request = open_request(&app, &org, "CASE-2").await;
    let before = app.table_counts();
    let response = app
        .post_json(
            "/v1/pairings",
            &json!({ "request_id": second_request, "buddy_id": buddy }),
        )
        .await;
    assert_problem(&response, 409, "buddy-unavailable");
    assert!(response.body["detail"]
        .as_str()
        .unwrap()
        .contains("capacity"));
    assert_eq!(app.table_counts(), before);

    // Buddies who are not active cannot be proposed.
    let paused = active_buddy(&app, &org, 3, 1).await;
    act(&app, &format!("/v1/buddies/{paused}/pause")).await;
    let candidate = crate::fixtures::candidate(&app, &org, 4).await;
    for not_active in [paused, candidate] {
        let before = app.table_counts();
        let response = app
            .post_json(
                "/v1/pairings",
                &json!({ "request_id": second_request, "buddy_id": not_active }),
            )
            .await;
        assert_problem(&response, 409, "buddy-unavailable");
        assert_eq!(app.table_counts(), before);
    }

    // Withdrawn requests take no proposal.
    act(
        &app,
        &format!("/v1/buddy-requests/{second_request}/withdraw"),
    )
    .await;
    let before = app.table_counts();
    let response = app
        .post_json(
            "/v1/pairings",
            &json!({ "request_id": second_request, "buddy_id": other_buddy }),
        )
        .await;
    assert_problem(&response, 409, "illegal-transition");
    assert_eq!(response.body["current_state"], "withdrawn");
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn proposals_with_unknown_ids_or_bad_bodies_store_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let before = app.table_counts();
    for body in [
        json!({ "request_id": unknown, "buddy_id": buddy }),
        json!({ "request_id": request, "buddy_id": unknown }),
    ] {
        assert_problem(
            &app.post_json("/v1/pairings", &body).await,
            404,
            "not-found",
        );
    }
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({ "request_id": request }), vec!["buddy_id"]),
        (
            json!({ "request_id": "r-1", "buddy_id": 7 }),
            vec!["request_id", "buddy_id"],
        ),
        (
            json!({ "request_id": request, "buddy_id": buddy, "state": "active" }),
            vec!["state"],
        ),
    ];
    for (body, fields) in cases {
        assert_invalid_fields(&app.post_json("/v1/pairings", &body).await, &fields);
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
        "open"
    );
}

#[tokio::test]
async fn every_legal_transition_and_its_effect_on_the_request() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let expected_request = |action: &str| match action {
        "accept" | "activate" => "matched",
        "decline" => "open",
        "end" => "closed",
        _ => unreachable!(),
    };
    let mut n = 0;
    for state in ["proposed", "accepted", "active"] {
        for action in ACTIONS {
            let Some(to) = legal(state, action) else {
                continue;
            };
            n += 1;
            let (pairing, request, _) = pairing_in(&app, &org, state, n).await;
            let response = run(&app, &pairing, action).await;
            assert_eq!(response.status, 200, "{state} {action}: {}", response.text);
            assert_eq!(response.body["state"], to);
            let last = app
                .collect_pages(&format!("/v1/pairings/{pairing}/history"))
                .await;
            let last = last.last().unwrap();
            assert_eq!(
                (last["from_state"].as_str(), last["to_state"].as_str()),
                (Some(state), Some(to))
            );
            assert_eq!(
                state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
                expected_request(action),
                "{state} {action}"
            );
        }
    }
    assert_eq!(n, 5);
}

#[tokio::test]
async fn every_illegal_transition_is_409_and_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for (n, state) in [
        "proposed",
        "accepted",
        "active",
        "ended",
        "declined",
        "cancelled",
    ]
    .into_iter()
    .enumerate()
    {
        let (pairing, request, _) = pairing_in(&app, &org, state, n as u32 + 1).await;
        let request_state = state_of(&app, &format!("/v1/buddy-requests/{request}")).await;
        for action in ACTIONS {
            if legal(state, action).is_some() {
                continue;
            }
            let before = app.table_counts();
            let response = run(&app, &pairing, action).await;
            assert_problem(&response, 409, "illegal-transition");
            assert_eq!(response.body["current_state"], state, "{action}");
            assert_eq!(response.body["attempted_action"], action);
            assert_eq!(app.table_counts(), before);
            assert_eq!(
                state_of(&app, &format!("/v1/pairings/{pairing}")).await,
                state
            );
            assert_eq!(
                state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
                request_state
            );
        }
    }
}

#[tokio::test]
async fn ending_takes_a_reason_and_a_bounded_evaluation() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = pairing_in(&app, &org, "accepted", 1).await;
    let path = format!("/v1/pairings/{pairing}/end");
    let before = app.table_counts();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["reason"]),
        (json!({ "reason": "bored" }), vec!["reason"]),
        (
            json!({ "reason": "other", "evaluation": { "client_score": 0, "buddy_score": 6 } }),
            vec!["evaluation.client_score", "evaluation.buddy_score"],
        ),
        (
            json!({ "reason": "other", "evaluation": { "client_score": -1 } }),
            vec!["evaluation.client_score"],
        ),
        (
            json!({ "reason": "other", "evaluation": {} }),
            vec!["evaluation"],
        ),
        (
            json!({ "reason": "other", "evaluation": { "comment": "c".repeat(2001) } }),
            vec!["evaluation.comment"],
        ),
        // Structure first (unknown fields, types), then values: each phase lists all it finds.
        (
            json!({ "reason": "other", "note": "n".repeat(2001), "ended_at": "2026-01-01T00:00:00Z" }),
            vec!["ended_at"],
        ),
        (
            json!({ "reason": "other", "note": "n".repeat(2001) }),
            vec!["note"],
        ),
        (
            json!({ "reason": "other", "evaluation": { "client_score": 3, "grade": "A" } }),
            vec!["evaluation.grade"],
        ),
    ];
    for (body, fields) in cases {
        assert_invalid_fields(&app.post_json(&path, &body).await, &fields);
    }
    assert_invalid_fields(&app.post_empty(&path).await, &[""]);
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{pairing}")).await,
        "accepted"
    );

    // Every end reason is accepted; an accepted pairing may end without ever becoming active.
    let response = app
        .post_json(&path, &json!({ "reason": "client_stopped" }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(response.body.get("evaluation").is_none());
    for (n, reason) in ["goal_reached", "buddy_stopped", "case_closed", "other"]
        .iter()
        .enumerate()
    {
        let (pairing, _, _) = pairing_in(&app, &org, "active", n as u32 + 10).await;
        let response = app
            .post_json(
                &format!("/v1/pairings/{pairing}/end"),
                &json!({ "reason": reason }),
            )
            .await;
        assert_eq!(response.status, 200, "{reason}: {}", response.text);
        assert_eq!(response.body["end_reason"], *reason);
    }
}

#[tokio::test]
async fn lists_filter_by_request_buddy_and_state() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (a, request_a, buddy_a) = pairing_in(&app, &org, "declined", 1).await;
    let (b, _, _) = pairing_in(&app, &org, "active", 2).await;
    let ids =
        |items: Vec<Value>| -> Vec<String> { items.iter().map(crate::helpers::id_of).collect() };
    assert_eq!(
        ids(app.collect_pages("/v1/pairings?limit=1").await),
        [a.clone(), b.clone()]
    );
    assert_eq!(
        ids(app.collect_pages("/v1/pairings?state=active").await),
        vec![b.clone()]
    );
    assert_eq!(
        ids(app
            .collect_pages(&format!("/v1/pairings?request_id={request_a}"))
            .await),
        vec![a.clone()]
    );
    assert_eq!(
        ids(app
            .collect_pages(&format!("/v1/pairings?buddy_id={buddy_a}"))
            .await),
        [a]
    );
    for (query, field) in [
        ("state=live", "state"),
        ("buddy_id=7", "buddy_id"),
        ("limit=x", "limit"),
        ("q=1", "q"),
    ] {
        assert_invalid_fields(&app.get(&format!("/v1/pairings?{query}")).await, &[field]);
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::now_v7();
    assert_problem(
        &app.get(&format!("/v1/pairings/{unknown}")).await,
        404,
        "not-found",
    );
    assert_problem(
        &app.get(&format!("/v1/pairings/{unknown}/history")).await,
        404,
        "not-found",
    );
    for action in ACTIONS {
        assert_problem(
            &run(&app, &unknown.to_string(), action).await,
            404,
            "not-found",
        );
        assert_invalid_fields(&run(&app, "nope", action).await, &["id"]);
    }
    assert_invalid_fields(&app.get("/v1/pairings/nope").await, &["id"]);
}
