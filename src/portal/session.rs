//! Signing in to the portal by e-mailed link, and out; choosing its language.
//!
//! - `GET /buddy/login`: the form asking for an e-mail address (its CSRF token is bound to a
//!   random `maatje_login` cookie under `/buddy`, as the console's login form).
//! - `POST /buddy/login`: always the same page; a link is mailed when the address is a buddy's
//!   who may sign in and has not had `portal.links_per_hour` links in the last hour.
//! - `GET /buddy/sign-in/{token}`: a page with a "sign in" button; changes nothing.
//! - `POST /buddy/sign-in/{token}`: uses the link up and opens the session (303 to `/buddy`).
//!   An unknown link answers 404, a used, expired or closed (buddy stopped) one 410, each with
//!   a page offering a new link.
//! - `POST /buddy/logout` ends the session; `GET /buddy/language?to=en&back=/buddy/...` sets
//!   the language.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use minijinja::{context, Value};
use serde::Deserialize;

use super::{base, cookie, Member, Portal, SESSION_COOKIE};
use crate::audit::Pending;
use crate::auth::policy::{AuditAction, BUDDIES, PUBLIC};
use crate::console::forms::{FieldErrors, FormData, LOGIN_COOKIE};
use crate::console::page::{request_lang, see_other, Console, LANG_COOKIE};
use crate::console::Router;
use crate::domain::actor::Actor;
use crate::domain::values::{is_mail_address, MAX_EMAIL};
use crate::error::ApiError;
use crate::http::rate_limit::{address_key, LimitClass, RateLimiter};
use crate::i18n::Lang;
use crate::ops::portal::{self as ops, LinkRefusal};
use crate::ops::{AppState, Ctx};

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/buddy/login", |p| {
            p.get(PUBLIC, login_form).post(PUBLIC, ask_link)
        })
        .path("/buddy/sign-in/{token}", |p| {
            p.get(PUBLIC, link_page)
                .post(PUBLIC.audit(AuditAction::Update, "buddy"), sign_in)
        })
        .path("/buddy/logout", |p| p.post(BUDDIES, sign_out))
        .path("/buddy/language", |p| p.get(PUBLIC, language));
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    bye: Option<String>,
}

/// The nonce of the visitor's pre-session cookie, and whether it is new (to be set).
fn login_nonce(req: &HttpRequest) -> (String, bool) {
    match req.cookie(LOGIN_COOKIE) {
        Some(c) => (c.value().to_owned(), false),
        None => (hex::encode(crate::auth::token::random_bytes::<16>()), true),
    }
}

/// A page shown before signing in: its forms carry the login cookie's CSRF token, and the
/// cookie is set when the visitor has none.
fn public_page(
    req: &HttpRequest,
    console: &Console,
    portal: &Portal,
    lang: Lang,
    status: StatusCode,
    template: &str,
    context: Value,
) -> HttpResponse {
    let (nonce, new) = login_nonce(req);
    let base = base(lang, &console.login_token(&nonce), req.path(), false);
    let mut response = console.page(status, template, base, context);
    let headers = response.headers_mut();
    if new {
        headers.append(
            header::SET_COOKIE,
            cookie(LOGIN_COOKIE, &nonce, Some(3600), portal.secure),
        );
    }
    // The sign-in page's address holds the link's token: never sent on to another site.
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::HeaderName::from_static("x-robots-tag"),
        header::HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

async fn login_form(
    req: HttpRequest,
    console: Data<Console>,
    portal: Data<Portal>,
    query: Query<LoginQuery>,
) -> HttpResponse {
    let notice = if query.expired.is_some() {
        Some("portal.login.expired")
    } else if query.bye.is_some() {
        Some("portal.login.bye")
    } else {
        None
    };
    public_page(
        &req,
        &console,
        &portal,
        request_lang(&req),
        StatusCode::OK,
        "portal/login.html",
        context! { notice => notice, values => context!{}, errors => context!{} },
    )
}

/// `POST /buddy/login`: the same page whatever the address, after the same kind of work (one
/// write transaction that reads the buddies and, for a buddy who gets a link, writes the token
/// and the mail to the outbox).
async fn ask_link(
    req: HttpRequest,
    state: Data<AppState>,
    console: Data<Console>,
    portal: Data<Portal>,
    limiter: Option<Data<RateLimiter>>,
    form: FormData,
) -> HttpResponse {
    let lang = request_lang(&req);
    let email = form.get("email").to_owned();
    let mut errors = FieldErrors::new(lang);
    if email.is_empty() {
        errors.fail("email", "field.required");
    } else if email.len() > MAX_EMAIL || !is_mail_address(&email) {
        errors.fail("email", "portal.login.not_an_address");
    }
    if !errors.is_empty() {
        return public_page(
            &req,
            &console,
            &portal,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            "portal/login.html",
            context! { notice => None::<&str>, values => form.entered(), errors => errors.to_value() },
        );
    }
    // Per source address, with the login limit (its own bucket).
    if let (Some(limiter), Some(peer)) = (limiter, req.peer_addr()) {
        let key = format!("portal:{}", address_key(peer.ip()));
        if limiter.check(&key, LimitClass::Login).is_err() {
            let mut response = public_page(
                &req,
                &console,
                &portal,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                "portal/login.html",
                context! { notice => Some("portal.login.too_many"), values => form.entered(), errors => context!{} },
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
            return response;
        }
    }
    let now = state.clock.now_naive();
    let policy = portal.policy;
    let sent = state
        .change(Ctx::new(Actor::Unauthenticated, None, now), move |tx| {
            ops::request_sign_in(tx, &email, &policy)
        })
        .await;
    if let Err(e) = sent {
        tracing::error!(error = %e, "a portal sign-in link could not be prepared");
        return public_page(
            &req,
            &console,
            &portal,
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            "portal/login.html",
            context! { notice => Some("portal.login.busy"), values => form.entered(), errors => context!{} },
        );
    }
    public_page(
        &req,
        &console,
        &portal,
        lang,
        StatusCode::OK,
        "portal/link_sent.html",
        context! { minutes => policy.link_ttl.num_minutes() },
    )
}

/// The page of a link that cannot be used, with its status.
fn unavailable(
    req: &HttpRequest,
    console: &Console,
    portal: &Portal,
    lang: Lang,
    why: LinkRefusal,
) -> HttpResponse {
    let (status, reason) = match why {
        LinkRefusal::Unknown => (StatusCode::NOT_FOUND, "unknown"),
        LinkRefusal::Used => (StatusCode::GONE, "used"),
        LinkRefusal::Expired => (StatusCode::GONE, "expired"),
        LinkRefusal::Closed => (StatusCode::GONE, "closed"),
    };
    public_page(
        req,
        console,
        portal,
        lang,
        status,
        "portal/link_unavailable.html",
        context! { reason => reason },
    )
}

/// The page's language: the visitor's choice, else the buddy's mail language.
fn lang_for(req: &HttpRequest, mail_language: Option<&str>) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .or_else(|| mail_language.and_then(Lang::parse))
        .unwrap_or_default()
}

/// `GET /buddy/sign-in/{token}`: the button that signs in. Changes nothing.
async fn link_page(
    req: HttpRequest,
    state: Data<AppState>,
    console: Data<Console>,
    portal: Data<Portal>,
    token: Path<String>,
) -> HttpResponse {
    let token = token.into_inner();
    let now = state.clock.now_naive();
    let found = state
        .db
        .run(move |conn| -> crate::error::ApiResult<_> {
            Ok(ops::inspect(conn, &token, now)?.map(|f| (f.verdict, f.buddy.mail_language)))
        })
        .await;
    match found {
        Err(e) => {
            let (status, message) = super::explain(&e, request_lang(&req));
            crate::console::page::html_response(
                status,
                super::refusal_page(&console, status, request_lang(&req), &message),
            )
        }
        Ok(None) => unavailable(
            &req,
            &console,
            &portal,
            request_lang(&req),
            LinkRefusal::Unknown,
        ),
        Ok(Some((verdict, language))) => {
            let lang = lang_for(&req, Some(language.as_str()));
            match verdict {
                Err(why) => unavailable(&req, &console, &portal, lang, why),
                Ok(()) => public_page(
                    &req,
                    &console,
                    &portal,
                    lang,
                    StatusCode::OK,
                    "portal/sign_in.html",
                    context! { action => req.path() },
                ),
            }
        }
    }
}

/// `POST /buddy/sign-in/{token}`: uses the link up and opens the session.
async fn sign_in(
    req: HttpRequest,
    state: Data<AppState>,
    console: Data<Console>,
    portal: Data<Portal>,
    token: Path<String>,
    _form: FormData,
) -> HttpResponse {
    let token = token.into_inner();
    let now = state.clock.now_naive();
    let policy = portal.policy;
    let ctx = Ctx::new(Actor::Unauthenticated, None, now).audited(Pending::of(&req));
    let opened = state
        .change(ctx, move |tx| ops::sign_in(tx, &token, &policy))
        .await;
    match opened {
        Err(e) => {
            let e = ApiError::from(e);
            let (status, message) = super::explain(&e, request_lang(&req));
            crate::console::page::html_response(
                status,
                super::refusal_page(&console, status, request_lang(&req), &message),
            )
        }
        Ok(Err(why)) => unavailable(&req, &console, &portal, request_lang(&req), why),
        Ok(Ok(opened)) => {
            let mut response = see_other(super::PREFIX);
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                cookie(SESSION_COOKIE, &opened.token, None, portal.secure),
            );
            headers.append(
                header::SET_COOKIE,
                cookie(LOGIN_COOKIE, "", Some(0), portal.secure),
            );
            if req.cookie(LANG_COOKIE).is_none() {
                headers.append(
                    header::SET_COOKIE,
                    cookie(
                        LANG_COOKIE,
                        opened.buddy.mail_language.as_str(),
                        Some(365 * 24 * 3600),
                        portal.secure,
                    ),
                );
            }
            response
        }
    }
}

async fn sign_out(
    member: Member,
    state: Data<AppState>,
    portal: Data<Portal>,
    _form: FormData,
) -> HttpResponse {
    let session = member.session_id().to_owned();
    let now = state.clock.now_naive();
    let ended = state
        .change(member.ctx(now), move |tx| ops::sign_out(tx, &session))
        .await;
    if let Err(e) = ended {
        return member.error(&ApiError::from(e));
    }
    let mut response = see_other("/buddy/login?bye=1");
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(SESSION_COOKIE, "", Some(0), portal.secure),
    );
    response
}

#[derive(Debug, Deserialize)]
struct LanguageQuery {
    to: String,
    #[serde(default)]
    back: Option<String>,
}

/// Where to go back to after choosing the language: a portal page, never another site.
pub fn safe_back(back: Option<&str>) -> &str {
    match back {
        Some(path)
            if super::is_portal(path)
                && !path.contains("//")
                && !path.contains('\\')
                && !path.starts_with("/buddy/sign-in")
                && path.chars().all(|c| c.is_ascii_graphic()) =>
        {
            path
        }
        _ => super::PREFIX,
    }
}

async fn language(portal: Data<Portal>, query: Query<LanguageQuery>) -> HttpResponse {
    let lang = Lang::parse(&query.to).unwrap_or_default();
    let mut response = see_other(safe_back(query.back.as_deref()));
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(
            LANG_COOKIE,
            lang.code(),
            Some(365 * 24 * 3600),
            portal.secure,
        ),
    );
    response
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("portal.login.title", "Inloggen op je maatjespagina", "Sign in to your buddy page"),
    ("portal.login.intro", "Vul het e-mailadres in waarop je mail van het cliëntenbureau krijgt. Je krijgt dan een link om in te loggen; een wachtwoord is niet nodig.", "Enter the e-mail address at which the client bureau mails you. You will get a link to sign in; no password is needed."),
    ("portal.login.email", "E-mailadres", "E-mail address"),
    ("portal.login.submit", "Stuur mij een link", "Send me a link"),
    ("portal.login.not_an_address", "Vul een e-mailadres in, zoals naam@voorbeeld.nl.", "Please enter an e-mail address, such as name@example.org."),
    ("portal.login.expired", "Je was een tijd niet actief en bent daarom uitgelogd. Vraag een nieuwe link aan.", "You were inactive for a while and have been signed out. Please ask for a new link."),
    ("portal.login.bye", "Je bent uitgelogd.", "You are signed out."),
    ("portal.login.too_many", "Er zijn vanaf dit adres te veel links gevraagd. Probeer het over een minuut opnieuw.", "Too many links were asked for from this address. Please try again in a minute."),
    ("portal.login.busy", "Dat lukt even niet. Probeer het over een minuut opnieuw.", "That is not possible right now. Please try again in a minute."),
    ("portal.sent.title", "Kijk in je mail", "Check your mail"),
    ("portal.sent.body", "Als dit adres bij een maatje hoort, is er een link onderweg. De link werkt één keer en {minutes} minuten lang.", "If this address belongs to a buddy, a link is on its way. The link works once, for {minutes} minutes."),
    ("portal.sent.nothing", "Geen mail gekregen? Kijk ook bij je ongewenste mail, of vraag over een tijdje een nieuwe link aan.", "No mail? Also look in your spam folder, or ask for a new link in a while."),
    ("portal.sent.again", "Een nieuwe link vragen", "Ask for a new link"),
    ("portal.sign_in.title", "Inloggen", "Sign in"),
    ("portal.sign_in.intro", "Klik op de knop om in te loggen op je maatjespagina.", "Click the button to sign in to your buddy page."),
    ("portal.sign_in.submit", "Inloggen", "Sign in"),
    ("portal.link.title", "Deze link werkt niet (meer)", "This link does not work (any more)"),
    ("portal.link.unknown", "Deze link kennen we niet. Kijk of je de hele link uit de mail hebt gebruikt.", "We do not know this link. Check that you used the whole link from the mail."),
    ("portal.link.used", "Deze link is al gebruikt. Een link werkt maar één keer.", "This link has been used already. A link works only once."),
    ("portal.link.expired", "Deze link is verlopen.", "This link has expired."),
    ("portal.link.closed", "Met deze link kun je niet meer inloggen.", "You can no longer sign in with this link."),
    ("portal.link.new", "Vraag een nieuwe link aan", "Ask for a new link"),
];

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn only_portal_pages_are_gone_back_to() {
        assert_eq!(safe_back(Some("/buddy/settings")), "/buddy/settings");
        assert_eq!(safe_back(Some("https://evil.example/buddy")), "/buddy");
        assert_eq!(safe_back(Some("//evil.example/buddy")), "/buddy");
        assert_eq!(safe_back(Some("/console")), "/buddy");
        assert_eq!(safe_back(Some("/buddy/sign-in/abc")), "/buddy");
        assert_eq!(safe_back(None), "/buddy");
    }
}
