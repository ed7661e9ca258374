//! Signing in and out of the console, and choosing its language.
//!
//! - `GET /console/login` shows the form; it sets a random `maatje_login` cookie the form's
//!   CSRF token is bound to (there is no session yet).
//! - `POST /console/login` checks the password like the API's login (same accounts, same
//!   lockout per source address, [`crate::auth::login`]) and opens a *console* session: its
//!   token goes in the `maatje_session` cookie (HttpOnly, SameSite=Strict, `Path=/console`,
//!   Secure over https), which the API refuses as a bearer token, as the console refuses an API
//!   token. The session ends after `console.idle_minutes` without a request, and at the latest
//!   `console.session_hours` after the login.
//! - `POST /console/logout` ends it.
//! - `GET /console/language?to=en&back=/console/...` sets the language cookie and goes back.

use actix_web::http::header::{self, LOCATION};
use actix_web::http::StatusCode;
use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use minijinja::context;
use serde::Deserialize;

use super::forms::{FormData, LOGIN_COOKIE};
use super::page::{
    cookie_header, request_lang, see_other, Console, Viewer, LANG_COOKIE, SESSION_COOKIE,
};
use super::router::Router;
use crate::auth::policy::{PUBLIC, STAFF_ONLY};
use crate::domain::values::MAX_EMAIL;
use crate::error::ApiError;
use crate::ops::admin::{LoginOutcome, Opening};
use crate::ops::AppState;

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/login", |p| {
            p.get(PUBLIC, login_form).post(PUBLIC, log_in)
        })
        .path("/console/logout", |p| p.post(STAFF_ONLY, log_out))
        .path("/console/language", |p| p.get(PUBLIC, language));
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    bye: Option<String>,
}

/// Where to go after signing in: a console page, never another site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if super::is_console(path)
                && !path.contains("//")
                && !path.contains('\\')
                && !path.starts_with("/console/login")
                && path.chars().all(|c| c.is_ascii_graphic()) =>
        {
            path
        }
        _ => super::PREFIX,
    }
}

async fn login_form(
    req: HttpRequest,
    console: Data<Console>,
    query: Query<LoginQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let notice = if query.expired.is_some() {
        Some("login.expired")
    } else if query.bye.is_some() {
        Some("login.bye")
    } else {
        None
    };
    login_page(
        &req,
        &console,
        StatusCode::OK,
        "",
        safe_next(query.next.as_deref()),
        notice,
        None,
    )
}

/// The login page; a fresh `maatje_login` cookie unless the visitor has one.
fn login_page(
    req: &HttpRequest,
    console: &Console,
    status: StatusCode,
    email: &str,
    next: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    let lang = request_lang(req);
    let existing = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    let nonce = existing
        .clone()
        .unwrap_or_else(|| hex::encode(crate::auth::token::random_bytes::<16>()));
    let base = context! {
        lang => lang.code(),
        other_lang => lang.other().code(),
        csrf => console.login_token(&nonce),
        path => "/console/login",
        signed_in => false,
        is_admin => false,
        role => "",
    };
    let mut response = console.page(
        status,
        "login.html",
        base,
        context! { email => email, next => next, notice => notice, login_error => error },
    );
    if existing.is_none() {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookie_header(LOGIN_COOKIE, &nonce, Some(3600), console.secure),
        );
    }
    response
}

async fn log_in(
    req: HttpRequest,
    state: Data<AppState>,
    console: Data<Console>,
    form: FormData,
) -> HttpResponse {
    let email = form.get("email").to_owned();
    let password = form.raw("password").to_owned();
    let next = safe_next(Some(form.get("next"))).to_owned();
    if email.is_empty()
        || password.is_empty()
        || email.len() > MAX_EMAIL
        || password.len() > crate::auth::password::MAX_LENGTH * 4
    {
        return login_page(
            &req,
            &console,
            StatusCode::UNPROCESSABLE_ENTITY,
            &email,
            &next,
            None,
            Some("login.missing"),
        );
    }
    let source = crate::auth::login::source(&req);
    let outcome = crate::auth::login::log_in(
        &state,
        &email,
        password,
        source,
        Opening::Console(console.policy),
    )
    .await;
    match outcome {
        Ok(LoginOutcome::Success(session)) => {
            let mut response = see_other(&next);
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                cookie_header(SESSION_COOKIE, &session.token, None, console.secure),
            );
            headers.append(
                header::SET_COOKIE,
                cookie_header(LOGIN_COOKIE, "", Some(0), console.secure),
            );
            response
        }
        Ok(LoginOutcome::Refused { .. }) => login_page(
            &req,
            &console,
            StatusCode::UNAUTHORIZED,
            &email,
            &next,
            None,
            Some("login.refused"),
        ),
        Err(ApiError::Busy { .. } | ApiError::Unavailable(_)) => login_page(
            &req,
            &console,
            StatusCode::SERVICE_UNAVAILABLE,
            &email,
            &next,
            None,
            Some("login.busy"),
        ),
        Err(e) => {
            tracing::error!(error = %e, "a console login failed");
            login_page(
                &req,
                &console,
                StatusCode::INTERNAL_SERVER_ERROR,
                &email,
                &next,
                None,
                Some("login.busy"),
            )
        }
    }
}

async fn log_out(
    viewer: Viewer,
    state: Data<AppState>,
    console: Data<Console>,
    _form: FormData,
) -> HttpResponse {
    let session = viewer.identity().credential_id.clone();
    let now = state.clock.now_naive();
    let ended = state
        .change(viewer.ctx(now), move |tx| {
            crate::ops::admin::log_out(tx, &session)
        })
        .await;
    if let Err(e) = ended {
        return viewer.error(&ApiError::from(e));
    }
    let mut response = see_other("/console/login?bye=1");
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(SESSION_COOKIE, "", Some(0), console.secure),
    );
    response
}

#[derive(Debug, Deserialize)]
struct LanguageQuery {
    to: String,
    #[serde(default)]
    back: Option<String>,
}

async fn language(console: Data<Console>, query: Query<LanguageQuery>) -> HttpResponse {
    let lang = crate::i18n::Lang::parse(&query.to).unwrap_or_default();
    let back = match query.back.as_deref() {
        Some(path) if path.starts_with("/console/login") => "/console/login",
        other => safe_next(other),
    };
    HttpResponse::SeeOther()
        .insert_header((LOCATION, back))
        .insert_header((
            header::SET_COOKIE,
            cookie_header(
                LANG_COOKIE,
                lang.code(),
                Some(365 * 24 * 3600),
                console.secure,
            ),
        ))
        .finish()
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("login.title", "Inloggen", "Log in"),
    ("login.intro", "Log in met uw account van het cliëntenbureau.", "Log in with your client bureau account."),
    ("login.email", "E-mailadres", "E-mail address"),
    ("login.password", "Wachtwoord", "Password"),
    ("login.submit", "Inloggen", "Log in"),
    ("login.refused", "Dat e-mailadres en wachtwoord horen niet bij elkaar, of het account is (tijdelijk) geblokkeerd.", "That e-mail address and password do not match, or the account is (temporarily) locked."),
    ("login.missing", "Vul uw e-mailadres en wachtwoord in.", "Please enter your e-mail address and password."),
    ("login.busy", "Inloggen lukt even niet. Probeer het over een minuut opnieuw.", "Logging in is not possible right now. Please try again in a minute."),
    ("login.expired", "U was een tijd niet actief en bent daarom uitgelogd. Log opnieuw in.", "You were inactive for a while and have been logged out. Please log in again."),
    ("login.bye", "U bent uitgelogd.", "You are logged out."),
];

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_pages_are_followed_after_login() {
        assert_eq!(
            safe_next(Some("/console/requests/abc")),
            "/console/requests/abc"
        );
        assert_eq!(safe_next(Some("https://evil.example/console")), "/console");
        assert_eq!(safe_next(Some("//evil.example/console")), "/console");
        assert_eq!(safe_next(Some("/console//evil.example")), "/console");
        assert_eq!(safe_next(Some("/v1/buddies")), "/console");
        assert_eq!(safe_next(Some("/console/login")), "/console");
        assert_eq!(safe_next(None), "/console");
    }
}
