//! Content negotiation on `Accept` (RFC 9110 §12.5.1) for operations that answer in more than
//! one media type.

use actix_web::http::header;
use actix_web::HttpRequest;

/// Picks the media type to answer in from `offered` (the first is the default): the one with the
/// highest quality the `Accept` header gives it, the earlier offer winning a tie. No `Accept`
/// header, or an empty one, takes the default. `None` when the header allows none of them
/// (every match has `q=0`, or nothing matches): answer 406.
///
/// A media range matches an offer exactly (`text/csv`), by type (`text/*`) or wholly (`*/*`);
/// the most specific range decides an offer's quality. Parameters other than `q` are ignored.
pub fn negotiate<'a>(accept: Option<&str>, offered: &[&'a str]) -> Option<&'a str> {
    let accept = match accept.map(str::trim) {
        None | Some("") => return offered.first().copied(),
        Some(accept) => accept,
    };
    let ranges: Vec<(String, f32)> = accept.split(',').filter_map(media_range).collect();
    let mut best: Option<(&'a str, f32)> = None;
    for offer in offered {
        let (kind, _) = offer.split_once('/').unwrap_or((offer, ""));
        let quality = ranges
            .iter()
            .filter_map(|(range, q)| {
                let specificity = if range.eq_ignore_ascii_case(offer) {
                    3
                } else if range.eq_ignore_ascii_case(&format!("{kind}/*")) {
                    2
                } else if range == "*/*" {
                    1
                } else {
                    return None;
                };
                Some((specificity, *q))
            })
            .max_by_key(|(specificity, _)| *specificity)
            .map(|(_, q)| q);
        if let Some(q) = quality.filter(|q| *q > 0.0) {
            if best.is_none_or(|(_, b)| q > b) {
                best = Some((offer, q));
            }
        }
    }
    best.map(|(offer, _)| offer)
}

/// One element of an `Accept` header: the range and its quality (1 unless `q` says otherwise;
/// an unreadable `q` counts as 0). Empty elements are skipped.
fn media_range(element: &str) -> Option<(String, f32)> {
    let mut parts = element.split(';').map(str::trim);
    let range = parts.next().filter(|r| !r.is_empty())?.to_ascii_lowercase();
    let mut quality = 1.0;
    for parameter in parts {
        if let Some((name, value)) = parameter.split_once('=') {
            if name.trim().eq_ignore_ascii_case("q") {
                quality = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .unwrap_or(0.0);
            }
        }
    }
    Some((range, quality))
}

/// The request's `Accept` header as text (`Some("")` if it is not readable text).
pub fn accept_header(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::ACCEPT)
        .map(|v| v.to_str().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERED: &[&str] = &["application/json", "text/csv"];

    fn pick(accept: Option<&str>) -> Option<&'static str> {
        negotiate(accept, OFFERED)
    }

    #[test]
    fn the_default_without_preferences() {
        assert_eq!(pick(None), Some("application/json"));
        assert_eq!(pick(Some("")), Some("application/json"));
        assert_eq!(pick(Some("*/*")), Some("application/json"));
    }

    #[test]
    fn an_exact_or_typed_range_picks_its_offer() {
        assert_eq!(pick(Some("text/csv")), Some("text/csv"));
        assert_eq!(pick(Some("TEXT/CSV; charset=utf-8")), Some("text/csv"));
        assert_eq!(pick(Some("text/*")), Some("text/csv"));
        assert_eq!(pick(Some("application/json")), Some("application/json"));
        assert_eq!(pick(Some("application/*")), Some("application/json"));
    }

    #[test]
    fn quality_decides_and_ties_go_to_the_earlier_offer() {
        assert_eq!(
            pick(Some("application/json;q=0.5, text/csv")),
            Some("text/csv")
        );
        assert_eq!(
            pick(Some("text/csv;q=0.4, */*;q=0.9")),
            Some("application/json")
        );
        assert_eq!(
            pick(Some("text/csv, application/json")),
            Some("application/json")
        );
        // The most specific range wins: CSV refused although */* allows everything.
        assert_eq!(pick(Some("*/*, text/csv;q=0")), Some("application/json"));
        assert_eq!(
            pick(Some("*/*;q=0.1, application/json;q=0")),
            Some("text/csv")
        );
    }

    #[test]
    fn nothing_acceptable() {
        assert_eq!(pick(Some("text/html")), None);
        assert_eq!(pick(Some("application/xml, image/*")), None);
        assert_eq!(pick(Some("application/json;q=0, text/csv;q=0")), None);
        assert_eq!(pick(Some("*/*;q=0")), None);
        assert_eq!(pick(Some("text/csv;q=abc")), None);
    }
}
