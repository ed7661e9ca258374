//! Liveness and readiness probes.

use serde_json::json;

use crate::access::{Row, PUBLIC};
use crate::helpers::{assert_problem, spawn_app};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    ("GET", "/v1/health/live", PUBLIC),
    ("GET", "/v1/health/ready", PUBLIC),
];

#[tokio::test]
async fn live_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/v1/health/live").await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.content_type(), "application/json");
    assert_eq!(response.body, json!({ "status": "ok" }));
}

#[tokio::test]
async fn ready_answers_ok_when_the_database_is_reachable() {
    let app = spawn_app().await;
    let response = app.get("/v1/health/ready").await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body, json!({ "status": "ok" }));
}

/// Runs only on PostgreSQL (`MAATJE_TEST_POSTGRES_URL` set): there the server's database can be
/// dropped under it. An open SQLite connection keeps working on a deleted file, so on SQLite
/// this test checks nothing.
#[tokio::test]
async fn ready_answers_503_problem_when_the_database_is_gone() {
    let app = spawn_app().await;
    assert_eq!(app.get("/v1/health/ready").await.status, 200);
    if !app.drop_database() {
        eprintln!("skipped: needs MAATJE_TEST_POSTGRES_URL");
        return;
    }
    let response = app.get("/v1/health/ready").await;
    assert_problem(&response, 503, "unavailable");
    assert_eq!(response.header("retry-after"), Some("5"));
    // Liveness does not depend on the database.
    assert_eq!(app.get("/v1/health/live").await.status, 200);
}

/// An orchestrator looks for the probes at the root: they answer there as under `/v1`.
#[tokio::test]
async fn the_probes_answer_at_the_root_as_well() {
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready"] {
        let root = app.get(path).await;
        assert_eq!(root.status, 200, "{path}: {}", root.text);
        assert_eq!(root.content_type(), "application/json");
        assert_eq!(root.body, json!({ "status": "ok" }));
        assert_eq!(root.body, app.get(&format!("/v1{path}")).await.body);
    }
    let wrong = app.post_empty("/health/live").await;
    assert_problem(&wrong, 405, "method-not-allowed");
}
