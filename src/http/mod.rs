//! HTTP plumbing shared by every route: extractors, request ids, pagination and rate limits.

pub mod bare_errors;
pub mod extract;
pub mod pagination;
pub mod rate_limit;
pub mod request_id;
