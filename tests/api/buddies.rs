//! `/v1/buddies`: registration, profile changes, screening and the lifecycle.

use chrono::Duration;
use serde_json::{json, Value};

use crate::access::{Row, STAFF};
use crate::fixtures::{act, active_buddy, candidate, organisation, pairing_in, profile, state_of};
use crate::helpers::{assert_invalid_fields, assert_problem, id_of, spawn_app, TestApp};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    ("POST", "/v1/buddies", STAFF),
    ("GET", "/v1/buddies", STAFF),
    ("GET", "/v1/buddies/{id}", STAFF),
    ("PATCH", "/v1/buddies/{id}", STAFF),
    ("POST", "/v1/buddies/{id}/start-screening", STAFF),
    ("POST", "/v1/buddies/{id}/activate", STAFF),
    ("POST", "/v1/buddies/{id}/pause", STAFF),
    ("POST", "/v1/buddies/{id}/resume", STAFF),
    ("POST", "/v1/buddies/{id}/retire", STAFF),
    ("GET", "/v1/buddies/{id}/history", STAFF),
];

const ACTIONS: [&str; 5] = ["start-screening", "activate", "pause", "resume", "retire"];

/// The designed lifecycle, written out independently of the implementation.
fn legal(state: &str, action: &str) -> Option<&'static str> {
    match (state, action) {
        ("candidate", "start-screening") => Some("screening"),
        ("screening", "activate") => Some("active"),
        ("active", "pause") => Some("paused"),
        ("paused", "resume") => Some("active"),
        ("candidate" | "screening" | "active" | "paused", "retire") => Some("retired"),
        _ => None,
    }
}

/// A fresh buddy in `state`, with screening facts complete.
async fn buddy_in(app: &TestApp, org: &str, state: &str, n: u32) -> String {
    let id = candidate(app, org, n).await;
    let response = app
        .patch_json(
            &format!("/v1/buddies/{id}"),
            &json!({ "vog_issued_on": "2026-10-01", "training_completed_on": "2026-11-01",
                     "agreement_signed_on": "2026-11-01" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let path: &[&str] = match state {
        "candidate" => &[],
        "screening" => &["start-screening"],
        "active" => &["start-screening", "activate"],
        "paused" => &["start-screening", "activate", "pause"],
        "retired" => &["retire"],
        other => panic!("{other}"),
    };
    for action in path {
        act(app, &format!("/v1/buddies/{id}/{action}")).await;
    }
    id
}

#[tokio::test]
async fn register_read_and_list_a_buddy() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let mut body = profile(1);
    body["organisation_id"] = json!(org);
    body["mail_language"] = json!("en");
    body["capacity"] = json!(2);
    let response = app.post_json("/v1/buddies", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    let id = id_of(&response.body);
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/buddies/{id}").as_str())
    );
    let buddy = &response.body;
    assert_eq!(buddy["state"], "candidate");
    assert_eq!(buddy["name"], "Buddy Voorbeeld 1");
    assert_eq!(buddy["mail_language"], "en");
    assert_eq!(buddy["languages"], json!(["nl", "en"]));
    assert_eq!(buddy["experience"], json!(["supervision_order"]));
    assert_eq!(buddy["topics"], json!(["school"]));
    assert_eq!(buddy["capacity"], 2);
    assert_eq!(buddy["live_pairings"], 0);
    assert_eq!(&app.get(&format!("/v1/buddies/{id}")).await.body, buddy);
    assert_eq!(app.collect_pages("/v1/buddies").await, vec![buddy.clone()]);
}

#[tokio::test]
async fn registration_needs_an_organisation_and_valid_fields() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    assert_invalid_fields(
        &app.post_json("/v1/buddies", &profile(1)).await,
        &["organisation_id"],
    );

    let mut bad = profile(1);
    bad["organisation_id"] = json!(org);
    bad["name"] = json!(" ");
    bad["email"] = json!("a@b");
    bad["phone"] = json!("call me");
    bad["languages"] = json!([]);
    bad["region"] = json!("r".repeat(101));
    bad["topics"] = json!(vec!["t"; 21]);
    bad["capacity"] = json!(0);
    assert_invalid_fields(
        &app.post_json("/v1/buddies", &bad).await,
        &[
            "name",
            "email",
            "phone",
            "languages",
            "region",
            "topics",
            "capacity",
        ],
    );

    let mut wrong = profile(1);
    wrong["organisation_id"] = json!(org);
    wrong["experience"] = json!(["parenting"]);
    wrong["mail_language"] = json!("de");
    wrong["state"] = json!("active");
    wrong["id"] = json!(org);
    assert_invalid_fields(
        &app.post_json("/v1/buddies", &wrong).await,
        &["experience[0]", "mail_language", "state", "id"],
    );

    let mut unknown = profile(1);
    unknown["organisation_id"] = json!(uuid::Uuid::now_v7());
    assert_problem(
        &app.post_json("/v1/buddies", &unknown).await,
        404,
        "not-found",
    );
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn every_legal_transition_moves_the_state_and_is_recorded() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let mut n = 0;
    for state in ["candidate", "screening", "active", "paused"] {
        for action in ACTIONS {
            let Some(to) = legal(state, action) else {
                continue;
            };
            n += 1;
            let id = buddy_in(&app, &org, state, n).await;
            app.clock.advance(Duration::minutes(1));
            let response = app
                .post_json(
                    &format!("/v1/buddies/{id}/{action}"),
                    &json!({ "reason": "Test reason" }),
                )
                .await;
            assert_eq!(response.status, 200, "{state} {action}: {}", response.text);
            assert_eq!(response.body["state"], to);
            let history = app
                .collect_pages(&format!("/v1/buddies/{id}/history"))
                .await;
            let last = history.last().unwrap();
            assert_eq!(last["action"], action);
            assert_eq!(last["from_state"], state);
            assert_eq!(last["to_state"], to);
            assert_eq!(last["reason"], "Test reason");
        }
    }
    assert_eq!(n, 8, "the design has eight legal moves");
}

#[tokio::test]
async fn every_illegal_transition_is_409_and_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for (n, state) in ["candidate", "screening", "active", "paused", "retired"]
        .into_iter()
        .enumerate()
    {
        let id = buddy_in(&app, &org, state, n as u32).await;
        for action in ACTIONS {
            if legal(state, action).is_some() {
                continue;
            }
            let before = app.table_counts();
            let response = app.post_empty(&format!("/v1/buddies/{id}/{action}")).await;
            assert_problem(&response, 409, "illegal-transition");
            assert_eq!(response.body["current_state"], state, "{action}");
            assert_eq!(response.body["attempted_action"], action);
            assert_eq!(app.table_counts(), before, "{state} {action}");
            assert_eq!(state_of(&app, &format!("/v1/buddies/{id}")).await, state);
        }
    }
}

#[tokio::test]
async fn activation_needs_a_recent_vog_training_and_agreement() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let id = candidate(&app, &org, 1).await;
    act(&app, &format!("/v1/buddies/{id}/start-screening")).await;

    let before = app.table_counts();
    let response = app.post_empty(&format!("/v1/buddies/{id}/activate")).await;
    assert_problem(&response, 409, "activation-requirements-unmet");
    let detail = response.body["detail"].as_str().unwrap();
    for missing in [
        "vog_issued_on",
        "training_completed_on",
        "agreement_signed_on",
    ] {
        assert!(detail.contains(missing), "{detail}");
    }
    assert_eq!(app.table_counts(), before);

    // A VOG of more than three months before today does not count.
    let patch = json!({ "vog_issued_on": "2026-08-21", "training_completed_on": "2026-11-01",
                        "agreement_signed_on": "2026-11-01" });
    assert_eq!(
        app.patch_json(&format!("/v1/buddies/{id}"), &patch)
            .await
            .status,
        200
    );
    let response = app.post_empty(&format!("/v1/buddies/{id}/activate")).await;
    assert_problem(&response, 409, "activation-requirements-unmet");
    let detail = response.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("vog_issued_on") && !detail.contains("training"),
        "{detail}"
    );

    // Exactly three months old is still valid ...
    let patch = json!({ "vog_issued_on": "2026-08-22" });
    assert_eq!(
        app.patch_json(&format!("/v1/buddies/{id}"), &patch)
            .await
            .status,
        200
    );
    // ... but not once the clock moves on a day.
    app.clock.advance(Duration::days(1));
    assert_problem(
        &app.post_empty(&format!("/v1/buddies/{id}/activate")).await,
        409,
        "activation-requirements-unmet",
    );
    let patch = json!({ "vog_issued_on": "2026-11-20" });
    assert_eq!(
        app.patch_json(&format!("/v1/buddies/{id}"), &patch)
            .await
            .status,
        200
    );
    assert_eq!(
        act(&app, &format!("/v1/buddies/{id}/activate")).await["state"],
        "active"
    );
}

#[tokio::test]
async fn a_buddy_with_live_pairings_cannot_retire() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, buddy) = pairing_in(&app, &org, "active", 1).await;
    assert_eq!(
        app.get(&format!("/v1/buddies/{buddy}")).await.body["live_pairings"],
        1
    );
    let before = app.table_counts();
    let response = app.post_empty(&format!("/v1/buddies/{buddy}/retire")).await;
    assert_problem(&response, 409, "buddy-has-live-pairings");
    assert_eq!(app.table_counts(), before);

    let end = json!({ "reason": "buddy_stopped" });
    assert_eq!(
        app.post_json(&format!("/v1/pairings/{pairing}/end"), &end)
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/v1/buddies/{buddy}")).await.body["live_pairings"],
        0
    );
    assert_eq!(
        act(&app, &format!("/v1/buddies/{buddy}/retire")).await["state"],
        "retired"
    );
}

#[tokio::test]
async fn patch_changes_only_the_fields_sent_and_null_clears() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let id = candidate(&app, &org, 1).await;
    let original = app.get(&format!("/v1/buddies/{id}")).await.body;
    app.clock.advance(Duration::hours(1));
    let response = app
        .patch_json(
            &format!("/v1/buddies/{id}"),
            // The contract lists lower-case codes; the service also takes `NL` (see the unit
            // test `languages_are_iso_639_1`), but a request outside the contract would fail the
            // harness's check.
            &json!({ "region": "Amersfoort", "phone": null, "languages": ["ar", "nl"], "capacity": 3 }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let buddy = &response.body;
    assert_eq!(buddy["region"], "Amersfoort");
    assert!(buddy.get("phone").is_none(), "null clears: {buddy}");
    assert_eq!(buddy["languages"], json!(["ar", "nl"]));
    assert_eq!(buddy["capacity"], 3);
    assert_eq!(buddy["name"], original["name"]);
    assert_eq!(buddy["email"], original["email"]);
    assert_eq!(buddy["state"], "candidate");
    assert_ne!(buddy["updated_at"], original["updated_at"]);

    let history = app
        .collect_pages(&format!("/v1/buddies/{id}/history"))
        .await;
    let last = history.last().unwrap();
    assert_eq!(last["action"], "update");
    let reason = last["reason"].as_str().unwrap();
    assert!(
        reason.contains("region") && reason.contains("phone"),
        "{reason}"
    );
    assert!(
        !reason.contains("Amersfoort"),
        "values stay out of the history: {reason}"
    );
}

#[tokio::test]
async fn patch_refuses_server_owned_fields_and_bad_values() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let id = candidate(&app, &org, 1).await;
    let path = format!("/v1/buddies/{id}");
    let before = app.table_counts();
    let original = app.get(&path).await.body;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec![""]),
        (json!({ "state": "active" }), vec!["state"]),
        (
            json!({ "id": id, "organisation_id": org, "created_at": "2026-01-01T00:00:00Z" }),
            vec!["id", "organisation_id", "created_at"],
        ),
        (json!({ "name": "" }), vec!["name"]),
        (json!({ "name": null }), vec!["name"]),
        (json!({ "email": "x" }), vec!["email"]),
        (
            json!({ "capacity": 11, "languages": ["zz"] }),
            vec!["capacity", "languages[0]"],
        ),
        (json!({ "capacity": "1" }), vec!["capacity"]),
        (
            json!({ "vog_issued_on": "2027-01-01" }),
            vec!["vog_issued_on"],
        ),
        (json!({ "topics": ["ok", 5] }), vec!["topics[1]"]),
    ];
    for (body, fields) in cases {
        assert_invalid_fields(&app.patch_json(&path, &body).await, &fields);
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(app.get(&path).await.body, original);

    let unknown = format!("/v1/buddies/{}", uuid::Uuid::now_v7());
    assert_problem(
        &app.patch_json(&unknown, &json!({ "region": "X" })).await,
        404,
        "not-found",
    );
    assert_invalid_fields(
        &app.patch_json("/v1/buddies/not-a-uuid", &json!({ "region": "X" }))
            .await,
        &["id"],
    );
}

#[tokio::test]
async fn lists_filter_by_state_region_language_experience_and_organisation() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other = id_of(&crate::helpers::create_organisation(&app, "Andere GI").await);
    let a = active_buddy(&app, &org, 1, 1).await;
    let b = candidate(&app, &other, 2).await;
    let patch =
        json!({ "region": "Zwolle", "languages": ["tr"], "experience": ["youth_probation"] });
    assert_eq!(
        app.patch_json(&format!("/v1/buddies/{b}"), &patch)
            .await
            .status,
        200
    );

    let ids = |items: Vec<Value>| -> Vec<String> { items.iter().map(id_of).collect() };
    assert_eq!(
        ids(app.collect_pages("/v1/buddies?state=active").await),
        vec![a.clone()]
    );
    assert_eq!(
        ids(app.collect_pages("/v1/buddies?region=Zwolle").await),
        vec![b.clone()]
    );
    assert_eq!(
        ids(app.collect_pages("/v1/buddies?language=tr").await),
        vec![b.clone()]
    );
    assert_eq!(
        ids(app.collect_pages("/v1/buddies?language=en").await),
        vec![a.clone()]
    );
    assert_eq!(
        ids(app
            .collect_pages("/v1/buddies?experience=supervision_order")
            .await),
        vec![a.clone()]
    );
    assert_eq!(
        ids(app
            .collect_pages(&format!("/v1/buddies?organisation_id={other}"))
            .await),
        vec![b.clone()]
    );
    assert_eq!(ids(app.collect_pages("/v1/buddies?limit=1").await), [a, b]);

    for (query, field) in [
        ("state=busy", "state"),
        ("language=xx", "language"),
        ("experience=other", "experience"),
        ("cursor=abc", "cursor"),
        ("limit=0", "limit"),
        ("name=Sam", "name"),
    ] {
        assert_invalid_fields(&app.get(&format!("/v1/buddies?{query}")).await, &[field]);
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids_on_every_buddy_route() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::now_v7();
    assert_problem(
        &app.get(&format!("/v1/buddies/{unknown}")).await,
        404,
        "not-found",
    );
    assert_problem(
        &app.get(&format!("/v1/buddies/{unknown}/history")).await,
        404,
        "not-found",
    );
    assert_invalid_fields(&app.get("/v1/buddies/42").await, &["id"]);
    for action in ACTIONS {
        assert_problem(
            &app.post_empty(&format!("/v1/buddies/{unknown}/{action}"))
                .await,
            404,
            "not-found",
        );
        assert_invalid_fields(
            &app.post_empty(&format!("/v1/buddies/42/{action}")).await,
            &["id"],
        );
    }
}

#[tokio::test]
async fn action_bodies_are_checked() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let id = candidate(&app, &org, 1).await;
    let path = format!("/v1/buddies/{id}/start-screening");
    let before = app.table_counts();
    assert_invalid_fields(
        &app.post_json(&path, &json!({ "reason": "x".repeat(501) }))
            .await,
        &["reason"],
    );
    assert_invalid_fields(
        &app.post_json(&path, &json!({ "reason": 5 })).await,
        &["reason"],
    );
    assert_invalid_fields(
        &app.post_json(&path, &json!({ "why": "x" })).await,
        &["why"],
    );
    let response = app
        .request(
            reqwest::Method::POST,
            &path,
            Some("text/plain"),
            b"please".to_vec(),
        )
        .await;
    assert_problem(&response, 415, "unsupported-media-type");
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{id}")).await,
        "candidate"
    );
}
