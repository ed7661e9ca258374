//! What the casework views (requests, pairings, exit interviews) share: ids from the path,
//! filters from the query string, CSV exports and texts looked up by key with a fallback.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use uuid::Uuid;

use super::forms::{FieldErrors, FormData};
use super::i18n::Texts;
use crate::error::ApiError;
use crate::i18n::Lang;

/// The id in a path, or the not-found every unknown id gets (a malformed id names nothing).
pub fn path_id(resource: &'static str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound {
        resource,
        id: String::new(),
    })
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

/// A CSV cell that a spreadsheet cannot read as a formula: one starting with `=`, `+`, `-`,
/// `@`, tab or CR gets a leading `'`.
pub fn guarded(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// A CSV download of `rows` under `header`, every cell guarded, as `filename`.
pub fn csv_response(
    filename: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<HttpResponse, ApiError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let failed = |e: csv::Error| ApiError::internal(format!("writing a CSV export: {e}"));
    writer.write_record(header).map_err(failed)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| guarded(cell)))
            .map_err(failed)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| ApiError::internal(format!("writing a CSV export: {e}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CONTENT_SECURITY_POLICY, super::CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(guarded("=1+1"), "'=1+1");
        assert_eq!(guarded("+31"), "'+31");
        assert_eq!(guarded("-x"), "'-x");
        assert_eq!(guarded("@SUM"), "'@SUM");
        assert_eq!(guarded("\tx"), "'\tx");
        assert_eq!(guarded("CASE-1"), "CASE-1");
    }
}
