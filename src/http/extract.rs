//! Extractors whose failures are problem+json and list every invalid field they can find.
//!
//! actix-web's own `Json` and `Query` answer in plain text and stop at the first error; these read
//! the body with a size limit (413), demand a JSON content type (415), and report unknown fields,
//! wrong types and missing fields together, each with its JSON path. A member named twice in one
//! object is an error too (serde_json would silently keep the last one, so a check that read
//! one and a store that read the other could disagree).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{Identity, ORGANISATION_FROM_KEY};
use crate::error::{ApiError, FieldError};

/// The largest accepted body, put in app data by the server from `server.max_body_bytes`.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

impl Default for BodyLimit {
    fn default() -> Self {
        BodyLimit(64 * 1024)
    }
}

/// A JSON request body that must be present.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// A JSON request body that may be left out entirely (action endpoints with an optional reason).
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        let refused = refused_members(req);
        Box::pin(async move {
            match body.await? {
                Some(bytes) => parse_json_refusing(&bytes, refused)
                    .map(Json)
                    .map_err(ApiError::Invalid),
                None => Err(ApiError::invalid(
                    "",
                    "a JSON object is required as request body",
                )),
            }
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        let refused = refused_members(req);
        Box::pin(async move {
            match body.await? {
                Some(bytes) => parse_json_refusing(&bytes, refused)
                    .map(|v| OptionalJson(Some(v)))
                    .map_err(ApiError::Invalid),
                None => Ok(OptionalJson(None)),
            }
        })
    }
}

/// Top-level members the caller may never send, with why: a case system's organisation is the
/// one of its API key, so it never names one. Refusing them here, next to the other errors of the
/// body, lists them together with those (a handler's own check would only run on a body that
/// parsed), and holds for every operation a case system may call.
fn refused_members(req: &HttpRequest) -> &'static [(&'static str, &'static str)] {
    let scoped = req
        .extensions()
        .get::<Identity>()
        .is_some_and(|identity| identity.scope().is_some());
    if scoped {
        &[("organisation_id", ORGANISATION_FROM_KEY)]
    } else {
        &[]
    }
}

/// Reads the whole body within the limit. `None` for an empty body.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<Option<Vec<u8>>, ApiError>> {
    let limit = req.app_data::<BodyLimit>().copied().unwrap_or_default().0;
    let declared = declared_length(req.headers());
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let payload = payload.take();
    Box::pin(async move {
        let body = read_limited(payload, limit, declared).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        match content_type {
            Some(ct) if is_json_media_type(&ct) => Ok(Some(body)),
            _ => Err(ApiError::UnsupportedMediaType),
        }
    })
}

/// The `Content-Length` a request declares, if any.
pub fn declared_length(headers: &header::HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Reads `payload` whole, refusing (413) a body that declares or turns out to be longer than
/// `limit` as soon as that is known.
pub async fn read_limited(
    mut payload: Payload,
    limit: usize,
    declared: Option<usize>,
) -> Result<Vec<u8>, ApiError> {
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid("", format!("unreadable body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses `bytes` into `T`, collecting every unknown field, wrong type and missing field rather
/// than stopping at the first.
///
/// serde stops at the first error, so after each one the offending member is removed from the
/// document and parsing is tried again, until it succeeds or an error cannot be narrowed further.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Vec<FieldError>> {
    parse_json_refusing(bytes, &[])
}

/// As [`parse_json`], and a top-level member named in `refused` is an error with its message.
pub fn parse_json_refusing<T: DeserializeOwned>(
    bytes: &[u8],
    refused: &[(&str, &str)],
) -> Result<T, Vec<FieldError>> {
    let mut document: Value = serde_json::from_slice(bytes).map_err(|e| {
        vec![FieldError::new(
            "",
            format!("malformed JSON at line {} column {}", e.line(), e.column()),
        )]
    })?;
    if !document.is_object() {
        return Err(vec![FieldError::new("", "the body must be a JSON object")]);
    }
    whole_numbers_as_integers(&mut document);
    let mut errors: Vec<FieldError> = duplicate_members(bytes)
        .into_iter()
        .map(|field| {
            FieldError::new(
                field,
                "is given more than once; a member may appear only once in an object",
            )
        })
        .collect();
    if let Some(members) = document.as_object_mut() {
        for (name, why) in refused {
            if members.remove(*name).is_some() {
                errors.push(FieldError::new(*name, *why));
            }
        }
    }
    // Each round removes one member, so this terminates; the cap only bounds pathological bodies.
    for _ in 0..64 {
        let failure = match serde_path_to_error::deserialize::<_, T>(&document) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(errors),
            Err(failure) => failure,
        };
        let path: Vec<Segment> = failure.path().iter().map(Segment::from).collect();
        let message = failure.into_inner().to_string();
        let missing = missing_field(&message);
        let (field_path, message) = match &missing {
            Some(name) => (join(&path, Some(name)), format!("missing field `{name}`")),
            None => (join(&path, None), clean(&message)),
        };
        // A member removed below for being invalid shows up as missing next, and a member missing
        // inside a stand-in for a missing member is part of that one: both already reported.
        let reported = errors
            .iter()
            .any(|e| within(&e.field, &field_path) || within(&field_path, &e.field));
        if !reported {
            errors.push(FieldError::new(field_path.clone(), message));
        }
        match missing {
            // serde names one missing member at a time, and only once everything present is
            // valid: put a stand-in in its place so that the next round finds the next one.
            Some(name) => {
                if !stand_in::<T>(&mut document, &path, &name, &field_path) {
                    break;
                }
            }
            None if reported => break,
            None => {
                // Remove the offending member; for a list element, the whole list (removing one
                // element would shift the indices of the others).
                let member = path
                    .iter()
                    .rposition(|s| matches!(s, Segment::Key(_)))
                    .map(|i| &path[..=i]);
                if !member.is_some_and(|member| remove(&mut document, member)) {
                    break;
                }
            }
        }
    }
    Err(errors)
}

/// Every member named a second time in one of the document's objects, at any depth, as its
/// path (`name`, `client.email`, `items[2].name`), in document order. Empty for well-formed
/// JSON without duplicates, and for malformed JSON (which the parse reports).
///
/// One pass over the text with serde, without building a document: each object keeps the
/// names it has seen, borrowed from the body where they hold no escapes (`"a"` and `"\u0061"`
/// are the same name); paths are only built for a duplicate.
/// JSON Schema counts `1.0` as an integer, as the contract's `type: integer` does; serde's
/// integers refuse it. So a number without a fraction is read as the integer it is.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Within ±2^53 an f64 holds every integer exactly.
            if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(members) => members.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

pub fn duplicate_members(bytes: &[u8]) -> Vec<String> {
    use serde::de::DeserializeSeed;
    let found = std::cell::RefCell::new(Vec::new());
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let walked = duplicates::Walk {
        at: &duplicates::Parent::Root,
        found: &found,
    }
    .deserialize(&mut deserializer);
    match walked {
        Ok(()) => found.into_inner(),
        Err(_) => Vec::new(),
    }
}

mod duplicates {
    use std::borrow::Cow;
    use std::cell::RefCell;
    use std::collections::HashSet;
    use std::fmt;

    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

    /// Where a value sits: a chain of parents on the stack, joined into a path only when needed.
    pub enum Parent<'a> {
        Root,
        Key(&'a Parent<'a>, &'a str),
        Index(&'a Parent<'a>, usize),
    }

    impl Parent<'_> {
        fn write(&self, out: &mut String) {
            match self {
                Parent::Root => {}
                Parent::Key(parent, key) => {
                    parent.write(out);
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Parent::Index(parent, index) => {
                    parent.write(out);
                    out.push_str(&format!("[{index}]"));
                }
            }
        }
    }

    /// Visits any JSON value, recording duplicate members in `found`.
    pub struct Walk<'a> {
        pub at: &'a Parent<'a>,
        pub found: &'a RefCell<Vec<String>>,
    }

    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    /// The names an object has seen: a short list, a set once it grows.
    enum Seen<'de> {
        Few(Vec<Cow<'de, str>>),
        Many(HashSet<Cow<'de, str>>),
    }

    impl<'de> Seen<'de> {
        fn contains(&self, name: &str) -> bool {
            match self {
                Seen::Few(names) => names.iter().any(|n| n == name),
                Seen::Many(set) => set.contains(name),
            }
        }

        fn insert(&mut self, name: Cow<'de, str>) {
            match self {
                Seen::Few(names) if names.len() < 16 => names.push(name),
                Seen::Few(names) => {
                    let mut set: HashSet<Cow<'de, str>> = names.drain(..).collect();
                    set.insert(name);
                    *self = Seen::Many(set);
                }
                Seen::Many(set) => {
                    set.insert(name);
                }
            }
        }
    }

    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }

        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }

        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }

        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }

        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }

        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            loop {
                let at = Parent::Index(self.at, index);
                let element = Walk {
                    at: &at,
                    found: self.found,
                };
                if seq.next_element_seed(element)?.is_none() {
                    return Ok(());
                }
                index += 1;
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = Seen::Few(Vec::new());
            while let Some(name) = map.next_key_seed(Name)? {
                let at = Parent::Key(self.at, &name);
                map.next_value_seed(Walk {
                    at: &at,
                    found: self.found,
                })?;
                if seen.contains(&name) {
                    let mut path = String::new();
                    at.write(&mut path);
                    self.found.borrow_mut().push(path);
                } else {
                    seen.insert(name);
                }
            }
            Ok(())
        }
    }

    /// A member name, borrowed from the body when it holds no escapes.
    struct Name;

    impl<'de> DeserializeSeed<'de> for Name {
        type Value = Cow<'de, str>;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl<'de> Visitor<'de> for Name {
        type Value = Cow<'de, str>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a member name")
        }

        fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(name))
        }

        fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(name.to_owned()))
        }
    }
}

/// Puts a value of a type the missing member `name` (under `parent`) accepts into the document:
/// the first of a few typical values after which parsing no longer fails at that member (a
/// missing member inside it is fine: the next round reports it as such). False, with the
/// document as it was, when none fits.
fn stand_in<T: DeserializeOwned>(
    document: &mut Value,
    parent: &[Segment],
    name: &str,
    field: &str,
) -> bool {
    let mut candidates: Vec<Value> = vec![
        Value::from(""),
        Value::from(0),
        Value::from(false),
        Value::Array(Vec::new()),
        Value::Object(Default::default()),
        Value::from("00000000-0000-0000-0000-000000000000"),
        Value::from("2000-01-01"),
        Value::from("2000-01-01T00:00:00Z"),
    ];
    let mut tried = 0;
    while let Some(candidate) = candidates.get(tried).cloned() {
        tried += 1;
        let Some(object) = object_at(document, parent) else {
            return false;
        };
        object.insert(name.to_owned(), candidate);
        let failure = match serde_path_to_error::deserialize::<_, T>(&*document) {
            Ok(_) => return true,
            Err(failure) => failure,
        };
        let path: Vec<Segment> = failure.path().iter().map(Segment::from).collect();
        let message = failure.into_inner().to_string();
        let inner_missing = missing_field(&message);
        let at = join(&path, inner_missing.as_deref());
        if !within(&at, field) || (inner_missing.is_some() && at != field) {
            return true;
        }
        // An enumeration names what it expects: try its first value.
        if let Some(variant) = message
            .split_once("expected")
            .and_then(|(_, rest)| rest.split('`').nth(1))
        {
            let variant = Value::from(variant);
            if !candidates.contains(&variant) {
                candidates.push(variant);
            }
        }
    }
    if let Some(object) = object_at(document, parent) {
        object.remove(name);
    }
    false
}

/// The object at `path` in the document, if there is one.
fn object_at<'a>(
    document: &'a mut Value,
    path: &[Segment],
) -> Option<&'a mut serde_json::Map<String, Value>> {
    let mut node = document;
    for segment in path {
        node = match (segment, node) {
            (Segment::Key(k), Value::Object(map)) => map.get_mut(k)?,
            (Segment::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    node.as_object_mut()
}

#[derive(Debug, Clone)]
enum Segment {
    Key(String),
    Index(usize),
    Other,
}

impl From<&serde_path_to_error::Segment> for Segment {
    fn from(s: &serde_path_to_error::Segment) -> Self {
        match s {
            serde_path_to_error::Segment::Map { key } => Segment::Key(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Segment::Index(*index),
            _ => Segment::Other,
        }
    }
}

fn join(path: &[Segment], last: Option<&str>) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Other => out.push_str(".?"),
        }
    }
    if let Some(last) = last {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(last);
    }
    out
}

/// True when `field` is `path` itself or lies inside it (`path.x`, `path[3]`).
fn within(field: &str, path: &str) -> bool {
    field
        .strip_prefix(path)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// serde's messages are good but end with a position that means nothing in a `Value`.
fn clean(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Removes the member at `path`; false if there is nothing removable there.
fn remove(document: &mut Value, path: &[Segment]) -> bool {
    let (last, parents) = match path.split_last() {
        Some(split) => split,
        None => return false,
    };
    let mut node = document;
    for segment in parents {
        node = match (segment, node) {
            (Segment::Key(k), Value::Object(map)) => match map.get_mut(k) {
                Some(child) => child,
                None => return false,
            },
            (Segment::Index(i), Value::Array(items)) => match items.get_mut(*i) {
                Some(child) => child,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, node) {
        (Segment::Key(k), Value::Object(map)) => map.remove(k).is_some(),
        _ => false,
    }
}

/// Query parameters, parsed strictly: unknown parameters and bad values are a 400.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|failure| {
        let path = failure.path().to_string();
        let message = failure.into_inner().to_string();
        let field = match missing_field(&message) {
            Some(name) => name,
            None if path == "." => ["unknown field `", "duplicate field `"]
                .iter()
                .find_map(|prefix| message.strip_prefix(prefix))
                .and_then(|r| r.split('`').next())
                .unwrap_or("")
                .to_owned(),
            None => path,
        };
        ApiError::invalid(field, clean(&message))
    })
}

/// Path segments that fail to parse (a malformed id) are a 400 naming the segment.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default()
        .error_handler(|_, _| ApiError::invalid("id", "must be a UUID").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        email: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        capacity: u8,
        inner: Inner,
        tags: Option<Vec<String>>,
    }

    fn fields(result: Result<Outer, Vec<FieldError>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn valid_document_parses() {
        let ok: Outer =
            parse_json(br#"{"name":"a","capacity":2,"inner":{"email":"x"},"tags":["t"]}"#).unwrap();
        assert_eq!(ok.capacity, 2);
    }

    #[test]
    fn every_bad_field_is_listed() {
        let body = br#"{"name":1,"capacity":"two","inner":{"email":"x","extra":true},"bogus":0}"#;
        let mut got = fields(parse_json(body));
        got.sort();
        assert_eq!(got, vec!["bogus", "capacity", "inner.extra", "name"]);
    }

    #[test]
    fn missing_fields_are_named() {
        let result: Result<Outer, _> = parse_json(br#"{"capacity":1,"inner":{"email":"x"}}"#);
        let errors = result.unwrap_err();
        assert_eq!(errors[0].field, "name");
        assert!(errors[0].message.contains("missing"));
    }

    #[test]
    fn every_missing_field_is_listed() {
        assert_eq!(fields(parse_json(b"{}")), vec!["name", "capacity", "inner"]);
        let mut got = fields(parse_json(br#"{"capacity":"x","bogus":1,"inner":{}}"#));
        got.sort();
        assert_eq!(got, vec!["bogus", "capacity", "inner.email", "name"]);
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Role {
        Coordinator,
        Admin,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Typed {
        role: Role,
        id: uuid::Uuid,
        on: chrono::NaiveDate,
        at: chrono::DateTime<chrono::Utc>,
        inner: Inner,
        score: f64,
        last: String,
    }

    #[test]
    fn missing_fields_of_every_type_are_listed() {
        let got: Vec<String> = parse_json::<Typed>(b"{}")
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(got, ["role", "id", "on", "at", "inner", "score", "last"]);
        // A member of the wrong type is reported as such, not again as missing, and the
        // members after it are still checked.
        let got: Vec<FieldError> =
            parse_json::<Typed>(br#"{"role":"root","last":"x"}"#).unwrap_err();
        let names: Vec<&str> = got.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, ["role", "id", "on", "at", "inner", "score"]);
        assert!(got[0].message.contains("unknown variant"), "{got:?}");
    }

    #[test]
    fn duplicate_members_are_found_at_any_depth() {
        assert!(duplicate_members(br#"{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}"#).is_empty());
        assert_eq!(duplicate_members(br#"{"a":1,"a":2}"#), ["a"]);
        assert_eq!(
            duplicate_members(br#"{"x":{"e":1,"f":[{"g":1,"g":2}],"e":3}}"#),
            ["x.f[0].g", "x.e"]
        );
        assert_eq!(duplicate_members(br#"[{"a":1},{"b":1,"b":1}]"#), ["[1].b"]);
        // An escaped name is the same name.
        assert_eq!(duplicate_members(br#"{"a":1,"\u0061":2}"#), ["a"]);
        // Past the short list, the set still finds them.
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let body = format!("{{{},\"k7\":0,\"k39\":0}}", many.join(","));
        assert_eq!(duplicate_members(body.as_bytes()), ["k7", "k39"]);
        assert!(duplicate_members(b"{\"a\":").is_empty());
    }

    #[test]
    fn a_duplicate_member_is_an_invalid_field_listed_with_the_others() {
        let body =
            br#"{"name":"a","capacity":2,"inner":{"email":"x","email":"y"},"name":"b","bogus":1}"#;
        let mut got = fields(parse_json(body));
        got.sort();
        assert_eq!(got, vec!["bogus", "inner.email", "name"]);
        let errors =
            parse_json::<Outer>(br#"{"name":"a","capacity":2,"inner":{"email":"x"},"capacity":3}"#)
                .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "capacity");
        assert!(errors[0].message.contains("more than once"), "{errors:?}");
    }

    #[test]
    fn malformed_json_and_non_objects() {
        assert_eq!(fields(parse_json(b"{\"name\":")), vec![""]);
        assert_eq!(fields(parse_json(b"[1,2]")), vec![""]);
    }

    #[test]
    fn list_elements_of_the_wrong_type_are_located() {
        let body = br#"{"name":"a","capacity":1,"inner":{"email":"x"},"tags":["ok",3]}"#;
        assert_eq!(fields(parse_json(body)), vec!["tags[1]"]);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct RequiredList {
        tags: Vec<u8>,
        name: String,
    }

    #[test]
    fn a_whole_number_with_a_fraction_part_is_an_integer_as_json_schema_says() {
        let outer: Outer =
            parse_json(br#"{"name": "a", "capacity": 2.0, "inner": {"email": "e"}, "tags": null}"#)
                .unwrap();
        assert_eq!(outer.capacity, 2);
        let result: Result<Outer, _> =
            parse_json(br#"{"name": "a", "capacity": 2.5, "inner": {"email": "e"}}"#);
        assert_eq!(fields(result), ["capacity"]);
    }

    #[test]
    fn errors_after_a_bad_list_element_are_still_collected() {
        let body = br#"{"tags":[1,"x"],"zzz":1,"name":2}"#;
        let mut got: Vec<String> = parse_json::<RequiredList>(body)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        got.sort();
        assert_eq!(got, vec!["name", "tags[1]", "zzz"]);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct ListQuery {
        limit: Option<u32>,
        state: Option<String>,
    }

    #[test]
    fn queries_are_strict() {
        let q: ListQuery = parse_query("limit=5&state=open").unwrap();
        assert_eq!(q.limit, Some(5));
        match parse_query::<ListQuery>("limit=five") {
            Err(ApiError::Invalid(e)) => assert_eq!(e[0].field, "limit"),
            other => panic!("{other:?}"),
        }
        match parse_query::<ListQuery>("stat=open") {
            Err(ApiError::Invalid(e)) => assert_eq!(e[0].field, "stat"),
            other => panic!("{other:?}"),
        }
    }
}
