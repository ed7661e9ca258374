//! Rendering console pages, and who is looking at them ([`Viewer`]).

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::{ready, Ready};
use minijinja::{context, Environment, UndefinedBehavior, Value};

use super::i18n::{self, Texts};
use crate::api::Caller;
use crate::auth::{Identity, Role};
use crate::domain::session::ConsolePolicy;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::ops::Ctx;
use crate::respond::links::Links;

/// The cookie that holds the console session's token.
pub const SESSION_COOKIE: &str = "maatje_session";
/// The cookie that holds the chosen language.
pub const LANG_COOKIE: &str = "maatje_lang";

/// The console's templates, compiled in from `src/templates/console/`, by file name.
macro_rules! console_templates {
    ($($name:literal,)*) => {
        &[$(($name, include_str!(concat!("../templates/console/", $name)))),*]
    };
}

/// Every template file of the console, by name: one line each.
#[rustfmt::skip]
const FILES: &[(&str, &str)] = console_templates![
    "layout.html",
    "macros.html",
    "error.html",
    "login.html",
    "dashboard.html",
    "admin_index.html",
    "admin_staff.html",
    "admin_staff_edit.html",
    "admin_organisations.html",
    "admin_mails.html",
    "admin_clients.html",
    "admin_client.html",
    "admin_audit.html",
    "admin_audit_verify.html",
    "admin_privacy.html",
    "admin_feedback.html",
    "admin_privacy_request.html",
    "admin_privacy_buddy.html",
    "buddies.html",
    "buddy.html",
    "buddy_fields.html",
    "buddy_new.html",
    "reports.html",
    "requests.html",
    "request.html",
    "pairings.html",
    "pairing.html",
    "pairing_end.html",
    "exit_interviews.html",
    "exit_interview_new.html",
];

/// What every console page shares: the templates, the texts, the CSRF key and the session
/// settings. Built once, shared by the workers.
pub struct Console {
    env: Environment<'static>,
    links: Links,
    /// Secrets to show once, after the redirect that follows their creation (see
    /// [`Console::keep_once`]).
    once: std::sync::Mutex<std::collections::HashMap<String, Once>>,
    /// Send cookies with `Secure` (the service is reached over https).
    pub secure: bool,
    pub policy: ConsolePolicy,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Console")
    }
}

impl Console {
    pub fn new(links: Links, secure: bool, policy: ConsolePolicy) -> Console {
        let mut env = Environment::new();
        // A missing value is an error when printed, but may be tested (`{% if x.optional %}`): the
        // API's documents leave out empty optional fields.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        i18n::install(&mut env, Texts::all());
        for (name, source) in FILES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("console template {name}: {e:#}"));
        }
        // The buddy portal's pages share the texts, filters and macros (`crate::portal`).
        for (name, source) in crate::portal::FILES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("portal template {name}: {e:#}"));
        }
        Console {
            env,
            links,
            once: Default::default(),
            secure,
            policy,
        }
    }

    /// Shows the client bureau's details (`bureau`) at the foot of the buddy portal's pages, as
    /// on every other page for buddies and clients (see [`crate::config::bureau`]).
    pub fn with_bureau(mut self, bureau: &crate::config::BureauSettings) -> Console {
        self.env
            .add_global("bureau", minijinja::Value::from_serialize(bureau));
        self
    }

    /// Keeps `secret` (a new API key) for one showing to the session `session_id`, for five
    /// minutes, in this process's memory only: the answer to the form that created it redirects
    /// to a page that takes it with [`Console::take_once`]. Reloading that page, going back, or
    /// another session finds nothing: a key is shown once.
    pub fn keep_once(&self, session_id: &str, secret: String) -> String {
        let id = hex::encode(crate::auth::token::random_bytes::<16>());
        let mut once = self.once.lock().unwrap_or_else(|e| e.into_inner());
        once.retain(|_, kept| kept.at.elapsed() < ONCE_FOR);
        once.insert(
            id.clone(),
            Once {
                session: session_id.to_owned(),
                at: std::time::Instant::now(),
                secret,
            },
        );
        id
    }

    /// The secret kept under `id` for this session, removed as it is taken.
    pub fn take_once(&self, session_id: &str, id: &str) -> Option<String> {
        let mut once = self.once.lock().unwrap_or_else(|e| e.into_inner());
        let kept = once.remove(id)?;
        (kept.session == session_id && kept.at.elapsed() < ONCE_FOR).then_some(kept.secret)
    }

    /// The names of the templates, for tests.
    pub fn template_names() -> impl Iterator<Item = &'static str> {
        FILES.iter().map(|(name, _)| *name)
    }

    /// The sources of the templates, for tests.
    pub fn template_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
        FILES.iter().copied()
    }

    /// Renders `template` with `context`, in `lang`.
    pub fn render(&self, template: &str, context: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(template)?.render(context)
    }

    /// The CSRF token of a console session: derived from the session id with the service's
    /// secret, so it is stored nowhere and unguessable without the secret.
    pub fn csrf_token(&self, session_id: &str) -> String {
        hex::encode(&self.links.mac(b"console-csrf\0", session_id.as_bytes())[..20])
    }

    /// The CSRF token of the login form: bound to the visitor's pre-login cookie.
    pub fn login_token(&self, nonce: &str) -> String {
        hex::encode(&self.links.mac(b"console-login\0", nonce.as_bytes())[..20])
    }

    /// The page of a refusal made before any handler ran (a form without its CSRF token, a
    /// page an account may not see).
    pub fn refusal_page(&self, status: StatusCode, lang: Lang, message: &str) -> String {
        let context = context! {
            lang => lang.code(),
            other_lang => lang.other().code(),
            csrf => "",
            path => "",
            signed_in => false,
            is_admin => false,
            role => "",
            status => status.as_u16(),
            message => message,
        };
        self.render("error.html", context)
            .unwrap_or_else(|_| message.to_owned())
    }

    /// Answers `status` with the page `template` for `lang` (with `context` and the parts every
    /// page needs), or a plain error page when it cannot be rendered.
    pub fn page(
        &self,
        status: StatusCode,
        template: &str,
        base: Value,
        context: Value,
    ) -> HttpResponse {
        let context = context! { ..context, ..base };
        match self.render(template, context) {
            Ok(html) => html_response(status, html),
            Err(e) => {
                // The error's plain form: the alternate one lists the template's variables,
                // which hold personal data.
                tracing::error!(template, kind = ?e.kind(), line = ?e.line(), "a console page failed to render: {e}");
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Fout</title></head>\
                     <body><main><h1>Er ging iets mis / Something went wrong</h1></main></body></html>"
                        .to_owned(),
                )
            }
        }
    }
}

/// How long a secret waits for its one showing.
const ONCE_FOR: std::time::Duration = std::time::Duration::from_secs(300);

/// A secret waiting to be shown once.
struct Once {
    session: String,
    at: std::time::Instant,
    secret: String,
}

/// The id in a console path, or the page's 404: a malformed id names nothing.
pub fn path_id(text: &str, resource: &'static str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::try_parse(text).map_err(|_| ApiError::NotFound {
        resource,
        id: String::new(),
    })
}

/// A download: `content_type` with `filename`, with the console's headers.
pub fn download(content_type: &str, filename: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CONTENT_SECURITY_POLICY, super::CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// An HTML answer with the console's headers.
pub fn html_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, super::CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html)
}

/// `303 See Other` to `to`: the answer to every successful form, so that reloading or going
/// back shows a page instead of posting again.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// The language of a request: the `maatje_lang` cookie, else Dutch.
pub fn request_lang(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_default()
}

/// A signed-in member of staff looking at a console page: who (the same [`Caller`] as the
/// API's, with the request's audit record), in which language, and the CSRF token their forms
/// carry.
pub struct Viewer {
    pub caller: Caller,
    pub lang: Lang,
    pub csrf: String,
    /// The path asked for (for the language switch and the navigation).
    pub path: String,
    console: web::Data<Console>,
}

impl Viewer {
    /// The context the use-case operations run this request in.
    pub fn ctx(&self, now: chrono::NaiveDateTime) -> Ctx {
        self.caller.ctx(now)
    }

    pub fn is_admin(&self) -> bool {
        self.caller.identity.role == Role::Admin
    }

    pub fn identity(&self) -> &Identity {
        &self.caller.identity
    }

    /// The staff id of the viewer.
    pub fn staff_id(&self) -> String {
        self.caller.actor.id().unwrap_or_default().to_owned()
    }

    /// What every page's layout needs.
    fn base(&self) -> Value {
        context! {
            lang => self.lang.code(),
            other_lang => self.lang.other().code(),
            csrf => &self.csrf,
            path => &self.path,
            signed_in => true,
            is_admin => self.is_admin(),
            role => self.caller.identity.role.as_str(),
        }
    }

    /// The page `template` with `context`, answered 200.
    pub fn page(&self, template: &str, context: Value) -> HttpResponse {
        self.page_with(StatusCode::OK, template, context)
    }

    /// The page `template` with `context`, answered with `status` (a form shown again with
    /// its errors is a 422).
    pub fn page_with(&self, status: StatusCode, template: &str, context: Value) -> HttpResponse {
        self.console.page(status, template, self.base(), context)
    }

    /// The page for an error: what went wrong, in the viewer's language.
    pub fn error(&self, error: &ApiError) -> HttpResponse {
        let (status, message) = explain(error, self.lang);
        self.page_with(
            status,
            "error.html",
            context! { status => status.as_u16(), message => message },
        )
    }

    /// The page of `result`, or of its error.
    pub fn respond(&self, result: Result<HttpResponse, ApiError>) -> HttpResponse {
        result.unwrap_or_else(|e| self.error(&e))
    }

    /// The console's shared parts (for secrets shown once).
    pub fn console(&self) -> &Console {
        &self.console
    }

    /// Notes the client a page concerns, for the request's audit record.
    pub fn concerns(&self, client_ref: String) {
        self.caller
            .ctx(chrono::NaiveDateTime::default())
            .concerns(Some(client_ref));
    }

    /// The session this page is seen in.
    pub fn session_id(&self) -> &str {
        &self.caller.identity.credential_id
    }

    /// A translated text, for messages built in code.
    pub fn text(&self, key: &str) -> String {
        Texts::all().get(key, self.lang).to_owned()
    }
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(viewer(req))
    }
}

fn viewer(req: &HttpRequest) -> Result<Viewer, PageError> {
    let console = req
        .app_data::<web::Data<Console>>()
        .cloned()
        .ok_or_else(|| PageError::plain(StatusCode::INTERNAL_SERVER_ERROR))?;
    let identity = req
        .extensions()
        .get::<Identity>()
        .cloned()
        .ok_or_else(|| PageError::plain(StatusCode::UNAUTHORIZED))?;
    let caller = Caller::from_request(req, &mut Payload::None)
        .into_inner()
        .map_err(|_| PageError::plain(StatusCode::UNAUTHORIZED))?;
    Ok(Viewer {
        csrf: console.csrf_token(&identity.credential_id),
        lang: request_lang(req),
        path: req.path().to_owned(),
        caller,
        console,
    })
}

/// A page answered instead of running the handler (a refused form, a missing session).
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    html: String,
}

impl PageError {
    pub fn new(status: StatusCode, html: String) -> PageError {
        PageError { status, html }
    }

    fn plain(status: StatusCode) -> PageError {
        PageError {
            status,
            html: format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title></head><body><main><h1>{0}</h1><p><a href=\"/console\">maatje</a></p></main></body></html>",
                status
            ),
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "console page {}", self.status)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        html_response(self.status, self.html.clone())
    }
}

/// The status and the message of an error page, in `lang`.
pub fn explain(error: &ApiError, lang: Lang) -> (StatusCode, String) {
    let texts = Texts::all();
    let t = |key: &str| texts.get(key, lang).to_owned();
    match error {
        ApiError::NotFound { .. } | ApiError::NoRoute => {
            (StatusCode::NOT_FOUND, t("error.not_found"))
        }
        ApiError::Forbidden(_) | ApiError::OrganisationInactive => {
            (StatusCode::FORBIDDEN, t("error.forbidden"))
        }
        ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, t("error.unauthorized")),
        ApiError::IllegalTransition {
            resource,
            state,
            action,
        } => (
            StatusCode::CONFLICT,
            texts
                .get("error.illegal_transition", lang)
                .replace(
                    "{resource}",
                    texts.get(&format!("resource.{}", resource.replace(' ', "_")), lang),
                )
                .replace("{state}", &i18n::state_name(state, lang))
                .replace("{action}", &i18n::action_name(action, lang)),
        ),
        ApiError::Conflict { detail, .. } => (
            StatusCode::CONFLICT,
            format!("{} {}", t("error.conflict"), detail),
        ),
        ApiError::DuplicateRequest { .. } => (StatusCode::CONFLICT, t("error.duplicate_request")),
        ApiError::PreconditionFailed { .. } => (StatusCode::CONFLICT, t("error.changed")),
        ApiError::Invalid(fields) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, i18n::field_message(&f.message, lang)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ApiError::Unavailable(_) | ApiError::Busy { .. } => {
            (StatusCode::SERVICE_UNAVAILABLE, t("error.unavailable"))
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, t("error.internal")),
    }
}

/// Sets a cookie's standard attributes: only for the console's paths, never sent by another
/// site's page, not readable by script, and over https only when the service is.
pub fn cookie_header(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    cookie_header_at(super::PREFIX, name, value, max_age, secure)
}

/// [`cookie_header`] for the paths under `path` (the buddy portal's `/buddy`).
pub fn cookie_header_at(
    path: &str,
    name: &str,
    value: &str,
    max_age: Option<i64>,
    secure: bool,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(seconds) = max_age {
        text.push_str(&format!("; Max-Age={seconds}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).expect("cookie values are ASCII tokens")
}

/// The answer to a console request the access check refused: no (valid) session goes to the
/// login page, which comes back here after signing in (a session that was there but has ended,
/// idle or revoked, says so and is cleared); any other refusal is a page saying why.
pub fn refusal(req: &HttpRequest, error: &ApiError, who: Option<&Identity>) -> HttpResponse {
    let lang = request_lang(req);
    let console = req.app_data::<web::Data<Console>>();
    if let ApiError::Unauthorized(_) = error {
        let had_session = req.cookie(SESSION_COOKIE).is_some();
        let next = if req.method() == actix_web::http::Method::GET {
            super::session::safe_next(Some(req.path()))
        } else {
            super::PREFIX
        };
        let mut to = format!(
            "/console/login?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        if had_session {
            to.push_str("&expired=1");
        }
        let mut response = see_other(&to);
        if had_session {
            let secure = console.is_some_and(|c| c.secure);
            response.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(SESSION_COOKIE, "", Some(0), secure),
            );
        }
        return response;
    }
    let (status, message) = explain(error, lang);
    match (console, who) {
        // Signed in but not allowed: the page in the console's frame, with the menu.
        (Some(console), Some(who)) => {
            let base = context! {
                lang => lang.code(),
                other_lang => lang.other().code(),
                csrf => console.csrf_token(&who.credential_id),
                path => req.path(),
                signed_in => true,
                is_admin => who.role == Role::Admin,
                role => who.role.as_str(),
            };
            console.page(
                status,
                "error.html",
                base,
                context! { status => status.as_u16(), message => message },
            )
        }
        (Some(console), None) => {
            html_response(status, console.refusal_page(status, lang, &message))
        }
        (None, _) => html_response(status, message),
    }
}
