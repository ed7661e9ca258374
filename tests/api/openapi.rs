//! The published contract: the committed `openapi/openapi.json` is current, the server serves
//! the same document, every operation documents its errors, and the docs work offline.

use serde_json::Value;

use crate::helpers::{spawn_app, spec, spec_paths};

const REGENERATE: &str = "regenerate it with `cargo run -- openapi > openapi/openapi.json` and \
                          commit the result";

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json")
}

#[test]
fn committed_spec_is_current() {
    let path = committed_path();
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; {REGENERATE}", path.display()));
    let generated = maatje::startup::openapi_json();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "openapi/openapi.json is stale (first difference at line {}):\n  committed: {}\n  \
             generated: {}\n{REGENERATE}",
            line + 1,
            committed.lines().nth(line).unwrap_or("<end of file>"),
            generated.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

#[tokio::test]
async fn the_server_serves_the_committed_spec() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.content_type(), "application/json");
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(committed_path()).expect("openapi/openapi.json"),
    )
    .expect("openapi/openapi.json is JSON");
    assert!(
        response.body == committed,
        "GET /openapi.json differs from openapi/openapi.json; {REGENERATE}"
    );
    assert_eq!(&response.body, spec());
}

fn operations() -> Vec<(String, String, &'static Value)> {
    let mut out = Vec::new();
    for (path, item) in spec_paths() {
        for (method, operation) in item.as_object().expect("path item") {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                out.push((method.to_uppercase(), path.clone(), operation));
            }
        }
    }
    assert!(out.len() >= 8, "the spec lists the operations: {out:?}");
    out
}

fn statuses(operation: &Value) -> Vec<&str> {
    operation["responses"]
        .as_object()
        .map(|r| r.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn the_spec_is_openapi_3_1_with_a_pinned_version() {
    let spec = spec();
    let version = spec["openapi"].as_str().unwrap_or("");
    assert!(version.starts_with("3.1"), "openapi: {version}");
    assert_eq!(spec["info"]["title"], "maatje");
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(spec["components"]["schemas"]["Problem"].is_object());
}

#[test]
fn every_operation_documents_a_success() {
    let missing: Vec<String> = operations()
        .into_iter()
        .filter(|(_, _, operation)| !statuses(operation).iter().any(|s| s.starts_with('2')))
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "operations without a 2xx: {missing:#?}");
}

/// Any operation can fail unexpectedly, so every one must document 500, the probes included.
#[test]

fn every_operation_documents_500() {
    let missing: Vec<String> = operations()
        .into_iter()
        .filter(|(_, _, operation)| !statuses(operation).contains(&"500"))
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "operations without a 500: {missing:#?}");
}

#[test]
fn every_v1_operation_documents_problems() {
    let mut missing = Vec::new();
    for (method, path, operation) in operations() {
        // The probes answer for themselves: liveness never needs the database (no 503) and
        // neither is rate limited (no 429); `health` tests what they answer.
        if !path.starts_with("/v1/")
            || maatje::http::rate_limit::EXEMPT_PATHS.contains(&path.as_str())
        {
            continue;
        }
        let statuses = statuses(operation);
        let mut want = vec!["500", "503"];
        if path.contains("{id}") {
            want.push("404");
        }
        if operation.get("requestBody").is_some() {
            want.extend(["400", "413", "415"]);
        }
        if operation["parameters"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
        {
            want.push("400");
        }
        for status in want {
            if !statuses.contains(&status) {
                missing.push(format!("{method} {path}: no {status}"));
            }
        }
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let content = &response["content"]["application/problem+json"];
                assert!(
                    content.is_object(),
                    "{method} {path} {status} is not documented as application/problem+json"
                );
            }
        }
    }
    assert!(missing.is_empty(), "undocumented responses: {missing:#?}");
}

#[test]
fn every_operation_has_a_tag_and_a_unique_operation_id() {
    let mut ids = std::collections::BTreeSet::new();
    for (method, path, operation) in operations() {
        assert!(
            operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{method} {path} has no tag"
        );
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
    }
}

#[tokio::test]
async fn docs_redirects_to_the_swagger_ui() {
    let app = spawn_app().await;
    let response = app.get("/docs").await;
    assert_eq!(response.status, 308, "{}", response.text);
    assert_eq!(response.header("location"), Some("/docs/"));
}

/// The `src` and `href` attribute values of an HTML page.
fn referenced_assets(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("a closing quote");
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out
}

#[tokio::test]
async fn docs_are_served_offline_by_the_service() {
    let app = spawn_app().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.content_type().starts_with("text/html"),
        "{:?}",
        page.header("content-type")
    );
    assert!(page.text.contains("swagger-ui"), "{}", page.text);

    let assets = referenced_assets(&page.text);
    for wanted in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        assert!(
            assets.iter().any(|a| a.ends_with(wanted)),
            "the page does not reference {wanted}: {assets:?}"
        );
    }
    for asset in &assets {
        assert!(
            !asset.contains("//"),
            "{asset} is not served by the service (the docs must work offline)"
        );
        let path = if asset.starts_with('/') {
            asset.clone()
        } else {
            format!("/docs/{}", asset.trim_start_matches("./"))
        };
        let response = app.get(&path).await;
        assert_eq!(response.status, 200, "{path}");
        assert!(!response.text.is_empty(), "{path} is empty");
        if path.ends_with(".js") {
            assert!(
                response.content_type().contains("javascript"),
                "{path}: {}",
                response.content_type()
            );
        }
        if path.ends_with(".css") {
            assert_eq!(response.content_type(), "text/css", "{path}");
        }
    }

    let initializer = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(initializer.status, 200);
    assert!(
        initializer.text.contains("\"/openapi.json\"")
            || initializer.text.contains("'/openapi.json'"),
        "the initializer must load /openapi.json: {}",
        initializer.text
    );
    assert!(
        !initializer.text.contains("petstore"),
        "{}",
        initializer.text
    );
}

/// Every 4xx is a problem document (DESIGN.md), even where the Swagger UI service, not a
/// handler of ours, answers an unknown asset (`check_response` in the helpers checks the shape).
#[tokio::test]

async fn an_unknown_docs_asset_is_a_404_problem() {
    let app = spawn_app().await;
    let response = app.get("/docs/no-such-asset.js").await;
    crate::helpers::assert_problem(&response, 404, "not-found");
}

/// Every `$ref` in `value`, with the JSON pointer where it occurs.
fn refs<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                match (key.as_str(), member) {
                    ("$ref", Value::String(target)) => out.push((at.clone(), target)),
                    _ => refs(
                        member,
                        format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                        out,
                    ),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refs(item, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A generator drops an operation whose `$ref` points nowhere, and validators refuse the
/// document: every reference must be a local pointer that resolves.
#[test]
fn every_ref_resolves() {
    let spec = spec();
    let mut found = Vec::new();
    refs(spec, String::new(), &mut found);
    assert!(
        found.len() > 50,
        "the spec uses references: {}",
        found.len()
    );
    let dangling: Vec<String> = found
        .into_iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .is_none_or(|pointer| spec.pointer(pointer).is_none())
        })
        .map(|(at, target)| format!("{at}: {target}"))
        .collect();
    assert!(dangling.is_empty(), "dangling $ref: {dangling:#?}");
}

/// Every named enumeration lists lower-case wire values, never Rust variant names (the derive
/// used to list `Open` where the service sends `open`).
#[test]
fn enum_schemas_list_wire_values() {
    let mut wrong = Vec::new();
    for (name, schema) in spec()["components"]["schemas"].as_object().unwrap() {
        for value in schema["enum"].as_array().into_iter().flatten() {
            let text = value.as_str().unwrap_or_default();
            if text.is_empty() || text.chars().any(|c| c.is_ascii_uppercase()) {
                wrong.push(format!("{name}: {value}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "enum values that are not wire values: {wrong:#?}"
    );
}

/// An optional body is `required: false` and, when sent, the object: never `oneOf [X, null]`,
/// which generated clients answer with a placeholder and the service refuses (`null` is not an
/// object).
#[test]
fn optional_bodies_are_optional_objects() {
    let mut optional = 0;
    for (method, path, operation) in operations() {
        let Some(body) = operation.get("requestBody") else {
            continue;
        };
        assert!(
            body["required"].is_boolean(),
            "{method} {path}: requestBody says neither required nor optional: {body}"
        );
        if body["required"] == false {
            optional += 1;
        }
        for (media_type, content) in body["content"].as_object().unwrap() {
            let text = content["schema"].to_string();
            assert!(
                !text.contains(r#""type":"null""#),
                "{method} {path} {media_type}: the body schema admits null: {text}"
            );
        }
    }
    assert!(
        optional >= 10,
        "the action endpoints have optional bodies: {optional}"
    );
}

/// What a generated client sends for an action with an optional body: nothing (with or without
/// a JSON content type), `{}`, or the documented object. Each is accepted; `null` is not.
#[tokio::test]
async fn an_action_takes_no_body_an_empty_object_or_the_object() {
    let app = spawn_app().await;
    let org = crate::helpers::create_organisation(&app, "Jeugdbescherming Actie").await;
    let id = crate::helpers::id_of(&org);
    let deactivate = format!("/v1/organisations/{id}/deactivate");
    let reactivate = format!("/v1/organisations/{id}/reactivate");
    let response = app.post_empty(&deactivate).await;
    assert_eq!(response.status, 200, "{}", response.text);
    let response = app
        .request(
            reqwest::Method::POST,
            &reactivate,
            Some("application/json"),
            Vec::new(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let response = app.post_json(&deactivate, &serde_json::json!({})).await;
    assert_eq!(response.status, 200, "{}", response.text);
    let response = app
        .post_json(
            &reactivate,
            &serde_json::json!({ "reason": "Back in the programme" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["state"], "active");
    let before = app.table_counts();
    let response = app.post_json(&deactivate, &Value::Null).await;
    crate::helpers::assert_invalid_fields(&response, &[""]);
    assert_eq!(app.table_counts(), before);
}

/// Every example in a schema validates against that schema: an example that drifted from the
/// rules would teach integrators a request the service refuses.
#[test]
fn every_example_validates_against_its_schema() {
    fn walk(node: &Value, pointer: String, checked: &mut usize, wrong: &mut Vec<String>) {
        let Some(members) = node.as_object() else {
            return;
        };
        let mut examples: Vec<&Value> = Vec::new();
        examples.extend(members.get("example"));
        examples.extend(
            members
                .get("examples")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for example in examples {
            *checked += 1;
            for error in crate::contract::validate(&pointer, example) {
                wrong.push(format!("{pointer}: {example}: {error}"));
            }
        }
        for (key, member) in members {
            if key == "example" || key == "examples" || key == "enum" {
                continue;
            }
            match member {
                Value::Object(_) => walk(
                    member,
                    format!("{pointer}/{}", crate::contract::escape(key)),
                    checked,
                    wrong,
                ),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(
                            item,
                            format!("{pointer}/{}/{i}", crate::contract::escape(key)),
                            checked,
                            wrong,
                        );
                    }
                }
                _ => {}
            }
        }
    }
    let (mut checked, mut wrong) = (0, Vec::new());
    walk(
        &spec()["components"]["schemas"],
        "/components/schemas".to_owned(),
        &mut checked,
        &mut wrong,
    );
    assert!(checked >= 10, "the schemas carry examples: {checked}");
    assert!(
        wrong.is_empty(),
        "examples that break their schema: {wrong:#?}"
    );
}
