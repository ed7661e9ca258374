//! The contract check: every request the suite sends and every answer it gets, held against the
//! OpenAPI document with a complete JSON Schema 2020-12 validator (the `jsonschema` crate, with
//! format validation on).
//!
//! The document is one resource of a schema registry, so each schema is validated in place: a
//! `$ref` such as `#/components/schemas/Buddy` resolves against the whole document.
//!
//! What is checked, for an operation the spec describes (see [`crate::helpers::find_spec_operation`]):
//! - the answer: its content type is documented for its status, and a JSON body validates
//!   against the schema documented for that status and content type (problem+json included);
//!   a JSON body with no documented content or schema is a failure; each header it carries that
//!   is documented for its status validates against its schema, and a documented `ETag` is
//!   there (the service tags every answer it documents a tag on);
//! - a request the server accepted (2xx): its JSON body validates against the request schema
//!   (an operation that documents no body ignores one), a body the contract requires is there,
//!   and every query and path parameter is documented and valid. The server accepting what the contract forbids is a failure as much as the
//!   server answering what it does not describe.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Registry, Validator};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{find_spec_operation, spec, Response};

/// The URI under which the document is registered.
const BASE: &str = "urn:maatje:openapi";

/// What was sent, as far as the contract is concerned.
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl Sent<'_> {
    pub const NOTHING: Sent<'static> = Sent {
        content_type: None,
        body: &[],
    };
}

/// Every way in which the exchange breaks the contract; empty when it keeps it.
pub fn violations(method: &Method, path: &str, sent: Sent<'_>, response: &Response) -> Vec<String> {
    let Some(found) = find_spec_operation(method, path) else {
        return Vec::new();
    };
    let template = found.template;
    let operation = format!(
        "/paths/{}/{}",
        escape(found.key),
        method.as_str().to_ascii_lowercase()
    );
    let mut out = Vec::new();
    if *method != Method::HEAD {
        check_answer(&operation, response, &mut out);
    }
    if (200..300).contains(&response.status) {
        check_request(&operation, template, path, sent, &mut out);
    }
    out
}

fn check_answer(operation: &str, response: &Response, out: &mut Vec<String>) {
    let Some(documented) = response_pointer(operation, response.status) else {
        // `check_response` reports an undocumented status itself.
        return;
    };
    check_headers(&documented, response, out);
    if response.text.is_empty() {
        return;
    }
    let essence = response.content_type();
    let content = at(&format!("{documented}/content"));
    let Some((media_type, _)) = content
        .and_then(Value::as_object)
        .and_then(|c| c.iter().find(|(mt, _)| media_type_matches(mt, &essence)))
    else {
        let listed: Vec<&String> = content
            .and_then(Value::as_object)
            .map(|c| c.keys().collect())
            .unwrap_or_default();
        out.push(format!(
            "the answer is `{essence}`, but the spec documents {listed:?} for status {}",
            response.status
        ));
        return;
    };
    if !is_json(&essence) {
        return;
    }
    let Ok(body) = serde_json::from_str::<Value>(&response.text) else {
        out.push(format!("the answer says `{essence}` but is not JSON"));
        return;
    };
    let schema = format!("{documented}/content/{}/schema", escape(media_type));
    if at(&schema).is_none() {
        out.push(format!(
            "the answer is JSON but no schema is documented for status {} `{media_type}`",
            response.status
        ));
        return;
    }
    for error in validate(&schema, &body) {
        out.push(format!("answer body {error}"));
    }
}

/// The answer's headers that the spec documents for its status: each one sent validates against
/// its schema (its text, or the number or boolean it spells, as for a query parameter), and a
/// documented `ETag` must be sent.
fn check_headers(documented: &str, response: &Response, out: &mut Vec<String>) {
    let Some(headers) = at(&format!("{documented}/headers")).and_then(Value::as_object) else {
        return;
    };
    for name in headers.keys() {
        let Some(text) = response.header(name) else {
            if name.eq_ignore_ascii_case("etag") {
                out.push(format!(
                    "the answer has no `{name}` header, which the spec documents for status {}",
                    response.status
                ));
            }
            continue;
        };
        let Some(pointer) = deref(&format!("{documented}/headers/{}", escape(name))) else {
            continue;
        };
        let schema = format!("{pointer}/schema");
        if at(&schema).is_none() {
            continue;
        }
        let mut readings = vec![Value::from(text)];
        if let Ok(typed @ (Value::Number(_) | Value::Bool(_))) = serde_json::from_str(text) {
            readings.push(typed);
        }
        if readings.iter().all(|r| !validate(&schema, r).is_empty()) {
            for error in validate(&schema, &readings[0]) {
                out.push(format!("the answer's `{name}` header {error}"));
            }
        }
    }
}

fn check_request(
    operation: &str,
    template: &str,
    path: &str,
    sent: Sent<'_>,
    out: &mut Vec<String>,
) {
    let accepted = "the server accepted (2xx)";
    // The body.
    let request_body = deref(&format!("{operation}/requestBody"));
    let body_present = !sent.body.iter().all(u8::is_ascii_whitespace);
    match (&request_body, body_present) {
        // OpenAPI gives a body no meaning where the operation documents none, and such
        // operations ignore one (`access::a_revocation_time_in_a_body_is_not_taken_over`).
        (None, _) => {}
        (Some(pointer), false) => {
            if at(&format!("{pointer}/required")) == Some(&Value::Bool(true)) {
                out.push(format!(
                    "{accepted} a request without the body the contract requires"
                ));
            }
        }
        (Some(pointer), true) => {
            let essence = sent.content_type.map(essence).unwrap_or_default();
            let content = at(&format!("{pointer}/content")).and_then(Value::as_object);
            match content.and_then(|c| c.keys().find(|mt| media_type_matches(mt, &essence))) {
                None => out.push(format!(
                    "{accepted} a `{essence}` body, which the operation does not document"
                )),
                Some(media_type) if is_json(&essence) => {
                    match serde_json::from_slice::<Value>(sent.body) {
                        Err(_) => out.push(format!("{accepted} a body that is not JSON")),
                        Ok(body) => {
                            let schema = format!("{pointer}/content/{}/schema", escape(media_type));
                            for error in validate(&schema, &body) {
                                out.push(format!(
                                    "{accepted} a request body that breaks the contract: {error}"
                                ));
                            }
                        }
                    }
                }
                Some(_) => {}
            }
        }
    }
    // The parameters.
    let parameters = parameters(operation);
    let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
    let path_only = path_only.split('#').next().unwrap_or(path_only);
    for (part, segment) in template.split('/').zip(path_only.split('/')) {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let value = percent_decode(segment);
            match parameters.get(&("path", name.to_owned())) {
                None => out.push(format!("path parameter `{name}` is not documented")),
                Some(pointer) => check_value(pointer, name, &[value], accepted, out),
            }
        }
    }
    let mut given: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        given
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    for (name, values) in &given {
        match parameters.get(&("query", name.clone())) {
            None => out.push(format!(
                "{accepted} query parameter `{name}`, which the operation does not document"
            )),
            Some(pointer) => check_value(pointer, name, values, accepted, out),
        }
    }
    for ((place, name), pointer) in &parameters {
        if *place == "query"
            && at(&format!("{pointer}/required")) == Some(&Value::Bool(true))
            && !given.contains_key(name)
        {
            out.push(format!(
                "{accepted} a request without the required query parameter `{name}`"
            ));
        }
    }
}

/// Checks the values given for one parameter. A query value is text; it is valid when the
/// text itself, or the JSON number or boolean it spells, validates (form style, as OpenAPI
/// serialises primitives). A parameter given more than once must be documented as an array.
fn check_value(
    pointer: &str,
    name: &str,
    values: &[String],
    accepted: &str,
    out: &mut Vec<String>,
) {
    let schema = format!("{pointer}/schema");
    if at(&schema).is_none() {
        out.push(format!("parameter `{name}` has no schema"));
        return;
    }
    let readings = |text: &str| {
        let mut readings = vec![Value::from(text)];
        if let Ok(typed @ (Value::Number(_) | Value::Bool(_))) = serde_json::from_str(text) {
            readings.push(typed);
        }
        readings
    };
    let errors: Vec<String> = if values.len() == 1 {
        let readings = readings(&values[0]);
        match readings
            .iter()
            .map(|r| validate(&schema, r))
            .find(Vec::is_empty)
        {
            Some(_) => Vec::new(),
            None => validate(&schema, &readings[0]),
        }
    } else {
        let typed: Vec<Value> = values
            .iter()
            .map(|v| readings(v).pop().expect("one reading at least"))
            .collect();
        validate(&schema, &Value::Array(typed))
    };
    for error in errors {
        out.push(format!(
            "{accepted} parameter `{name}` = {values:?}: {error}"
        ));
    }
}

/// The operation's parameters (its own and its path's), by place and name, as pointers.
fn parameters(operation: &str) -> BTreeMap<(&'static str, String), String> {
    let mut out = BTreeMap::new();
    let path_item = operation.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    for owner in [path_item, operation] {
        let list = format!("{owner}/parameters");
        let count = at(&list).and_then(Value::as_array).map_or(0, Vec::len);
        for i in 0..count {
            let Some(pointer) = deref(&format!("{list}/{i}")) else {
                continue;
            };
            let place = match at(&format!("{pointer}/in")).and_then(Value::as_str) {
                Some("query") => "query",
                Some("path") => "path",
                Some("header") => "header",
                _ => "cookie",
            };
            if let Some(name) = at(&format!("{pointer}/name")).and_then(Value::as_str) {
                out.insert((place, name.to_owned()), pointer);
            }
        }
    }
    out
}

/// The pointer of the response documented for `status`: its own, its class (`4XX`) or the
/// `default`, following a `$ref` to `#/components/responses`.
fn response_pointer(operation: &str, status: u16) -> Option<String> {
    let responses = format!("{operation}/responses");
    let class = format!("{}XX", status / 100);
    [
        status.to_string(),
        class.clone(),
        class.to_ascii_lowercase(),
        "default".to_owned(),
    ]
    .into_iter()
    .find_map(|key| deref(&format!("{responses}/{key}")))
}

/// `pointer` if something is there, following one `$ref` into the document.
fn deref(pointer: &str) -> Option<String> {
    let value = at(pointer)?;
    match value.get("$ref").and_then(Value::as_str) {
        Some(target) => {
            let target = target.strip_prefix('#')?;
            at(target).map(|_| target.to_owned())
        }
        None => Some(pointer.to_owned()),
    }
}

fn at(pointer: &str) -> Option<&'static Value> {
    spec().pointer(pointer)
}

/// Validates `instance` against the schema at `pointer` in the document; one line per error.
pub fn validate(pointer: &str, instance: &Value) -> Vec<String> {
    validator(pointer)
        .iter_errors(instance)
        .map(|e| {
            let location = e.instance_path().to_string();
            let location = if location.is_empty() {
                "/".to_owned()
            } else {
                location
            };
            format!("at `{location}`: {e} (schema {pointer}{})", e.schema_path())
        })
        .collect()
}

/// The compiled validator of the schema at `pointer`, built once per process.
fn validator(pointer: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap().get(pointer) {
        return found.clone();
    }
    let built = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_registry(registry())
        .build(&json!({ "$ref": format!("{BASE}#{}", fragment(pointer)) }))
        .unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}"));
    let built = Arc::new(built);
    cache
        .lock()
        .unwrap()
        .insert(pointer.to_owned(), built.clone());
    built
}

/// The document as a JSON Schema 2020-12 resource.
fn registry() -> &'static Registry<'static> {
    static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::new()
            .draft(Draft::Draft202012)
            .add(BASE, spec().clone())
            .and_then(|builder| builder.prepare())
            .unwrap_or_else(|e| panic!("the OpenAPI document is not a schema resource: {e}"))
    })
}

/// One JSON pointer segment (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer as a URI fragment: everything but unreserved characters and `/` encoded.
fn fragment(pointer: &str) -> String {
    let mut out = String::new();
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let Ok(byte) = u8::from_str_radix(segment.get(i + 1..i + 3).unwrap_or(""), 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(essence: &str) -> bool {
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A documented media type (`application/json`, `text/*`, `*/*`) covers an actual one.
fn media_type_matches(documented: &str, actual: &str) -> bool {
    let documented = essence(documented);
    documented == actual
        || documented == "*/*"
        || documented
            .strip_suffix("/*")
            .is_some_and(|kind| actual.split('/').next() == Some(kind))
}

/// The check itself: each must be able to fail.
#[cfg(test)]
mod tests {
    use super::*;

    use crate::helpers::canned_response as response;

    fn organisation() -> Value {
        json!({
            "id": "0193a5c4-0000-7000-8000-000000000000",
            "name": "Jeugdbescherming Voorbeeld",
            "state": "active",
            "created_at": "2026-11-22T09:00:00Z",
            "updated_at": "2026-11-22T09:00:00Z"
        })
    }

    const ORG: &str = "/v1/organisations/0193a5c4-0000-7000-8000-000000000000";

    fn json_body(body: &Value) -> Vec<u8> {
        serde_json::to_vec(body).unwrap()
    }

    /// A tag of the documented shape.
    const TAG: &str = "\"RBNvo1WzZ4oRRq0W9-hknpT7T8If536DEMBg9hyq_4o\"";

    /// `response` with `name: value` added.
    fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
        response
            .headers
            .insert(name, reqwest::header::HeaderValue::from_str(value).unwrap());
        response
    }

    #[test]
    fn a_valid_exchange_passes() {
        let found = violations(
            &Method::GET,
            ORG,
            Sent::NOTHING,
            &with_header(
                response(200, "application/json", organisation()),
                "etag",
                TAG,
            ),
        );
        assert!(found.is_empty(), "{found:#?}");
        let body = json_body(&json!({ "name": "Jeugdbescherming Voorbeeld" }));
        let sent = Sent {
            content_type: Some("application/json"),
            body: &body,
        };
        let found = violations(
            &Method::POST,
            "/v1/organisations",
            sent,
            &with_header(
                response(201, "application/json", organisation()),
                "etag",
                TAG,
            ),
        );
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn a_documented_etag_that_is_missing_or_malformed_fails() {
        let answer = || response(200, "application/json", organisation());
        let found = violations(&Method::GET, ORG, Sent::NOTHING, &answer());
        one_violation(found, "no `ETag`");
        let found = violations(
            &Method::GET,
            ORG,
            Sent::NOTHING,
            &with_header(answer(), "etag", "W/\"weak\""),
        );
        one_violation(found, "`ETag` header");
        // A 304 has no body, and its tag is checked all the same.
        let mut not_modified = response(304, "application/json", Value::Null);
        not_modified.text = String::new();
        let found = violations(&Method::GET, ORG, Sent::NOTHING, &not_modified);
        one_violation(found, "no `ETag`");
        let found = violations(
            &Method::GET,
            ORG,
            Sent::NOTHING,
            &with_header(not_modified, "etag", TAG),
        );
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn a_documented_header_of_the_wrong_type_fails() {
        let limited = with_header(
            response(
                429,
                "application/problem+json",
                json!({ "type": "urn:maatje:problem:rate-limited", "title": "Too many requests",
                        "status": 429 }),
            ),
            "retry-after",
            "soon",
        );
        one_violation(
            violations(&Method::GET, ORG, Sent::NOTHING, &limited),
            "`Retry-After` header",
        );
        let fine = with_header(limited, "retry-after", "5");
        assert!(violations(&Method::GET, ORG, Sent::NOTHING, &fine).is_empty());
    }

    fn one_violation(found: Vec<String>, expected: &str) {
        assert!(
            found.iter().any(|v| v.contains(expected)),
            "expected a violation containing {expected:?}, got {found:#?}"
        );
    }

    #[test]
    fn an_enum_value_not_in_the_schema_fails() {
        let mut body = organisation();
        body["state"] = json!("Active");
        let found = violations(
            &Method::GET,
            ORG,
            Sent::NOTHING,
            &response(200, "application/json", body),
        );
        one_violation(found, "/state");
    }

    #[test]
    fn a_bad_format_fails() {
        let mut body = organisation();
        body["created_at"] = json!("22-11-2026");
        let found = violations(
            &Method::GET,
            ORG,
            Sent::NOTHING,
            &response(200, "application/json", body),
        );
        one_violation(found, "/created_at");
    }

    #[test]
    fn a_missing_required_member_fails() {
        let mut body = organisation();
        body.as_object_mut().unwrap().remove("name");
        let found = violations(
            &Method::GET,
            ORG,
            Sent::NOTHING,
            &response(200, "application/json", body),
        );
        one_violation(found, "name");
    }

    #[test]
    fn an_accepted_request_with_an_extra_property_fails() {
        let body = json_body(&json!({ "name": "Voorbeeld", "colour": "blue" }));
        let sent = Sent {
            content_type: Some("application/json"),
            body: &body,
        };
        let found = violations(
            &Method::POST,
            "/v1/organisations",
            sent,
            &response(201, "application/json", organisation()),
        );
        one_violation(found, "colour");
        // Refused, the same request keeps the contract.
        let found = violations(
            &Method::POST,
            "/v1/organisations",
            sent,
            &response(
                400,
                "application/problem+json",
                json!({ "type": "urn:maatje:problem:validation", "title": "The request is invalid",
                        "status": 400, "request_id": "req-1",
                        "errors": [{ "field": "colour", "message": "unknown field" }] }),
            ),
        );
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn an_accepted_request_without_its_required_body_fails() {
        let found = violations(
            &Method::POST,
            "/v1/organisations",
            Sent::NOTHING,
            &response(201, "application/json", organisation()),
        );
        one_violation(found, "without the body");
    }

    #[test]
    fn an_accepted_query_parameter_out_of_bounds_or_undocumented_fails() {
        let page = json!({ "items": [] });
        for (query, expected) in [("limit=0", "limit"), ("colour=blue", "colour")] {
            let found = violations(
                &Method::GET,
                &format!("/v1/organisations?{query}"),
                Sent::NOTHING,
                &response(200, "application/json", page.clone()),
            );
            one_violation(found, expected);
        }
        let found = violations(
            &Method::GET,
            "/v1/organisations?limit=200",
            Sent::NOTHING,
            &response(200, "application/json", page),
        );
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn a_malformed_path_id_that_was_accepted_fails() {
        let found = violations(
            &Method::GET,
            "/v1/organisations/not-a-uuid",
            Sent::NOTHING,
            &response(200, "application/json", organisation()),
        );
        one_violation(found, "`id`");
    }

    #[test]
    fn a_problem_must_match_the_problem_schema() {
        let found = violations(
            &Method::GET,
            ORG,
            Sent::NOTHING,
            &response(
                404,
                "application/problem+json",
                json!({ "type": "urn:maatje:problem:not-found", "title": "Not found",
                        "status": "404" }),
            ),
        );
        one_violation(found, "/status");
    }

    #[test]
    fn an_undocumented_content_type_fails() {
        let found = violations(
            &Method::GET,
            ORG,
            Sent::NOTHING,
            &response(200, "text/plain", json!("hello")),
        );
        one_violation(found, "text/plain");
    }
}
