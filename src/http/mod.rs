//! HTTP plumbing shared by every route: extractors, request ids, pagination, rate limits and
//! security headers.

pub mod accept;
pub mod bare_errors;
pub mod extract;
pub mod pagination;
pub mod rate_limit;
pub mod request_id;
pub mod route;
pub mod security_headers;
