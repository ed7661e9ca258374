//! Conditional requests (RFC 9110 §13) on the routes that answer with one resource, those
//! registered with a tagged guard ([`crate::auth::policy::Guard::tagged`]):
//!
//! - **Every successful answer carries the resource's strong `ETag`**: the SHA-256 of the exact
//!   JSON bytes of the answer's body, base64url, quoted ([`EntityTag::of`]). The body of such an
//!   answer is the resource as its `GET` shows it to the caller, so the tag is the same whether
//!   the caller reads the resource, changes it (the answer then shows the new state) or
//!   created it.
//! - **`GET` (and `HEAD`) with `If-None-Match`**: when one of the tags matches the current one
//!   (weak comparison: `W/"x"` matches `"x"`), or it is `*`, the answer is `304 Not Modified`
//!   with the `ETag` and no body.
//! - **A change of an existing resource (a `PATCH` or action `POST` on `…/{id}…`) with
//!   `If-Match`**: the change goes through only when one of the tags is the resource's current
//!   tag (strong comparison: a weak tag matches none), or it is `*` (any existing resource);
//!   otherwise `412 Precondition Failed` (`urn:maatje:problem:precondition-failed`) and nothing
//!   is stored. The comparison is made inside the change's own write transaction, before the
//!   change, against the representation rendered there for the same caller
//!   ([`crate::ops::Precondition`], built by [`crate::api::Caller::ctx_on`]), with the row
//!   locked on PostgreSQL: no other change can slip in between the check and the write. An
//!   unknown id, or one the caller may not see, is still a 404.
//!
//! A malformed `If-Match` or `If-None-Match` (not `*` nor a list of quoted entity tags) is a 400
//! naming the header. RFC 9110 leaves the handling of an invalid field to the server; ignoring
//! it would turn a change the client meant to be conditional into an unconditional one.
//! Both headers are ignored on the routes that are not tagged.
//!
//! The middleware sits inside the audit trail (a 304 and a 412 are recorded as answered) and
//! outside `Idempotency-Key` (a replayed answer carries the tag of the body it replays).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::route;
use crate::auth::policy::Policy;
use crate::error::ApiError;

/// What a tagged route does with one resource, which decides the preconditions it honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `GET` of the resource: `ETag`, `If-None-Match`.
    Read,
    /// A change of an existing resource (`PATCH`, or an action `POST` on a path with `{id}`):
    /// `ETag` of the new state, `If-Match`.
    Change,
    /// The `POST` creating the resource: `ETag` of the new resource.
    Create,
}

impl Kind {
    /// The kind of the tagged route `method` `pattern` (a full route pattern).
    pub fn of(method: &str, pattern: &str) -> Kind {
        match method {
            "GET" | "HEAD" => Kind::Read,
            _ if pattern.contains("{id}") => Kind::Change,
            _ => Kind::Create,
        }
    }
}

/// An entity tag: the opaque part (without quotes) and whether it is weak (`W/"…"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    weak: bool,
    opaque: String,
}

impl EntityTag {
    /// The strong tag of a representation: SHA-256 of its bytes, base64url without padding.
    pub fn of(bytes: &[u8]) -> EntityTag {
        EntityTag {
            weak: false,
            opaque: URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)),
        }
    }

    /// The strong tag of `value` as a JSON answer shows it: the bytes `HttpResponse::json`
    /// writes (`serde_json`, compact).
    pub fn of_json<T: serde::Serialize>(value: &T) -> serde_json::Result<EntityTag> {
        serde_json::to_vec(value).map(|bytes| EntityTag::of(&bytes))
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong, same opaque part.
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Weak comparison: the same opaque part, weak or not.
    pub fn weak_eq(&self, other: &EntityTag) -> bool {
        self.opaque == other.opaque
    }
}

impl std::fmt::Display for EntityTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.weak {
            f.write_str("W/")?;
        }
        write!(f, "\"{}\"", self.opaque)
    }
}

/// The value of an `If-Match` or `If-None-Match` header: `*` or a list of entity tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Any,
    Tags(Vec<EntityTag>),
}

impl Condition {
    /// The condition the request's `name` header lines state together, `None` without one; an
    /// error message when it is malformed.
    pub fn parse(req: &HttpRequest, name: &HeaderName) -> Result<Option<Condition>, String> {
        let mut lines = req.headers().get_all(name).peekable();
        if lines.peek().is_none() {
            return Ok(None);
        }
        let joined: Vec<u8> = lines
            .map(HeaderValue::as_bytes)
            .collect::<Vec<_>>()
            .join(&b","[..]);
        parse_condition(&joined).map(Some)
    }

    /// `If-Match`: strong comparison; `*` matches any current representation.
    pub fn matches_strongly(&self, current: &EntityTag) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags.iter().any(|tag| tag.strong_eq(current)),
        }
    }

    /// `If-None-Match`: weak comparison; `*` matches any current representation.
    pub fn matches_weakly(&self, current: &EntityTag) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags.iter().any(|tag| tag.weak_eq(current)),
        }
    }
}

/// `"*"` or `1#entity-tag` (RFC 9110 §13.1.1): empty list elements are skipped, as the list
/// rule asks of a recipient, but at least one tag must be there.
fn parse_condition(value: &[u8]) -> Result<Condition, String> {
    let trimmed = value.trim_ascii();
    if trimmed == b"*" {
        return Ok(Condition::Any);
    }
    const SYNTAX: &str = "must be `*` or a comma-separated list of entity tags such as \
                          \"Zm9v\" or W/\"Zm9v\"";
    let mut tags = Vec::new();
    let mut rest = trimmed;
    loop {
        rest = rest.trim_ascii_start();
        while let [b',', tail @ ..] = rest {
            rest = tail.trim_ascii_start();
        }
        if rest.is_empty() {
            break;
        }
        let (weak, after) = match rest {
            [b'W', b'/', tail @ ..] => (true, tail),
            other => (false, other),
        };
        let [b'"', tail @ ..] = after else {
            return Err(SYNTAX.into());
        };
        let Some(end) = tail.iter().position(|&b| b == b'"') else {
            return Err(SYNTAX.into());
        };
        let opaque = &tail[..end];
        // etagc = %x21 / %x23-7E / obs-text; obs-text is refused, our tags are ASCII.
        if !opaque
            .iter()
            .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b))
        {
            return Err(SYNTAX.into());
        }
        tags.push(EntityTag {
            weak,
            opaque: String::from_utf8(opaque.to_vec()).map_err(|_| SYNTAX.to_owned())?,
        });
        rest = tail[end + 1..].trim_ascii_start();
        match rest {
            [] => break,
            [b',', ..] => {}
            _ => return Err(SYNTAX.into()),
        }
    }
    if tags.is_empty() {
        return Err(SYNTAX.into());
    }
    Ok(Condition::Tags(tags))
}

/// The `If-Match` of a request that changes one resource, as the middleware read it, for the
/// change to check ([`crate::ops::Precondition`]). It notes that it was checked: a change route
/// whose handler forgot to check it fails loudly instead of changing unconditionally.
#[derive(Debug, Clone)]
pub struct IfMatch {
    condition: Condition,
    checked: Arc<AtomicBool>,
}

impl IfMatch {
    /// The request's `If-Match`, when its route is a change of a tagged resource and it sent one.
    pub fn of(req: &HttpRequest) -> Option<IfMatch> {
        req.extensions().get::<IfMatch>().cloned()
    }

    /// Whether `current`, the resource's tag now, satisfies the precondition (strong comparison).
    pub fn matches(&self, current: &EntityTag) -> bool {
        self.checked.store(true, Ordering::SeqCst);
        self.condition.matches_strongly(current)
    }

    fn was_checked(&self) -> bool {
        self.checked.load(Ordering::SeqCst)
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(kind) = kind_of(&req) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let asked = match kind {
        Kind::Read => Some((header::IF_NONE_MATCH, "If-None-Match")),
        Kind::Change => Some((header::IF_MATCH, "If-Match")),
        Kind::Create => None,
    };
    let condition = match asked.map(|(name, shown)| (Condition::parse(req.request(), &name), shown))
    {
        None => None,
        Some((Ok(condition), _)) => condition,
        Some((Err(message), shown)) => {
            return Ok(req.error_response(ApiError::invalid(shown, message)));
        }
    };
    let if_match = match (kind, condition.clone()) {
        (Kind::Change, Some(condition)) => {
            let if_match = IfMatch {
                condition,
                checked: Arc::default(),
            };
            req.extensions_mut().insert(if_match.clone());
            Some(if_match)
        }
        _ => None,
    };
    let response = next.call(req).await?;
    if !response.status().is_success() {
        return Ok(response.map_into_boxed_body());
    }
    let (req, response) = response.into_parts();
    // A replayed answer (`Idempotency-Key`) is the first request's, which was checked; a change
    // that answered without checking is a handler missing `Caller::ctx_on`, caught by the tests.
    let replayed = response
        .headers()
        .contains_key(super::idempotency::REPLAYED);
    if !replayed && if_match.as_ref().is_some_and(|m| !m.was_checked()) {
        let error = ApiError::internal(format!(
            "{} {}: the change did not check the request's If-Match",
            req.method(),
            route::pattern(&req).unwrap_or_default()
        ));
        return Ok(ServiceResponse::new(req, error.error_response()));
    }
    let (response, body) = response.into_parts();
    let Ok(bytes) = body::to_bytes(body).await else {
        let error = ApiError::internal("the answer's body could not be read");
        return Ok(ServiceResponse::new(req, error.error_response()));
    };
    let tag = EntityTag::of(&bytes);
    let value = HeaderValue::try_from(tag.to_string()).expect("a tag is visible ASCII");
    let not_modified = kind == Kind::Read
        && condition
            .as_ref()
            .is_some_and(|condition| condition.matches_weakly(&tag));
    if not_modified {
        let mut answer = HttpResponse::with_body(StatusCode::NOT_MODIFIED, BoxBody::new(()));
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                answer.headers_mut().append(name.clone(), value.clone());
            }
        }
        answer.headers_mut().insert(header::ETAG, value);
        return Ok(ServiceResponse::new(req, answer));
    }
    let mut response = response.set_body(BoxBody::new(bytes));
    response.headers_mut().insert(header::ETAG, value);
    Ok(ServiceResponse::new(req, response))
}

/// The kind of the request's route, when it is tagged.
fn kind_of(req: &ServiceRequest) -> Option<Kind> {
    let pattern = route::pattern(req.request())?;
    let policy = req.app_data::<web::Data<Policy>>()?;
    let method = req.method();
    let rule = policy.find(method.as_str(), &pattern)?;
    if !rule.tagged {
        return None;
    }
    // A HEAD reaches here as the GET it stands for (see `methods`).
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    Some(Kind::of(method, &pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Condition, String> {
        parse_condition(text.as_bytes())
    }

    fn strong(opaque: &str) -> EntityTag {
        EntityTag {
            weak: false,
            opaque: opaque.into(),
        }
    }

    fn weak(opaque: &str) -> EntityTag {
        EntityTag {
            weak: true,
            opaque: opaque.into(),
        }
    }

    #[test]
    fn a_tag_is_the_quoted_base64url_sha256_of_the_bytes() {
        let tag = EntityTag::of(b"{}");
        // SHA-256 of `{}` is 44136fa3…; base64url without padding is 43 characters.
        assert_eq!(
            tag.to_string(),
            "\"RBNvo1WzZ4oRRq0W9-hknpT7T8If536DEMBg9hyq_4o\""
        );
        assert_eq!(EntityTag::of_json(&serde_json::json!({})).unwrap(), tag);
    }

    #[test]
    fn star_lists_and_weak_tags_parse() {
        assert_eq!(parse(" * "), Ok(Condition::Any));
        assert_eq!(
            parse(r#""a", W/"b" ,,"c""#),
            Ok(Condition::Tags(vec![strong("a"), weak("b"), strong("c")]))
        );
        assert_eq!(parse(r#""""#), Ok(Condition::Tags(vec![strong("")])));
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            " ",
            ",",
            "abc",
            r#""a"#,
            r#"a""#,
            r#""a" "b""#,
            r#"*, "a""#,
            r#"w/"a""#,
            "\"a b\"",
            "\"a\"x",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn if_match_compares_strongly_and_if_none_match_weakly() {
        let current = strong("x");
        let list = |tags: Vec<EntityTag>| Condition::Tags(tags);
        assert!(list(vec![strong("y"), strong("x")]).matches_strongly(&current));
        assert!(!list(vec![weak("x")]).matches_strongly(&current));
        assert!(!list(vec![strong("y")]).matches_strongly(&current));
        assert!(Condition::Any.matches_strongly(&current));
        assert!(list(vec![weak("x")]).matches_weakly(&current));
        assert!(!list(vec![weak("y")]).matches_weakly(&current));
        assert!(Condition::Any.matches_weakly(&current));
    }

    #[test]
    fn the_route_decides_the_kind() {
        assert_eq!(Kind::of("GET", "/v1/buddies/{id}"), Kind::Read);
        assert_eq!(Kind::of("PATCH", "/v1/buddies/{id}"), Kind::Change);
        assert_eq!(Kind::of("POST", "/v1/pairings/{id}/accept"), Kind::Change);
        assert_eq!(Kind::of("POST", "/v1/pairings"), Kind::Create);
    }
}
