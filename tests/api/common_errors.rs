//! Behaviour every route shares: unknown routes, request ids, problem documents.

use crate::helpers::{assert_problem, spawn_app, Method};

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/nope"),
        (Method::GET, "/v1"),
        (Method::GET, "/v1/nope"),
        (Method::GET, "/v2/organisations"),
        (Method::POST, "/v1/nope/123"),
        (Method::GET, "/health"),
        (
            Method::GET,
            "/v1/organisations/0193a5c4-0000-7000-8000-000000000000/nope",
        ),
    ] {
        let response = app.request(method.clone(), path, None, Vec::new()).await;
        assert_problem(&response, 404, "not-found");
        assert_eq!(response.body["title"], "Not found");
    }
}

#[tokio::test]
async fn a_method_the_path_does_not_have_is_a_405_problem() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::DELETE, "/v1/organisations"),
        (Method::PUT, "/v1/organisations"),
        (Method::POST, "/v1/health/live"),
        (
            Method::GET,
            "/v1/organisations/0193a5c4-0000-7000-8000-000000000000/deactivate",
        ),
    ] {
        let response = app.request(method, path, None, Vec::new()).await;
        assert_problem(&response, 405, "method-not-allowed");
        assert!(response.header("allow").is_some(), "{}", response.text);
    }
}

#[tokio::test]
async fn a_sane_request_id_is_honoured_and_echoed() {
    let app = spawn_app().await;
    let max = "a".repeat(128);
    for id in ["harness-req-42", "ABC_def.1:2", max.as_str()] {
        let response = app
            .request_with_headers(
                Method::GET,
                "/v1/health/live",
                None,
                Vec::new(),
                &[("X-Request-Id", id)],
            )
            .await;
        assert_eq!(response.status, 200);
        assert_eq!(response.request_id(), id);
    }
    // And it is the one quoted in problem documents.
    let response = app
        .request_with_headers(
            Method::GET,
            "/v1/organisations/not-a-uuid",
            None,
            Vec::new(),
            &[("x-request-id", "case-system-7781")],
        )
        .await;
    assert_problem(&response, 400, "validation");
    assert_eq!(response.request_id(), "case-system-7781");
    assert_eq!(response.body["request_id"], "case-system-7781");
}

#[tokio::test]
async fn an_insane_request_id_is_replaced() {
    let app = spawn_app().await;
    let long = "b".repeat(129);
    let very_long = "c".repeat(300);
    for id in [
        long.as_str(),
        very_long.as_str(),
        "with space",
        "semi;colon",
        "quote\"d",
        "new%0Aline",
        "",
    ] {
        let response = app
            .request_with_headers(
                Method::GET,
                "/v1/nope",
                None,
                Vec::new(),
                &[("X-Request-Id", id)],
            )
            .await;
        assert_problem(&response, 404, "not-found");
        let got = response.request_id();
        assert_ne!(got, id);
        uuid::Uuid::parse_str(got).expect("a generated request id is a UUID");
        assert_eq!(response.body["request_id"], got);
    }
}

#[tokio::test]
async fn every_request_gets_its_own_generated_id() {
    let app = spawn_app().await;
    let a = app.get("/v1/health/live").await;
    let b = app.get("/v1/health/live").await;
    assert_ne!(a.request_id(), b.request_id());
    for response in [&a, &b] {
        let id = uuid::Uuid::parse_str(response.request_id()).expect("a UUID");
        assert_eq!(id.get_version_num(), 7);
    }
}

#[tokio::test]
async fn request_ids_are_on_every_kind_of_response() {
    // The helpers check X-Request-Id on each response; these are the ones outside /v1.
    let app = spawn_app().await;
    for path in ["/openapi.json", "/docs", "/docs/", "/v1/health/ready"] {
        let response = app.get(path).await;
        assert!(response.status < 400, "{path}: {}", response.status);
        assert!(!response.request_id().is_empty());
    }
}
