//! Reading console forms: the body (URL-encoded, within the body limit), the CSRF check that
//! comes first, and the errors a form is shown again with.

use std::collections::BTreeMap;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use minijinja::Value;
use subtle::ConstantTimeEq;

use super::i18n::{field_message, Texts};
use super::page::{request_lang, Console, PageError};
use crate::auth::Identity;
use crate::error::ApiError;
use crate::http::extract::{declared_length, read_limited, BodyLimit};
use crate::i18n::Lang;

/// The name of the CSRF field in every form.
pub const CSRF_FIELD: &str = "_csrf";
/// The cookie the login form's CSRF token is bound to, before there is a session.
pub const LOGIN_COOKIE: &str = "maatje_login";

/// A posted form whose CSRF token was checked: the session's token for a signed-in member of
/// staff, the login cookie's for the login form. A form without a valid token is refused with
/// a page saying so (403), before the handler runs: nothing changes.
#[derive(Debug, Default, Clone)]
pub struct FormData {
    fields: Vec<(String, String)>,
}

impl FormData {
    /// The first value of `name`, trimmed; empty when missing.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The first value of `name`, untrimmed (a password).
    pub fn raw(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name` (checkboxes, multiple selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `name` is present (a checked checkbox).
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }

    /// What was entered, to show the form again with it: every field but the CSRF token and
    /// passwords. A name given several times keeps all its values as a list.
    pub fn entered(&self) -> Value {
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        for (key, value) in &self.fields {
            if key == CSRF_FIELD || key.contains("password") {
                continue;
            }
            let all = self.all(key);
            map.insert(
                key.clone(),
                if all.len() > 1 {
                    Value::from(all)
                } else {
                    Value::from(value.clone())
                },
            );
        }
        Value::from(map)
    }

    pub fn from_pairs(fields: Vec<(String, String)>) -> FormData {
        FormData { fields }
    }
}

impl FromRequest for FormData {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().copied().unwrap_or_default().0;
        let declared = declared_length(req.headers());
        let payload = payload.take();
        let expected = expected_token(req);
        let lang = request_lang(req);
        let console = req.app_data::<web::Data<Console>>().cloned();
        let portal = crate::portal::is_portal(req.path());
        Box::pin(async move {
            let refuse = |status: StatusCode, key: &str| {
                let message = Texts::all().get(key, lang).to_owned();
                match &console {
                    Some(console) if portal => PageError::new(
                        status,
                        crate::portal::refusal_page(console, status, lang, &message),
                    ),
                    Some(console) => {
                        PageError::new(status, console.refusal_page(status, lang, &message))
                    }
                    None => PageError::new(status, message),
                }
            };
            let body = read_limited(payload, limit, declared)
                .await
                .map_err(|e| match e {
                    ApiError::PayloadTooLarge { .. } => {
                        refuse(StatusCode::PAYLOAD_TOO_LARGE, "error.too_large")
                    }
                    _ => refuse(StatusCode::BAD_REQUEST, "error.bad_form"),
                })?;
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|_| refuse(StatusCode::BAD_REQUEST, "error.bad_form"))?;
            let form = FormData { fields };
            let sent = form.raw(CSRF_FIELD).as_bytes();
            let valid = expected
                .as_deref()
                .is_some_and(|expected| !sent.is_empty() && expected.as_bytes().ct_eq(sent).into());
            if !valid {
                return Err(refuse(StatusCode::FORBIDDEN, "error.csrf"));
            }
            Ok(form)
        })
    }
}

/// The token a form of this request must carry.
fn expected_token(req: &HttpRequest) -> Option<String> {
    let console = req.app_data::<web::Data<Console>>()?;
    if let Some(identity) = req.extensions().get::<Identity>() {
        return Some(console.csrf_token(&identity.credential_id));
    }
    let nonce = req.cookie(LOGIN_COOKIE)?;
    Some(console.login_token(nonce.value()))
}

/// The errors of a form, by field, in the page's language.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors {
    lang: Lang,
    errors: BTreeMap<String, String>,
}

impl FieldErrors {
    pub fn new(lang: Lang) -> FieldErrors {
        FieldErrors {
            lang,
            errors: BTreeMap::new(),
        }
    }

    /// Notes `message` (a text key) at `field`, unless it has one already.
    pub fn fail(&mut self, field: &str, key: &str) {
        let text = Texts::all().get(key, self.lang).to_owned();
        self.errors.entry(field.to_owned()).or_insert(text);
    }

    /// Notes a message as it is.
    pub fn fail_text(&mut self, field: &str, text: String) {
        self.errors.entry(field.to_owned()).or_insert(text);
    }

    /// Takes the field errors of a refused change: each at its field (`fields` maps the API's
    /// field names to the form's when they differ), translated; `None` for any other error,
    /// which is not about a field.
    pub fn absorb(&mut self, error: &ApiError, fields: &[(&str, &str)]) -> bool {
        let ApiError::Invalid(list) = error else {
            return false;
        };
        for item in list {
            let name = item.field.trim_start_matches('/').replace('/', ".");
            let name = fields
                .iter()
                .find(|(api, _)| *api == name)
                .map_or(name.clone(), |(_, form)| (*form).to_owned());
            let text = field_message(&item.message, self.lang);
            self.fail_text(&name, text);
        }
        true
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn to_value(&self) -> Value {
        Value::from_serialize(&self.errors)
    }
}

/// Checks a required text field: trimmed, not empty, at most `max` characters.
pub fn required(form: &FormData, errors: &mut FieldErrors, field: &str, max: usize) -> String {
    let value = form.get(field);
    if value.is_empty() {
        errors.fail(field, "field.required");
    } else {
        bounded(errors, field, value, max);
    }
    value.to_owned()
}

/// Checks an optional text field: `None` when empty.
pub fn optional(
    form: &FormData,
    errors: &mut FieldErrors,
    field: &str,
    max: usize,
) -> Option<String> {
    let value = form.get(field);
    if value.is_empty() {
        return None;
    }
    bounded(errors, field, value, max);
    Some(value.to_owned())
}

fn bounded(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        let text = Texts::all()
            .get("field.too_long", errors.lang)
            .replace("{max}", &max.to_string());
        errors.fail_text(field, text);
    }
}

/// Checks a date field (`YYYY-MM-DD`, as a date input sends it).
pub fn date(
    form: &FormData,
    errors: &mut FieldErrors,
    field: &str,
    needed: bool,
) -> Option<chrono::NaiveDate> {
    let value = form.get(field);
    if value.is_empty() {
        if needed {
            errors.fail(field, "field.required");
        }
        return None;
    }
    match value.parse::<chrono::NaiveDate>() {
        Ok(day) => Some(day),
        Err(_) => {
            errors.fail(field, "field.date");
            None
        }
    }
}

/// Checks a whole number field within `min..=max`.
pub fn number(
    form: &FormData,
    errors: &mut FieldErrors,
    field: &str,
    min: i64,
    max: i64,
) -> Option<i64> {
    let value = form.get(field);
    if value.is_empty() {
        errors.fail(field, "field.required");
        return None;
    }
    match value.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            let text = Texts::all()
                .get("field.number", errors.lang)
                .replace("{min}", &min.to_string())
                .replace("{max}", &max.to_string());
            errors.fail_text(field, text);
            None
        }
    }
}

/// Checks that a field is one of `choices`.
pub fn choice(
    form: &FormData,
    errors: &mut FieldErrors,
    field: &str,
    choices: &[&str],
) -> Option<String> {
    let value = form.get(field);
    if value.is_empty() {
        errors.fail(field, "field.required");
        return None;
    }
    if choices.contains(&value) {
        Some(value.to_owned())
    } else {
        errors.fail(field, "field.choice");
        None
    }
}

/// The texts of form handling.
pub const TEXTS: &[(&str, &str, &str)] = &[
    (
        "field.required",
        "Vul dit veld in.",
        "Please fill in this field.",
    ),
    (
        "field.too_long",
        "Maximaal {max} tekens.",
        "At most {max} characters.",
    ),
    (
        "field.date",
        "Vul een datum in (dd-mm-jjjj).",
        "Please enter a date.",
    ),
    (
        "field.number",
        "Vul een heel getal in van {min} tot en met {max}.",
        "Please enter a whole number from {min} to {max}.",
    ),
    (
        "field.choice",
        "Kies een van de mogelijkheden.",
        "Please pick one of the choices.",
    ),
    (
        "error.too_large",
        "Het formulier is te groot. Er is niets gewijzigd.",
        "The form is too large. Nothing was changed.",
    ),
    (
        "error.bad_form",
        "Het formulier kon niet gelezen worden. Er is niets gewijzigd.",
        "The form could not be read. Nothing was changed.",
    ),
];

/// How a page with forms is shown this time: its status, what was entered (to show again), the
/// errors at the fields, a confirmation after a redirect, and why a change was refused.
#[derive(Debug)]
pub struct Shown {
    pub status: actix_web::http::StatusCode,
    pub values: Value,
    pub errors: FieldErrors,
    pub done: Option<String>,
    pub problem: Option<String>,
}

impl Shown {
    /// The page as it is: nothing entered, nothing to say.
    pub fn fresh(lang: Lang) -> Shown {
        Shown::done(lang, None)
    }

    /// The page after a change, saying `done` (a text key) if any.
    pub fn done(lang: Lang, done: Option<String>) -> Shown {
        Shown {
            status: actix_web::http::StatusCode::OK,
            values: Value::from(()),
            errors: FieldErrors::new(lang),
            done,
            problem: None,
        }
    }

    /// The form again with what was entered and its errors (422).
    pub fn invalid(form: &FormData, errors: FieldErrors) -> Shown {
        Shown {
            status: actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            values: form.entered(),
            errors,
            done: None,
            problem: None,
        }
    }

    /// The page again after a change was refused: the domain's field errors at their fields,
    /// or the reason (an illegal step, a rule) at the top, with the status of the refusal.
    pub fn refused(lang: Lang, form: &FormData, error: &ApiError) -> Shown {
        let mut errors = FieldErrors::new(lang);
        if errors.absorb(error, &[]) {
            return Shown::invalid(form, errors);
        }
        let (status, message) = super::page::explain(error, lang);
        Shown {
            status,
            values: form.entered(),
            errors,
            done: None,
            problem: Some(message),
        }
    }
}
