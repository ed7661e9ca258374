//! The buddy's answer to a proposal, from the links in the proposal mail.
//!
//! - `GET /respond/{token}` shows a small page in the buddy's language: what the proposal is
//!   about (trigger kind, region, languages; no client identity) and two buttons. It changes
//!   nothing, because mail scanners and link previews open links before people do.
//! - `POST /respond/{token}` with the form field `answer` (`accept` or `decline`) and, for a
//!   decline, an optional `reason`, acts on the pairing as the buddy, and uses up the token.
//!
//! A token is bound to one pairing, its buddy and one purpose ([`tokens`]), is stored only as a
//! hash, and expires with the proposal. An unknown token answers 404, a used one 410, an expired
//! proposal or one that is no longer open 410 too, each with a page saying so. The pages send a
//! strict Content-Security-Policy (nothing but their own inline style, by nonce; forms post only
//! back to the service), `Referrer-Policy: no-referrer` and `Cache-Control: no-store`, and are
//! not part of the OpenAPI document: they are for people, not for case systems. Every use is in
//! the audit trail, with the buddy as actor and the pairing as object once the token is known.

pub mod check_in;
pub mod links;
pub mod tokens;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use minijinja::context;

use crate::audit::{note_subject, Pending};
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::error::DomainResult;
use crate::domain::pairing::{PairingAction, PairingState};
use crate::domain::values::MAX_REASON;
use crate::error::{ApiError, ApiResult};
use crate::mail::notices::{display_time, Notices};
use crate::ops::{self, AppState, Ctx, Tx};
use crate::store::buddies::{self, BuddyRow};
use crate::store::pairings::{self, PairingRow};
use crate::store::requests::{self, RequestRow};
use links::{Answer, TOKEN_LEN};
use tokens::{TokenRow, PURPOSE_PROPOSAL_RESPONSE};

/// Where the response pages live.
pub const PATH_PREFIX: &str = "/respond/";

/// The rules of the response pages: public (the token in the path is the credential), and
/// audited: the handler names the buddy and the pairing for the record.
pub fn rules(policy: &mut crate::auth::policy::Policy) {
    use crate::auth::policy::{AuditAction, PUBLIC};
    policy.allow(
        "GET",
        "/respond/{token}",
        PUBLIC.audit(AuditAction::Read, "pairing"),
    );
    policy.allow(
        "POST",
        "/respond/{token}",
        PUBLIC.audit(AuditAction::Update, "pairing"),
    );
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/respond/{token}")
            .route(web::get().to(show))
            .route(web::post().to(respond)),
    );
}

/// Why a link cannot be used. Each has its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// No such token (or one for another purpose or buddy): 404.
    Invalid,
    /// Answered with this link before: 410.
    Used,
    /// The proposal expired: 410.
    Expired,
    /// The proposal was answered otherwise (by staff) or withdrawn, the buddy is not active,
    /// or the link was revoked (the buddy was paused or retired, or their address changed): 410.
    Closed,
    /// The form was not understood: 400.
    BadForm,
}

impl Unavailable {
    fn status(self) -> StatusCode {
        match self {
            Unavailable::Invalid => StatusCode::NOT_FOUND,
            Unavailable::BadForm => StatusCode::BAD_REQUEST,
            Unavailable::Used | Unavailable::Expired | Unavailable::Closed => StatusCode::GONE,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Unavailable::Invalid => "invalid",
            Unavailable::Used => "used",
            Unavailable::Expired => "expired",
            Unavailable::Closed => "closed",
            Unavailable::BadForm => "bad_form",
        }
    }
}

/// A token found and bound to its pairing and buddy.
pub(crate) struct Found {
    pub(crate) token: TokenRow,
    pub(crate) pairing: PairingRow,
    pub(crate) buddy: BuddyRow,
}

/// What a presented token leads to.
pub(crate) enum Lookup {
    Unknown,
    Known(Box<Found>, Result<(), Unavailable>),
}

/// The token `token` of `purpose` with its pairing and buddy; `None` when there is no such
/// token for this purpose (or it is malformed, or bound inconsistently).
pub(crate) fn find(
    conn: &mut DbConnection,
    token: &str,
    purpose: &str,
) -> ApiResult<Option<Found>> {
    if !well_formed(token) {
        return Ok(None);
    }
    let Some(row) = tokens::find(conn, token)? else {
        return Ok(None);
    };
    let Some(pairing_id) = row.pairing_id.as_ref() else {
        return Ok(None);
    };
    if row.purpose != purpose {
        return Ok(None);
    }
    let pairing = pairings::find(conn, pairing_id)?;
    if pairing.buddy_id != row.buddy_id {
        return Ok(None);
    }
    let buddy = buddies::find(conn, &row.buddy_id)?;
    Ok(Some(Found {
        token: row,
        pairing,
        buddy,
    }))
}

/// Looks a proposal's token up and decides whether it can be used now.
fn inspect(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> ApiResult<Lookup> {
    let Some(found) = find(conn, token, PURPOSE_PROPOSAL_RESPONSE)? else {
        return Ok(Lookup::Unknown);
    };
    let (row, buddy, state) = (&found.token, &found.buddy, found.pairing.state);
    // An answer needs a buddy who can take the proposal on, at the address the link went to:
    // pausing, retiring or a new e-mail address revokes the link (and settles the proposal).
    let verdict = if row.used_at.is_some() {
        Err(Unavailable::Used)
    } else if row.revoked_at.is_some() || !buddy.state.takes_proposals() {
        Err(Unavailable::Closed)
    } else if state == PairingState::Expired
        || (state == PairingState::Proposed && now >= row.expires_at)
    {
        Err(Unavailable::Expired)
    } else if state != PairingState::Proposed {
        Err(Unavailable::Closed)
    } else {
        Ok(())
    };
    Ok(Lookup::Known(Box::new(found), verdict))
}

/// A token as links carry it: 43 characters of base64url.
pub(crate) fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a page that changes nothing knows of a token: the token with its pairing and buddy,
/// whether it can be used now, and the pairing's request.
pub(crate) type Known = (Box<Found>, Result<(), Unavailable>, RequestRow);

/// Looks `token` up with `inspect` for a page that changes nothing (`None`: unknown), and notes
/// the buddy as actor, the pairing as object and the client for the audit record.
pub(crate) async fn look_up(
    req: &HttpRequest,
    state: &AppState,
    token: String,
    inspect: fn(&mut DbConnection, &str, NaiveDateTime) -> ApiResult<Lookup>,
) -> ApiResult<Option<Known>> {
    let now = state.clock.now_naive();
    let known = state
        .db
        .run(move |conn| -> ApiResult<_> {
            match inspect(conn, &token, now)? {
                Lookup::Unknown => Ok(None),
                Lookup::Known(found, verdict) => {
                    let request = requests::find(conn, &found.pairing.request_id)?;
                    Ok(Some((found, verdict, request)))
                }
            }
        })
        .await?;
    if let Some((found, _, request)) = &known {
        note_subject(
            req,
            Actor::Buddy(found.buddy.id.to_string()),
            &found.pairing.id,
            Some(request.client_ref.clone()),
        );
    }
    Ok(known)
}

/// `GET /respond/{token}`: the proposal and its two buttons. Changes nothing.
async fn show(
    req: HttpRequest,
    state: Data<AppState>,
    token: Path<String>,
) -> ApiResult<HttpResponse> {
    let known = look_up(&req, &state, token.into_inner(), inspect).await?;
    let notices = &state.reactions.notices;
    let Some((found, verdict, request)) = known else {
        return unavailable(notices, &req, None, Unavailable::Invalid);
    };
    match verdict {
        Err(why) => unavailable(notices, &req, Some(&found.buddy), why),
        Ok(()) => proposal_page(notices, &found, &request, requested_answer(&req)),
    }
}

/// The answer a link offers first (`?answer=accept|decline`); anything else offers neither.
fn requested_answer(req: &HttpRequest) -> Option<Answer> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "answer")
        .and_then(|(_, value)| Answer::parse(&value))
        .filter(|a| a.to_proposal())
}

/// The fields of the page's forms.
#[derive(Debug, PartialEq, Eq)]
struct AnswerForm {
    answer: Answer,
    reason: Option<String>,
}

/// Parses the posted form: `answer` once, `reason` at most once and only with a decline, at most
/// [`MAX_REASON`] characters; nothing else.
fn parse_form(req: &HttpRequest, body: &[u8]) -> Option<AnswerForm> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return None;
    }
    let (mut answer, mut reason) = (None, None);
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "answer" if answer.is_none() => {
                answer = Some(Answer::parse(&value).filter(|a| a.to_proposal())?)
            }
            "reason" if reason.is_none() => reason = Some(value.trim().to_owned()),
            _ => return None,
        }
    }
    let answer = answer?;
    let reason = reason.filter(|r| !r.is_empty());
    if let Some(reason) = &reason {
        if answer != Answer::Decline
            || reason.chars().count() > MAX_REASON
            || reason
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return None;
        }
    }
    Some(AnswerForm { answer, reason })
}

/// `POST /respond/{token}`: accept or decline as the buddy, once.
async fn respond(
    req: HttpRequest,
    state: Data<AppState>,
    token: Path<String>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let token = token.into_inner();
    let form = parse_form(&req, &body);
    let now = state.clock.now_naive();
    // The link is the credential: the buddy it names is the actor, once the token is known.
    let ctx = Ctx::new(Actor::Unauthenticated, None, now).audited(Pending::of(&req));
    let outcome = state
        .change(ctx, move |tx| -> ApiResult<_> {
            let lookup = inspect(tx.conn, &token, now)?;
            let Lookup::Known(found, verdict) = lookup else {
                tx.unchanged();
                return Ok((None, Err(Unavailable::Invalid)));
            };
            let client_ref = requests::client_ref_of(tx.conn, &found.pairing.request_id)?;
            tx.ctx.acted_by(Actor::Buddy(found.buddy.id.to_string()));
            tx.ctx.object(&found.pairing.id);
            tx.ctx.concerns(client_ref);
            let result = match (verdict, form) {
                (Err(why), _) => Err(why),
                (Ok(_), None) => Err(Unavailable::BadForm),
                (Ok(_), Some(form)) => {
                    if tokens::mark_used(tx.conn, &found.token.id, now)? {
                        answer(tx, &found, &form)?;
                        Ok(form.answer)
                    } else {
                        Err(Unavailable::Used)
                    }
                }
            };
            if result.is_err() {
                tx.unchanged();
            }
            Ok((Some(found), result))
        })
        .await?;
    let notices = &state.reactions.notices;
    match outcome {
        (None, why) => unavailable(
            notices,
            &req,
            None,
            why.err().unwrap_or(Unavailable::Invalid),
        ),
        // The change noted the buddy, the pairing and the client for the audit record.
        (Some(found), result) => match result {
            Ok(answer) => page(
                notices,
                StatusCode::OK,
                "answered",
                found.buddy.mail_language.as_str(),
                context! { answer => answer.as_str() },
            ),
            Err(why) => unavailable(notices, &req, Some(&found.buddy), why),
        },
    }
}

/// Accepts or declines the pairing as its buddy: the same transition, history and mails as when
/// staff record the answer.
fn answer(tx: &mut Tx<'_>, found: &Found, form: &AnswerForm) -> DomainResult<PairingRow> {
    let action = match form.answer {
        Answer::Accept => PairingAction::Accept,
        Answer::Decline => PairingAction::Decline,
        Answer::Fine | Answer::NeedsHelp => {
            return Err(crate::domain::error::DomainError::internal(
                "a check-in answer posted to a proposal",
            ))
        }
    };
    ops::pairings::act(tx, &found.pairing.id, action, form.reason.as_deref(), None)
}

fn proposal_page(
    notices: &Notices,
    found: &Found,
    request: &RequestRow,
    answer: Option<Answer>,
) -> ApiResult<HttpResponse> {
    page(
        notices,
        StatusCode::OK,
        "proposal",
        found.buddy.mail_language.as_str(),
        context! {
            buddy_name => &found.buddy.full_name,
            trigger => &request.trigger_kind,
            region => &request.region,
            languages => request.client_languages()?,
            respond_before => display_time(found.token.expires_at),
            answer => answer.map(Answer::as_str),
            max_reason => MAX_REASON,
        },
    )
}

/// The page saying why a link cannot be used, in the buddy's language when the token named a
/// buddy, else in the browser's preferred one of Dutch (the default) and English.
pub(crate) fn unavailable(
    notices: &Notices,
    req: &HttpRequest,
    buddy: Option<&BuddyRow>,
    why: Unavailable,
) -> ApiResult<HttpResponse> {
    unavailable_about(notices, req, buddy, why, "proposal")
}

/// [`unavailable`] for a link `about` a `proposal` or a `check_in`.
pub(crate) fn unavailable_about(
    notices: &Notices,
    req: &HttpRequest,
    buddy: Option<&BuddyRow>,
    why: Unavailable,
    about: &str,
) -> ApiResult<HttpResponse> {
    let language = match buddy {
        Some(buddy) => buddy.mail_language.as_str(),
        None => browser_language(req),
    };
    page(
        notices,
        why.status(),
        "unavailable",
        language,
        context! { reason => why.as_str(), about => about },
    )
}

/// `en` when the browser asks for English before Dutch, else `nl`.
pub(crate) fn browser_language(req: &HttpRequest) -> &'static str {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for range in accept.split(',') {
        let tag = range
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag == "nl" || tag.starts_with("nl-") {
            return "nl";
        }
        if tag == "en" || tag.starts_with("en-") {
            return "en";
        }
    }
    "nl"
}

/// Renders a page with a fresh style nonce and the pages' security headers (also the client
/// feedback pages', [`crate::feedback`]).
pub(crate) fn page(
    notices: &Notices,
    status: StatusCode,
    name: &str,
    language: &str,
    context: minijinja::Value,
) -> ApiResult<HttpResponse> {
    let language = if language == "en" { "en" } else { "nl" };
    let nonce = links::new_token_id();
    let html = notices
        .templates()
        .page(
            name,
            language,
            context! { lang => language, nonce => &nonce, ..context },
        )
        .map_err(|e| ApiError::internal(format!("page template {language}/{name}: {e:#}")))?;
    let csp = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).map_err(ApiError::internal)?,
        ))
        .insert_header(("X-Robots-Tag", "noindex, nofollow"))
        .body(html))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn form(body: &str) -> Option<AnswerForm> {
        let req = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .to_http_request();
        parse_form(&req, body.as_bytes())
    }

    #[test]
    fn the_form_takes_an_answer_and_a_reason_for_a_decline_only() {
        assert_eq!(
            form("answer=accept"),
            Some(AnswerForm {
                answer: Answer::Accept,
                reason: None
            })
        );
        assert_eq!(
            form("answer=decline&reason=+Te+druk+"),
            Some(AnswerForm {
                answer: Answer::Decline,
                reason: Some("Te druk".into())
            })
        );
        assert_eq!(
            form("answer=decline&reason="),
            Some(AnswerForm {
                answer: Answer::Decline,
                reason: None
            })
        );
        for bad in [
            "",
            "answer=maybe",
            "answer=accept&answer=decline",
            "answer=accept&reason=why",
            "answer=decline&other=1",
            "answer=decline&reason=a%00b",
        ] {
            assert_eq!(form(bad), None, "{bad}");
        }
        let long = format!("answer=decline&reason={}", "x".repeat(MAX_REASON + 1));
        assert_eq!(form(&long), None);
        let json = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .to_http_request();
        assert_eq!(parse_form(&json, b"answer=accept"), None);
    }

    #[test]
    fn only_link_shaped_tokens_are_looked_up() {
        assert!(well_formed(&"a".repeat(TOKEN_LEN)));
        assert!(!well_formed(&"a".repeat(TOKEN_LEN - 1)));
        assert!(!well_formed(&format!("{}=", "a".repeat(TOKEN_LEN - 1))));
    }

    #[test]
    fn the_browser_language_defaults_to_dutch() {
        let with = |value: &str| {
            TestRequest::get()
                .insert_header((header::ACCEPT_LANGUAGE, value))
                .to_http_request()
        };
        assert_eq!(
            browser_language(&TestRequest::get().to_http_request()),
            "nl"
        );
        assert_eq!(browser_language(&with("en-GB,en;q=0.9")), "en");
        assert_eq!(browser_language(&with("de, nl;q=0.8, en;q=0.5")), "nl");
        assert_eq!(browser_language(&with("fr")), "nl");
    }
}
