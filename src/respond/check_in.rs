//! The buddy's answer to the check-in of a running pairing, from the two links of the
//! `buddy_check_in` mail (see [`crate::ops::contacts::check_in`]).
//!
//! - `GET /check-in/{token}` shows the question and two buttons, the one the link was for
//!   first. It changes nothing (mail scanners open links).
//! - `POST /check-in/{token}` with `answer` = `fine` or `needs_help` records the answer as the
//!   buddy and uses the token up; `needs_help` mails the client bureau.
//!
//! The token is a response token of purpose `check_in` ([`super::tokens::PURPOSE_CHECK_IN`]),
//! bound to the pairing and its buddy, stored only as a hash, valid for
//! [`crate::domain::contact::CHECK_IN_LINK_DAYS`] days. Unknown: 404; used, expired, revoked,
//! already answered or the pairing no longer running: 410; each with a page saying so, under
//! the same headers as the proposal pages.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use minijinja::context;

use super::tokens::{self, PURPOSE_CHECK_IN};
use super::{find, page, Lookup, Unavailable};
use crate::audit::Pending;
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::contact::CheckInAnswer;
use crate::domain::pairing::PairingState;
use crate::error::ApiResult;
use crate::mail::notices::Notices;
use crate::ops::{self, AppState, Ctx};
use crate::store::buddies::BuddyRow;
use crate::store::requests;

/// Where the check-in pages live.
pub const PATH_PREFIX: &str = "/check-in/";

/// The rules of the check-in pages: public (the token in the path is the credential), and
/// audited with the buddy as actor and the pairing as object once the token is known.
pub fn rules(policy: &mut crate::auth::policy::Policy) {
    use crate::auth::policy::{AuditAction, PUBLIC};
    policy.allow(
        "GET",
        "/check-in/{token}",
        PUBLIC.audit(AuditAction::Read, "pairing"),
    );
    policy.allow(
        "POST",
        "/check-in/{token}",
        PUBLIC.audit(AuditAction::Update, "pairing"),
    );
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/check-in/{token}")
            .route(web::get().to(show))
            .route(web::post().to(answer)),
    );
}

/// Looks a check-in token up and decides whether it can be used now.
fn inspect(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> ApiResult<Lookup> {
    let Some(found) = find(conn, token, PURPOSE_CHECK_IN)? else {
        return Ok(Lookup::Unknown);
    };
    let verdict = if found.token.used_at.is_some() || found.pairing.check_in_answer.is_some() {
        Err(Unavailable::Used)
    } else if found.token.revoked_at.is_some() || found.pairing.state != PairingState::Active {
        Err(Unavailable::Closed)
    } else if now >= found.token.expires_at {
        Err(Unavailable::Expired)
    } else {
        Ok(())
    };
    Ok(Lookup::Known(Box::new(found), verdict))
}

/// The answer a link offers first (`?answer=fine|needs_help`).
fn offered(req: &HttpRequest) -> Option<CheckInAnswer> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "answer")
        .and_then(|(_, value)| value.parse().ok())
}

/// `GET /check-in/{token}`: the question and its two buttons. Changes nothing.
async fn show(
    req: HttpRequest,
    state: Data<AppState>,
    token: Path<String>,
) -> ApiResult<HttpResponse> {
    let known = super::look_up(&req, &state, token.into_inner(), inspect).await?;
    let notices = &state.reactions.notices;
    let Some((found, verdict, request)) = known else {
        return unavailable(notices, &req, None, Unavailable::Invalid);
    };
    match verdict {
        Err(why) => unavailable(notices, &req, Some(&found.buddy), why),
        Ok(()) => page(
            notices,
            StatusCode::OK,
            "check_in",
            found.buddy.mail_language.as_str(),
            context! {
                buddy_name => &found.buddy.full_name,
                client_first_name => &request.client_first_name,
                answer => offered(&req).map(CheckInAnswer::as_str),
            },
        ),
    }
}

/// The posted form: exactly one `answer`, `fine` or `needs_help`.
fn parse_form(req: &HttpRequest, body: &[u8]) -> Option<CheckInAnswer> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return None;
    }
    let mut answer = None;
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "answer" if answer.is_none() => answer = Some(value.parse().ok()?),
            _ => return None,
        }
    }
    answer
}

/// `POST /check-in/{token}`: records the answer as the buddy, once.
async fn answer(
    req: HttpRequest,
    state: Data<AppState>,
    token: Path<String>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let token = token.into_inner();
    let form = parse_form(&req, &body);
    let now = state.clock.now_naive();
    let ctx = Ctx::new(Actor::Unauthenticated, None, now).audited(Pending::of(&req));
    let outcome = state
        .change(ctx, move |tx| -> ApiResult<_> {
            let Lookup::Known(found, verdict) = inspect(tx.conn, &token, now)? else {
                tx.unchanged();
                return Ok((None, Err(Unavailable::Invalid)));
            };
            let client_ref = requests::client_ref_of(tx.conn, &found.pairing.request_id)?;
            tx.ctx.acted_by(Actor::Buddy(found.buddy.id.to_string()));
            tx.ctx.object(&found.pairing.id);
            tx.ctx.concerns(client_ref);
            let result = match (verdict, form) {
                (Err(why), _) => Err(why),
                (Ok(()), None) => Err(Unavailable::BadForm),
                (Ok(()), Some(answer)) => {
                    if tokens::mark_used(tx.conn, &found.token.id, now)? {
                        ops::contacts::answer_check_in(tx, &found.pairing.id, answer)?;
                        Ok(answer)
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
        (Some(found), Ok(answer)) => page(
            notices,
            StatusCode::OK,
            "checked_in",
            found.buddy.mail_language.as_str(),
            context! { answer => answer.as_str() },
        ),
        (Some(found), Err(why)) => unavailable(notices, &req, Some(&found.buddy), why),
    }
}

/// The page saying why a check-in link cannot be used (the proposal pages' page, with the
/// check-in's texts).
fn unavailable(
    notices: &Notices,
    req: &HttpRequest,
    buddy: Option<&BuddyRow>,
    why: Unavailable,
) -> ApiResult<HttpResponse> {
    super::unavailable_about(notices, req, buddy, why, "check_in")
}
