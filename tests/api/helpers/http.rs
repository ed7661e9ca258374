//! Sending requests as a test: the request helpers of [`TestApp`], each of which checks the
//! exchange (see [`crate::helpers`]), the [`Response`] they return, and paging through lists.

use serde_json::Value;

use super::exchange::check_exchange;
use super::{Method, Sent, TestApp};

/// What a request got back.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The body parsed as JSON, or `Value::Null` when it is not JSON.
    pub body: Value,
    /// The body as text (lossy UTF-8).
    pub text: String,
}

impl Response {
    /// A header's value, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `X-Request-Id` header (every response has one; the helpers check it).
    pub fn request_id(&self) -> &str {
        self.header("x-request-id").expect("checked on receipt")
    }

    /// The `Content-Type` without parameters, lower-cased ("" when absent).
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None, Vec::new()).await
    }

    /// POSTs `body` as `application/json`.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some("application/json"), to_bytes(body))
            .await
    }

    /// POSTs without a body (and without a content type), as for action endpoints.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.request(Method::POST, path, None, Vec::new()).await
    }

    /// PATCHes `body` as `application/json`.
    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.request(
            Method::PATCH,
            path,
            Some("application/json"),
            to_bytes(body),
        )
        .await
    }

    /// Any method, any bytes, any content type (`None`: no `Content-Type` header).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        self.request_with_headers(method, path, content_type, body, &[])
            .await
    }

    /// As [`TestApp::request`], with extra request headers.
    pub async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Response {
        assert!(path.starts_with('/'), "paths start with '/': {path}");
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.address));
        let explicit_auth = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        if !explicit_auth {
            if let Some(token) = self.token.lock().unwrap().clone() {
                request = request.header("authorization", format!("Bearer {token}"));
            }
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        for (name, value) in headers {
            // An empty authorization header stands for "send no credentials".
            if !(name.eq_ignore_ascii_case("authorization") && value.is_empty()) {
                request = request.header(*name, *value);
            }
        }
        let sent_body = body.clone();
        if !body.is_empty() {
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: no response: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: unreadable body: {e}"));
        let response = Response {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        };
        let sent = Sent {
            content_type,
            body: &sent_body,
        };
        check_exchange(&method, path, sent, &response);
        response
    }

    /// Follows `next_cursor` from `path` (which may carry a query) and returns every item of
    /// every page, asserting each page is a 200.
    pub async fn collect_pages(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let url = match &cursor {
                None => path.to_owned(),
                Some(c) => with_query(path, "cursor", c),
            };
            let page = self.get(&url).await;
            assert_eq!(page.status, 200, "GET {url}: {}", page.text);
            items.extend(
                page.body["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .cloned(),
            );
            match page.body.get("next_cursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("{path}: more than 1000 pages");
    }

    /// Every history entry of a resource, e.g. `app.history("/v1/organisations/<id>")`,
    /// oldest first, following `next_cursor` to the end.
    pub async fn history(&self, resource_path: &str) -> Vec<Value> {
        self.collect_pages(&format!("{resource_path}/history"))
            .await
    }

    /// The records of the audit trail matching `query` (e.g. `"outcome=denied"`, or `""` for
    /// all), oldest first, read through `GET /v1/audit` as the admin the app started with,
    /// following `next_cursor` to the end. Reading the trail does not add to it.
    pub async fn audit_records_where(&self, query: &str) -> Vec<Value> {
        let admin = format!("Bearer {}", self.admin_token);
        let mut items = Vec::new();
        let mut url = format!("/v1/audit?limit=200&{query}");
        for _ in 0..1000 {
            let page = self
                .request_with_headers(
                    Method::GET,
                    &url,
                    None,
                    Vec::new(),
                    &[("authorization", &admin)],
                )
                .await;
            assert_eq!(page.status, 200, "GET {url}: {}", page.text);
            items.extend(
                page.body["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .cloned(),
            );
            match page.body.get("next_cursor").and_then(Value::as_str) {
                Some(next) => {
                    url = with_query(&format!("/v1/audit?limit=200&{query}"), "cursor", next)
                }
                None => return items,
            }
        }
        panic!("/v1/audit: more than 1000 pages");
    }

    /// Every record of the audit trail, oldest first (see [`TestApp::audit_records_where`]).
    pub async fn audit_records(&self) -> Vec<Value> {
        self.audit_records_where("").await
    }
}

/// `path` with `key=value` appended to its query string (value URL-encoded).
pub fn with_query(path: &str, key: &str, value: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .append_pair(key, value)
        .finish();
    format!("{path}{separator}{encoded}")
}

pub(super) fn to_bytes(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).expect("a JSON value serialises")
}
