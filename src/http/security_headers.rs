//! Security headers on every response, errors included. Wrapped outermost, so the answers the
//! other middlewares produce (a 429, a problem document replacing a bare error) carry them too.
//!
//! - `X-Content-Type-Options: nosniff`: a browser never guesses a type other than the one sent.
//! - `Referrer-Policy: no-referrer`: links from the docs leak no URL.
//! - `Content-Security-Policy`: nothing may frame a response (`frame-ancestors 'none'`); API
//!   answers, which are never meant to render, also load nothing (`default-src 'none'`). The
//!   Swagger UI under `/docs/` runs scripts and styles of its own, so it gets only the framing
//!   rule. A response that already carries a policy keeps it: the buddy response pages under
//!   `/respond/` send their own (their style by nonce, forms back to the service only).
//! - `Cache-Control: no-store` on everything but the static `/docs/` assets (which keep their
//!   own caching): API answers carry personal data, which no cache may keep.
//!
//! Responses the HTTP server writes itself before the application sees the request (a
//! malformed request line, headers too large) do not pass through here.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    HeaderMap, HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use actix_web::middleware::Next;
use actix_web::Error;

/// The policy of API answers: load nothing, be framed by nobody.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy of the Swagger UI: be framed by nobody; its scripts and styles must run.
pub const DOCS_CSP: &str = "frame-ancestors 'none'";

/// Where the Swagger UI and its static assets are served.
const DOCS_PREFIX: &str = "/docs/";

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    let docs = response.request().path().starts_with(DOCS_PREFIX);
    apply(response.headers_mut(), docs);
    Ok(response)
}

fn apply(headers: &mut HeaderMap, docs: bool) {
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, REFERRER_POLICY, "no-referrer");
    // A handler that sends a policy of its own (the response pages) keeps it.
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        let policy = if docs { DOCS_CSP } else { API_CSP };
        set(headers, CONTENT_SECURITY_POLICY, policy);
    }
    if !docs {
        set(headers, CACHE_CONTROL, "no-store");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_answers_get_every_header_and_no_store() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=600"));
        apply(&mut headers, false);
        assert_eq!(headers.get(X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert_eq!(headers.get(REFERRER_POLICY).unwrap(), "no-referrer");
        assert_eq!(headers.get(CONTENT_SECURITY_POLICY).unwrap(), API_CSP);
        assert_eq!(headers.get(CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(headers.get_all(CACHE_CONTROL).count(), 1);
    }

    #[test]
    fn a_handler_s_own_policy_is_kept() {
        let mut headers = HeaderMap::new();
        let own = "default-src 'none'; style-src 'nonce-abc'";
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(own));
        apply(&mut headers, false);
        assert_eq!(headers.get(CONTENT_SECURITY_POLICY).unwrap(), own);
        assert_eq!(headers.get(REFERRER_POLICY).unwrap(), "no-referrer");
        assert_eq!(headers.get(CACHE_CONTROL).unwrap(), "no-store");
    }

    #[test]
    fn docs_keep_their_caching_and_may_run_scripts() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=600"));
        apply(&mut headers, true);
        assert_eq!(headers.get(X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert_eq!(headers.get(REFERRER_POLICY).unwrap(), "no-referrer");
        assert_eq!(headers.get(CONTENT_SECURITY_POLICY).unwrap(), DOCS_CSP);
        assert_eq!(headers.get(CACHE_CONTROL).unwrap(), "max-age=600");
    }
}
