//! Behind a reverse proxy (`server.trusted_proxies`): from a trusted peer, the address its
//! `Forwarded` or `X-Forwarded-For` names is the client, for the audit trail's source address,
//! the rate limits and the login lockout; from any other peer those headers change nothing.
//! The parser itself is unit-tested in `src/http/client_addr.rs`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, capture_logs, check_response, spawn_app_with, Response, TestApp, STAFF_PASSWORD,
};

const TRUSTED: &str = "MAATJE__SERVER__TRUSTED_PROXIES";
const PER_ADDRESS: &str = "MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE";
const MAX_FAILURES: &str = "MAATJE__AUTH__MAX_FAILED_LOGINS";
const LOGIN_LIMIT: &str = "MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE";
/// A read the audit trail records (a search of buddies).
const AUDITED: &str = "/v1/buddies";

/// A GET from the peer `from` (a loopback address: Linux routes all of 127.0.0.0/8 to the
/// loopback interface) with `headers`, as the admin, checked as the helpers check every answer.
async fn get_from(app: &TestApp, from: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    send_from(app, from, Method::GET, path, None, headers).await
}

async fn send_from(
    app: &TestApp,
    from: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Response {
    let source: std::net::IpAddr = from.parse().expect("an address");
    let client = reqwest::Client::builder()
        .local_address(source)
        .no_proxy()
        .build()
        .expect("a client bound to the source address");
    let mut request = client.request(method.clone(), format!("{}{path}", app.address));
    if body.is_none() {
        request = request.header("authorization", format!("Bearer {}", app.admin_token));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let answer = request.send().await.expect("an answer");
    let (status, headers) = (answer.status().as_u16(), answer.headers().clone());
    let bytes = answer.bytes().await.expect("a body");
    let response = Response {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    };
    check_response(&method, path, &response);
    response
}

/// The source address of the audit record of `response` (found by its server request id).
async fn audited_source(app: &TestApp, response: &Response) -> Value {
    let id = response
        .header("x-server-request-id")
        .expect("X-Server-Request-Id");
    let records = app.audit_records().await;
    let mine: Vec<&Value> = records
        .iter()
        .filter(|r| r["request_id"].as_str() == Some(id))
        .collect();
    assert_eq!(mine.len(), 1, "one audit record for {id}: {mine:?}");
    mine[0]["source_address"].clone()
}

/// A login from peer `from` with `headers`; returns the status.
async fn login_from(app: &TestApp, from: &str, password: &str, headers: &[(&str, &str)]) -> u16 {
    let body = json!({ "email": "admin@example.org", "password": password });
    send_from(
        app,
        from,
        Method::POST,
        "/v1/auth/login",
        Some(&body),
        headers,
    )
    .await
    .status
}

#[tokio::test]
async fn a_trusted_proxy_names_the_source_of_the_audit_record() {
    let app = spawn_app_with(&[(TRUSTED, "127.0.0.1/32,10.0.0.0/8")]).await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("forwarded", "for=198.51.100.7;proto=https")],
            "198.51.100.7",
        ),
        (
            &[("forwarded", "for=\"[2001:db8:cafe::17]:4711\"")],
            "2001:db8:cafe::17",
        ),
        (
            &[("x-forwarded-for", "203.0.113.50, 198.51.100.8, 10.1.2.3")],
            "198.51.100.8",
        ),
        // Garbage: the proxy itself.
        (&[("x-forwarded-for", "not-an-address")], "127.0.0.1"),
        (&[], "127.0.0.1"),
    ];
    for (headers, want) in cases {
        let response = get_from(&app, "127.0.0.1", AUDITED, headers).await;
        assert_eq!(response.status, 200, "{}", response.text);
        assert_eq!(audited_source(&app, &response).await, want, "{headers:?}");
    }
}

#[tokio::test]
async fn an_untrusted_peer_cannot_name_the_source_of_the_audit_record() {
    // No trusted proxies (the default), and one that does not cover the peer 127.0.0.2.
    let configs: [&[(&str, &str)]; 2] = [&[], &[(TRUSTED, "127.0.0.1/32")]];
    for config in configs {
        let app = spawn_app_with(config).await;
        let spoofed = [
            ("forwarded", "for=198.51.100.7"),
            ("x-forwarded-for", "198.51.100.8"),
        ];
        let response = get_from(&app, "127.0.0.2", AUDITED, &spoofed).await;
        assert_eq!(response.status, 200, "{}", response.text);
        assert_eq!(
            audited_source(&app, &response).await,
            "127.0.0.2",
            "{config:?}"
        );
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_rate_limit() {
    let app = spawn_app_with(&[(TRUSTED, "127.0.0.1/32"), (PER_ADDRESS, "3")]).await;
    let one = [("x-forwarded-for", "198.51.100.1")];
    let other = [("forwarded", "for=198.51.100.2")];
    for _ in 0..3 {
        let response = get_from(&app, "127.0.0.1", "/v1/organisations", &one).await;
        assert_eq!(response.status, 200, "{}", response.text);
    }
    let refused = get_from(&app, "127.0.0.1", "/v1/organisations", &one).await;
    assert_problem(&refused, 429, "rate-limited");
    // Another client behind the same proxy, and the proxy itself, still have their budgets.
    for _ in 0..3 {
        let response = get_from(&app, "127.0.0.1", "/v1/organisations", &other).await;
        assert_eq!(response.status, 200, "{}", response.text);
    }
    assert_problem(
        &get_from(&app, "127.0.0.1", "/v1/organisations", &other).await,
        429,
        "rate-limited",
    );
    let response = get_from(&app, "127.0.0.1", "/v1/organisations", &[]).await;
    assert_eq!(response.status, 200, "{}", response.text);
}

#[tokio::test]
async fn an_untrusted_peer_cannot_escape_its_rate_limit_with_forwarded_headers() {
    let app = spawn_app_with(&[(PER_ADDRESS, "3")]).await;
    for i in 1..=3 {
        let spoofed = format!("198.51.100.{i}");
        let response = get_from(
            &app,
            "127.0.0.1",
            "/v1/organisations",
            &[("x-forwarded-for", &spoofed)],
        )
        .await;
        assert_eq!(response.status, 200, "{}", response.text);
    }
    let refused = get_from(
        &app,
        "127.0.0.1",
        "/v1/organisations",
        &[
            ("forwarded", "for=198.51.100.9"),
            ("x-forwarded-for", "198.51.100.9"),
        ],
    )
    .await;
    assert_problem(&refused, 429, "rate-limited");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_login_lockout_counts_the_forwarded_client() {
    let app = spawn_app_with(&[
        (TRUSTED, "127.0.0.1/32"),
        (MAX_FAILURES, "2"),
        (LOGIN_LIMIT, "1000"),
    ])
    .await;
    let attacker = [("x-forwarded-for", "198.51.100.66")];
    for _ in 0..2 {
        assert_eq!(
            login_from(&app, "127.0.0.1", "wrong password!", &attacker).await,
            401
        );
    }
    // Locked for the attacker's address, even with the right password ...
    assert_eq!(
        login_from(&app, "127.0.0.1", STAFF_PASSWORD, &attacker).await,
        401
    );
    // ... but not for the owner behind the same proxy, nor for the proxy itself.
    let owner = [("forwarded", "for=198.51.100.10")];
    assert_eq!(
        login_from(&app, "127.0.0.1", STAFF_PASSWORD, &owner).await,
        200
    );
    assert_eq!(
        login_from(&app, "127.0.0.1", STAFF_PASSWORD, &[]).await,
        200
    );
}

#[tokio::test]
async fn an_untrusted_peer_cannot_dodge_the_login_lockout_with_forwarded_headers() {
    let app = spawn_app_with(&[(MAX_FAILURES, "2"), (LOGIN_LIMIT, "1000")]).await;
    for i in 1..=2 {
        let spoofed = format!("198.51.100.{i}");
        let headers = [("x-forwarded-for", spoofed.as_str())];
        assert_eq!(
            login_from(&app, "127.0.0.1", "wrong password!", &headers).await,
            401
        );
    }
    // The peer is locked, whatever address it claims to send for.
    let claimed = [
        ("forwarded", "for=198.51.100.3"),
        ("x-forwarded-for", "198.51.100.3"),
    ];
    assert_eq!(
        login_from(&app, "127.0.0.1", STAFF_PASSWORD, &claimed).await,
        401
    );
    // Another peer is not.
    assert_eq!(
        login_from(&app, "127.0.0.2", STAFF_PASSWORD, &[]).await,
        200
    );
}

/// The `request handled` log line of `response` (found by its server request id).
fn request_log_line(logs: &str, response: &Response) -> String {
    let id = response
        .header("x-server-request-id")
        .expect("X-Server-Request-Id");
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(id) && l.contains("request handled"))
        .collect();
    assert_eq!(lines.len(), 1, "one request line for {id}: {logs}");
    lines[0].to_owned()
}

#[tokio::test]
async fn the_request_log_line_names_the_client_a_trusted_proxy_forwards_for() {
    let logs = capture_logs();
    let app = spawn_app_with(&[(TRUSTED, "127.0.0.1/32")]).await;
    let forwarded = [("x-forwarded-for", "198.51.100.77")];
    let trusted = get_from(&app, "127.0.0.1", "/v1/organisations", &forwarded).await;
    assert_eq!(trusted.status, 200, "{}", trusted.text);
    let spoofed = [("forwarded", "for=198.51.100.78")];
    let untrusted = get_from(&app, "127.0.0.2", "/v1/organisations", &spoofed).await;
    assert_eq!(untrusted.status, 200, "{}", untrusted.text);
    let text = logs.text();
    let line = request_log_line(&text, &trusted);
    assert!(line.contains("source=198.51.100.77"), "{line}");
    let line = request_log_line(&text, &untrusted);
    assert!(line.contains("source=127.0.0.2"), "{line}");
    assert!(!line.contains("198.51.100.78"), "{line}");
}
