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

/// A page of `body` as a `data:` URL, for the browser harness's own checks.
fn data_page(body: &str) -> String {
    use base64::Engine;
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Harness</title></head>\
         <body><main><h1>Harness</h1>{body}</main></body></html>"
    );
    format!(
        "data:text/html;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(html)
    )
}

/// The panic message of a check that must fail.
async fn failure_of<T: std::fmt::Debug>(check: impl std::future::Future<Output = T>) -> String {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(check).catch_unwind().await {
        Ok(passed) => panic!("the check passed: {passed:?}"),
        Err(panic) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default(),
    }
}

/// The browser checks pass on a page that keeps to them and fail, saying where, on one that
/// does not (skipped, as the browser tests are, unless configured).
#[tokio::test]
async fn browser_checks_can_fail() {
    let Some(browser) = Browser::start_in("en").await else {
        return;
    };
    let good = data_page(
        "<p>Fine.</p><label for=\"why\">Why</label><textarea id=\"why\"></textarea>\
         <button type=\"button\">Go</button>",
    );
    browser.goto(&good).await;
    browser.axe("harness-good").await;
    browser.narrow("harness-good").await;
    assert_eq!(browser.tab_to("button", 5).await.len(), 2);
    browser.fill_field("Why", "Because").await;
    assert_eq!(
        browser
            .script("return document.activeElement.value", vec![])
            .await,
        "Because"
    );
    let message = failure_of(browser.field("Who")).await;
    assert!(message.contains("no field labelled \"Who\""), "{message}");
    assert!(message.contains("at data:text/html"), "where: {message}");
    assert!(
        message.contains("the page says: Harness Fine."),
        "what: {message}"
    );
    let message = failure_of(browser.tab_to("#nothing", 3)).await;
    assert!(
        message.contains("#nothing got no keyboard focus in 3 presses of Tab"),
        "{message}"
    );

    browser
        .goto(&data_page("<img src=\"data:,\"><button></button>"))
        .await;
    let message = failure_of(browser.axe("harness-bad")).await;
    assert!(message.contains("serious or critical"), "{message}");
    assert!(
        message.contains("image-alt") && message.contains("button-name"),
        "{message}"
    );

    browser
        .goto(&data_page(
            "<div id=\"wide\" style=\"width: 400px\">Wide</div>",
        ))
        .await;
    let message = failure_of(browser.narrow("harness-wide")).await;
    assert!(message.contains("scrolls sideways"), "{message}");
    assert!(message.contains("div#wide"), "{message}");
    // The window is back to its width after the failure.
    assert_eq!(
        browser.script("return window.innerWidth", vec![]).await,
        WIDTH
    );

    browser
        .goto(&data_page(
            "<button type=\"button\" style=\"outline: none\">Hidden</button>",
        ))
        .await;
    let message = failure_of(browser.tab_to("button", 3)).await;
    assert!(message.contains("cannot be seen"), "{message}");
}
