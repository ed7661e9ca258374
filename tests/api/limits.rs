//! Abuse limits and security headers.
//!
//! The limits here are a few requests per minute, so a token comes back only after many seconds:
//! no test depends on timing, and none sleeps.

use serde_json::json;

use crate::helpers::{
    assert_problem, create_organisation, spawn_app, spawn_app_with, spec_paths, Method, Response,
    TestApp, MAX_BODY_BYTES,
};

const PER_ADDRESS: &str = "MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE";
const LOGIN: &str = "MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE";

/// Asserts a 429 problem with a `Retry-After` of whole seconds between 1 and `at_most`.
#[track_caller]
fn assert_rate_limited(response: &Response, at_most: u64) {
    assert_problem(response, 429, "rate-limited");
    assert_eq!(response.body["title"], "Too many requests");
    let retry_after: u64 = response
        .header("retry-after")
        .unwrap_or_else(|| panic!("a 429 without Retry-After: {:?}", response.headers))
        .parse()
        .expect("Retry-After is whole seconds");
    assert!(
        (1..=at_most).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
}

#[tokio::test]
async fn the_request_after_the_budget_is_a_429_problem_with_retry_after() {
    let app = spawn_app_with(&[(PER_ADDRESS, "5")]).await;
    for _ in 0..5 {
        assert_eq!(app.get("/v1/organisations").await.status, 200);
    }
    let response = app.get("/v1/organisations").await;
    // Five per minute: the next token comes after 12 seconds.
    assert_rate_limited(&response, 12);
    assert_security_headers(&response, "/v1/organisations");
    // The budget is per address, not per route.
    assert_rate_limited(&app.get("/v1/buddies").await, 12);
    assert_rate_limited(&app.get("/nope").await, 12);
}

#[tokio::test]
async fn a_refused_request_stores_nothing() {
    let app = spawn_app_with(&[(PER_ADDRESS, "1")]).await;
    create_organisation(&app, "Org Eén").await;
    let before = app.table_counts();
    let response = app
        .post_json("/v1/organisations", &json!({ "name": "Org Twee" }))
        .await;
    assert_rate_limited(&response, 60);
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn the_health_probes_are_never_limited() {
    let app = spawn_app_with(&[(PER_ADDRESS, "1")]).await;
    assert_eq!(app.get("/v1/organisations").await.status, 200);
    assert_rate_limited(&app.get("/v1/organisations").await, 60);
    for _ in 0..20 {
        assert_eq!(app.get("/v1/health/live").await.status, 200);
        assert_eq!(app.get("/v1/health/ready").await.status, 200);
        assert_eq!(app.get("/health/live").await.status, 200);
        assert_eq!(app.get("/health/ready").await.status, 200);
    }
    // Only the probes: a look-alike path is limited.
    assert_rate_limited(&app.get("/v1/health/nope").await, 60);
}

#[tokio::test]
async fn login_has_a_stricter_budget_of_its_own() {
    let app = spawn_app_with(&[(PER_ADDRESS, "100"), (LOGIN, "2")]).await;
    for _ in 0..2 {
        // A login without credentials: counted, then answered 400.
        let response = app.post_empty("/v1/auth/login").await;
        assert_problem(&response, 400, "validation");
    }
    // Two per minute: the next token comes after 30 seconds.
    assert_rate_limited(&app.post_empty("/v1/auth/login").await, 30);
    // The router decodes percent-escapes, so the limit does too.
    assert_rate_limited(&app.post_empty("/v1/auth/%6Cogin").await, 30);
    // Other paths still have the address's budget.
    assert_eq!(app.get("/v1/organisations").await.status, 200);
}

#[tokio::test]
async fn login_requests_also_count_against_the_address() {
    let app = spawn_app_with(&[(PER_ADDRESS, "2"), (LOGIN, "10")]).await;
    assert_eq!(app.post_empty("/v1/auth/login").await.status, 400);
    assert_eq!(app.get("/v1/organisations").await.status, 200);
    assert_rate_limited(&app.get("/v1/organisations").await, 30);
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let app = spawn_app_with(&[
        ("MAATJE__LIMITS__ENABLED", "false"),
        (PER_ADDRESS, "1"),
        (LOGIN, "1"),
    ])
    .await;
    for _ in 0..10 {
        assert_eq!(app.get("/v1/organisations").await.status, 200);
        assert_eq!(app.post_empty("/v1/auth/login").await.status, 400);
    }
}

#[tokio::test]
async fn each_server_has_its_own_limiter() {
    let first = spawn_app_with(&[(PER_ADDRESS, "1")]).await;
    let second = spawn_app_with(&[(PER_ADDRESS, "1")]).await;
    assert_eq!(first.get("/v1/organisations").await.status, 200);
    assert_rate_limited(&first.get("/v1/organisations").await, 60);
    assert_eq!(second.get("/v1/organisations").await.status, 200);
}

#[test]
fn every_v1_operation_documents_429_with_retry_after_and_the_probes_do_not() {
    let mut v1 = 0;
    for (path, item) in spec_paths() {
        for (method, operation) in item.as_object().expect("path item") {
            let rate_limited = &operation["responses"]["429"];
            let exempt = maatje::http::rate_limit::EXEMPT_PATHS.contains(&path.as_str());
            if path.starts_with("/v1/") && !exempt {
                v1 += 1;
                assert!(
                    rate_limited["content"]["application/problem+json"].is_object(),
                    "{method} {path}: no 429 problem"
                );
                assert_eq!(
                    rate_limited["headers"]["Retry-After"]["schema"]["type"], "integer",
                    "{method} {path}: 429 without Retry-After"
                );
            } else {
                assert!(
                    rate_limited.is_null(),
                    "{method} {path} is exempt from limits"
                );
            }
        }
    }
    assert!(v1 >= 8, "{v1} /v1 operations");
}

/// Asserts the security headers every response must carry; `/docs/` pages keep their own
/// caching and may run scripts.
#[track_caller]
fn assert_security_headers(response: &Response, path: &str) {
    let what = format!("{path} -> {}", response.status);
    assert_eq!(
        response.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        response.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    let policy = response
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    assert!(
        policy.contains("frame-ancestors 'none'"),
        "{what}: {policy}"
    );
    if path.starts_with("/docs/") {
        assert_eq!(policy, "frame-ancestors 'none'", "{what}");
        assert_ne!(response.header("cache-control"), Some("no-store"), "{what}");
    } else {
        assert_eq!(
            policy, "default-src 'none'; frame-ancestors 'none'",
            "{what}"
        );
        assert_eq!(response.header("cache-control"), Some("no-store"), "{what}");
    }
}

async fn get_expecting(app: &TestApp, path: &str, status: u16) -> Response {
    let response = app.get(path).await;
    assert_eq!(response.status, status, "{path}: {}", response.text);
    assert_security_headers(&response, path);
    response
}

#[tokio::test]
async fn security_headers_are_on_every_kind_of_answer() {
    let app = spawn_app().await;
    get_expecting(&app, "/v1/organisations", 200).await;
    get_expecting(&app, "/v1/organisations/not-a-uuid", 400).await;
    get_expecting(&app, "/v1/nope", 404).await;
    get_expecting(&app, "/nope", 404).await;
    get_expecting(&app, "/v1/health/live", 200).await;
    get_expecting(&app, "/v1/health/ready", 200).await;
    get_expecting(&app, "/openapi.json", 200).await;
    get_expecting(&app, "/docs", 308).await;
    get_expecting(&app, "/docs/", 200).await;
    get_expecting(&app, "/docs/swagger-ui.css", 200).await;
    get_expecting(&app, "/docs/swagger-initializer.js", 200).await;
    // An unknown docs asset: the asset server's bare 404, made a problem document.
    get_expecting(&app, "/docs/nope.js", 404).await;

    let name = "x".repeat(MAX_BODY_BYTES + 1);
    let response = app
        .post_json("/v1/organisations", &json!({ "name": name }))
        .await;
    assert_problem(&response, 413, "payload-too-large");
    assert_security_headers(&response, "/v1/organisations");

    let response = app
        .request(
            Method::POST,
            "/v1/organisations",
            Some("text/plain"),
            b"name".to_vec(),
        )
        .await;
    assert_problem(&response, 415, "unsupported-media-type");
    assert_security_headers(&response, "/v1/organisations");
}

#[tokio::test]
async fn security_headers_are_on_a_429() {
    let app = spawn_app_with(&[(PER_ADDRESS, "1")]).await;
    get_expecting(&app, "/docs/", 200).await;
    let response = get_expecting(&app, "/openapi.json", 429).await;
    assert_rate_limited(&response, 60);
}

#[tokio::test]
async fn each_case_system_has_a_budget_of_its_own() {
    let app = spawn_app_with(&[
        (PER_ADDRESS, "100"),
        ("MAATJE__LIMITS__PER_CLIENT_PER_MINUTE", "2"),
    ])
    .await;
    let org = crate::fixtures::organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    app.use_token(Some(&key));
    for _ in 0..2 {
        assert_eq!(app.get("/v1/buddy-requests").await.status, 200);
    }
    assert_rate_limited(&app.get("/v1/buddy-requests").await, 30);
    // Staff from the same address are not charged against the case system's budget.
    app.use_admin();
    assert_eq!(app.get("/v1/buddy-requests").await.status, 200);
}
