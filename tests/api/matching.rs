//! Matching: ranked, explained candidates for a request, exclusions, and the measure a request
//! names.

use chrono::Duration;
use serde_json::{json, Value};

use crate::access::{Row, STAFF};
use crate::fixtures::{act, active_buddy, history_actions, open_request, organisation, propose};
use crate::helpers::{
    assert_invalid_fields, assert_problem, id_of, spawn_app, spawn_app_with, Method, TestApp,
};
use maatje::auth::StaffRole;

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    // Matching: staff only; a case system files requests but does not choose buddies.
    ("GET", "/v1/buddy-requests/{id}/candidates", STAFF),
    ("POST", "/v1/buddy-requests/{id}/exclusions", STAFF),
    ("GET", "/v1/buddy-requests/{id}/exclusions", STAFF),
    (
        "DELETE",
        "/v1/buddy-requests/{id}/exclusions/{buddy_id}",
        STAFF,
    ),
];

/// An active buddy with this profile; returns its id.
async fn buddy(
    app: &TestApp,
    org: &str,
    n: u32,
    capacity: u32,
    languages: &[&str],
    region: &str,
    experience: &[&str],
) -> String {
    let id = active_buddy(app, org, n, capacity).await;
    let response = app
        .patch_json(
            &format!("/v1/buddies/{id}"),
            &json!({ "languages": languages, "region": region, "experience": experience }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    id
}

/// An open request for a Dutch-speaking client in Utrecht under `measure` (if any).
async fn request_with(app: &TestApp, org: &str, client_ref: &str, measure: Option<&str>) -> String {
    let mut body = crate::fixtures::request_body(org, client_ref);
    if let Some(measure) = measure {
        body["measure"] = json!(measure);
    }
    let response = app.post_json("/v1/buddy-requests", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    id_of(&response.body)
}

async fn candidates(app: &TestApp, request: &str) -> Value {
    let response = app
        .get(&format!("/v1/buddy-requests/{request}/candidates"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

fn ranked_ids(list: &Value) -> Vec<String> {
    list["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| c["buddy_id"].as_str().expect("a buddy id").to_owned())
        .collect()
}

fn component<'a>(candidate: &'a Value, name: &str) -> &'a Value {
    candidate["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name} in {candidate}"))
}

/// Declines a fresh proposal of `buddy` for a fresh request, so the buddy was last proposed now.
async fn proposed_and_declined(app: &TestApp, org: &str, buddy: &str, client_ref: &str) {
    let other = open_request(app, org, client_ref).await;
    let pairing = propose(app, &other, buddy).await;
    act(app, &format!("/v1/pairings/{pairing}/decline")).await;
}

#[tokio::test]
async fn candidates_are_ranked_and_explained() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let fit = buddy(&app, &org, 1, 2, &["nl"], "Utrecht", &["guardianship"]).await;
    let english = buddy(&app, &org, 2, 2, &["en"], "Utrecht", &["guardianship"]).await;
    let far = buddy(
        &app,
        &org,
        3,
        2,
        &["nl", "ar"],
        "Amsterdam",
        &["guardianship"],
    )
    .await;
    let busy = buddy(&app, &org, 4, 2, &["nl"], "utrecht", &["supervision_order"]).await;
    // The busy buddy has one live pairing (2 places) and was proposed just now.
    let elsewhere = open_request(&app, &org, "CASE-ELSEWHERE").await;
    propose(&app, &elsewhere, &busy).await;

    let request = request_with(&app, &org, "CASE-M", Some("guardianship")).await;
    let list = candidates(&app, &request).await;
    assert_eq!(list["request_id"], request.as_str());
    assert_eq!(
        list["weights"],
        json!({ "language": 3.0, "region": 2.0, "experience": 2.0, "load": 1.0,
                "rotation": 1.0, "rotation_full_after_days": 30 })
    );
    assert_eq!(list["eligible"], 4);
    // fit: 9/9; far: no region, 7/9; english: no language, 6/9; busy: no experience, half
    // load, no rotation: 5.5/9.
    assert_eq!(
        ranked_ids(&list),
        [fit.as_str(), far.as_str(), english.as_str(), busy.as_str()]
    );
    let scores: Vec<f64> = list["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores, [1.0, 0.7778, 0.6667, 0.6111]);
    let ranks: Vec<u64> = list["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rank"].as_u64().unwrap())
        .collect();
    assert_eq!(ranks, [1, 2, 3, 4]);

    let first = &list["candidates"][0];
    assert_eq!(first["name"], "Buddy Voorbeeld 1");
    assert_eq!(first["region"], "Utrecht");
    assert_eq!(first["languages"], json!(["nl"]));
    let names: Vec<&str> = first["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["language", "region", "experience", "load", "rotation"]
    );
    assert_eq!(
        component(first, "language")["reason"],
        "speaks nl, one of the client's languages"
    );
    assert_eq!(component(first, "language")["weight"], 3.0);
    assert_eq!(
        component(first, "region")["reason"],
        "lives in the client's region (Utrecht)"
    );
    assert_eq!(
        component(first, "experience")["reason"],
        "went through a guardianship too"
    );
    assert_eq!(
        component(first, "load")["reason"],
        "no pairing yet: 0 of 2 places taken"
    );
    assert_eq!(
        component(first, "rotation")["reason"],
        "never proposed before"
    );

    let far_one = &list["candidates"][1];
    assert_eq!(component(far_one, "region")["value"], 0.0);
    assert_eq!(
        component(far_one, "region")["reason"],
        "lives in Amsterdam, not in the client's region (Utrecht)"
    );
    let english_one = &list["candidates"][2];
    assert_eq!(
        component(english_one, "language")["reason"],
        "speaks none of the client's languages (nl)"
    );
    let busy_one = &list["candidates"][3];
    // Regions compare without case.
    assert_eq!(component(busy_one, "region")["value"], 1.0);
    assert_eq!(component(busy_one, "experience")["value"], 0.0);
    assert_eq!(component(busy_one, "load")["value"], 0.5);
    assert_eq!(component(busy_one, "load")["reason"], "1 of 2 places taken");
    assert_eq!(component(busy_one, "rotation")["value"], 0.0);

    // Without a measure, experience is neutral for everyone.
    let plain = request_with(&app, &org, "CASE-PLAIN", None).await;
    let list = candidates(&app, &plain).await;
    for candidate in list["candidates"].as_array().unwrap() {
        assert_eq!(component(candidate, "experience")["value"], 0.5);
        assert_eq!(
            component(candidate, "experience")["reason"],
            "the request names no measure: neutral"
        );
    }

    // A smaller limit keeps the best, in the same order.
    let response = app
        .get(&format!("/v1/buddy-requests/{request}/candidates?limit=2"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(ranked_ids(&response.body), [fit.as_str(), far.as_str()]);
    assert_eq!(response.body["eligible"], 4);

    // Reading candidates is audited as a read of the request, under its client reference.
    let records = app.audit_records_where("client_ref=CASE-M").await;
    assert!(
        records.iter().any(|r| r["action"] == "read"
            && r["object_type"] == "buddy_request"
            && r["object_id"] == request.as_str()
            && r["status"] == 200),
        "{records:#?}"
    );
}

#[tokio::test]
async fn filtered_out_buddies_are_never_candidates() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let ok = active_buddy(&app, &org, 1, 2).await;
    let paused = active_buddy(&app, &org, 2, 2).await;
    act(&app, &format!("/v1/buddies/{paused}/pause")).await;
    let full = active_buddy(&app, &org, 3, 1).await;
    let elsewhere = open_request(&app, &org, "CASE-ELSEWHERE").await;
    propose(&app, &elsewhere, &full).await;
    let declined = active_buddy(&app, &org, 4, 2).await;
    let expired = active_buddy(&app, &org, 5, 2).await;
    let excluded = active_buddy(&app, &org, 6, 2).await;
    // A candidate, never made active, is no candidate either.
    crate::fixtures::candidate(&app, &org, 7).await;

    let request = open_request(&app, &org, "CASE-1").await;
    let all = candidates(&app, &request).await;
    assert_eq!(all["eligible"], 4);

    // Declined this request.
    let pairing = propose(&app, &request, &declined).await;
    act(&app, &format!("/v1/pairings/{pairing}/decline")).await;
    // Expired for this request (as the scheduler would expire it).
    let pairing = propose(&app, &request, &expired).await;
    app.expire_pairing(&pairing);
    // Excluded from this request.
    let response = app
        .post_json(
            &format!("/v1/buddy-requests/{request}/exclusions"),
            &json!({ "buddy_id": excluded, "reason": "Knows the family" }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);

    let list = candidates(&app, &request).await;
    assert_eq!(ranked_ids(&list), [ok.as_str()]);
    assert_eq!(list["eligible"], 1);

    // Each filter concerns this request only: for another request they are candidates again
    // (except the paused and the full buddy).
    let other = open_request(&app, &org, "CASE-2").await;
    let mut others = ranked_ids(&candidates(&app, &other).await);
    others.sort();
    let mut want = vec![ok.clone(), declined, expired, excluded.clone()];
    want.sort();
    assert_eq!(others, want);

    // Lifting the exclusion brings the buddy back.
    let response = app
        .request(
            Method::DELETE,
            &format!("/v1/buddy-requests/{request}/exclusions/{excluded}"),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(response.status, 204, "{}", response.text);
    let mut back = ranked_ids(&candidates(&app, &request).await);
    back.sort();
    let mut want = vec![ok, excluded];
    want.sort();
    assert_eq!(back, want);
}

#[tokio::test]
async fn ties_are_broken_by_load_then_waiting_time_then_id() {
    // Load and rotation weigh nothing, so equal profiles tie on score.
    let app = spawn_app_with(&[
        ("MAATJE__MATCHING__WEIGHT_LOAD", "0"),
        ("MAATJE__MATCHING__WEIGHT_ROTATION", "0"),
    ])
    .await;
    let org = organisation(&app).await;
    let loaded = active_buddy(&app, &org, 1, 3).await;
    let waited = active_buddy(&app, &org, 2, 2).await;
    let never_first = active_buddy(&app, &org, 3, 2).await;
    let never_second = active_buddy(&app, &org, 4, 2).await;
    let recent = active_buddy(&app, &org, 5, 2).await;
    // loaded: one live pairing of three places.
    let elsewhere = open_request(&app, &org, "CASE-LOADED").await;
    propose(&app, &elsewhere, &loaded).await;
    // waited: last proposed five days ago; recent: one day ago.
    proposed_and_declined(&app, &org, &waited, "CASE-WAITED").await;
    app.clock.advance(Duration::days(4));
    proposed_and_declined(&app, &org, &recent, "CASE-RECENT").await;
    app.clock.advance(Duration::days(1));

    let request = open_request(&app, &org, "CASE-1").await;
    let list = candidates(&app, &request).await;
    let scores: Vec<&Value> = list["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["score"])
        .collect();
    assert!(scores.iter().all(|s| *s == scores[0]), "{scores:?}");
    assert_eq!(
        ranked_ids(&list),
        [
            never_first.as_str(),
            never_second.as_str(),
            waited.as_str(),
            recent.as_str(),
            loaded.as_str()
        ]
    );
    // And again: the same order.
    assert_eq!(
        ranked_ids(&candidates(&app, &request).await),
        ranked_ids(&list)
    );
}

#[tokio::test]
async fn rotation_grows_as_time_passes() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let asked = active_buddy(&app, &org, 1, 2).await;
    let fresh = active_buddy(&app, &org, 2, 2).await;
    proposed_and_declined(&app, &org, &asked, "CASE-EARLIER").await;
    let request = open_request(&app, &org, "CASE-1").await;

    let list = candidates(&app, &request).await;
    assert_eq!(ranked_ids(&list), [fresh.as_str(), asked.as_str()]);
    let rotation = component(&list["candidates"][1], "rotation");
    assert_eq!(rotation["value"], 0.0);
    assert_eq!(
        rotation["reason"],
        "last proposal less than a day ago (counts in full after 30 days)"
    );

    app.clock.advance(Duration::days(12));
    let list = candidates(&app, &request).await;
    let rotation = component(&list["candidates"][1], "rotation");
    assert_eq!(rotation["value"], 0.4);
    assert_eq!(
        rotation["reason"],
        "last proposal 12 days ago (counts in full after 30 days)"
    );

    // From 30 days on the two are equal on score; the longer wait then ranks first.
    app.clock.advance(Duration::days(18));
    let list = candidates(&app, &request).await;
    assert_eq!(component(&list["candidates"][1], "rotation")["value"], 1.0);
    assert_eq!(
        list["candidates"][0]["score"],
        list["candidates"][1]["score"]
    );
    assert_eq!(ranked_ids(&list), [fresh.as_str(), asked.as_str()]);
}

#[tokio::test]
async fn candidates_need_a_known_open_request_and_a_sane_limit() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 2).await;

    let unknown = uuid::Uuid::now_v7();
    let response = app
        .get(&format!("/v1/buddy-requests/{unknown}/candidates"))
        .await;
    assert_problem(&response, 404, "not-found");
    let response = app.get("/v1/buddy-requests/not-a-uuid/candidates").await;
    assert_invalid_fields(&response, &["id"]);

    let request = open_request(&app, &org, "CASE-1").await;
    for limit in ["0", "101", "ten", "-1"] {
        let response = app
            .get(&format!(
                "/v1/buddy-requests/{request}/candidates?limit={limit}"
            ))
            .await;
        assert_invalid_fields(&response, &["limit"]);
    }
    let response = app
        .get(&format!("/v1/buddy-requests/{request}/candidates?top=3"))
        .await;
    assert_invalid_fields(&response, &["top"]);
    let response = app
        .get(&format!(
            "/v1/buddy-requests/{request}/candidates?limit=100"
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);

    // Proposed: the request has its buddy for now.
    propose(&app, &request, &buddy).await;
    let response = app
        .get(&format!("/v1/buddy-requests/{request}/candidates"))
        .await;
    assert_problem(&response, 409, "illegal-transition");
    assert_eq!(response.body["current_state"], "proposed");

    let withdrawn = open_request(&app, &org, "CASE-2").await;
    act(&app, &format!("/v1/buddy-requests/{withdrawn}/withdraw")).await;
    let response = app
        .get(&format!("/v1/buddy-requests/{withdrawn}/candidates"))
        .await;
    assert_problem(&response, 409, "illegal-transition");
    assert_eq!(response.body["current_state"], "withdrawn");
}

#[tokio::test]
async fn case_systems_do_not_see_candidates_or_exclusions() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    app.use_token(Some(&key));
    let response = app
        .get(&format!("/v1/buddy-requests/{request}/candidates"))
        .await;
    assert_problem(&response, 403, "forbidden");
    let response = app
        .get(&format!("/v1/buddy-requests/{request}/exclusions"))
        .await;
    assert_problem(&response, 403, "forbidden");
    let response = app
        .post_json(
            &format!("/v1/buddy-requests/{request}/exclusions"),
            &json!({ "buddy_id": buddy, "reason": "x" }),
        )
        .await;
    assert_problem(&response, 403, "forbidden");

    // A coordinator may.
    app.use_admin();
    let (_, coordinator) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    app.use_token(Some(&coordinator));
    let list = candidates(&app, &request).await;
    assert_eq!(ranked_ids(&list), [buddy.as_str()]);
}

#[tokio::test]
async fn staff_exclude_and_include_a_buddy() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let path = format!("/v1/buddy-requests/{request}/exclusions");

    let response = app.get(&path).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body, json!({ "items": [] }));

    let response = app
        .post_json(
            &path,
            &json!({ "buddy_id": buddy, "reason": "  Knows the family  " }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    assert_eq!(
        response.header("location"),
        Some(format!("{path}/{buddy}").as_str())
    );
    assert_eq!(response.body["request_id"], request.as_str());
    assert_eq!(response.body["buddy_id"], buddy.as_str());
    assert_eq!(response.body["reason"], "Knows the family");
    let exclusion = response.body.clone();

    let response = app.get(&path).await;
    assert_eq!(response.body, json!({ "items": [exclusion] }));

    // Twice: a conflict, and nothing changes.
    let before = app.table_counts();
    let response = app
        .post_json(&path, &json!({ "buddy_id": buddy, "reason": "Again" }))
        .await;
    assert_problem(&response, 409, "duplicate-exclusion");
    assert_eq!(app.table_counts(), before);

    let request_path = format!("/v1/buddy-requests/{request}");
    assert_eq!(
        history_actions(&app, &request_path).await,
        ["create", "exclude-buddy"]
    );
    let history = app.history(&request_path).await;
    assert_eq!(
        history[1]["reason"],
        format!("buddy {buddy}: Knows the family")
    );

    let response = app
        .request(Method::DELETE, &format!("{path}/{buddy}"), None, Vec::new())
        .await;
    assert_eq!(response.status, 204, "{}", response.text);
    assert!(response.text.is_empty());
    assert_eq!(app.get(&path).await.body, json!({ "items": [] }));
    assert_eq!(
        history_actions(&app, &request_path).await,
        ["create", "exclude-buddy", "include-buddy"]
    );
    // Not excluded any more: 404.
    let response = app
        .request(Method::DELETE, &format!("{path}/{buddy}"), None, Vec::new())
        .await;
    assert_problem(&response, 404, "not-found");
}

#[tokio::test]
async fn exclusions_need_a_known_request_and_buddy() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let before = app.table_counts();

    let response = app
        .post_json(
            &format!("/v1/buddy-requests/{unknown}/exclusions"),
            &json!({ "buddy_id": buddy, "reason": "Knows the family" }),
        )
        .await;
    assert_problem(&response, 404, "not-found");
    let response = app
        .post_json(
            &format!("/v1/buddy-requests/{request}/exclusions"),
            &json!({ "buddy_id": unknown, "reason": "Knows the family" }),
        )
        .await;
    assert_problem(&response, 404, "not-found");
    let response = app
        .get(&format!("/v1/buddy-requests/{unknown}/exclusions"))
        .await;
    assert_problem(&response, 404, "not-found");
    let response = app
        .request(
            Method::DELETE,
            &format!("/v1/buddy-requests/{unknown}/exclusions/{buddy}"),
            None,
            Vec::new(),
        )
        .await;
    assert_problem(&response, 404, "not-found");
    let response = app
        .request(
            Method::DELETE,
            &format!("/v1/buddy-requests/{request}/exclusions/not-a-uuid"),
            None,
            Vec::new(),
        )
        .await;
    assert_problem(&response, 400, "validation");
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn bad_exclusions_list_their_fields_and_store_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let path = format!("/v1/buddy-requests/{request}/exclusions");
    let before = app.table_counts();

    let response = app
        .request(
            Method::POST,
            &path,
            Some("application/json"),
            b"{\"buddy_id\":".to_vec(),
        )
        .await;
    assert_invalid_fields(&response, &[""]);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["buddy_id", "reason"]),
        (
            json!({ "buddy_id": buddy, "reason": "x", "excluded_by": "me" }),
            vec!["excluded_by"],
        ),
        (
            json!({ "buddy_id": "nope", "reason": "x" }),
            vec!["buddy_id"],
        ),
        (
            json!({ "buddy_id": buddy, "reason": "r".repeat(501) }),
            vec!["reason"],
        ),
        (
            json!({ "buddy_id": buddy, "reason": "   " }),
            vec!["reason"],
        ),
        (
            json!({ "buddy_id": buddy, "reason": "a\u{7}b" }),
            vec!["reason"],
        ),
    ];
    for (body, fields) in cases {
        assert_invalid_fields(&app.post_json(&path, &body).await, &fields);
    }
    assert_eq!(app.table_counts(), before);
    // The longest reason allowed is fine.
    let response = app
        .post_json(
            &path,
            &json!({ "buddy_id": buddy, "reason": "r".repeat(500) }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
}

#[tokio::test]
async fn a_request_may_name_the_measure() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for (n, measure) in [
        "supervision_order",
        "out_of_home_placement",
        "guardianship",
        "youth_probation",
    ]
    .iter()
    .enumerate()
    {
        let request = request_with(&app, &org, &format!("CASE-{n}"), Some(measure)).await;
        let response = app.get(&format!("/v1/buddy-requests/{request}")).await;
        assert_eq!(response.body["measure"], *measure);
    }
    let plain = request_with(&app, &org, "CASE-PLAIN", None).await;
    let response = app.get(&format!("/v1/buddy-requests/{plain}")).await;
    assert!(response.body.get("measure").is_none(), "{}", response.text);

    let before = app.table_counts();
    let mut body = crate::fixtures::request_body(&org, "CASE-BAD");
    body["measure"] = json!("prison");
    assert_invalid_fields(
        &app.post_json("/v1/buddy-requests", &body).await,
        &["measure"],
    );
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn anonymising_a_request_removes_its_exclusions() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let response = app
        .post_json(
            &format!("/v1/buddy-requests/{request}/exclusions"),
            &json!({ "buddy_id": buddy, "reason": "Neighbour of the family" }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    act(&app, &format!("/v1/buddy-requests/{request}/withdraw")).await;
    let response = app
        .post_json(
            "/v1/privacy/clients/erase",
            &json!({ "organisation_id": org, "client_ref": "CASE-1", "reason": "Asked by the client" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(app.table_counts()["request_exclusions"], 0);
    let history = app.history(&format!("/v1/buddy-requests/{request}")).await;
    let exclusion = history
        .iter()
        .find(|e| e["action"] == "exclude-buddy")
        .expect("the exclusion stays in the history");
    assert!(exclusion.get("reason").is_none(), "{exclusion}");
}

#[tokio::test]
async fn every_change_to_a_buddy_or_a_pairing_shows_in_the_next_ranking() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let first = buddy(&app, &org, 1, 2, &["nl"], "Utrecht", &["guardianship"]).await;
    let second = buddy(&app, &org, 2, 2, &["en"], "Utrecht", &["guardianship"]).await;
    let request = request_with(&app, &org, "CASE-1", Some("guardianship")).await;
    assert_eq!(
        ranked_ids(&candidates(&app, &request).await),
        [first.as_str(), second.as_str()]
    );

    // A profile change.
    let response = app
        .patch_json(
            &format!("/v1/buddies/{second}"),
            &json!({ "languages": ["nl"] }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let list = candidates(&app, &request).await;
    assert_eq!(
        component(&list["candidates"][1], "language")["value"],
        1.0,
        "{list}"
    );

    // A state change.
    act(&app, &format!("/v1/buddies/{first}/pause")).await;
    assert_eq!(
        ranked_ids(&candidates(&app, &request).await),
        [second.as_str()]
    );

    // A pairing elsewhere: the load and the last proposal move.
    let elsewhere = open_request(&app, &org, "CASE-2").await;
    propose(&app, &elsewhere, &second).await;
    let list = candidates(&app, &request).await;
    assert_eq!(component(&list["candidates"][0], "load")["value"], 0.5);
    assert_eq!(component(&list["candidates"][0], "rotation")["value"], 0.0);

    // A buddy added.
    let third = buddy(&app, &org, 3, 1, &["nl"], "Utrecht", &["guardianship"]).await;
    assert_eq!(
        ranked_ids(&candidates(&app, &request).await),
        [third.as_str(), second.as_str()]
    );
}

/// One organisation's active buddy (in Utrecht, capacity 2) and open request, with what ranking
/// the request takes: the weights, the time and the request's id.
struct OneBuddy {
    app: TestApp,
    buddy_id: String,
    request_id: maatje::domain::ids::RequestId,
    weights: maatje::matching::Weights,
    now: chrono::NaiveDateTime,
}

async fn one_buddy_and_a_request() -> OneBuddy {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy_id = active_buddy(&app, &org, 1, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    OneBuddy {
        weights: app.settings.matching.weights(),
        now: app.clock.now_naive(),
        request_id: maatje::domain::ids::RequestId::from(request.as_str()),
        buddy_id,
        app,
    }
}

/// The facts cache is caught up exactly when a change is logged: hiding a change's log entry (and
/// winding the counter back) makes the ranking serve the facts it held (which shows it holds
/// them), and the entry the triggers wrote makes it read the change.
#[tokio::test]
async fn the_buddy_facts_are_kept_until_a_change_is_logged() {
    use diesel::connection::SimpleConnection;
    use maatje::ops::pairings::candidates as rank;
    use maatje::store::candidates::FactsCache;

    let OneBuddy {
        app,
        buddy_id,
        request_id,
        weights,
        now,
    } = one_buddy_and_a_request().await;
    let cache = FactsCache::default();
    let region = |conn: &mut maatje::db::DbConnection| {
        rank(conn, &cache, &request_id, &weights, now, 5)
            .expect("ranking works")
            .candidates[0]
            .region
            .clone()
    };
    let version = |conn: &mut maatje::db::DbConnection| -> i64 {
        use diesel::prelude::*;
        use maatje::db::schema::matching_version::dsl::*;
        matching_version
            .select(version)
            .first(conn)
            .expect("the counter")
    };
    app.with_connection(|conn| {
        assert_eq!(region(conn), "Utrecht");
        let before = version(conn);
        conn.batch_execute(&format!(
            "UPDATE buddies SET region = 'Zwolle' WHERE id = '{buddy_id}'"
        ))
        .expect("update");
        assert!(version(conn) > before, "the trigger moves the counter");
        let after = version(conn);
        conn.batch_execute(&format!(
            "CREATE TEMPORARY TABLE hidden AS SELECT * FROM matching_changes WHERE version > {before}; \
             DELETE FROM matching_changes WHERE version > {before}; \
             UPDATE matching_version SET version = {before} WHERE id = 1"
        ))
        .expect("hide the change");
        assert_eq!(region(conn), "Utrecht", "the held facts are served");
        conn.batch_execute(&format!(
            "INSERT INTO matching_changes SELECT * FROM hidden; \
             UPDATE matching_version SET version = {after} WHERE id = 1"
        ))
        .expect("show it");
        assert_eq!(region(conn), "Zwolle", "a logged change is read");
    });
}

/// After changes, a held pool is caught up by reading only the buddies the changes name (the
/// `matching_changes` log the triggers write), and ranks exactly as a pool read afresh; without
/// the log entries in between, it reads everything again.
#[tokio::test]
async fn a_ranking_after_changes_reads_only_the_changed_buddies() {
    use diesel::connection::SimpleConnection;
    use maatje::db::DbConnection;
    use maatje::matching::Weights;
    use maatje::ops::pairings::candidates as rank;
    use maatje::store::candidates::FactsCache;

    let app = spawn_app().await;
    let org = organisation(&app).await;
    let paused = buddy(&app, &org, 1, 2, &["nl"], "Utrecht", &["guardianship"]).await;
    let moved = buddy(
        &app,
        &org,
        2,
        2,
        &["nl", "en"],
        "Utrecht",
        &["guardianship"],
    )
    .await;
    let full = buddy(&app, &org, 3, 1, &["nl"], "Amsterdam", &["guardianship"]).await;
    let kept = buddy(&app, &org, 4, 2, &["ar"], "Zwolle", &["guardianship"]).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let weights: Weights = app.settings.matching.weights();
    let now = app.clock.now_naive();
    let request_id = maatje::domain::ids::RequestId::from(request.as_str());
    let ranking = |conn: &mut DbConnection, cache: &FactsCache| -> Vec<(String, String, i64)> {
        rank(conn, cache, &request_id, &weights, now, 10)
            .expect("ranking works")
            .candidates
            .into_iter()
            .map(|c| {
                let score = (c.score * 1e9).round() as i64;
                (c.buddy_id.to_string(), c.region, score)
            })
            .collect()
    };
    let cache = FactsCache::default();
    let first = app.with_connection(|conn| ranking(conn, &cache));
    assert_eq!(first.len(), 4);
    assert_eq!(cache.reads(), (1, 0));

    // Changes through the service: a buddy paused, one moved, one taking on a pairing up to
    // their capacity, one new.
    act(&app, &format!("/v1/buddies/{paused}/pause")).await;
    let response = app
        .patch_json(
            &format!("/v1/buddies/{moved}"),
            &json!({ "region": "Zwolle" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let other = open_request(&app, &org, "CASE-2").await;
    propose(&app, &other, &full).await;
    let joined = buddy(&app, &org, 5, 2, &["nl"], "Utrecht", &["guardianship"]).await;

    app.with_connection(|conn| {
        let patched = ranking(conn, &cache);
        assert_eq!(cache.reads(), (1, 1), "caught up by a patch");
        assert_eq!(patched, ranking(conn, &FactsCache::default()));
        let mut ids: Vec<&str> = patched.iter().map(|(id, _, _)| id.as_str()).collect();
        ids.sort_unstable();
        let mut expected = vec![moved.as_str(), kept.as_str(), joined.as_str()];
        expected.sort_unstable();
        assert_eq!(ids, expected);
        assert!(patched
            .iter()
            .any(|(id, region, _)| *id == moved && region == "Zwolle"));
        // Nothing changed since: the held pool is served as it is.
        ranking(conn, &cache);
        assert_eq!(cache.reads(), (1, 1));

        // A gap in the log (entries pruned under a cache too far behind): the changes cannot be
        // patched in, and everything is read again.
        conn.batch_execute(&format!(
            "UPDATE buddies SET region = 'Utrecht' WHERE id = '{moved}'; \
             UPDATE buddies SET capacity = capacity WHERE id = '{kept}'; \
             DELETE FROM matching_changes WHERE buddy_id = '{moved}';"
        ))
        .expect("two changes, the first forgotten");
        let again = ranking(conn, &cache);
        assert_eq!(cache.reads(), (2, 1), "read afresh");
        assert_eq!(again, ranking(conn, &FactsCache::default()));
        assert!(again
            .iter()
            .any(|(id, region, _)| *id == moved && region == "Utrecht"));
    });
}

/// The change log is pruned from the oldest end only, so the newest entries always run without a
/// gap up to the counter: a cache finds either every change since its version or a gap (and
/// then reads everything), never an empty log after a change.
#[tokio::test]
async fn the_change_log_keeps_the_newest_versions_without_a_gap() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use maatje::db::schema::{matching_changes, matching_version};

    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 2).await;
    app.with_connection(|conn| {
        let touch = format!("UPDATE buddies SET capacity = capacity WHERE id = '{buddy}';");
        conn.batch_execute(&touch.repeat(5000))
            .expect("5,000 changes");
        let version: i64 = matching_version::table
            .select(matching_version::version)
            .first(conn)
            .expect("the counter");
        let versions: Vec<i64> = matching_changes::table
            .order(matching_changes::version.asc())
            .select(matching_changes::version)
            .load(conn)
            .expect("the log");
        assert!(version > 5000, "every change moved the counter: {version}");
        assert_eq!(
            versions.last(),
            Some(&version),
            "the newest entry is the counter's"
        );
        assert!(
            (4096..=4096 + 1024).contains(&versions.len()),
            "pruned to the newest 4,096 to 5,120: {}",
            versions.len()
        );
        assert!(
            versions.windows(2).all(|w| w[1] == w[0] + 1),
            "no gap in what is kept"
        );
    });
}

/// The automatic proposal ranks inside its write transaction with the instance's facts caught up
/// to what that transaction sees, and keeps nothing: a change the transaction made and then
/// rolled back never reaches the shared cache.
#[tokio::test]
async fn facts_read_inside_a_transaction_that_rolls_back_are_not_kept() {
    use diesel::connection::SimpleConnection;
    use maatje::db::{write_transaction, DbConnection};
    use maatje::store::candidates::{rank, Facts, FactsCache, InTransaction};

    let OneBuddy {
        app,
        buddy_id,
        request_id,
        weights,
        now,
    } = one_buddy_and_a_request().await;
    let cache = FactsCache::default();
    app.with_connection(|conn| {
        let row = maatje::store::requests::find(conn, &request_id).expect("the request");
        let first_region = |conn: &mut DbConnection, facts: &dyn Facts| -> String {
            rank(conn, facts, &row, &weights, now, 5)
                .expect("ranking works")
                .candidates[0]
                .region
                .clone()
        };
        assert_eq!(first_region(conn, &cache), "Utrecht");
        let outcome: Result<(), diesel::result::Error> = write_transaction(conn, |conn| {
            conn.batch_execute(&format!(
                "UPDATE buddies SET region = 'Zwolle' WHERE id = '{buddy_id}'"
            ))?;
            let inside = first_region(conn, &InTransaction(&cache));
            assert_eq!(inside, "Zwolle", "the transaction sees its own change");
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(outcome.is_err(), "rolled back");
        assert_eq!(cache.reads(), (1, 1), "the transaction patched a copy");
        assert_eq!(
            first_region(conn, &cache),
            "Utrecht",
            "nothing of it was kept"
        );
        assert_eq!(
            cache.reads(),
            (1, 1),
            "the shared pool was current all along"
        );
    });
}

/// Exclusions steer who is proposed: made and lifted while the request is open or proposed,
/// refused (409, nothing stored) once it is matched, closed or withdrawn. The console follows
/// the same rule, from the same operation.
#[tokio::test]
async fn exclusions_are_refused_once_the_request_is_withdrawn() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 2).await;
    let other = active_buddy(&app, &org, 2, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let path = format!("/v1/buddy-requests/{request}/exclusions");
    let response = app
        .post_json(
            &path,
            &json!({ "buddy_id": buddy, "reason": "Knows the family" }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    act(&app, &format!("/v1/buddy-requests/{request}/withdraw")).await;
    let before = app.table_counts();
    let refused = app
        .post_json(
            &path,
            &json!({ "buddy_id": other, "reason": "Knows the family" }),
        )
        .await;
    assert_problem(&refused, 409, "illegal-transition");
    let refused = app
        .request(Method::DELETE, &format!("{path}/{buddy}"), None, Vec::new())
        .await;
    assert_problem(&refused, 409, "illegal-transition");
    assert_eq!(app.table_counts(), before, "nothing stored");
}
