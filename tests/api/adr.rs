//! The Dutch API Design Rules (Logius ADR 2.x) as public-sector integrators check them: the
//! `API-Version` header, `info.version`, `servers`, `info.contact`, the contract at
//! `/v1/openapi.json`, methods (405 with `Allow`, HEAD, OPTIONS) and CORS; and two inputs that
//! were accepted but could not be used: duplicate JSON members and control bytes in headers.
//!
//! Requests that reqwest would not send, or answers the harness cannot check (a HEAD has no
//! problem body), go over a raw TCP connection ([`raw`]).

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::fixtures::{organisation, request_body};
use crate::helpers::{
    assert_invalid_fields, assert_problem, find_operation, spawn_app, spawn_app_with, spec,
    spec_paths, Method, Response, TestApp,
};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const CORS_ORIGINS: &str = "MAATJE__API__CORS_ALLOWED_ORIGINS";
const ALLOWED_ORIGIN: &str = "https://case-system.example.org";

// ----- raw HTTP/1.1 -----

/// An answer read off a raw connection.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends `head` (the request line and headers, each line ending in CRLF, without the blank
/// line) with `Connection: close`, and reads the whole answer.
async fn raw(app: &TestApp, head: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("the test server accepts connections");
    let mut request = head.to_vec();
    request.extend_from_slice(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream
        .write_all(&request)
        .await
        .expect("the request is sent");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes the connection")
        .expect("the answer is readable");
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(&answer)));
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: answer[end + 4..].to_vec(),
    }
}

fn bearer(app: &TestApp) -> String {
    format!("Authorization: Bearer {}\r\n", app.admin_token)
}

/// A concrete path for a template: every `{param}` a nil UUID.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|part| {
            if part.starts_with('{') {
                "00000000-0000-0000-0000-000000000000"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

// ----- API-Version -----

#[track_caller]
fn assert_version(response: &Response, what: &str) {
    assert_eq!(
        response.header("api-version"),
        Some(VERSION),
        "{what} -> {}: no API-Version",
        response.status
    );
}

#[tokio::test]
async fn every_answer_carries_the_full_api_version() {
    let app = spawn_app().await;
    let big = vec![b' '; crate::helpers::MAX_BODY_BYTES + 1];
    let cases: Vec<(&str, Response, u16)> = vec![
        ("probe", app.get("/v1/health/live").await, 200),
        ("list", app.get("/v1/organisations").await, 200),
        (
            "created",
            app.post_json("/v1/organisations", &json!({ "name": "Versie" }))
                .await,
            201,
        ),
        (
            "invalid",
            app.post_json("/v1/organisations", &json!({ "name": 5 }))
                .await,
            400,
        ),
        (
            "unsupported",
            app.request(
                Method::POST,
                "/v1/organisations",
                Some("text/plain"),
                b"x".to_vec(),
            )
            .await,
            415,
        ),
        (
            "too large",
            app.request(
                Method::POST,
                "/v1/organisations",
                Some("application/json"),
                big,
            )
            .await,
            413,
        ),
        ("no route", app.get("/v1/no-such-thing").await, 404),
        (
            "wrong method",
            app.request(Method::PUT, "/v1/organisations", None, Vec::new())
                .await,
            405,
        ),
        (
            "options",
            app.request(Method::OPTIONS, "/v1/organisations", None, Vec::new())
                .await,
            204,
        ),
        ("contract", app.get("/openapi.json").await, 200),
        ("contract under /v1", app.get("/v1/openapi.json").await, 200),
        ("docs", app.get("/docs").await, 308),
        ("docs page", app.get("/docs/").await, 200),
    ];
    for (what, response, status) in &cases {
        assert_eq!(response.status, *status, "{what}: {}", response.text);
        assert_version(response, what);
    }
    app.use_token(None);
    assert_version(&app.get("/v1/organisations").await, "unauthenticated");
    // The rate limiter's own answer, outside everything but the outermost layers.
    let limited = spawn_app_with(&[("MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE", "1")]).await;
    limited.get("/v1/organisations").await;
    let refused = limited.get("/v1/organisations").await;
    assert_problem(&refused, 429, "rate-limited");
    assert_version(&refused, "rate limited");
    // And the answers the harness cannot check: a HEAD, and a request the server's parser refuses
    // before the application sees it (see `a_control_byte_the_parser_refuses_is_a_bare_400`) has
    // none, which no layer of ours can change.
    let head = raw(
        &app,
        format!("HEAD /v1/organisations HTTP/1.1\r\n{}", bearer(&app)).as_bytes(),
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("api-version"), Some(VERSION));
}

#[test]
fn every_2xx_and_3xx_documents_the_api_version_header() {
    let mut checked = 0;
    for (path, item) in spec_paths() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                if status.starts_with('2') || status.starts_with('3') {
                    checked += 1;
                    let header = &response["headers"]["API-Version"];
                    assert_eq!(
                        header["schema"]["type"], "string",
                        "{method} {path} {status}: no API-Version header"
                    );
                    assert_eq!(header["example"], VERSION, "{method} {path} {status}");
                }
            }
        }
    }
    assert!(checked >= 60, "only {checked} success responses");
}

// ----- info.version, servers -----

#[tokio::test]
async fn the_version_is_the_crate_s_and_its_major_is_the_base_path() {
    let spec = spec();
    assert_eq!(spec["info"]["version"], VERSION);
    let major = VERSION.split('.').next().unwrap();
    assert_eq!(spec["servers"][0]["url"], format!("/v{major}"));
    assert_eq!(spec["servers"].as_array().map(Vec::len), Some(1));
    // `maatje --version` prints the same.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_maatje"))
        .arg("--version")
        .env_clear()
        .output()
        .await
        .expect("maatje runs");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("maatje {VERSION}")
    );
}

#[test]
fn every_path_is_relative_to_the_one_server_v1() {
    let spec = spec();
    let mut outside = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        assert!(!path.starts_with("/v1"), "{path} repeats the base path");
        assert!(
            path == "/" || !path.ends_with('/'),
            "{path}: trailing slash"
        );
        if item.get("servers").is_some() {
            outside.push(path.as_str());
        }
    }
    // Generated clients and schemathesis take the document's server and ignore a path's own,
    // so the probes live under `/v1` too.
    assert!(
        outside.is_empty(),
        "paths with a server of their own: {outside:?}"
    );
    assert_eq!(spec["servers"][0]["url"], "/v1");
    // The harness maps every concrete request path to its operation, so every answer the suite
    // gets is still checked against the contract.
    let mut operations = 0;
    for (full, item) in spec_paths() {
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_some() {
                operations += 1;
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let (template, _) = find_operation(&method, &concrete(full))
                    .unwrap_or_else(|| panic!("{method} {full} is not found by its full path"));
                assert_eq!(template, full);
            }
        }
    }
    assert!(operations >= 60, "{operations} operations");
}

// ----- info.contact and the contract's locations -----

fn without_contact(mut spec: Value) -> Value {
    spec["info"]
        .as_object_mut()
        .expect("info")
        .remove("contact");
    spec
}

#[tokio::test]
async fn the_contact_is_configured_and_the_committed_one_is_the_default() {
    let defaults = maatje::config::Settings::built_in().api;
    assert_eq!(
        spec()["info"]["contact"],
        json!({
            "name": defaults.contact_name,
            "url": defaults.contact_url,
            "email": defaults.contact_email,
        })
    );
    let app = spawn_app_with(&[
        ("MAATJE__API__CONTACT_NAME", "Bureau maatje Utrecht"),
        ("MAATJE__API__CONTACT_URL", "https://maatje.utrecht.example"),
        ("MAATJE__API__CONTACT_EMAIL", "api@maatje.utrecht.example"),
    ])
    .await;
    for path in ["/openapi.json", "/v1/openapi.json"] {
        let served = app.get(path).await;
        assert_eq!(served.status, 200, "{path}");
        assert_eq!(
            served.body["info"]["contact"],
            json!({
                "name": "Bureau maatje Utrecht",
                "url": "https://maatje.utrecht.example",
                "email": "api@maatje.utrecht.example",
            }),
            "{path}"
        );
        // Nothing else differs from the committed document.
        assert!(
            without_contact(served.body.clone()) == without_contact(spec().clone()),
            "{path} differs from the committed spec beyond its contact"
        );
    }
}

#[tokio::test]
async fn maatje_openapi_prints_the_built_in_contact_whatever_the_local_config_says() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config/local.toml"),
        "[api]\ncontact_name = \"Lokaal\"\n",
    )
    .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_maatje"))
        .arg("openapi")
        .current_dir(dir.path())
        .env_clear()
        .env("MAATJE__API__CONTACT_EMAIL", "lokaal@example.org")
        .output()
        .await
        .expect("maatje runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout) == maatje::startup::openapi_json());
}

#[tokio::test]
async fn the_contract_is_also_under_the_base_path_and_readable_from_any_origin() {
    let app = spawn_app().await;
    let root = app.get("/openapi.json").await;
    let versioned = app.get("/v1/openapi.json").await;
    assert_eq!(versioned.status, 200);
    assert_eq!(versioned.content_type(), "application/json");
    assert_eq!(versioned.body, root.body);
    app.use_token(None);
    for path in ["/openapi.json", "/v1/openapi.json"] {
        let response = app
            .request_with_headers(
                Method::GET,
                path,
                None,
                Vec::new(),
                &[("origin", "https://linter.example.net")],
            )
            .await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        let preflight = app
            .request_with_headers(
                Method::OPTIONS,
                path,
                None,
                Vec::new(),
                &[
                    ("origin", "https://linter.example.net"),
                    ("access-control-request-method", "GET"),
                ],
            )
            .await;
        assert_eq!(preflight.status, 204, "{path}: {}", preflight.text);
        assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            preflight.header("access-control-allow-methods"),
            Some("GET, HEAD, OPTIONS")
        );
    }
}

// ----- methods -----

#[tokio::test]
async fn a_wrong_method_is_a_405_naming_the_allowed_ones() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    for (method, path, allow) in [
        (
            Method::PUT,
            "/v1/organisations".to_owned(),
            "GET, HEAD, POST, OPTIONS",
        ),
        (
            Method::DELETE,
            format!("/v1/organisations/{org}"),
            "GET, HEAD, OPTIONS",
        ),
        (
            Method::GET,
            format!("/v1/organisations/{org}/deactivate"),
            "POST, OPTIONS",
        ),
        (
            Method::POST,
            "/v1/health/live".to_owned(),
            "GET, HEAD, OPTIONS",
        ),
        (
            Method::PATCH,
            "/openapi.json".to_owned(),
            "GET, HEAD, OPTIONS",
        ),
    ] {
        let response = app
            .request(
                method.clone(),
                &path,
                Some("application/json"),
                b"{}".to_vec(),
            )
            .await;
        assert_problem(&response, 405, "method-not-allowed");
        assert_eq!(response.header("allow"), Some(allow), "{method} {path}");
        assert!(
            response.body["detail"]
                .as_str()
                .unwrap()
                .contains(method.as_str()),
            "{}",
            response.text
        );
    }
    // Before authentication: the methods of a path are public, like the contract.
    app.use_token(None);
    let response = app
        .request(Method::PUT, "/v1/buddies", None, Vec::new())
        .await;
    assert_problem(&response, 405, "method-not-allowed");
    assert_eq!(response.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    // An unknown path stays a 404.
    let response = app
        .request(Method::PUT, "/v1/no-such-thing", None, Vec::new())
        .await;
    assert_problem(&response, 404, "not-found");
    assert_eq!(
        app.table_counts(),
        before,
        "a refused method stores nothing"
    );
}

#[tokio::test]
async fn options_answers_with_the_methods_of_the_path() {
    let app = spawn_app().await;
    app.use_token(None);
    for (path, allow) in [
        ("/v1/buddies", "GET, HEAD, POST, OPTIONS"),
        (
            "/v1/buddies/00000000-0000-0000-0000-000000000000",
            "GET, HEAD, PATCH, OPTIONS",
        ),
        ("/v1/auth/login", "POST, OPTIONS"),
        ("/v1/health/ready", "GET, HEAD, OPTIONS"),
    ] {
        let response = app.request(Method::OPTIONS, path, None, Vec::new()).await;
        assert_eq!(response.status, 204, "{path}: {}", response.text);
        assert_eq!(response.header("allow"), Some(allow), "{path}");
        assert!(response.text.is_empty());
        // CORS is off by default: even a preflight gets no CORS header.
        let preflight = app
            .request_with_headers(
                Method::OPTIONS,
                path,
                None,
                Vec::new(),
                &[
                    ("origin", ALLOWED_ORIGIN),
                    ("access-control-request-method", "POST"),
                ],
            )
            .await;
        assert_eq!(preflight.status, 204);
        for header in [
            "access-control-allow-origin",
            "access-control-allow-methods",
            "access-control-allow-headers",
        ] {
            assert!(preflight.header(header).is_none(), "{path}: {header}");
        }
    }
    let response = app
        .request(Method::OPTIONS, "/v1/no-such-thing", None, Vec::new())
        .await;
    assert_problem(&response, 404, "not-found");
}

/// The headers a HEAD must repeat from its GET.
const SAME_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "api-version",
    "cache-control",
    "content-security-policy",
    "allow",
    "www-authenticate",
];

#[tokio::test]
async fn head_answers_every_get_with_its_headers_and_no_body() {
    let app = spawn_app().await;
    organisation(&app).await;
    let auth = bearer(&app);
    let mut gets = 0;
    for (template, item) in spec_paths() {
        if item.get("get").is_none() {
            continue;
        }
        gets += 1;
        let path = concrete(template);
        let get = raw(&app, format!("GET {path} HTTP/1.1\r\n{auth}").as_bytes()).await;
        let head = raw(&app, format!("HEAD {path} HTTP/1.1\r\n{auth}").as_bytes()).await;
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path} has a body");
        for name in SAME_HEADERS {
            assert_eq!(head.header(name), get.header(name), "HEAD {path}: {name}");
        }
        assert!(
            get.header("content-length").is_some() || get.body.is_empty(),
            "GET {path}"
        );
    }
    assert!(gets >= 25, "{gets} GET operations");
    // The contract, the docs and the harness's own helpers (through reqwest) too.
    for path in ["/openapi.json", "/v1/openapi.json", "/docs/"] {
        let get = app.get(path).await;
        let head = app.request(Method::HEAD, path, None, Vec::new()).await;
        assert_eq!(head.status, 200, "HEAD {path}");
        assert!(head.text.is_empty());
        assert_eq!(head.header("content-type"), get.header("content-type"));
        assert_eq!(
            head.header("content-length"),
            Some(get.text.len().to_string().as_str()),
            "HEAD {path}"
        );
    }
    // A HEAD of an operation without GET is a 405.
    let head = raw(
        &app,
        format!("HEAD /v1/auth/login HTTP/1.1\r\n{auth}").as_bytes(),
    )
    .await;
    assert_eq!(head.status, 405);
    assert_eq!(head.header("allow"), Some("POST, OPTIONS"));
}

// ----- CORS -----

#[tokio::test]
async fn cors_answers_listed_origins_only() {
    let app = spawn_app_with(&[(
        CORS_ORIGINS,
        &format!("{ALLOWED_ORIGIN},http://localhost:3000"),
    )])
    .await;
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.request_with_headers(
                Method::OPTIONS,
                "/v1/buddy-requests",
                None,
                Vec::new(),
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    (
                        "access-control-request-headers",
                        "authorization, content-type",
                    ),
                    ("authorization", ""),
                ],
            )
            .await
        }
    };
    let allowed = preflight(ALLOWED_ORIGIN).await;
    assert_eq!(allowed.status, 204, "{}", allowed.text);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        allowed.header("access-control-allow-methods"),
        Some("GET, HEAD, POST, OPTIONS")
    );
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for wanted in ["authorization", "content-type", "x-request-id"] {
        assert!(headers.contains(wanted), "{headers}");
    }
    assert_eq!(allowed.header("access-control-max-age"), Some("600"));
    assert!(allowed.header("vary").unwrap().contains("Origin"));
    let other = preflight("https://elsewhere.example.net").await;
    assert_eq!(other.status, 204);
    assert!(other.header("access-control-allow-origin").is_none());
    assert!(other.header("access-control-allow-methods").is_none());
    // A real request from a listed origin, a success and an error alike.
    for (path, status) in [("/v1/organisations", 200), ("/v1/no-such-thing", 404)] {
        let response = app
            .request_with_headers(
                Method::GET,
                path,
                None,
                Vec::new(),
                &[("origin", "http://localhost:3000")],
            )
            .await;
        assert_eq!(response.status, status);
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("http://localhost:3000"),
            "{path}"
        );
        assert_eq!(response.header("vary"), Some("Origin"));
        let exposed = response.header("access-control-expose-headers").unwrap();
        assert!(exposed.contains("API-Version") && exposed.contains("X-Request-Id"));
    }
    // Another origin, or none, gets no CORS header; the answer itself is the same.
    for origin in [Some("https://elsewhere.example.net"), Some("null"), None] {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        let response = app
            .request_with_headers(Method::GET, "/v1/organisations", None, Vec::new(), &headers)
            .await;
        assert_eq!(response.status, 200);
        assert!(
            response.header("access-control-allow-origin").is_none(),
            "{origin:?}"
        );
        assert_eq!(response.header("vary"), Some("Origin"));
    }
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = spawn_app().await;
    let response = app
        .request_with_headers(
            Method::GET,
            "/v1/organisations",
            None,
            Vec::new(),
            &[("origin", ALLOWED_ORIGIN)],
        )
        .await;
    assert_eq!(response.status, 200);
    assert!(response.header("access-control-allow-origin").is_none());
    assert!(response.header("access-control-expose-headers").is_none());
}

// ----- duplicate JSON members -----

#[tokio::test]
async fn a_member_named_twice_is_refused_at_any_depth() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.table_counts();
    let response = app
        .request(
            Method::POST,
            "/v1/organisations",
            Some("application/json"),
            br#"{"name":"Eerste","name":"Tweede"}"#.to_vec(),
        )
        .await;
    assert_invalid_fields(&response, &["name"]);
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than once"),
        "{}",
        response.text
    );
    // Nested, and with an escaped spelling of the same name.
    let body = serde_json::to_string(&request_body(&org, "CASE-DUP-1")).unwrap();
    assert!(body.contains(r#""first_name":"Client""#), "{body}");
    let body = body.replace(
        r#""first_name":"Client""#,
        r#""first_name":"Client","first\u005fname":"Ander""#,
    );
    let response = app
        .request(
            Method::POST,
            "/v1/buddy-requests",
            Some("application/json"),
            body.into_bytes(),
        )
        .await;
    assert_invalid_fields(&response, &["client.first_name"]);
    assert_eq!(app.table_counts(), before, "a refused body stores nothing");
    // The same body once is fine.
    let response = app
        .post_json("/v1/buddy-requests", &request_body(&org, "CASE-DUP-1"))
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
}

// ----- control bytes in headers -----

#[tokio::test]
async fn a_tab_inside_a_header_is_a_400_problem_naming_it() {
    let app = spawn_app().await;
    let before = app.table_counts();
    let token = format!("Bearer\t{}", app.admin_token);
    for (name, value, field) in [
        ("x-request-id", "a\tb", "X-Request-Id"),
        ("authorization", token.as_str(), "Authorization"),
        // Judged by authentication, once the credentials are known (see `access`).
        ("x-on-behalf-of", "J.\tJansen", "X-On-Behalf-Of"),
    ] {
        let response = app
            .request_with_headers(
                Method::POST,
                "/v1/organisations",
                Some("application/json"),
                br#"{"name":"Tab"}"#.to_vec(),
                &[(name, value)],
            )
            .await;
        assert_invalid_fields(&response, &[field]);
        assert_ne!(
            response.request_id(),
            "a\tb",
            "the caller's bad id is not echoed"
        );
    }
    assert_eq!(
        app.table_counts(),
        before,
        "a refused request stores nothing"
    );
}

#[tokio::test]
async fn a_control_byte_the_parser_refuses_is_a_bare_400() {
    // actix-http's parser (httparse) refuses every control byte but the tab in a header value,
    // and any in a header name, before the application sees the request, with a 400 of its own
    // (no body, no request id). No middleware can turn it into a problem document; this test
    // pins that, so a release that lets these bytes through is noticed (then the check in
    // `http::header_values` answers them as it does a tab).
    let app = spawn_app().await;
    for head in [
        &b"GET /v1/organisations HTTP/1.1\r\nX-Request-Id: a\x01b\r\n"[..],
        b"GET /v1/organisations HTTP/1.1\r\nX-Request-Id: a\x00b\r\n",
        b"GET /v1/organisations HTTP/1.1\r\nX-Request-Id: a\x7fb\r\n",
        b"GET /v1/organisations HTTP/1.1\r\nAuthorization: Bearer a\x1bb\r\n",
        b"GET /v1/organisations HTTP/1.1\r\nX-Bad\x01: a\r\n",
    ] {
        let answer = raw(&app, head).await;
        assert_eq!(answer.status, 400, "{:?}", String::from_utf8_lossy(head));
        assert!(answer.body.is_empty(), "{answer:?}");
        assert!(answer.header("x-request-id").is_none(), "{answer:?}");
    }
    // Bytes above 0x7f are not control bytes: an X-Request-Id holding them is not honoured (a
    // fresh id is used), and a token holding them is malformed (401).
    let answer = raw(
        &app,
        format!(
            "GET /v1/organisations HTTP/1.1\r\n{}X-Request-Id: a\u{e9}b\r\n",
            bearer(&app)
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("x-request-id")
            .is_some_and(|id| id.len() == 36),
        "{answer:?}"
    );
    let answer = raw(
        &app,
        b"GET /v1/organisations HTTP/1.1\r\nAuthorization: Bearer \xff\r\n",
    )
    .await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["type"], "urn:maatje:problem:unauthorized");
}
