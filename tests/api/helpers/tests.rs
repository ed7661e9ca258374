//! The harness checks themselves: each must be able to fail.

use serde_json::json;

use super::*;

const ORG: &str = "/v1/organisations/0193a5c4-0000-7000-8000-000000000000";

use crate::helpers::canned_response as response;

fn problem(status: u16) -> Response {
    response(
        status,
        "application/problem+json",
        json!({ "type": "urn:maatje:problem:x", "title": "X", "status": status,
                "request_id": "req-1" }),
    )
}

#[test]
fn concrete_paths_match_their_templates() {
    let (template, _) =
        find_operation(&Method::GET, &format!("{ORG}/history?limit=2&cursor=x")).unwrap();
    assert_eq!(template, "/v1/organisations/{id}/history");
    let (template, _) = find_operation(&Method::POST, "/v1/organisations").unwrap();
    assert_eq!(template, "/v1/organisations");
    let (template, _) = find_operation(&Method::POST, &format!("{ORG}/deactivate")).unwrap();
    assert_eq!(template, "/v1/organisations/{id}/deactivate");
    assert!(find_operation(&Method::GET, "/docs/").is_none());
    assert!(find_operation(&Method::GET, "/v1/organisations/").is_none());
    assert!(find_operation(&Method::DELETE, "/v1/organisations").is_none());
    assert!(find_operation(&Method::GET, &format!("{ORG}/nope")).is_none());
    // Paths are relative to the server `/v1`, the probes' too.
    let (template, _) = find_operation(&Method::GET, "/v1/health/live").unwrap();
    assert_eq!(template, "/v1/health/live");
    assert!(find_operation(&Method::GET, "/organisations").is_none());
    assert!(find_operation(&Method::GET, "/health/live").is_none());
}

#[test]
fn documented_answers_pass() {
    check_response(
        &Method::POST,
        "/v1/organisations",
        &response(201, "application/json", json!({})),
    );
    check_response(&Method::GET, &format!("{ORG}?x=1"), &problem(404));
    // Paths outside the spec only get the general checks.
    check_response(&Method::GET, "/nope", &problem(404));
}

#[test]
#[should_panic(expected = "is not documented in the OpenAPI spec")]
fn an_undocumented_status_fails() {
    check_response(&Method::GET, "/v1/organisations", &problem(409));
}

#[test]
#[should_panic(expected = "must be application/problem+json")]
fn an_error_that_is_not_a_problem_fails() {
    check_response(
        &Method::GET,
        "/nope",
        &response(404, "application/json", json!({})),
    );
}

#[test]
#[should_panic(expected = "differs from the X-Request-Id header")]
fn a_problem_with_another_request_id_fails() {
    let mut r = problem(404);
    r.body["request_id"] = json!("req-2");
    check_response(&Method::GET, "/nope", &r);
}

#[test]
#[should_panic(expected = "differs from the HTTP status")]
fn a_problem_with_another_status_fails() {
    let mut r = problem(404);
    r.body["status"] = json!(400);
    check_response(&Method::GET, "/nope", &r);
}

#[test]
#[should_panic(expected = "no X-Request-Id header")]
fn a_response_without_request_id_fails() {
    let mut r = response(200, "application/json", json!({}));
    r.headers.remove("x-request-id");
    check_response(&Method::GET, "/v1/health/live", &r);
}

#[test]
#[should_panic(expected = "invalid fields")]
fn invalid_fields_must_match_exactly() {
    let mut r = problem(400);
    r.body["type"] = json!("urn:maatje:problem:validation");
    r.body["errors"] = json!([{ "field": "name", "message": "bad" }]);
    assert_invalid_fields(&r, &["name"]);
    assert_invalid_fields(&r, &["name", "extra"]);
}

#[test]
fn query_values_are_appended_encoded() {
    assert_eq!(with_query("/a", "cursor", "x y"), "/a?cursor=x+y");
    assert_eq!(
        with_query("/a?limit=1", "cursor", "c"),
        "/a?limit=1&cursor=c"
    );
}
