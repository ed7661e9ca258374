//! Content negotiation on `Accept` (RFC 9110 §12.5.1) for operations that answer in more than
//! one media type, on actix-web's typed [`Accept`] header.

use actix_web::http::header::{self, Accept, Header, Quality};
use actix_web::HttpMessage;

/// Picks the media type to answer in from `offered` (the first is the default): the one with the
/// highest quality the `Accept` header gives it, the earlier offer winning a tie. No `Accept`
/// header, an empty one, or one that is not readable text, takes the default. `None` when the
/// header allows none of them (every match has `q=0`, nothing matches, or no element can be
/// read, e.g. a `q` that is not a number): answer 406.
///
/// A media range matches an offer exactly (`text/csv`), by type (`text/*`) or wholly (`*/*`);
/// the most specific range decides an offer's quality. Parameters other than `q` are ignored.
pub fn negotiate<'a>(req: &impl HttpMessage, offered: &[&'a str]) -> Option<&'a str> {
    let given = req
        .headers()
        .get_all(header::ACCEPT)
        .any(|value| !value.as_bytes().trim_ascii().is_empty());
    let accept = match Accept::parse(req) {
        Ok(accept) if given => accept,
        _ => return offered.first().copied(),
    };
    let mut best: Option<(&'a str, Quality)> = None;
    for offer in offered {
        let (kind, _) = offer.split_once('/').unwrap_or((offer, ""));
        let quality = accept
            .iter()
            .filter_map(|range| {
                let specificity = match (range.item.type_().as_str(), range.item.subtype().as_str())
                {
                    _ if range.item.essence_str() == *offer => 3,
                    (t, "*") if t == kind => 2,
                    ("*", "*") => 1,
                    _ => return None,
                };
                Some((specificity, range.quality))
            })
            .max_by_key(|(specificity, _)| *specificity)
            .map(|(_, q)| q);
        if let Some(q) = quality.filter(|q| *q > Quality::ZERO) {
            if best.is_none_or(|(_, b)| q > b) {
                best = Some((offer, q));
            }
        }
    }
    best.map(|(offer, _)| offer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERED: &[&str] = &["application/json", "text/csv"];

    fn pick(accept: Option<&str>) -> Option<&'static str> {
        let mut req = actix_web::test::TestRequest::default();
        if let Some(accept) = accept {
            req = req.insert_header((header::ACCEPT, accept));
        }
        negotiate(&req.to_http_request(), OFFERED)
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
        assert_eq!(pick(Some(" , ")), None);
    }

    #[test]
    fn an_unreadable_header_takes_the_default() {
        let req = actix_web::test::TestRequest::default()
            .insert_header((
                header::ACCEPT,
                header::HeaderValue::from_bytes(b"text/csv\xff").unwrap(),
            ))
            .to_http_request();
        assert_eq!(negotiate(&req, OFFERED), Some("application/json"));
        assert_eq!(pick(Some("  ")), Some("application/json"));
    }
}
