//! The buddy portal: the pages a buddy uses under `/buddy`, opened by an e-mailed sign-in link.
//!
//! It is one more channel onto the same service, built like the staff console
//! ([`crate::console`]): every page is a route with a rule in the one access [`Policy`]
//! (registered through the console's [`Router`], next to its handler; signed-in pages take the
//! [`BUDDIES`](crate::auth::policy::BUDDIES) guard), authenticated by the same middleware (the
//! `maatje_buddy` cookie, [`SESSION_COOKIE`], instead of a bearer token or the console's cookie),
//! audited by the same trail with the buddy as actor, and every change goes through the
//! use-case operations ([`crate::ops`]).
//!
//! # Signing in
//!
//! No password: `GET /buddy/login` asks for an e-mail address, and `POST /buddy/login` always
//! answers the same page, whether the address is a buddy's or not. For a buddy who may sign in
//! ([`crate::domain::buddy::BuddyState::opens_portal`]: every state but retired, not erased)
//! a mail `buddy_sign_in` carries a link `<mail.public_base_url>/buddy/sign-in/<token>`: a
//! response-link token ([`crate::respond::links`]) with the purpose `buddy_sign_in`, stored only
//! as a hash, single use, valid for `portal.sign_in_link_minutes`. Links are rate-limited per
//! source address (the login limit, [`crate::http::rate_limit`]) and per buddy
//! (`portal.links_per_hour`; beyond it nothing is sent and the page says the same). Opening the
//! link shows a page with a "sign in" button and changes nothing (mail scanners open links);
//! the button uses the token up and opens a session.
//!
//! # The session
//!
//! A cookie `maatje_buddy` (`mtj_bs_<id>_<secret>`; HttpOnly, SameSite=Strict, `Path=/buddy`,
//! Secure over https) naming a row of `buddy_sessions`, whose secret is stored hashed. It ends
//! after `portal.idle_minutes` without a request, `portal.session_hours` after signing in at the
//! latest, when the buddy signs out, and when the buddy is retired or erased. Forms carry the
//! session's CSRF token, checked by the console's [`crate::console::forms::FormData`].
//!
//! # Pages
//!
//! Templates in `src/templates/portal/`, rendered by the console's template environment with its
//! texts machinery (Dutch by default, English by a link; times in Europe/Amsterdam); the
//! console's stylesheet and Content-Security-Policy (no script, no inline style).

pub mod pages;
pub mod session;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::{context, Value};

use crate::api::Caller;
use crate::auth::policy::Policy;
use crate::console::page::{html_response, request_lang, see_other};
use crate::console::{Console, Router};
use crate::domain::ids::BuddyId;
use crate::domain::session::PortalPolicy;
use crate::error::ApiError;
use crate::i18n::Lang;

/// Where the portal lives.
pub const PREFIX: &str = "/buddy";
/// The cookie that holds the portal session's token.
pub const SESSION_COOKIE: &str = "maatje_buddy";

/// Whether `path` is a portal page (its refusals are pages, not problem documents).
pub fn is_portal(path: &str) -> bool {
    path == PREFIX || path.starts_with("/buddy/")
}

/// Every portal route, with its rule.
pub fn routes(router: &mut Router<'_>) {
    session::routes(router);
    pages::routes(router);
}

/// The rules of the portal's routes.
pub fn rules(policy: &mut Policy) {
    routes(&mut Router::rules(policy));
}

/// Registers the portal's routes on the app.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes(&mut Router::services(cfg));
}

/// The portal's settings, shared by the workers.
#[derive(Debug, Clone, Copy)]
pub struct Portal {
    pub policy: PortalPolicy,
    /// Send cookies with `Secure` (the service is reached over https).
    pub secure: bool,
}

/// The portal's templates, compiled in from `src/templates/portal/`, by name (`portal/...`).
macro_rules! portal_templates {
    ($($name:literal,)*) => {
        &[$((concat!("portal/", $name), include_str!(concat!("../templates/portal/", $name)))),*]
    };
}

/// Every template file of the portal, by name: one line each.
#[rustfmt::skip]
pub const FILES: &[(&str, &str)] = portal_templates![
    "layout.html",
    "login.html",
    "link_sent.html",
    "sign_in.html",
    "link_unavailable.html",
    "home.html",
    "pairing.html",
    "pairing_entry.html",
    "settings.html",
    "stop.html",
    "error.html",
];

/// A cookie under `/buddy`, with the console's attributes (HttpOnly, SameSite=Strict, Secure
/// over https).
pub fn cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    crate::console::page::cookie_header_at(PREFIX, name, value, max_age, secure)
}

/// What every portal page's layout needs.
pub fn base(lang: Lang, csrf: &str, path: &str, signed_in: bool) -> Value {
    context! {
        lang => lang.code(),
        other_lang => lang.other().code(),
        csrf => csrf,
        path => path,
        signed_in => signed_in,
    }
}

/// The portal's page for an error made before any handler ran (a form without its CSRF token).
pub fn refusal_page(console: &Console, status: StatusCode, lang: Lang, message: &str) -> String {
    console
        .render(
            "portal/error.html",
            context! { status => status.as_u16(), message => message, ..base(lang, "", "", false) },
        )
        .unwrap_or_else(|_| message.to_owned())
}

/// The answer to a portal request the access check refused: without a (valid) session, the
/// sign-in page (saying so when a session has ended, whose cookie is cleared); any other
/// refusal is a page saying why.
pub fn refusal(req: &HttpRequest, error: &ApiError) -> HttpResponse {
    let lang = request_lang(req);
    let console = req.app_data::<web::Data<Console>>();
    let secure = req
        .app_data::<web::Data<Portal>>()
        .is_some_and(|p| p.secure);
    if let ApiError::Unauthorized(_) = error {
        let had_session = req.cookie(SESSION_COOKIE).is_some();
        let mut response = see_other(if had_session {
            "/buddy/login?expired=1"
        } else {
            "/buddy/login"
        });
        if had_session {
            response.headers_mut().append(
                header::SET_COOKIE,
                cookie(SESSION_COOKIE, "", Some(0), secure),
            );
        }
        return response;
    }
    let (status, message) = explain(error, lang);
    match console {
        Some(console) => html_response(status, refusal_page(console, status, lang, &message)),
        None => html_response(status, message),
    }
}

/// The status and message of an error page, in `lang`: the console's, with the portal's own
/// words where the console's speak to staff.
pub fn explain(error: &ApiError, lang: Lang) -> (StatusCode, String) {
    let texts = crate::console::i18n::Texts::all();
    match error {
        ApiError::NotFound { .. } | ApiError::NoRoute => (
            StatusCode::NOT_FOUND,
            texts.get("portal.error.not_found", lang).to_owned(),
        ),
        ApiError::Forbidden(_) => (
            StatusCode::FORBIDDEN,
            texts.get("portal.error.forbidden", lang).to_owned(),
        ),
        other => crate::console::page::explain(other, lang),
    }
}

/// A signed-in buddy looking at a portal page: who (the same [`Caller`] as the API's, with the
/// request's audit record), in which language, and the CSRF token their forms carry.
pub struct Member {
    pub caller: Caller,
    pub buddy_id: BuddyId,
    pub lang: Lang,
    pub csrf: String,
    pub path: String,
    console: web::Data<Console>,
}

impl Member {
    /// The context the use-case operations run this request in: the buddy as actor.
    pub fn ctx(&self, now: chrono::NaiveDateTime) -> crate::ops::Ctx {
        self.caller.ctx(now)
    }

    /// The session this page is seen in.
    pub fn session_id(&self) -> &str {
        &self.caller.identity.credential_id
    }

    /// Notes the buddy as the object of the request's audit record (pages without an id in
    /// their path).
    pub fn note_self(&self) {
        self.caller
            .ctx(chrono::NaiveDateTime::default())
            .object(&self.buddy_id);
    }

    /// The page `template` with `context`, answered with `status`.
    pub fn page_with(&self, status: StatusCode, template: &str, context: Value) -> HttpResponse {
        self.console.page(
            status,
            template,
            base(self.lang, &self.csrf, &self.path, true),
            context,
        )
    }

    pub fn page(&self, template: &str, context: Value) -> HttpResponse {
        self.page_with(StatusCode::OK, template, context)
    }

    /// The page for an error: what went wrong, in the buddy's language.
    pub fn error(&self, error: &ApiError) -> HttpResponse {
        let (status, message) = explain(error, self.lang);
        self.page_with(
            status,
            "portal/error.html",
            context! { status => status.as_u16(), message => message },
        )
    }

    pub fn respond(&self, result: Result<HttpResponse, ApiError>) -> HttpResponse {
        result.unwrap_or_else(|e| self.error(&e))
    }
}

impl actix_web::FromRequest for Member {
    type Error = crate::console::page::PageError;
    type Future = futures_util::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        futures_util::future::ready(member(req))
    }
}

fn member(req: &HttpRequest) -> Result<Member, crate::console::page::PageError> {
    use crate::console::page::PageError;
    let unauthorised = || {
        PageError::new(
            StatusCode::UNAUTHORIZED,
            "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>401</title></head><body><main><h1>401</h1><p><a href=\"/buddy/login\">maatje</a></p></main></body></html>".to_owned(),
        )
    };
    let console = req
        .app_data::<web::Data<Console>>()
        .cloned()
        .ok_or_else(unauthorised)?;
    let caller =
        <Caller as actix_web::FromRequest>::from_request(req, &mut actix_web::dev::Payload::None)
            .into_inner()
            .map_err(|_| unauthorised())?;
    let crate::domain::actor::Actor::Buddy(id) = &caller.actor else {
        return Err(unauthorised());
    };
    Ok(Member {
        buddy_id: BuddyId::from(id.as_str()),
        csrf: console.csrf_token(&caller.identity.credential_id),
        lang: request_lang(req),
        path: req.path().to_owned(),
        caller,
        console,
    })
}

/// The portal's texts (added to the console's catalogues, [`crate::console::i18n`]).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("portal.name", "Mijn maatjespagina", "My buddy page"),
    ("portal.nav", "Menu", "Menu"),
    ("portal.nav.home", "Overzicht", "Overview"),
    ("portal.nav.settings", "Instellingen", "Settings"),
    ("portal.nav.stop", "Stoppen", "Stop"),
    ("portal.sign_out", "Uitloggen", "Sign out"),
    ("portal.error.title", "Dat lukt niet", "That did not work"),
    (
        "portal.error.not_found",
        "Deze pagina bestaat niet, of hoort niet bij jou.",
        "This page does not exist, or is not yours.",
    ),
    (
        "portal.error.forbidden",
        "Deze pagina is niet voor jou.",
        "This page is not for you.",
    ),
    ("portal.error.home", "Naar je overzicht", "To your overview"),
];
