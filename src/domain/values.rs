//! Validation of incoming values. A [`Check`] collects every problem of a request, so that a 400
//! lists all invalid fields at once; each method returns the cleaned value to store.

use crate::error::{ApiError, FieldError};

pub const MAX_NAME: usize = 200;
pub const MAX_EMAIL: usize = 254;
pub const MAX_PHONE: usize = 32;
pub const MAX_REGION: usize = 100;
pub const MAX_NOTE: usize = 2000;
pub const MAX_REASON: usize = 500;
pub const MAX_CLIENT_REF: usize = 64;
pub const MAX_TOPIC: usize = 100;
pub const MAX_LIST: usize = 20;

/// ISO 639-1 two-letter language codes.
const ISO_639_1: &str = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce \
ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha \
he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku \
kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv \
ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st \
su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

#[derive(Debug, Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn errors_mut(&mut self) -> &mut Vec<FieldError> {
        &mut self.errors
    }

    /// `Ok` when nothing failed, otherwise a 400 listing every failure.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }

    /// Trimmed, non-empty, at most `max` characters, no control characters (newlines are
    /// allowed when `multiline`).
    fn bounded(&mut self, field: &str, value: &str, max: usize, multiline: bool) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.fail(field, "must not be empty");
        } else if value.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        } else if value
            .chars()
            .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
        {
            self.fail(field, "must not contain control characters");
        }
        value.to_owned()
    }

    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        self.bounded(field, value, max, false)
    }

    pub fn note(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        value.map(|v| self.bounded(field, v, max, true))
    }

    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        value.map(|v| self.bounded(field, v, max, false))
    }

    /// A plausible e-mail address: one `@`, a dotted domain, no spaces. Lower-cased domain.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        let valid = value.len() <= MAX_EMAIL
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && match value.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if !valid {
            self.fail(field, "must be an e-mail address such as name@example.org");
            return value.to_owned();
        }
        canonical_email(value)
    }

    /// A phone number: digits with optional leading `+` and spaces, dashes or parentheses;
    /// 6 to 15 digits (E.164 allows at most 15).
    pub fn phone(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (c == '+' && i == 0)
        });
        if !allowed || !(6..=15).contains(&digits) || value.len() > MAX_PHONE {
            self.fail(field, "must be a phone number such as +31 6 12345678");
        }
        value.to_owned()
    }

    /// A list of ISO 639-1 codes, lower-cased, without duplicates, 1 to 10 of them.
    pub fn languages(&mut self, field: &str, values: &[String]) -> Vec<String> {
        if values.is_empty() {
            self.fail(
                field,
                "must name at least one language (ISO 639-1 code, e.g. nl)",
            );
        }
        if values.len() > 10 {
            self.fail(field, "must name at most 10 languages");
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for (i, code) in values.iter().enumerate() {
            let code = code.trim().to_ascii_lowercase();
            if code.len() != 2 || !ISO_639_1.split(' ').any(|c| c == code) {
                self.fail(
                    &format!("{field}[{i}]"),
                    "must be an ISO 639-1 language code, e.g. nl",
                );
            } else if !out.contains(&code) {
                out.push(code);
            }
        }
        out
    }

    /// One ISO 639-1 code, lower-cased.
    pub fn language(&mut self, field: &str, value: &str) -> String {
        let code = value.trim().to_ascii_lowercase();
        if code.len() != 2 || !ISO_639_1.split(' ').any(|c| c == code) {
            self.fail(field, "must be an ISO 639-1 language code, e.g. nl");
        }
        code
    }

    /// A region: a municipality or region name or code.
    pub fn region(&mut self, field: &str, value: &str) -> String {
        self.text(field, value, MAX_REGION)
    }

    /// A bounded list of short free-text items, without duplicates.
    pub fn topics(&mut self, field: &str, values: &[String]) -> Vec<String> {
        if values.len() > MAX_LIST {
            self.fail(field, format!("must hold at most {MAX_LIST} items"));
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for (i, topic) in values.iter().enumerate() {
            let topic = self.text(&format!("{field}[{i}]"), topic, MAX_TOPIC);
            if !out.contains(&topic) {
                out.push(topic);
            }
        }
        out
    }

    /// A list of enumeration values, at most `MAX_LIST`, without duplicates.
    pub fn distinct<T: PartialEq + Copy>(&mut self, field: &str, values: &[T]) -> Vec<T> {
        if values.len() > MAX_LIST {
            self.fail(field, format!("must hold at most {MAX_LIST} items"));
        }
        let mut out = Vec::new();
        for v in values {
            if !out.contains(v) {
                out.push(*v);
            }
        }
        out
    }

    /// The case system's pseudonymous client reference. Never a BSN: nine digits are refused.
    pub fn client_ref(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        if value.is_empty() || value.len() > MAX_CLIENT_REF {
            self.fail(field, format!("must be 1 to {MAX_CLIENT_REF} characters"));
        } else if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
        {
            self.fail(field, "may hold only letters, digits and - _ . : /");
        } else if value.len() == 9 && value.bytes().all(|b| b.is_ascii_digit()) {
            self.fail(
                field,
                "looks like a BSN; use the case system's pseudonymous reference, never a BSN",
            );
        }
        value.to_owned()
    }
}

/// Stores a list as JSON text (the MultiConnection has no array type).
pub fn list_to_json<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).expect("lists of strings serialise")
}

pub fn list_from_json<T: serde::de::DeserializeOwned>(text: &str) -> anyhow::Result<Vec<T>> {
    Ok(serde_json::from_str(text)?)
}

/// An e-mail address as it is stored: trimmed, with the domain (which is case-insensitive) in
/// lower case and the local part as given. Look addresses up in this form too.
pub fn canonical_email(value: &str) -> String {
    let value = value.trim();
    match value.split_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(f: impl FnOnce(&mut Check)) -> usize {
        let mut check = Check::new();
        f(&mut check);
        check.errors.len()
    }

    #[test]
    fn emails() {
        assert_eq!(
            failures(|c| assert_eq!(c.email("e", " Ann@Example.ORG "), "Ann@example.org")),
            0
        );
        for bad in [
            "", "a", "a@b", "a @b.nl", "@b.nl", "a@b..nl", "a@.b.nl", "a@@b.nl",
        ] {
            assert_eq!(
                failures(|c| {
                    c.email("e", bad);
                }),
                1,
                "{bad}"
            );
        }
    }

    #[test]
    fn phones() {
        for good in ["+31 6 12345678", "06-12345678", "(020) 1234567"] {
            assert_eq!(
                failures(|c| {
                    c.phone("p", good);
                }),
                0,
                "{good}"
            );
        }
        for bad in [
            "12345",
            "06-1234567x",
            "31+612345678",
            "+31 6 1234 5678 9012 34",
        ] {
            assert_eq!(
                failures(|c| {
                    c.phone("p", bad);
                }),
                1,
                "{bad}"
            );
        }
    }

    #[test]
    fn languages_are_iso_639_1() {
        let mut c = Check::new();
        let langs = c.languages("l", &["NL".into(), "en".into(), "nl".into()]);
        assert_eq!(langs, vec!["nl", "en"]);
        assert_eq!(
            failures(|c| {
                c.languages("l", &["xx".into(), "eng".into()]);
            }),
            2
        );
        assert_eq!(
            failures(|c| {
                c.languages("l", &[]);
            }),
            1
        );
    }

    #[test]
    fn texts_are_bounded() {
        assert_eq!(
            failures(|c| {
                c.text("t", &"x".repeat(MAX_NAME), MAX_NAME);
            }),
            0
        );
        assert_eq!(
            failures(|c| {
                c.text("t", &"x".repeat(MAX_NAME + 1), MAX_NAME);
            }),
            1
        );
        assert_eq!(
            failures(|c| {
                c.text("t", "   ", MAX_NAME);
            }),
            1
        );
        assert_eq!(
            failures(|c| {
                c.text("t", "a\u{7}b", MAX_NAME);
            }),
            1
        );
        assert_eq!(
            failures(|c| {
                c.note("t", Some("line\nline"), MAX_NOTE);
            }),
            0
        );
    }

    #[test]
    fn client_refs_are_pseudonymous() {
        assert_eq!(
            failures(|c| {
                c.client_ref("r", "CASE-2026-0042");
            }),
            0
        );
        assert_eq!(
            failures(|c| {
                c.client_ref("r", "123456782");
            }),
            1
        );
        assert_eq!(
            failures(|c| {
                c.client_ref("r", "has space");
            }),
            1
        );
        assert_eq!(
            failures(|c| {
                c.client_ref("r", "");
            }),
            1
        );
    }
}
