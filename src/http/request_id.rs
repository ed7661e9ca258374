//! `X-Request-Id`: honoured when the caller sends a sane one, generated otherwise, echoed on every
//! response, and attached to a tracing span that covers the whole request.
//!
//! Only the matched route pattern (`/v1/buddies/{id}`) is logged, never the raw path or query
//! string, so that nothing a caller put in a URL ends up in the logs.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;
use tracing::Instrument;
use uuid::Uuid;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A caller-supplied id is reused only if it is short and plain, so it cannot forge log lines.
fn acceptable(candidate: &str) -> bool {
    (1..=128).contains(&candidate.len())
        && candidate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
    );
    let started = Instant::now();
    let outcome = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await;
    let mut response = outcome?;
    let route =
        super::route::pattern(response.request()).unwrap_or_else(|| "<unmatched>".to_owned());
    span.record("route", route.as_str());
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(status, elapsed_ms, "request handled"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_plain_ids_are_honoured() {
        assert!(acceptable("abc-123_X.y:z"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
