//! Cursor pagination at the HTTP edge: the contract's `cursor` parameter and the page types of
//! the lists. The paging values themselves are the store's ([`crate::store::page`]).

pub use crate::store::page::{PageRequest, DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT};

/// The contract's `cursor` parameter: what [`PageRequest::parse`] accepts the form of (it also
/// refuses a well-formed cursor of another list).
pub fn cursor_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_CURSOR))
        .pattern(Some("^[A-Za-z0-9_-]+$"))
        .description(Some(
            "The `next_cursor` of the previous page, unchanged: an opaque text bound to this \
             list (a cursor of another list is refused).",
        ))
        .build()
}

/// Declares the JSON page type of a list, so that each list has its own named schema.
#[macro_export]
macro_rules! page_type {
    ($name:ident, $item:ty, $what:literal) => {
        #[doc = concat!("One page of ", $what, ", oldest first.")]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub next_cursor: Option<String>,
        }
    };
}
