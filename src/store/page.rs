//! Cursor pagination (the paging values; the contract's parameter is in
//! `crate::http::pagination`). Lists are ordered by id (UUIDv7, so by creation time); a cursor is the
//! opaque, resource-bound encoding of the last id of the previous page. A list ordered by another
//! key (the audit trail, by sequence number) uses [`PageRequest::parse_keyed`] and
//! [`PageRequest::finish_keyed`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::domain::error::FieldError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Rows to return.
    pub limit: u32,
    /// Return only rows with an id (or key) greater than this one.
    pub after: Option<String>,
    kind: &'static str,
}

impl PageRequest {
    /// Validates `limit` and `cursor` for the list of `kind`, adding problems to `errors`.
    pub fn parse(
        kind: &'static str,
        limit: Option<u32>,
        cursor: Option<&str>,
        errors: &mut Vec<FieldError>,
    ) -> PageRequest {
        Self::parse_keyed(kind, limit, cursor, errors, is_uuid)
    }

    /// As [`PageRequest::parse`], for a list ordered by a key other than the id: `key_ok` says
    /// which keys a cursor of this list may carry.
    pub fn parse_keyed(
        kind: &'static str,
        limit: Option<u32>,
        cursor: Option<&str>,
        errors: &mut Vec<FieldError>,
        key_ok: impl Fn(&str) -> bool,
    ) -> PageRequest {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be between 1 and {MAX_LIMIT}"),
                ));
                DEFAULT_LIMIT
            }
        };
        let after = cursor.and_then(|c| match decode_with(kind, c, &key_ok) {
            Some(id) => Some(id),
            None => {
                errors.push(FieldError::new("cursor", "not a cursor of this list"));
                None
            }
        });
        PageRequest { limit, after, kind }
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the fetched rows to the page and computes the next cursor.
    pub fn finish<T>(&self, rows: Vec<T>, id_of: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
        self.finish_keyed(rows, |r| id_of(r).to_owned())
    }

    /// As [`PageRequest::finish`], for a list ordered by the key `key_of` gives.
    pub fn finish_keyed<T>(
        &self,
        mut rows: Vec<T>,
        key_of: impl Fn(&T) -> String,
    ) -> (Vec<T>, Option<String>) {
        if rows.len() > self.limit as usize {
            rows.truncate(self.limit as usize);
            let next = rows.last().map(|r| encode(self.kind, &key_of(r)));
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

/// The longest cursor a list accepts.
pub const MAX_CURSOR: usize = 200;

fn encode(kind: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

fn is_uuid(key: &str) -> bool {
    Uuid::parse_str(key).is_ok()
}

#[cfg(test)]
fn decode(kind: &str, cursor: &str) -> Option<String> {
    decode_with(kind, cursor, is_uuid)
}

fn decode_with(kind: &str, cursor: &str, key_ok: impl Fn(&str) -> bool) -> Option<String> {
    if cursor.len() > MAX_CURSOR {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let key = text.strip_prefix(kind)?.strip_prefix(':')?;
    key_ok(key).then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_list() {
        let id = Uuid::now_v7().to_string();
        let cursor = encode("buddies", &id);
        assert_eq!(decode("buddies", &cursor), Some(id));
        assert_eq!(decode("pairings", &cursor), None);
        assert_eq!(decode("buddies", "not-base64!"), None);
        assert_eq!(
            decode("buddies", &URL_SAFE_NO_PAD.encode("buddies:123")),
            None
        );
    }

    #[test]
    fn keyed_cursors_carry_only_valid_keys() {
        let is_seq = |k: &str| k.parse::<i64>().is_ok_and(|n| n >= 0);
        let mut errors = vec![];
        let page = PageRequest::parse_keyed("audit", Some(1), None, &mut errors, is_seq);
        let (_, next) = page.finish_keyed(vec![7_i64, 8], |n| n.to_string());
        let next = next.unwrap();
        let again = PageRequest::parse_keyed("audit", None, Some(&next), &mut errors, is_seq);
        assert_eq!(again.after.as_deref(), Some("7"));
        assert!(errors.is_empty());
        let bad = URL_SAFE_NO_PAD.encode("audit:-1");
        PageRequest::parse_keyed("audit", None, Some(&bad), &mut errors, is_seq);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn limits_are_bounded() {
        let mut errors = vec![];
        assert_eq!(
            PageRequest::parse("x", None, None, &mut errors).limit,
            DEFAULT_LIMIT
        );
        PageRequest::parse("x", Some(0), None, &mut errors);
        PageRequest::parse("x", Some(MAX_LIMIT + 1), Some("zz"), &mut errors);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["limit", "limit", "cursor"]);
    }

    #[test]
    fn finish_cuts_and_points_past_the_last_row() {
        let mut errors = vec![];
        let page = PageRequest::parse("x", Some(2), None, &mut errors);
        let ids: Vec<String> = (0..3).map(|_| Uuid::now_v7().to_string()).collect();
        let (rows, next) = page.finish(ids.clone(), |s| s.as_str());
        assert_eq!(rows.len(), 2);
        assert_eq!(decode("x", &next.unwrap()), Some(ids[1].clone()));
        let (rows, next) = page.finish(ids[..2].to_vec(), |s| s.as_str());
        assert_eq!((rows.len(), next), (2, None));
    }
}
