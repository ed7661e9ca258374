//! The client's feedback page, from the link in the invitation (README, "Client feedback").
//!
//! - `GET /feedback/{token}` shows the form in the invitation's language (`?lang=nl|en` switches;
//!   the page links to the other one). It changes nothing: mail scanners open links.
//! - `POST /feedback/{token}` with the form fields `score` (1 to 5), `helped` and `better`
//!   (optional, at most 1000 characters each; nothing else) stores the answer and uses the link
//!   up. A score or text out of bounds shows the form again (422) with what was entered and
//!   what to change, the link still unused; an unreadable form (another field, a field twice, not
//!   a form) answers 400 with a page.
//!
//! The token in the path is the credential (as on the buddy's response pages, whose page
//! helpers these reuse: strict CSP with the style by nonce and no script, forms only back to the
//! service, `no-store`, `no-referrer`), so the form carries no CSRF token. An unknown token
//! answers 404, a used one 410, an expired one 410, each with a page saying so. The use of a
//! link is in the audit trail as `create` of a `client_feedback` by `unauthenticated`, with no
//! object id and no client: nothing in the record points at the case or the answer.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use minijinja::context;

use crate::audit::Pending;
use crate::domain::actor::Actor;
use crate::domain::error::DomainError;
use crate::domain::feedback::{Answer, MAX_FEEDBACK_TEXT};
use crate::error::ApiResult;
use crate::mail::notices::{display_time, Notices};
use crate::ops::feedback::{link_state, LinkState};
use crate::ops::{AppState, Ctx};
use crate::respond::{browser_language, page, well_formed};
use crate::store::feedback::{self as store, InvitationRow};

/// Where the feedback pages live.
pub const PATH_PREFIX: &str = "/feedback/";

/// The object type of the audit records of the feedback pages and of the feedback texts.
pub const OBJECT_TYPE: &str = "client_feedback";

/// The rules of the feedback pages: public (the token in the path is the credential). Showing
/// the form shows nothing personal; answering is audited, naming nothing but the kind of object.
pub fn rules(policy: &mut crate::auth::policy::Policy) {
    use crate::auth::policy::{AuditAction, PUBLIC};
    policy.allow("GET", "/feedback/{token}", PUBLIC);
    policy.allow(
        "POST",
        "/feedback/{token}",
        PUBLIC.audit(AuditAction::Create, OBJECT_TYPE),
    );
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/feedback/{token}")
            .route(web::get().to(show))
            .route(web::post().to(answer)),
    );
}

/// Why a link cannot be used, each with its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unavailable {
    Invalid,
    Used,
    Expired,
    BadForm,
}

impl Unavailable {
    fn status(self) -> StatusCode {
        match self {
            Unavailable::Invalid => StatusCode::NOT_FOUND,
            Unavailable::Used | Unavailable::Expired => StatusCode::GONE,
            Unavailable::BadForm => StatusCode::BAD_REQUEST,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Unavailable::Invalid => "invalid",
            Unavailable::Used => "used",
            Unavailable::Expired => "expired",
            Unavailable::BadForm => "bad_form",
        }
    }
}

/// The invitation of a link-shaped token, if there is one.
fn lookup(conn: &mut crate::db::DbConnection, token: &str) -> ApiResult<Option<InvitationRow>> {
    if !well_formed(token) {
        return Ok(None);
    }
    Ok(store::find_invitation(conn, token)?)
}

/// The language asked for with `?lang=`, if it is one of the pages'.
fn asked_language(req: &HttpRequest) -> Option<&'static str> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "lang")
        .and_then(|(_, value)| match value.as_ref() {
            "nl" => Some("nl"),
            "en" => Some("en"),
            _ => None,
        })
}

/// The page's language: asked for, else the invitation's, else the browser's.
fn language(req: &HttpRequest, invitation: Option<&InvitationRow>) -> &'static str {
    asked_language(req).unwrap_or_else(|| match invitation.map(|i| i.language.as_str()) {
        Some("en") => "en",
        Some(_) => "nl",
        None => browser_language(req),
    })
}

/// `GET /feedback/{token}`: the form. Changes nothing.
async fn show(
    req: HttpRequest,
    state: Data<AppState>,
    token: Path<String>,
) -> ApiResult<HttpResponse> {
    let token = token.into_inner();
    let now = state.clock.now_naive();
    let invitation = state.db.run(move |conn| lookup(conn, &token)).await?;
    let notices = &state.reactions.notices;
    let lang = language(&req, invitation.as_ref());
    let Some(invitation) = invitation else {
        return unavailable(notices, lang, Unavailable::Invalid);
    };
    match link_state(&invitation, now) {
        LinkState::Used => unavailable(notices, lang, Unavailable::Used),
        LinkState::Expired => unavailable(notices, lang, Unavailable::Expired),
        LinkState::Open => form_page(
            notices,
            StatusCode::OK,
            lang,
            &invitation,
            &HashMap::new(),
            &HashMap::new(),
        ),
    }
}

/// The posted form's fields, each at most once and nothing else; `None` when it is no form or
/// holds anything else.
fn read_form(req: &HttpRequest, body: &[u8]) -> Option<HashMap<String, String>> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return None;
    }
    let mut fields = HashMap::new();
    for (key, value) in form_urlencoded::parse(body) {
        if !matches!(key.as_ref(), "score" | "helped" | "better")
            || fields
                .insert(key.into_owned(), value.into_owned())
                .is_some()
        {
            return None;
        }
    }
    Some(fields)
}

/// What a POST came to.
enum Outcome {
    Unavailable(Unavailable, Option<InvitationRow>),
    Invalid(InvitationRow, HashMap<String, String>),
    Stored(InvitationRow),
}

/// `POST /feedback/{token}`: stores the answer and uses the link up, once.
async fn answer(
    req: HttpRequest,
    state: Data<AppState>,
    token: Path<String>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let token = token.into_inner();
    let form = read_form(&req, &body);
    let now = state.clock.now_naive();
    let ctx = Ctx::new(Actor::Unauthenticated, None, now).audited(Pending::of(&req));
    let outcome = state
        .change(ctx, move |tx| -> ApiResult<_> {
            let Some(invitation) = lookup(tx.conn, &token)? else {
                tx.unchanged();
                return Ok(Outcome::Unavailable(Unavailable::Invalid, None));
            };
            let refusal = match link_state(&invitation, now) {
                LinkState::Used => Some(Unavailable::Used),
                LinkState::Expired => Some(Unavailable::Expired),
                LinkState::Open if form.is_none() => Some(Unavailable::BadForm),
                LinkState::Open => None,
            };
            if let Some(why) = refusal {
                tx.unchanged();
                return Ok(Outcome::Unavailable(why, Some(invitation)));
            }
            let fields = form.unwrap_or_default();
            let parsed = Answer::parse(
                fields.get("score").map(String::as_str),
                fields.get("helped").map(String::as_str),
                fields.get("better").map(String::as_str),
            );
            let valid = match parsed {
                Ok(valid) => valid,
                Err(DomainError::Invalid(errors)) => {
                    tx.unchanged();
                    let errors: HashMap<String, String> =
                        errors.into_iter().map(|e| (e.field, e.message)).collect();
                    return Ok(Outcome::Invalid(invitation, with_values(errors, fields)));
                }
                Err(other) => return Err(other.into()),
            };
            if !crate::ops::feedback::answer(tx, &invitation, &valid)? {
                tx.unchanged();
                return Ok(Outcome::Unavailable(Unavailable::Used, Some(invitation)));
            }
            Ok(Outcome::Stored(invitation))
        })
        .await?;
    let notices = &state.reactions.notices;
    match outcome {
        Outcome::Unavailable(why, invitation) => {
            unavailable(notices, language(&req, invitation.as_ref()), why)
        }
        Outcome::Invalid(invitation, errors_and_values) => {
            let (errors, values) = split(errors_and_values);
            form_page(
                notices,
                StatusCode::UNPROCESSABLE_ENTITY,
                language(&req, Some(&invitation)),
                &invitation,
                &errors,
                &values,
            )
        }
        Outcome::Stored(invitation) => page(
            notices,
            StatusCode::OK,
            "feedback_thanks",
            language(&req, Some(&invitation)),
            context! {},
        ),
    }
}

/// Errors under `error:<field>`, entered values under `value:<field>`, in one map (so the
/// change's closure returns one thing).
fn with_values(
    errors: HashMap<String, String>,
    values: HashMap<String, String>,
) -> HashMap<String, String> {
    errors
        .into_iter()
        .map(|(k, v)| (format!("error:{k}"), v))
        .chain(values.into_iter().map(|(k, v)| (format!("value:{k}"), v)))
        .collect()
}

fn split(map: HashMap<String, String>) -> (HashMap<String, String>, HashMap<String, String>) {
    let (mut errors, mut values) = (HashMap::new(), HashMap::new());
    for (key, value) in map {
        if let Some(field) = key.strip_prefix("error:") {
            errors.insert(field.to_owned(), value);
        } else if let Some(field) = key.strip_prefix("value:") {
            values.insert(field.to_owned(), value);
        }
    }
    (errors, values)
}

fn form_page(
    notices: &Notices,
    status: StatusCode,
    lang: &str,
    invitation: &InvitationRow,
    errors: &HashMap<String, String>,
    values: &HashMap<String, String>,
) -> ApiResult<HttpResponse> {
    let value = |field: &str| values.get(field).cloned().unwrap_or_default();
    page(
        notices,
        status,
        "feedback_form",
        lang,
        context! {
            // Every field named (the templates are strict about undefined values).
            has_errors => !errors.is_empty(),
            errors => context! {
                score => errors.get("score"),
                helped => errors.get("helped"),
                better => errors.get("better"),
            },
            values => context! {
                score => value("score"),
                helped => value("helped"),
                better => value("better"),
            },
            max_text => MAX_FEEDBACK_TEXT,
            feedback_before => display_time(invitation.expires_at),
        },
    )
}

fn unavailable(notices: &Notices, lang: &str, why: Unavailable) -> ApiResult<HttpResponse> {
    page(
        notices,
        why.status(),
        "feedback_unavailable",
        lang,
        context! { reason => why.as_str() },
    )
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn form(body: &str) -> Option<HashMap<String, String>> {
        let req = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .to_http_request();
        read_form(&req, body.as_bytes())
    }

    #[test]
    fn the_form_takes_its_three_fields_once_and_nothing_else() {
        let ok = form("score=4&helped=Luisteren&better=").unwrap();
        assert_eq!(ok.get("score").unwrap(), "4");
        assert!(form("").is_some());
        for bad in ["score=4&score=5", "score=4&name=Jan", "client_ref=X"] {
            assert_eq!(form(bad), None, "{bad}");
        }
        let json = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .to_http_request();
        assert_eq!(read_form(&json, b"score=4"), None);
    }

    #[test]
    fn the_language_can_be_switched() {
        let req = TestRequest::get()
            .uri("/feedback/x?lang=en")
            .to_http_request();
        assert_eq!(language(&req, None), "en");
        let req = TestRequest::get()
            .uri("/feedback/x?lang=de")
            .to_http_request();
        assert_eq!(language(&req, None), "nl");
    }
}
