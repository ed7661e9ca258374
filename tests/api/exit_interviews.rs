//! `/v1/exit-interviews`: outcomes, the candidate a `yes` creates, and what is refused.

use chrono::Duration;
use serde_json::{json, Value};

use crate::access::{Row, ANY, STAFF};
use crate::fixtures::{organisation, profile};
use crate::helpers::{assert_invalid_fields, assert_problem, id_of, spawn_app, TestApp};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    ("POST", "/v1/exit-interviews", ANY),
    ("GET", "/v1/exit-interviews", STAFF),
    ("GET", "/v1/exit-interviews/{id}", STAFF),
    ("GET", "/v1/exit-interviews/{id}/history", STAFF),
];

fn outcome(org: &str, answer: &str, candidate: Option<Value>) -> Value {
    let mut body = json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": answer });
    if let Some(candidate) = candidate {
        body["candidate"] = candidate;
    }
    body
}

async fn record(app: &TestApp, body: &Value) -> crate::helpers::Response {
    app.post_json("/v1/exit-interviews", body).await
}

#[tokio::test]
async fn a_yes_creates_a_buddy_candidate_in_the_same_step() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let response = record(&app, &outcome(&org, "yes", Some(profile(1)))).await;
    assert_eq!(response.status, 201, "{}", response.text);
    let interview = &response.body["exit_interview"];
    let id = id_of(interview);
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/exit-interviews/{id}").as_str())
    );
    assert_eq!(interview["answer"], "yes");
    assert_eq!(interview["held_on"], "2026-11-20");
    assert_eq!(interview["organisation_id"], org.as_str());

    let buddy = &response.body["buddy"];
    assert_eq!(buddy["state"], "candidate");
    assert_eq!(buddy["organisation_id"], org.as_str());
    assert_eq!(buddy["email"], "buddy1@example.org");
    assert_eq!(buddy["mail_language"], "nl", "the default");
    assert_eq!(buddy["capacity"], 1, "the default");
    assert_eq!(interview["buddy_id"], buddy["id"]);

    let stored = app.get(&format!("/v1/exit-interviews/{id}")).await;
    assert_eq!(stored.status, 200);
    assert_eq!(&stored.body, interview);
    let buddy_id = id_of(buddy);
    assert_eq!(
        app.get(&format!("/v1/buddies/{buddy_id}")).await.body["state"],
        "candidate"
    );

    let history = app
        .collect_pages(&format!("/v1/buddies/{buddy_id}/history"))
        .await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["action"], "create");
    assert_eq!(history[0]["to_state"], "candidate");
    assert!(
        history[0]["reason"].as_str().unwrap().contains(&id),
        "{}",
        history[0]
    );
    let history = app
        .collect_pages(&format!("/v1/exit-interviews/{id}/history"))
        .await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["action"], "create");
}

#[tokio::test]
async fn no_and_later_carry_no_personal_data() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for answer in ["no", "later"] {
        let before = app.table_counts();
        let response = record(&app, &outcome(&org, answer, None)).await;
        assert_eq!(response.status, 201, "{}", response.text);
        assert!(response.body.get("buddy").is_none());
        assert!(response.body["exit_interview"].get("buddy_id").is_none());
        let after = app.table_counts();
        assert_eq!(after["buddies"], before["buddies"]);
        assert_eq!(after["exit_interviews"], before["exit_interviews"] + 1);

        // A candidate with a no or later is refused: only a yes carries personal data.
        let before = app.table_counts();
        let response = record(&app, &outcome(&org, answer, Some(profile(2)))).await;
        assert_invalid_fields(&response, &["candidate"]);
        assert_eq!(app.table_counts(), before);
    }
}

#[tokio::test]
async fn a_yes_needs_a_valid_candidate_and_stores_nothing_otherwise() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();

    assert_invalid_fields(
        &record(&app, &outcome(&org, "yes", None)).await,
        &["candidate"],
    );

    let mut with_org = profile(1);
    with_org["organisation_id"] = json!(org);
    assert_invalid_fields(
        &record(&app, &outcome(&org, "yes", Some(with_org))).await,
        &["candidate.organisation_id"],
    );

    let mut bad = profile(1);
    bad["name"] = json!("x".repeat(201));
    bad["email"] = json!("not-an-address");
    bad["languages"] = json!(["nl", "xx"]);
    bad["capacity"] = json!(11);
    bad["vog_issued_on"] = json!("2026-11-23");
    assert_invalid_fields(
        &record(&app, &outcome(&org, "yes", Some(bad))).await,
        &[
            "candidate.name",
            "candidate.email",
            "candidate.languages[1]",
            "candidate.capacity",
            "candidate.vog_issued_on",
        ],
    );

    let mut wrong_types = profile(1);
    wrong_types["capacity"] = json!("two");
    wrong_types["bogus"] = json!(true);
    assert_invalid_fields(
        &record(&app, &outcome(&org, "yes", Some(wrong_types))).await,
        &["candidate.capacity", "candidate.bogus"],
    );
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn bad_outcomes_are_400_and_store_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    let cases = [
        (
            json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "maybe" }),
            vec!["answer"],
        ),
        (
            json!({ "organisation_id": org, "held_on": "20-11-2026", "answer": "no" }),
            vec!["held_on"],
        ),
        (
            json!({ "organisation_id": "nope", "held_on": "2026-11-20", "answer": "no" }),
            vec!["organisation_id"],
        ),
        (
            json!({ "organisation_id": org, "held_on": "2026-11-23", "answer": "no" }),
            vec!["held_on"],
        ),
        (
            json!({ "organisation_id": org, "answer": "no" }),
            vec!["held_on"],
        ),
        (
            json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "no", "buddy_id": org }),
            vec!["buddy_id"],
        ),
    ];
    for (body, fields) in cases {
        assert_invalid_fields(&record(&app, &body).await, &fields);
    }
    let response = app
        .request(
            reqwest::Method::POST,
            "/v1/exit-interviews",
            Some("application/json"),
            b"{".to_vec(),
        )
        .await;
    assert_invalid_fields(&response, &[""]);
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn unknown_or_inactive_organisations_are_refused() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_problem(
        &record(&app, &outcome(&unknown, "yes", Some(profile(1)))).await,
        404,
        "not-found",
    );
    assert_eq!(app.table_counts(), before);

    assert_eq!(
        app.post_empty(&format!("/v1/organisations/{org}/deactivate"))
            .await
            .status,
        200
    );
    let before = app.table_counts();
    let response = record(&app, &outcome(&org, "yes", Some(profile(1)))).await;
    assert_problem(&response, 409, "organisation-inactive");
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn lists_filter_by_answer_organisation_and_dates() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other = id_of(&crate::helpers::create_organisation(&app, "Andere GI").await);
    for (o, answer, day) in [
        (&org, "yes", "2026-10-01"),
        (&org, "no", "2026-10-15"),
        (&org, "later", "2026-11-01"),
        (&other, "no", "2026-11-10"),
    ] {
        let mut body = json!({ "organisation_id": o, "held_on": day, "answer": answer });
        if answer == "yes" {
            body["candidate"] = profile(9);
        }
        assert_eq!(record(&app, &body).await.status, 201);
    }
    let all = app.collect_pages("/v1/exit-interviews?limit=1").await;
    assert_eq!(all.len(), 4);
    let days = |items: Vec<Value>| -> Vec<String> {
        items
            .iter()
            .map(|i| i["held_on"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        days(app.collect_pages("/v1/exit-interviews?answer=no").await),
        ["2026-10-15", "2026-11-10"]
    );
    assert_eq!(
        days(
            app.collect_pages(&format!("/v1/exit-interviews?organisation_id={other}"))
                .await
        ),
        ["2026-11-10"]
    );
    assert_eq!(
        days(
            app.collect_pages("/v1/exit-interviews?held_from=2026-10-15&held_to=2026-11-01")
                .await
        ),
        ["2026-10-15", "2026-11-01"]
    );
    for (query, field) in [
        ("answer=perhaps", "answer"),
        ("held_from=yesterday", "held_from"),
        ("held_from=2026-11-02&held_to=2026-11-01", "held_to"),
        ("organisation_id=12", "organisation_id"),
        ("limit=201", "limit"),
        ("sort=asc", "sort"),
    ] {
        assert_invalid_fields(
            &app.get(&format!("/v1/exit-interviews?{query}")).await,
            &[field],
        );
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/v1/exit-interviews/{unknown}"),
        format!("/v1/exit-interviews/{unknown}/history"),
    ] {
        assert_problem(&app.get(&path).await, 404, "not-found");
    }
    for path in ["/v1/exit-interviews/123", "/v1/exit-interviews/123/history"] {
        assert_invalid_fields(&app.get(path).await, &["id"]);
    }
}

#[tokio::test]
async fn the_interview_day_is_checked_against_the_service_clock() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let tomorrow = json!({ "organisation_id": org, "held_on": "2026-11-23", "answer": "later" });
    assert_invalid_fields(&record(&app, &tomorrow).await, &["held_on"]);
    app.clock.advance(Duration::days(1));
    assert_eq!(record(&app, &tomorrow).await.status, 201);
}
