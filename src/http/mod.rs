//! HTTP plumbing shared by every route: extractors, request ids, pagination, rate limits,
//! security headers, the API version header, methods (405, HEAD, OPTIONS), CORS and
//! conditional requests (`ETag`, `If-Match`, `If-None-Match`).

pub mod accept;
pub mod api_version;
pub mod bare_errors;
pub mod client_addr;
pub mod conditional;
pub mod cors;
pub mod extract;
pub mod header_values;
pub mod idempotency;
pub mod methods;
pub mod oversized;
pub mod pagination;
pub mod rate_limit;
pub mod request_id;
pub mod route;
pub mod security_headers;
