//! The checks of every exchange: the rules every response keeps (request id, problem shape,
//! documented status) and the OpenAPI contract of [`crate::contract`], with the look-ups of a
//! request's operation in the spec that they and the contract tests share.

use std::sync::OnceLock;

use serde_json::Value;

use super::{Method, Response, Sent};

/// Panics with a clear message when the exchange breaks a rule every response must keep, or the
/// contract (see [`crate::helpers`] and [`crate::contract`]).
pub fn check_exchange(method: &Method, path: &str, sent: Sent<'_>, response: &Response) {
    check_response(method, path, response);
    let violations = crate::contract::violations(method, path, sent, response);
    assert!(
        violations.is_empty(),
        "{method} {path} -> {}: breaks the OpenAPI contract:\n  - {}\nbody: {}",
        response.status,
        violations.join("\n  - "),
        response.text
    );
}

/// A response as the server might have sent it, with request id `req-1`: for the harness's own
/// tests of its checks, which must be able to fail.
pub fn canned_response(status: u16, content_type: &str, body: Value) -> Response {
    use reqwest::header::{HeaderMap, HeaderValue};
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", HeaderValue::from_static("req-1"));
    headers.insert("content-type", HeaderValue::from_str(content_type).unwrap());
    Response {
        status,
        headers,
        text: body.to_string(),
        body,
    }
}

/// Panics with a clear message when `response` breaks a rule every response must keep (see
/// [`crate::helpers`]).
pub fn check_response(method: &Method, path: &str, response: &Response) {
    let what = format!("{method} {path} -> {}", response.status);
    let request_id = response
        .header("x-request-id")
        .unwrap_or_else(|| panic!("{what}: no X-Request-Id header"));
    assert!(!request_id.is_empty(), "{what}: empty X-Request-Id");
    if path.starts_with("/respond/")
        || path.starts_with("/check-in/")
        || path.starts_with("/feedback/")
    {
        // The buddy's answer pages and the client feedback pages are HTML for people, errors
        // included (see `respond` and `feedback`).
        assert_eq!(
            response.content_type(),
            "text/html",
            "{what}: {}",
            response.text
        );
        return;
    }
    if response.status >= 400 {
        assert_eq!(
            response.content_type(),
            "application/problem+json",
            "{what}: an error must be application/problem+json; body: {}",
            response.text
        );
        let body = &response.body;
        assert!(
            body.is_object(),
            "{what}: problem body is not a JSON object: {}",
            response.text
        );
        assert_eq!(
            body["status"].as_u64(),
            Some(u64::from(response.status)),
            "{what}: problem `status` differs from the HTTP status: {body}"
        );
        for member in ["type", "title"] {
            assert!(
                body[member].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: problem without `{member}`: {body}"
            );
        }
        assert_eq!(
            body["request_id"].as_str(),
            Some(request_id),
            "{what}: problem `request_id` differs from the X-Request-Id header: {body}"
        );
    }
    if let Some((template, operation)) = find_operation(method, path) {
        assert!(
            documents_status(operation, response.status),
            "{what}: status {} is not documented in the OpenAPI spec for {} {template} \
             (documented: {:?}); body: {}",
            response.status,
            method,
            operation["responses"]
                .as_object()
                .map(|r| r.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default(),
            response.text
        );
    }
}

/// The spec as JSON, built once per process.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::to_value(maatje::startup::openapi_spec()).expect("the spec serialises")
    })
}

/// The spec's paths with their full path: the document's server (`/v1`) or the path item's
/// own (`/` for the probes) joined with the path, e.g. `("/v1/buddies", item)`.
pub fn spec_paths() -> &'static [(String, &'static Value)] {
    static PATHS: OnceLock<Vec<(String, &'static Value)>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let spec = spec();
        let base = spec["servers"][0]["url"].as_str().unwrap_or("");
        spec["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .map(|(path, item)| {
                let server = item["servers"][0]["url"].as_str().unwrap_or(base);
                (format!("{}{path}", server.trim_end_matches('/')), item)
            })
            .collect()
    })
}

/// The spec's operation for a request, and the full path template it matched (see
/// [`spec_paths`]). A concrete path matches a template segment by segment, `{param}` matching
/// any one segment; when several templates match, the one with the most literal segments wins.
/// The query string is ignored.
pub fn find_operation(method: &Method, path: &str) -> Option<(&'static str, &'static Value)> {
    find_spec_operation(method, path).map(|found| (found.template, found.operation))
}

/// What [`find_spec_operation`] found for a request.
pub struct SpecOperation {
    /// The full path template, e.g. `/v1/buddies/{id}`.
    pub template: &'static str,
    /// The key of the path in the document's `paths`, relative to its server: `/buddies/{id}`.
    pub key: &'static str,
    pub operation: &'static Value,
}

/// As [`find_operation`], with the path's key in the document as well (for JSON pointers into
/// it, such as `/paths/~1buddies~1{id}/get`).
pub fn find_spec_operation(method: &Method, path: &str) -> Option<SpecOperation> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let (template, item) = spec_paths()
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') && part.ends_with('}') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, (template, item)))
        })
        .max_by_key(|(literal, _)| *literal)?
        .1;
    let operation = item.get(method.as_str().to_ascii_lowercase())?;
    let key = spec()["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .find_map(|(key, candidate)| std::ptr::eq(candidate, *item).then_some(key.as_str()))
        .expect("every entry of spec_paths is a path of the spec");
    Some(SpecOperation {
        template: template.as_str(),
        key,
        operation,
    })
}

/// True when the operation documents `status` itself, its class (`4XX`) or a `default`.
pub fn documents_status(operation: &Value, status: u16) -> bool {
    let Some(responses) = operation["responses"].as_object() else {
        return false;
    };
    let class = format!("{}XX", status / 100);
    responses.contains_key(&status.to_string())
        || responses.contains_key(&class)
        || responses.contains_key(&class.to_ascii_lowercase())
        || responses.contains_key("default")
}
