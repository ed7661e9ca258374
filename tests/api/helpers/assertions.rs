//! Assertions on answers, and reading the members of the resources they carry.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Response;

/// Asserts a problem answer with this status whose `type` is `urn:maatje:problem:<type_suffix>`.
#[track_caller]
pub fn assert_problem(response: &Response, status: u16, type_suffix: &str) {
    assert_eq!(
        response.status, status,
        "expected {status} {type_suffix}, got: {}",
        response.text
    );
    assert_eq!(
        response.content_type(),
        "application/problem+json",
        "{}",
        response.text
    );
    assert_eq!(
        response.body["type"].as_str(),
        Some(format!("urn:maatje:problem:{type_suffix}").as_str()),
        "{}",
        response.text
    );
}

/// Asserts a 400 whose `errors` name exactly these fields (in any order), each with a message.
/// `""` stands for the body as a whole.
#[track_caller]
pub fn assert_invalid_fields(response: &Response, fields: &[&str]) {
    assert_problem(response, 400, "validation");
    let errors = response.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 400 without `errors`: {}", response.text));
    for error in errors {
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error without message: {}",
            response.text
        );
    }
    let got: BTreeSet<&str> = errors.iter().filter_map(|e| e["field"].as_str()).collect();
    let want: BTreeSet<&str> = fields.iter().copied().collect();
    assert_eq!(got, want, "invalid fields of {}", response.text);
}

/// The `id` member of a resource, as a string.
#[track_caller]
pub fn id_of(resource: &Value) -> String {
    resource["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {resource}"))
        .to_owned()
}

/// Parses an RFC 3339 time member of a resource.
#[track_caller]
pub fn time_of(resource: &Value, member: &str) -> DateTime<Utc> {
    resource[member]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("no RFC 3339 `{member}` in {resource}"))
        .with_timezone(&Utc)
}
