//! What the casework views (requests, pairings, exit interviews) share: filters from the query
//! string, CSV exports (see [`super::export`]) and texts looked up by key with a fallback.

use actix_web::{HttpRequest, HttpResponse};

use super::forms::{FieldErrors, FormData};
use super::i18n::Texts;
use crate::error::ApiError;
use crate::i18n::Lang;

/// One entry of a record's history as the pages list it (the `m.history` macro): what happened
/// and who did it in the page's language, the states, the reason, and when (see
/// [`super::dashboard::ts`]).
#[derive(Debug, serde::Serialize)]
pub struct HistoryLine {
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub actor: String,
    pub reason: Option<String>,
    pub at: String,
}

/// The query string as form fields, for the filter forms (`GET`).
pub fn query_fields(req: &HttpRequest) -> FormData {
    FormData::from_pairs(
        form_urlencoded::parse(req.query_string().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// An optional choice: `None` when empty, an error when not one of `choices`.
pub fn optional_choice(
    form: &FormData,
    errors: &mut FieldErrors,
    field: &str,
    choices: &[&str],
) -> Option<String> {
    let value = form.get(field);
    if value.is_empty() {
        return None;
    }
    if choices.contains(&value) {
        Some(value.to_owned())
    } else {
        errors.fail(field, "field.choice");
        None
    }
}

/// The text of `key` in `lang`, or `fallback` when there is none.
pub fn text_or(key: &str, lang: Lang, fallback: &str) -> String {
    let texts = Texts::all();
    if texts.contains(key) {
        texts.get(key, lang).to_owned()
    } else {
        fallback.to_owned()
    }
}

/// A CSV download of `rows` under `header`, every cell guarded (see [`super::export`]), as
/// `filename`.
pub fn csv_response(
    filename: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<HttpResponse, ApiError> {
    let text = super::export::csv_text(header, rows.iter().map(|row| row.iter().cloned()))?;
    Ok(super::export::csv_response(filename, text))
}
