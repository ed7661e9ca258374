//! CSV downloads of console lists and reports: `text/csv; charset=utf-8`, an attachment with
//! its file name, the console's headers, and every cell guarded against formula injection.

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::error::{ApiError, ApiResult};

/// Characters that make a spreadsheet read a cell as a formula, or (tab, CR) that OWASP advises
/// to guard at a cell's start as well.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet may safely open it: a leading `'` when it starts with a formula
/// character, tab or CR.
pub fn guard(cell: &str) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The CSV text of `header` and `rows` (RFC 4180: quoted where needed, CRLF line ends), each
/// cell guarded by [`guard`].
pub fn csv_text<R, C>(header: &[&str], rows: R) -> ApiResult<String>
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = String>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::internal(format!("writing CSV: {e}"));
    writer
        .write_record(header.iter().map(|h| guard(h)))
        .map_err(fail)?;
    for row in rows {
        writer
            .write_record(row.into_iter().map(|c| guard(&c)))
            .map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::internal(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(format!("CSV is not UTF-8: {e}")))
}

/// A CSV download named `filename` (ASCII, no quotes), with the console's headers.
pub fn csv_response(filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CONTENT_SECURITY_POLICY, super::CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_guarded_and_others_left_alone() {
        for (cell, expected) in [
            ("=1+1", "'=1+1"),
            ("+31 6 1234", "'+31 6 1234"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Sam de Vries", "Sam de Vries"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(guard(cell), expected, "{cell:?}");
        }
    }

    #[test]
    fn csv_is_quoted_where_needed_with_crlf_line_ends() {
        let text = csv_text(
            &["name", "note"],
            [vec!["A, B".to_owned(), "=HYPERLINK(\"x\")".to_owned()]],
        )
        .unwrap();
        assert_eq!(text, "name,note\r\n\"A, B\",\"'=HYPERLINK(\"\"x\"\")\"\r\n");
    }
}
