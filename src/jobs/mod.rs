//! Work the service does by itself, next to answering requests.

pub mod retention;
pub mod scheduler;
