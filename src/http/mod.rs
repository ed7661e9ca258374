//! HTTP plumbing shared by every route: extractors, request ids, pagination.

pub mod extract;
pub mod pagination;
pub mod request_id;
