//! `Idempotency-Key` on POST: a retry with the same key and request is answered the first
//! answer without doing the work again; anything else with the key is refused, and the stored
//! data does not change.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixtures::{organisation, profile, request_body};
use crate::helpers::{assert_invalid_fields, assert_problem, spawn_app, spawn_app_with, TestApp};

const KEY: &str = "9a3c1e52-7f0b-4c1d-8e2a-5b6f7a8c9d01";

async fn keyed_post(
    app: &TestApp,
    path: &str,
    body: &Value,
    key: &str,
) -> crate::helpers::Response {
    app.request_with_headers(
        Method::POST,
        path,
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
        &[("Idempotency-Key", key)],
    )
    .await
}

fn interview(org: &str, n: u32) -> Value {
    json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "yes", "candidate": profile(n) })
}

fn buddy(org: &str, n: u32) -> Value {
    let mut body = profile(n);
    body["organisation_id"] = json!(org);
    body
}

fn stored_keys(app: &TestApp) -> Vec<(String, String)> {
    app.with_connection(|conn| {
        diesel::sql_query("SELECT idem_key, state FROM idempotency_keys ORDER BY idem_key")
            .load::<KeyState>(conn)
            .unwrap()
            .into_iter()
            .map(|row| (row.idem_key, row.state))
            .collect()
    })
}

#[derive(QueryableByName)]
struct KeyState {
    #[diesel(sql_type = diesel::sql_types::Text)]
    idem_key: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: String,
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_first_answer_without_doing_it_again() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let first = keyed_post(&app, "/v1/exit-interviews", &interview(&org, 1), KEY).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("idempotency-replayed"), None);
    let counts = app.table_counts();

    let again = keyed_post(&app, "/v1/exit-interviews", &interview(&org, 1), KEY).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.content_type(), first.content_type());
    assert_eq!(app.table_counts(), counts, "nothing was done again");
    assert_eq!(stored_keys(&app), vec![(KEY.to_owned(), "done".to_owned())]);
    // The trail: the change, then the replay as a read of what it showed again.
    let actions: Vec<(String, i64)> = app
        .audit_records()
        .await
        .into_iter()
        .filter(|r| r["route"] == "POST /v1/exit-interviews")
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_owned(),
                r["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![("create".to_owned(), 201), ("read".to_owned(), 201)]
    );

    // Without a key the same body is a new request: a second interview and candidate.
    let unkeyed = app
        .post_json("/v1/exit-interviews", &interview(&org, 1))
        .await;
    assert_eq!(unkeyed.status, 201);
    assert_ne!(unkeyed.body, first.body);
}

#[tokio::test]
async fn the_same_key_for_another_request_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    assert_eq!(
        keyed_post(&app, "/v1/exit-interviews", &interview(&org, 1), KEY)
            .await
            .status,
        201
    );
    let counts = app.table_counts();
    let other_body = keyed_post(&app, "/v1/exit-interviews", &interview(&org, 2), KEY).await;
    assert_problem(&other_body, 422, "idempotency-key-reused");
    let other_path = keyed_post(&app, "/v1/buddies", &buddy(&org, 3), KEY).await;
    assert_problem(&other_path, 422, "idempotency-key-reused");
    assert_eq!(app.table_counts(), counts);
}

#[tokio::test]
async fn twenty_parallel_identical_keyed_posts_have_one_effect_and_twenty_identical_answers() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let body = request_body(&org, "CASE-PARALLEL");
    let answers = futures_util::future::join_all(
        (0..20).map(|_| keyed_post(&app, "/v1/buddy-requests", &body, KEY)),
    )
    .await;
    for answer in &answers {
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.body, answers[0].body);
        assert_eq!(answer.header("location"), answers[0].header("location"));
    }
    let replayed = answers
        .iter()
        .filter(|a| a.header("idempotency-replayed") == Some("true"))
        .count();
    assert_eq!(
        replayed, 19,
        "one did the work, the others replayed its answer"
    );
    assert_eq!(app.table_counts()["buddy_requests"], 1);
}

#[tokio::test]
async fn keys_are_the_callers_own() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Case system").await;
    let staff = keyed_post(
        &app,
        "/v1/buddy-requests",
        &request_body(&org, "CASE-STAFF"),
        KEY,
    )
    .await;
    assert_eq!(staff.status, 201, "{}", staff.text);
    app.use_token(Some(&key));
    let mut body = request_body(&org, "CASE-SYSTEM");
    body.as_object_mut().unwrap().remove("organisation_id");
    let system = keyed_post(&app, "/v1/buddy-requests", &body, KEY).await;
    assert_eq!(system.status, 201, "{}", system.text);
    assert_eq!(system.header("idempotency-replayed"), None);
    assert_eq!(app.table_counts()["buddy_requests"], 2);
}

#[tokio::test]
async fn an_answer_that_refused_the_request_is_replayed_too() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let body = json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "perhaps" });
    let first = keyed_post(&app, "/v1/exit-interviews", &body, KEY).await;
    assert_eq!(first.status, 400, "{}", first.text);
    let again = keyed_post(&app, "/v1/exit-interviews", &body, KEY).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.body["errors"], first.body["errors"]);
}

#[tokio::test]
async fn a_malformed_key_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let counts = app.table_counts();
    let too_long = "k".repeat(256);
    for key in [too_long.as_str(), "with space", ""] {
        let answer = keyed_post(&app, "/v1/exit-interviews", &interview(&org, 1), key).await;
        assert_invalid_fields(&answer, &["Idempotency-Key"]);
    }
    let longest = "k".repeat(255);
    assert_eq!(
        keyed_post(&app, "/v1/exit-interviews", &interview(&org, 1), &longest)
            .await
            .status,
        201,
        "255 characters are a key"
    );
    let mut after = app.table_counts();
    after.insert("exit_interviews", counts["exit_interviews"]);
    after.insert("buddies", counts["buddies"]);
    after.insert("history", counts["history"]);
    after.insert("idempotency_keys", counts["idempotency_keys"]);
    after.insert("events", counts["events"]);
    assert_eq!(after, counts, "only the last request changed anything");
    assert_eq!(stored_keys(&app).len(), 1);
}

#[tokio::test]
async fn posts_that_answer_a_secret_refuse_a_key() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let counts = app.table_counts();
    let client = keyed_post(
        &app,
        "/v1/api-clients",
        &json!({ "organisation_id": org, "name": "CS" }),
        KEY,
    )
    .await;
    assert_invalid_fields(&client, &["Idempotency-Key"]);
    let login = app
        .request_with_headers(
            Method::POST,
            "/v1/auth/login",
            Some("application/json"),
            serde_json::to_vec(&json!({ "email": "admin@example.org", "password": "x" })).unwrap(),
            &[("Idempotency-Key", KEY), ("authorization", "")],
        )
        .await;
    assert_invalid_fields(&login, &["Idempotency-Key"]);
    assert_eq!(app.table_counts(), counts);
    assert!(stored_keys(&app).is_empty());
}

/// Sets the stored key's state and first use, as a request whose instance stopped leaves it.
fn age_key(app: &TestApp, state: &str) {
    let sql = format!(
        "UPDATE idempotency_keys SET state = '{state}', status = NULL, body = NULL, \
         started_at = started_at - INTERVAL '1 hour'"
    );
    let sqlite = "UPDATE idempotency_keys SET state = ?, status = NULL, body = NULL, \
                  started_at = datetime(started_at, '-1 hour')";
    app.with_connection(|conn| {
        if app.is_postgres() {
            diesel::sql_query(sql).execute(conn).unwrap();
        } else {
            diesel::sql_query(sqlite)
                .bind::<diesel::sql_types::Text, _>(state)
                .execute(conn)
                .unwrap();
        }
    });
}

#[tokio::test]
async fn a_key_left_by_a_request_that_never_answered_is_taken_over_or_named_lost() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let first = keyed_post(&app, "/v1/buddies", &buddy(&org, 1), KEY).await;
    assert_eq!(first.status, 201);
    let buddy_id = first.body["id"].as_str().unwrap().to_owned();

    // Applied, but the answer was never stored: the retry is told, and nothing is done again.
    age_key(&app, "applied");
    let counts = app.table_counts();
    let lost = keyed_post(&app, "/v1/buddies", &buddy(&org, 1), KEY).await;
    assert_problem(&lost, 409, "idempotency-key-answer-lost");
    assert!(
        lost.body["detail"].as_str().unwrap().contains(&buddy_id),
        "{}",
        lost.text
    );
    assert_eq!(app.table_counts(), counts);

    // In flight and never applied: the request changed nothing, so the retry does the work.

    age_key(&app, "in_flight");
    let taken = keyed_post(&app, "/v1/buddies", &buddy(&org, 1), KEY).await;
    assert_eq!(taken.status, 201, "{}", taken.text);
    assert_eq!(taken.header("idempotency-replayed"), None);
    assert_eq!(app.table_counts()["buddies"], counts["buddies"] + 1);
}

#[tokio::test]
async fn a_retry_while_the_first_request_is_under_way_waits_and_is_then_refused() {
    let app = spawn_app_with(&[("MAATJE__API__IDEMPOTENCY_WAIT_SECONDS", "0")]).await;
    let org = organisation(&app).await;
    assert_eq!(
        keyed_post(&app, "/v1/buddies", &buddy(&org, 1), KEY)
            .await
            .status,
        201
    );
    // The first request is under way again (claimed a moment ago, no answer yet).
    app.with_connection(|conn| {
        diesel::sql_query(
            "UPDATE idempotency_keys SET state = 'in_flight', status = NULL, body = NULL",
        )
        .execute(conn)
        .unwrap();
    });
    let counts = app.table_counts();
    let busy = keyed_post(&app, "/v1/buddies", &buddy(&org, 1), KEY).await;
    assert_problem(&busy, 409, "idempotency-key-in-flight");
    assert!(busy.header("retry-after").is_some());
    assert_eq!(app.table_counts(), counts);
}

#[tokio::test]
async fn erasing_a_client_forgets_the_stored_answers_about_it() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let body = request_body(&org, "CASE-ERASE");
    let filed = keyed_post(&app, "/v1/buddy-requests", &body, KEY).await;
    assert_eq!(filed.status, 201);
    let id = filed.body["id"].as_str().unwrap().to_owned();
    assert!(filed.text.contains("client1@example.org"));
    let withdrawn = app
        .post_json(
            &format!("/v1/buddy-requests/{id}/withdraw"),
            &json!({ "reason": "No longer needed" }),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text);
    let erase = json!({ "organisation_id": org, "client_ref": "CASE-ERASE", "reason": "Asked by the client" });
    assert_eq!(
        app.post_json("/v1/privacy/clients/erase", &erase)
            .await
            .status,
        200
    );

    let stored: Vec<KeyState> = app.with_connection(|conn| {
        diesel::sql_query("SELECT idem_key, state FROM idempotency_keys WHERE body IS NOT NULL")
            .load(conn)
            .unwrap()
    });
    assert!(
        stored.is_empty(),
        "no stored answer holds the client's data"
    );
    let counts = app.table_counts();
    let retry = keyed_post(&app, "/v1/buddy-requests", &body, KEY).await;
    assert_problem(&retry, 409, "idempotency-key-answer-lost");
    assert!(!retry.text.contains("client1@example.org"));
    assert_eq!(app.table_counts(), counts, "nothing is done again");
}

#[tokio::test]
async fn erasing_a_buddy_forgets_the_answer_of_the_exit_interview_that_recruited_it() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let recruited = keyed_post(&app, "/v1/exit-interviews", &interview(&org, 1), KEY).await;
    assert_eq!(recruited.status, 201, "{}", recruited.text);
    assert!(recruited.text.contains("buddy1@example.org"));
    let buddy_id = recruited.body["buddy"]["id"].as_str().unwrap().to_owned();
    let erased = app
        .post_json(
            &format!("/v1/buddies/{buddy_id}/erase"),
            &json!({ "reason": "Asked by the buddy" }),
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert_eq!(
        stored_keys(&app),
        vec![(KEY.to_owned(), "forgotten".to_owned())]
    );
    let counts = app.table_counts();
    let retry = keyed_post(&app, "/v1/exit-interviews", &interview(&org, 1), KEY).await;
    assert_problem(&retry, 409, "idempotency-key-answer-lost");
    assert!(!retry.text.contains("buddy1@example.org"));
    assert_eq!(app.table_counts(), counts);
}
