//! `/v1/buddy-requests`: filing, following and withdrawing a request.

use chrono::Duration;
use serde_json::{json, Value};

use crate::access::{Row, ANY};
use crate::fixtures::{
    act, history_actions, open_request, organisation, pairing_in, request_body, state_of,
};
use crate::helpers::{
    assert_invalid_fields, assert_problem, create_organisation, id_of, spawn_app, start_time,
    time_of,
};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    ("POST", "/v1/buddy-requests", ANY),
    ("GET", "/v1/buddy-requests", ANY),
    ("GET", "/v1/buddy-requests/{id}", ANY),
    ("POST", "/v1/buddy-requests/{id}/withdraw", ANY),
    ("GET", "/v1/buddy-requests/{id}/history", ANY),
];

#[tokio::test]
async fn file_and_follow_a_request() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let response = app
        .post_json("/v1/buddy-requests", &request_body(&org, "CASE-1"))
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let id = id_of(&response.body);
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/buddy-requests/{id}").as_str())
    );
    let request = &response.body;
    assert_eq!(request["state"], "open");
    assert_eq!(request["client_ref"], "CASE-1");
    assert_eq!(request["trigger"], "discontent");
    assert_eq!(request["client"]["first_name"], "Client");
    assert_eq!(request["client"]["preferred_channel"], "email");
    assert_eq!(request["client"]["languages"], json!(["nl"]));
    assert_eq!(time_of(request, "consent_recorded_at"), start_time());
    assert!(request.get("pairing").is_none());
    assert!(request.get("closed_at").is_none());
    assert_eq!(
        &app.get(&format!("/v1/buddy-requests/{id}")).await.body,
        request
    );
    assert_eq!(
        history_actions(&app, &format!("/v1/buddy-requests/{id}")).await,
        ["create"]
    );
}

#[tokio::test]
async fn every_trigger_is_accepted() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for (n, trigger) in ["first_talks", "discontent", "complaint", "questions"]
        .iter()
        .enumerate()
    {
        let mut body = request_body(&org, &format!("CASE-T{n}"));
        body["trigger"] = json!(trigger);
        let response = app.post_json("/v1/buddy-requests", &body).await;
        assert_eq!(response.status, 201, "{trigger}: {}", response.text);
        assert_eq!(response.body["trigger"], *trigger);
    }
    let complaints = app
        .collect_pages("/v1/buddy-requests?trigger=complaint")
        .await;
    assert_eq!(complaints.len(), 1);
}

#[tokio::test]
async fn consent_and_a_way_to_reach_the_client_are_required() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    let mut cases: Vec<(Value, Vec<&str>)> = Vec::new();

    let mut b = request_body(&org, "C-1");
    b["consent_to_share_contact"] = json!(false);
    cases.push((b, vec!["consent_to_share_contact"]));

    let mut b = request_body(&org, "C-1");
    b.as_object_mut()
        .unwrap()
        .remove("consent_to_share_contact");
    cases.push((b, vec!["consent_to_share_contact"]));

    let mut b = request_body(&org, "C-1");
    b["client"] = json!({ "first_name": "A", "preferred_channel": "phone", "languages": ["nl"] });
    cases.push((b, vec!["client", "client.preferred_channel"]));

    let mut b = request_body(&org, "C-1");
    b["client"].as_object_mut().unwrap().remove("phone");
    b["client"]["preferred_channel"] = json!("phone");
    cases.push((b, vec!["client.preferred_channel"]));

    for (body, fields) in cases {
        assert_invalid_fields(&app.post_json("/v1/buddy-requests", &body).await, &fields);
    }
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn bad_requests_list_every_invalid_field_and_store_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();

    let mut b = request_body(&org, "123456782");
    b["trigger_note"] = json!("n".repeat(2001));
    b["region"] = json!("");
    b["client"]["email"] = json!("client@");
    b["client"]["phone"] = json!("12");
    b["client"]["first_name"] = json!("f".repeat(201));
    b["client"]["languages"] = json!(["nederlands"]);
    assert_invalid_fields(
        &app.post_json("/v1/buddy-requests", &b).await,
        &[
            "client_ref",
            "trigger_note",
            "region",
            "client.email",
            "client.phone",
            "client.first_name",
            "client.languages[0]",
        ],
    );

    let mut b = request_body(&org, "C-2");
    b["trigger"] = json!("anger");
    b["state"] = json!("matched");
    b["consent_recorded_at"] = json!("2026-01-01T00:00:00Z");
    b["client"]["bsn"] = json!("123456782");
    b["consent_to_share_contact"] = json!("yes");
    assert_invalid_fields(
        &app.post_json("/v1/buddy-requests", &b).await,
        &[
            "trigger",
            "state",
            "consent_recorded_at",
            "client.bsn",
            "consent_to_share_contact",
        ],
    );

    let mut b = request_body(&org, "C-3");
    b["client_ref"] = json!("has spaces");
    assert_invalid_fields(
        &app.post_json("/v1/buddy-requests", &b).await,
        &["client_ref"],
    );
    b["client_ref"] = json!("x".repeat(65));
    assert_invalid_fields(
        &app.post_json("/v1/buddy-requests", &b).await,
        &["client_ref"],
    );

    let response = app
        .request(
            reqwest::Method::POST,
            "/v1/buddy-requests",
            Some("application/json"),
            b"{\"client_ref\":".to_vec(),
        )
        .await;
    assert_invalid_fields(&response, &[""]);
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn client_ref_is_unique_per_organisation() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other = id_of(&create_organisation(&app, "Andere GI").await);
    let existing = open_request(&app, &org, "CASE-7").await;
    let before = app.table_counts();
    let response = app
        .post_json("/v1/buddy-requests", &request_body(&org, "CASE-7"))
        .await;
    assert_problem(&response, 409, "duplicate-client-ref");
    // The answer names the existing request, so that a case system that lost track of it can
    // read it.
    assert_eq!(response.body["existing_id"], existing.as_str());
    let location = format!("/v1/buddy-requests/{existing}");
    assert_eq!(response.header("location"), Some(location.as_str()));
    assert_eq!(app.get(&location).await.status, 200);
    assert_eq!(app.table_counts(), before);
    // Another organisation may use the same reference for its own client.
    open_request(&app, &other, "CASE-7").await;
}

#[tokio::test]
async fn unknown_or_inactive_organisations_are_refused() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_problem(
        &app.post_json("/v1/buddy-requests", &request_body(&unknown, "C"))
            .await,
        404,
        "not-found",
    );
    act(&app, &format!("/v1/organisations/{org}/deactivate")).await;
    let before_inactive = app.table_counts();
    assert_problem(
        &app.post_json("/v1/buddy-requests", &request_body(&org, "C"))
            .await,
        409,
        "organisation-inactive",
    );
    assert_eq!(app.table_counts(), before_inactive);
    assert_eq!(before["buddy_requests"], 0);
}

#[tokio::test]
async fn withdrawing_an_open_request() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let id = open_request(&app, &org, "CASE-W").await;
    app.clock.advance(Duration::days(2));
    let response = app
        .post_json(
            &format!("/v1/buddy-requests/{id}/withdraw"),
            &json!({ "reason": "Client moved away" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["state"], "withdrawn");
    assert_eq!(
        time_of(&response.body, "closed_at"),
        start_time() + Duration::days(2)
    );
    let history = app
        .collect_pages(&format!("/v1/buddy-requests/{id}/history"))
        .await;
    assert_eq!(history[1]["action"], "withdraw");
    assert_eq!(history[1]["from_state"], "open");
    assert_eq!(history[1]["to_state"], "withdrawn");
    assert_eq!(history[1]["reason"], "Client moved away");
}

#[tokio::test]
async fn withdrawing_a_proposed_request_cancels_the_proposal() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, buddy) = pairing_in(&app, &org, "proposed", 1).await;
    let response = app
        .post_empty(&format!("/v1/buddy-requests/{request}/withdraw"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["state"], "withdrawn");
    assert_eq!(response.body["pairing"]["state"], "cancelled");
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{pairing}")).await,
        "cancelled"
    );
    assert_eq!(
        history_actions(&app, &format!("/v1/pairings/{pairing}")).await,
        ["propose", "cancel"]
    );
    // The buddy's capacity is free again.
    assert_eq!(
        app.get(&format!("/v1/buddies/{buddy}")).await.body["live_pairings"],
        0
    );
}

#[tokio::test]
async fn matched_closed_and_withdrawn_requests_cannot_be_withdrawn() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, matched, _) = pairing_in(&app, &org, "accepted", 1).await;
    let (_, closed, _) = pairing_in(&app, &org, "ended", 2).await;
    let withdrawn = open_request(&app, &org, "CASE-X").await;
    act(&app, &format!("/v1/buddy-requests/{withdrawn}/withdraw")).await;
    for (id, state) in [
        (matched, "matched"),
        (closed, "closed"),
        (withdrawn, "withdrawn"),
    ] {
        let before = app.table_counts();
        let response = app
            .post_empty(&format!("/v1/buddy-requests/{id}/withdraw"))
            .await;
        assert_problem(&response, 409, "illegal-transition");
        assert_eq!(response.body["current_state"], state);
        assert_eq!(response.body["attempted_action"], "withdraw");
        assert_eq!(app.table_counts(), before);
    }
}

#[tokio::test]
async fn lists_filter_and_show_the_current_pairing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other = id_of(&create_organisation(&app, "Andere GI").await);
    let (pairing, proposed, _) = pairing_in(&app, &org, "proposed", 1).await;
    let open = open_request(&app, &org, "CASE-OPEN").await;
    let elsewhere = open_request(&app, &other, "CASE-OTHER").await;

    let ids = |items: Vec<Value>| -> Vec<String> { items.iter().map(id_of).collect() };
    let all = app.collect_pages("/v1/buddy-requests?limit=2").await;
    assert_eq!(
        ids(all.clone()),
        [proposed.clone(), open.clone(), elsewhere.clone()]
    );
    assert_eq!(all[0]["pairing"]["id"], pairing.as_str());
    assert_eq!(all[0]["pairing"]["state"], "proposed");
    assert!(all[1].get("pairing").is_none());

    assert_eq!(
        ids(app.collect_pages("/v1/buddy-requests?state=open").await),
        [open.clone(), elsewhere.clone()]
    );
    assert_eq!(
        ids(app
            .collect_pages(&format!("/v1/buddy-requests?organisation_id={other}"))
            .await),
        [elsewhere]
    );
    assert_eq!(
        ids(app
            .collect_pages("/v1/buddy-requests?client_ref=CASE-OPEN")
            .await),
        [open]
    );
    for (query, field) in [
        ("state=pending", "state"),
        ("trigger=anger", "trigger"),
        ("client_ref=a%20b", "client_ref"),
        ("organisation_id=x", "organisation_id"),
        ("limit=-1", "limit"),
        ("cursor=Zm9vOmJhcg", "cursor"),
        ("overdue=maybe", "overdue"),
    ] {
        assert_invalid_fields(
            &app.get(&format!("/v1/buddy-requests?{query}")).await,
            &[field],
        );
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::now_v7();
    assert_problem(
        &app.get(&format!("/v1/buddy-requests/{unknown}")).await,
        404,
        "not-found",
    );
    assert_problem(
        &app.get(&format!("/v1/buddy-requests/{unknown}/history"))
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &app.post_empty(&format!("/v1/buddy-requests/{unknown}/withdraw"))
            .await,
        404,
        "not-found",
    );
    assert_invalid_fields(&app.get("/v1/buddy-requests/abc").await, &["id"]);
    assert_invalid_fields(
        &app.post_empty("/v1/buddy-requests/abc/withdraw").await,
        &["id"],
    );
    assert_invalid_fields(&app.get("/v1/buddy-requests/abc/history").await, &["id"]);
}

/// The ids of every request listed at `path`.
async fn listed(app: &crate::helpers::TestApp, path: &str) -> Vec<String> {
    app.collect_pages(path).await.iter().map(id_of).collect()
}

#[tokio::test]
async fn requests_open_past_the_service_level_are_overdue_and_filterable() {
    // The default service level: overdue after 5 days open.
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let old = open_request(&app, &org, "CASE-OLD").await;
    app.clock.advance(Duration::days(2));
    let young = open_request(&app, &org, "CASE-YOUNG").await;
    let (_, proposed, _) = pairing_in(&app, &org, "proposed", 1).await;
    let overdue_of = |body: &Value| body["overdue"].as_bool().expect("an overdue flag");

    // Day 2: nothing is overdue yet.
    for id in [&old, &young, &proposed] {
        let response = app.get(&format!("/v1/buddy-requests/{id}")).await;
        assert!(!overdue_of(&response.body), "{}", response.text);
    }
    assert!(listed(&app, "/v1/buddy-requests?overdue=true")
        .await
        .is_empty());
    assert_eq!(
        listed(&app, "/v1/buddy-requests?overdue=false").await.len(),
        3
    );

    // Day 5 less a second: still not; day 5 exactly: the first request is.
    app.clock.advance(Duration::days(3) - Duration::seconds(1));
    assert!(listed(&app, "/v1/buddy-requests?overdue=true")
        .await
        .is_empty());
    app.clock.advance(Duration::seconds(1));
    assert_eq!(
        listed(&app, "/v1/buddy-requests?overdue=true").await,
        vec![old.clone()]
    );
    let response = app.get(&format!("/v1/buddy-requests/{old}")).await;
    assert!(overdue_of(&response.body));
    let mut not_overdue = listed(&app, "/v1/buddy-requests?overdue=false").await;
    not_overdue.sort();
    let mut expected = vec![young.clone(), proposed.clone()];
    expected.sort();
    assert_eq!(not_overdue, expected);
    // The list carries the flag too, and the filter combines with the others.
    let items = app.collect_pages("/v1/buddy-requests?state=open").await;
    let flags: Vec<(String, bool)> = items.iter().map(|i| (id_of(i), overdue_of(i))).collect();
    assert!(flags.contains(&(old.clone(), true)), "{flags:?}");
    assert!(flags.contains(&(young.clone(), false)), "{flags:?}");
    assert!(
        listed(&app, "/v1/buddy-requests?overdue=true&trigger=complaint")
            .await
            .is_empty()
    );

    // Day 10: the proposed request is old enough but not open, so not overdue.
    app.clock.advance(Duration::days(5));
    let mut overdue = listed(&app, "/v1/buddy-requests?overdue=true").await;
    overdue.sort();
    let mut expected = vec![old.clone(), young.clone()];
    expected.sort();
    assert_eq!(overdue, expected);
    let response = app.get(&format!("/v1/buddy-requests/{proposed}")).await;
    assert!(!overdue_of(&response.body));
    // Withdrawn, it stops being overdue.
    act(&app, &format!("/v1/buddy-requests/{old}/withdraw")).await;
    assert_eq!(
        listed(&app, "/v1/buddy-requests?overdue=true").await,
        vec![young]
    );
}

#[tokio::test]
async fn the_overdue_filter_takes_only_true_or_false() {
    let app = spawn_app().await;
    for value in ["yes", "1", ""] {
        let response = app
            .get(&format!("/v1/buddy-requests?overdue={value}"))
            .await;
        assert_invalid_fields(&response, &["overdue"]);
    }
}

#[tokio::test]
async fn the_service_level_comes_from_configuration() {
    let app =
        crate::helpers::spawn_app_with(&[("MAATJE__WORKFLOW__OVERDUE_AFTER_DAYS", "1")]).await;
    let org = organisation(&app).await;
    let id = open_request(&app, &org, "CASE-1").await;
    app.clock.advance(Duration::days(1));
    assert_eq!(
        listed(&app, "/v1/buddy-requests?overdue=true").await,
        vec![id]
    );
}

/// A BSN is refused however it is written: nine digits passing the elfproef once separators or
/// a prefix are taken away. Nine digits that fail it, inside a reference, are a pseudonym.
#[tokio::test]
async fn a_bsn_with_separators_or_a_prefix_is_refused() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    for bsn in [
        "123.456.782",
        "BSN:123456782",
        "123-45-6782",
        "bsn/123/456/782",
    ] {
        let response = app
            .post_json("/v1/buddy-requests", &request_body(&org, bsn))
            .await;
        assert_invalid_fields(&response, &["client_ref"]);
        assert!(response.text.contains("BSN"), "{bsn}: {}", response.text);
    }
    assert_eq!(app.table_counts(), before, "a BSN is never stored");
    let response = app
        .post_json("/v1/buddy-requests", &request_body(&org, "REF-123.456.789"))
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
}

/// An address the mailer cannot send to is refused when it is given, not stored to go dead at
/// the first mail.
#[tokio::test]
async fn an_address_the_mailer_cannot_parse_is_refused() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    let mut body = request_body(&org, "CASE-MAIL-1");
    body["client"]["email"] = json!("a,b@example.org");
    assert_invalid_fields(
        &app.post_json("/v1/buddy-requests", &body).await,
        &["client.email"],
    );
    let mut buddy = crate::fixtures::profile(1);
    buddy["organisation_id"] = json!(org);
    buddy["email"] = json!("a,b@example.org");
    assert_invalid_fields(&app.post_json("/v1/buddies", &buddy).await, &["email"]);
    let response = app
        .post_json(
            "/v1/staff",
            &json!({ "email": "x,y@example.org", "name": "Staff Voorbeeld", "role": "coordinator",
                     "password": "correct horse battery staple" }),
        )
        .await;
    assert_invalid_fields(&response, &["email"]);
    assert_eq!(app.table_counts(), before);
}
