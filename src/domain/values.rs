//! Validation of incoming values. A [`Check`] collects every problem of a request, so that a 400
//! lists all invalid fields at once; each method returns the cleaned value to store.

use super::error::{DomainError, FieldError};

pub const MAX_NAME: usize = 200;
pub const MAX_EMAIL: usize = 254;
pub const MAX_PHONE: usize = 32;
pub const MAX_REGION: usize = 100;
pub const MAX_NOTE: usize = 2000;
pub const MAX_REASON: usize = 500;
pub const MAX_CLIENT_REF: usize = 64;
pub const MAX_TOPIC: usize = 100;
pub const MAX_LIST: usize = 20;
pub const MAX_LANGUAGES: usize = 10;

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
    pub fn finish(self) -> Result<(), DomainError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.errors))
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

    /// An e-mail address the mailer can send to: what [`is_mail_address`] accepts. Lower-cased
    /// domain.
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        if !is_mail_address(value) {
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
        if values.len() > MAX_LANGUAGES {
            self.fail(
                field,
                format!("must name at most {MAX_LANGUAGES} languages"),
            );
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

    /// The case system's pseudonymous client reference: 1 to 64 letters, digits and `- _ . : /`,
    /// and never a BSN (see [`looks_like_bsn`]).
    pub fn client_ref(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        if value.is_empty() || value.len() > MAX_CLIENT_REF {
            self.fail(field, format!("must be 1 to {MAX_CLIENT_REF} characters"));
        } else if looks_like_bsn(value) {
            self.fail(field, BSN_REFUSED);
        } else if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
        {
            self.fail(field, "may hold only letters, digits and - _ . : /");
        }
        value.to_owned()
    }
}

/// Why a client reference that looks like a BSN is refused.
pub const BSN_REFUSED: &str =
    "looks like a BSN; use the case system's pseudonymous reference, never a BSN";

/// The rule, as the contract states it.
pub const BSN_RULE: &str = "Never a BSN: a reference of nine digits is refused, and so is any \
reference whose digits, once every other character is removed, are exactly nine and pass the \
elfproef (the BSN 11-check), such as `123.456.782`, `123-45-6782` or `BSN:123456782`. Refused \
with 400 `urn:maatje:problem:validation` naming `client_ref`.";

/// True when `value` could be a BSN written down: nine digits, or a text whose digits (every
/// other character removed) are exactly nine and pass the elfproef.
///
/// A longer run of digits that contains nine passing the elfproef is allowed: about one in
/// eleven nine-digit windows of any number passes, so refusing those would refuse ordinary
/// case numbers (`2026-000123-17`) without telling a BSN apart; and a BSN is nine digits, not
/// part of a longer number.
pub fn looks_like_bsn(value: &str) -> bool {
    let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 9 {
        return false;
    }
    value.chars().all(|c| c.is_ascii_digit()) || passes_elfproef(&digits)
}

/// The BSN 11-check: 9·d1 + 8·d2 + … + 2·d8 − d9 is a multiple of 11.
fn passes_elfproef(digits: &[u32]) -> bool {
    let weighted: i64 = digits
        .iter()
        .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(&d, w)| i64::from(d) * w)
        .sum();
    weighted % 11 == 0
}

/// An address the mailer (lettre) parses, as an address and as the mailbox it sends to, in the
/// plain form the contract's pattern describes: ASCII, an unquoted local part of at most 64
/// characters, a host name of letters, digits and hyphens with at least one dot (no address
/// literal), at most 254 characters in all. `a,b@example.org` is refused: the mailer cannot send to it.
pub fn is_mail_address(value: &str) -> bool {
    if value.len() > MAX_EMAIL || !value.is_ascii() || value.contains('"') {
        return false;
    }
    let Ok(address) = value.parse::<lettre::Address>() else {
        return false;
    };
    address.user().len() <= 64
        && address.domain().contains('.')
        && address
            .domain()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
        && value
            .parse::<lettre::message::Mailbox>()
            .is_ok_and(|mailbox| mailbox.name.is_none() && mailbox.email == address)
}

/// An ISO 639-1 language code in the contract: the component behind the items of every list of
/// languages (see [`schema::languages`]).
pub struct LanguageCode;

impl utoipa::PartialSchema for LanguageCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::RefOr::T(schema::language_code())
    }
}

impl utoipa::ToSchema for LanguageCode {
    fn name() -> std::borrow::Cow<'static, str> {
        "LanguageCode".into()
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

/// The JSON Schemas of the values above, built from the same constants, for the contract
/// (`#[schema(schema_with = ...)]` on request and response fields). A value valid against one
/// of these passes the matching [`Check`] method; the tests below hold them together.
pub mod schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;

    use super::*;

    /// Control characters (Unicode category Cc), which single-line texts may not hold.
    const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";
    /// The control characters a multi-line text may not hold: all but tab, newline, return.
    const CONTROL_MULTILINE: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";

    /// The local part and domain the mailer accepts (see [`is_mail_address`]).
    pub const EMAIL_PATTERN: &str = concat!(
        r"^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*",
        r"@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    );
    /// Digits with an optional leading `+` and spaces, dashes or parentheses; 6 to 15 digits.
    pub const PHONE_PATTERN: &str = r"^\+?[ ()-]*([0-9][ ()-]*){6,15}$";
    pub const CLIENT_REF_PATTERN: &str = r"^[A-Za-z0-9._:/-]+$";

    /// A trimmed-non-empty text of at most `max` characters without control characters.
    fn text(max: usize, multiline: bool, description: &str) -> ObjectBuilder {
        let control = if multiline {
            CONTROL_MULTILINE
        } else {
            CONTROL
        };
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(max))
            .pattern(Some(format!(r"^[^{control}]*[^\s{control}][^{control}]*$")))
            .description(Some(format!(
                "{description}{}At most {max} characters, not only spaces{}.",
                if description.is_empty() { "" } else { " " },
                if multiline {
                    "; line breaks and tabs are allowed, other control characters not"
                } else {
                    ", no control characters (no line breaks)"
                }
            )))
    }

    fn done(object: ObjectBuilder) -> RefOr<Schema> {
        RefOr::T(Schema::Object(object.build()))
    }

    /// A webhook endpoint's description: one line of text.
    pub fn endpoint_description() -> RefOr<Schema> {
        done(text(
            crate::domain::webhook::MAX_DESCRIPTION,
            false,
            "What the endpoint is for, for people.",
        ))
    }

    /// As [`endpoint_description`]; `null` removes it (or leaves it out on creation).
    pub fn endpoint_description_or_null() -> RefOr<Schema> {
        or_null(endpoint_description())
    }

    /// A name: of a person, an organisation or a system.
    pub fn name() -> RefOr<Schema> {
        done(text(MAX_NAME, false, ""))
    }

    /// A municipality or region name or code.
    pub fn region() -> RefOr<Schema> {
        done(text(MAX_REGION, false, "Municipality or region name or code.").examples(["Utrecht"]))
    }

    /// A free-text note of several lines.
    pub fn note() -> RefOr<Schema> {
        done(text(MAX_NOTE, true, ""))
    }

    /// A reason, kept in the history; may have several lines.
    pub fn reason() -> RefOr<Schema> {
        done(text(MAX_REASON, true, "Why; kept in the history."))
    }

    /// A reason on one line.
    pub fn reason_line() -> RefOr<Schema> {
        done(text(MAX_REASON, false, "Why; kept in the history."))
    }

    pub fn email() -> RefOr<Schema> {
        done(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Email,
                )))
                .max_length(Some(MAX_EMAIL))
                .pattern(Some(EMAIL_PATTERN))
                .description(Some(
                    "An e-mail address the mailer can send to: ASCII, an unquoted local part \
                     (at most 64 characters), a domain name with at least one dot. The domain \
                     is stored in lower case.",
                ))
                .examples(["name@example.org"]),
        )
    }

    pub fn phone() -> RefOr<Schema> {
        done(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(MAX_PHONE))
                .pattern(Some(PHONE_PATTERN))
                .description(Some(
                    "A phone number: 6 to 15 digits, with an optional leading `+` and spaces, \
                     dashes or parentheses.",
                ))
                .examples(["+31 6 12345678"]),
        )
    }

    /// A phone number, or `null` to remove it.
    /// `schema`, allowing `null` as well: for an optional field, where `null` means the same as
    /// leaving the field out (serde reads both as `None`).
    fn or_null(schema: RefOr<Schema>) -> RefOr<Schema> {
        use utoipa::openapi::schema::SchemaType;
        let nullable = |t: &SchemaType| match t {
            SchemaType::Type(t) => SchemaType::from_iter([t.clone(), Type::Null]),
            other => other.clone(),
        };
        match schema {
            RefOr::T(Schema::Object(mut object)) => {
                object.schema_type = nullable(&object.schema_type);
                if let Some(values) = object.enum_values.as_mut() {
                    values.push(serde_json::Value::Null);
                }
                RefOr::T(Schema::Object(object))
            }
            other => other,
        }
    }

    /// [`name`] or `null` (left out).
    pub fn name_or_null() -> RefOr<Schema> {
        or_null(name())
    }

    /// [`email`] or `null` (left out).
    pub fn email_or_null() -> RefOr<Schema> {
        or_null(email())
    }

    /// [`phone`] or `null` (left out), for a field that is only given, never cleared.
    pub fn optional_phone() -> RefOr<Schema> {
        or_null(phone())
    }

    /// [`note`] or `null` (left out).
    pub fn note_or_null() -> RefOr<Schema> {
        or_null(note())
    }

    /// [`reason`] or `null` (left out).
    pub fn reason_or_null() -> RefOr<Schema> {
        or_null(reason())
    }

    pub fn phone_or_null() -> RefOr<Schema> {
        let RefOr::T(Schema::Object(phone)) = phone() else {
            unreachable!("phone() is an object schema")
        };
        let mut phone = phone;
        phone.schema_type =
            utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]);
        phone.description = Some(format!(
            "{} `null` removes the phone number.",
            phone.description.unwrap_or_default()
        ));
        RefOr::T(Schema::Object(phone))
    }

    /// The client's recorded consent, which must be given: only `true` is accepted.
    pub fn consent() -> RefOr<Schema> {
        done(
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([true]))
                .description(Some(
                    "The client consents to their contact details being shared with the buddy. \
                     Must be `true`: a buddy can only be paired when the client consents.",
                )),
        )
    }

    fn language_object() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ISO_639_1.split(' ')))
    }

    /// One ISO 639-1 code, lower case.
    pub fn language() -> RefOr<Schema> {
        done(
            language_object()
                .description(Some("An ISO 639-1 language code, lower case."))
                .examples(["nl"]),
        )
    }

    /// The component [`LanguageCode`] names: one ISO 639-1 code, lower case.
    pub fn language_code() -> Schema {
        Schema::Object(
            language_object()
                .description(Some("An ISO 639-1 language code, lower case."))
                .build(),
        )
    }

    /// 1 to 10 ISO 639-1 codes; a repeated code counts once. The items refer to the component
    /// `LanguageCode`, so that a generated client has one type for a language, not one per field.
    pub fn languages() -> RefOr<Schema> {
        RefOr::T(Schema::Array(
            ArrayBuilder::new()
                .items(utoipa::openapi::Ref::from_schema_name("LanguageCode"))
                .min_items(Some(1))
                .max_items(Some(MAX_LANGUAGES))
                .description(Some(format!(
                    "ISO 639-1 language codes, lower case: 1 to {MAX_LANGUAGES}; a repeated code \
                     counts once."
                )))
                .examples([serde_json::json!(["nl", "en"])])
                .build(),
        ))
    }

    /// At most `MAX_LIST` short free-text topics.
    pub fn topics() -> RefOr<Schema> {
        RefOr::T(Schema::Array(
            ArrayBuilder::new()
                .items(text(MAX_TOPIC, false, ""))
                .max_items(Some(MAX_LIST))
                .description(Some(format!(
                    "Other topics, at most {MAX_LIST}; a repeated topic counts once."
                )))
                .examples([serde_json::json!(["school", "housing"])])
                .build(),
        ))
    }

    /// At most `MAX_LIST` kinds of measure.
    pub fn measure_kinds() -> RefOr<Schema> {
        RefOr::T(Schema::Array(
            ArrayBuilder::new()
                .items(utoipa::openapi::Ref::from_schema_name("MeasureKind"))
                .max_items(Some(MAX_LIST))
                .description(Some(format!(
                    "Kinds of measure, at most {MAX_LIST}; a repeated kind counts once."
                )))
                .build(),
        ))
    }

    pub fn client_ref() -> RefOr<Schema> {
        done(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_CLIENT_REF))
                .pattern(Some(CLIENT_REF_PATTERN))
                .description(Some(format!(
                    "The case system's own pseudonymous reference for the client. {BSN_RULE}"
                )))
                .examples(["CASE-2026-0042"]),
        )
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

    /// What the contract's schema says of `value`.
    fn schema_accepts(
        schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        value: &str,
    ) -> bool {
        let schema = serde_json::to_value(schema).unwrap();
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
            .is_valid(&serde_json::json!(value))
    }

    /// The schema and the check agree on every sample: a value the schema accepts is accepted.
    #[track_caller]
    fn agree(
        schema: fn() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        check: impl Fn(&mut Check, &str),
        samples: &[&str],
    ) {
        for sample in samples {
            let by_schema = schema_accepts(schema(), sample);
            let by_check = failures(|c| check(c, sample)) == 0;
            assert_eq!(
                by_schema, by_check,
                "{sample:?}: schema {by_schema}, check {by_check}"
            );
        }
    }

    #[test]
    fn mail_addresses_are_what_the_mailer_parses() {
        for bad in [
            "a,b@example.org",
            "a;b@example.org",
            "\"a b\"@example.org",
            "a@[127.0.0.1]",
            "Ann <ann@example.org>",
            "ann@example",
            "ann@-example.org",
            "ann@example-.org",
            "ann.@example.org",
            ".ann@example.org",
            "a..b@example.org",
            "é@example.org",
        ] {
            assert!(!is_mail_address(bad), "{bad}");
        }
        for good in [
            "ann@example.org",
            "a.b+tag@mail.example.org",
            "o'brien@example.ie",
            "x@123.example",
        ] {
            assert!(is_mail_address(good), "{good}");
        }
        assert!(!is_mail_address(&format!("{}@example.org", "a".repeat(65))));
        assert!(is_mail_address(&format!("{}@example.org", "a".repeat(64))));
        let long = format!("{}@{}.org", "a".repeat(60), "b".repeat(200));
        assert!(!is_mail_address(&long));
    }

    #[test]
    fn schemas_agree_with_the_checks() {
        let emails = [
            "ann@example.org",
            "a.b+tag@mail.example.org",
            "a,b@example.org",
            "\"a b\"@example.org",
            "a@[127.0.0.1]",
            "ann@example",
            "ann.@example.org",
            "a..b@example.org",
            "é@example.org",
            "ann@exa_mple.org",
            "ann@example.org.",
        ];
        agree(schema::email, |c, v| drop(c.email("e", v)), &emails);
        let phones = [
            "+31 6 12345678",
            "06-12345678",
            "(020) 1234567",
            "12345",
            "123456",
            "06-1234567x",
            "31+612345678",
            "+31 6 1234 5678 9012 34",
            "++31612345678",
            "1234567890123456",
        ];
        agree(schema::phone, |c, v| drop(c.phone("p", v)), &phones);
        let texts = [
            "Ann",
            "Ann de Vries",
            "a\u{7}b",
            "line\nline",
            "a\u{85}b",
            "x\u{9f}",
            "é",
        ];
        agree(schema::name, |c, v| drop(c.text("t", v, MAX_NAME)), &texts);
        let notes = ["line\nline", "tab\tx", "a\u{7}b", "x\r\ny"];
        agree(
            schema::note,
            |c, v| drop(c.note("t", Some(v), MAX_NOTE)),
            &notes,
        );
        // Padding is trimmed by the check: the schema is stricter only there.
        for blank in ["", " ", "\n"] {
            assert!(!schema_accepts(schema::name(), blank), "{blank:?}");
            assert_eq!(failures(|c| drop(c.text("t", blank, MAX_NAME))), 1);
        }
        assert!(schema_accepts(schema::name(), &"x".repeat(MAX_NAME)));
        assert!(!schema_accepts(schema::name(), &"x".repeat(MAX_NAME + 1)));
        let refs = [
            "CASE-2026-0042",
            "123456782",
            "123456789",
            "123.456.782",
            "BSN:123456782",
            "123-45-6782",
            "has space",
            "REF-2026-00042",
            "a/b:c_d.e-f",
        ];
        agree(
            schema::client_ref,
            |c, v| drop(c.client_ref("r", v)),
            &refs[..1],
        );
        for sample in refs {
            // The schema cannot compute the elfproef; every other refusal it states.
            if !looks_like_bsn(sample) {
                let by_schema = schema_accepts(schema::client_ref(), sample);
                let by_check = failures(|c| drop(c.client_ref("r", sample))) == 0;
                assert_eq!(by_schema, by_check, "{sample}");
            }
        }
        let language = |value: &str| {
            let schema = serde_json::to_value(schema::language()).unwrap();
            jsonschema::is_valid(&schema, &serde_json::json!(value))
        };
        assert!(language("nl") && language("fy") && !language("NL") && !language("xx"));
    }

    #[test]
    fn bsns_are_refused_however_written() {
        // 123456782 passes the elfproef: 9·1+8·2+7·3+6·4+5·5+4·6+3·7+2·8−2 = 154 = 14·11.
        for bsn in [
            "123456782",
            "123.456.782",
            "BSN:123456782",
            "bsn-123456782",
            "123-45-6782",
            "123/456/782",
            "123456789", // nine digits and nothing else: refused whether or not it passes
        ] {
            assert!(looks_like_bsn(bsn), "{bsn}");
            let mut c = Check::new();
            c.client_ref("r", bsn);
            assert_eq!(c.errors.len(), 1, "{bsn}");
            assert!(c.errors[0].message.contains("BSN"), "{bsn}: {:?}", c.errors);
        }
        // With spaces it is refused too, as a BSN (spaces are not allowed at all).
        let mut c = Check::new();
        c.client_ref("r", "123 456 782");
        assert!(c.errors[0].message.contains("BSN"), "{:?}", c.errors);
        for pseudonym in [
            "CASE-2026-0042",   // eight digits
            "REF-123.456.789",  // nine digits failing the elfproef, with separators
            "2026-123456782-1", // a passing nine inside a longer number
            "123456782123",     // twelve digits
            "A12345678",        // eight digits
        ] {
            assert!(!looks_like_bsn(pseudonym), "{pseudonym}");
            assert_eq!(
                failures(|c| drop(c.client_ref("r", pseudonym))),
                0,
                "{pseudonym}"
            );
        }
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
