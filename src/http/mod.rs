//! HTTP plumbing shared by every route: extractors, request ids, pagination.

pub mod bare_errors;
pub mod extract;
pub mod pagination;
pub mod request_id;
