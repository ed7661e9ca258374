//! The template files of the e-mails and of the buddy response pages, compiled into the binary
//! from `src/templates/` and rendered with minijinja.
//!
//! Escaping follows the file name: a `.html` template escapes every value it prints (a name
//! like `<b>Jan</b>` shows as typed, never as markup), a `.txt` template prints values as they
//! are. Either way every printed value that is not marked safe is neutralised first
//! ([`crate::respond::links::neutralise`]), so a response-link marker typed into a name, reason
//! or note stays text: only the markers the service places ([`crate::respond::links::marker_value`],
//! safe values) become links when the mail is sent. No template marks a value safe itself. A value missing from the context is an error, never an empty string, so a template
//! that names a field the code does not give fails its test instead of sending a gap.
//!
//! An e-mail is a pair `mail/<language>/<kind>.txt` and `.html`. The text template renders
//! blocks, `subject` and `body`; the HTML template extends `mail/layout.html` and fills its
//! `content` block. Labels (triggers, channels) are macros in `mail/<language>/labels.txt`.
//!
//! What every template has, so that a mail or page added later shows it without work (see
//! [`install`]):
//! - `bureau`: the client bureau's `name`, `phone`, `email` and `postal_address` (`[bureau]`).
//!   The mail layout and the plain-text footer (`mail/footer.txt`, appended to every text part)
//!   and the pages' layout show them.
//! - `|local_time`: a UTC time (as the service serialises it, or as
//!   [`crate::mail::notices::display_time`] writes it) in Dutch local time with its zone named,
//!   in the reader's language (`lang`): "9 december 2026 om 14:30 (Nederlandse tijd)";
//!   `|local_date` its local date in full.
//! - `|language`: a language code as its name in the reader's language ("Arabisch"), and
//!   `|language_names` the same for a list.

use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

use crate::config::BureauSettings;
use crate::i18n::{self, Lang};

/// Every template file, by name.
macro_rules! template_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!($name)))),*]
    };
}

/// The languages a message or page can be in.
pub const LANGUAGES: [&str; 2] = ["nl", "en"];

/// The kinds of e-mail; each has a `.txt` and an `.html` template per language.
pub const MAIL_KINDS: [&str; 20] = [
    "buddy_proposal",
    "buddy_reminder",
    "buddy_withdrawn",
    "buddy_confirmation",
    "buddy_thanks",
    "bureau_new_request",
    "bureau_declined",
    "bureau_expired",
    "bureau_cancelled",
    "bureau_overdue",
    "bureau_no_candidate",
    "bureau_dead_letter",
    "bureau_webhook_dead",
    "buddy_contact_reminder",
    "bureau_contact_missing",
    "buddy_check_in",
    "bureau_check_in_help",
    "buddy_sign_in",
    "bureau_retirement_requested",
    "client_feedback_invitation",
];

const FILES: &[(&str, &str)] = template_files![
    "mail/layout.html",
    "mail/footer.txt",
    "mail/nl/labels.txt",
    "mail/en/labels.txt",
    "mail/nl/buddy_contact_reminder.txt",
    "mail/nl/buddy_contact_reminder.html",
    "mail/en/buddy_contact_reminder.txt",
    "mail/en/buddy_contact_reminder.html",
    "mail/nl/bureau_contact_missing.txt",
    "mail/nl/bureau_contact_missing.html",
    "mail/en/bureau_contact_missing.txt",
    "mail/en/bureau_contact_missing.html",
    "mail/nl/buddy_check_in.txt",
    "mail/nl/buddy_check_in.html",
    "mail/en/buddy_check_in.txt",
    "mail/en/buddy_check_in.html",
    "mail/nl/bureau_check_in_help.txt",
    "mail/nl/bureau_check_in_help.html",
    "mail/en/bureau_check_in_help.txt",
    "mail/en/bureau_check_in_help.html",
    "mail/nl/buddy_proposal.txt",
    "mail/nl/buddy_proposal.html",
    "mail/en/buddy_proposal.txt",
    "mail/en/buddy_proposal.html",
    "mail/nl/buddy_reminder.txt",
    "mail/nl/buddy_reminder.html",
    "mail/en/buddy_reminder.txt",
    "mail/en/buddy_reminder.html",
    "mail/nl/buddy_withdrawn.txt",
    "mail/nl/buddy_withdrawn.html",
    "mail/en/buddy_withdrawn.txt",
    "mail/en/buddy_withdrawn.html",
    "mail/nl/buddy_confirmation.txt",
    "mail/nl/buddy_confirmation.html",
    "mail/en/buddy_confirmation.txt",
    "mail/en/buddy_confirmation.html",
    "mail/nl/buddy_thanks.txt",
    "mail/nl/buddy_thanks.html",
    "mail/en/buddy_thanks.txt",
    "mail/en/buddy_thanks.html",
    "mail/nl/bureau_new_request.txt",
    "mail/nl/bureau_new_request.html",
    "mail/en/bureau_new_request.txt",
    "mail/en/bureau_new_request.html",
    "mail/nl/bureau_declined.txt",
    "mail/nl/bureau_declined.html",
    "mail/en/bureau_declined.txt",
    "mail/en/bureau_declined.html",
    "mail/nl/bureau_expired.txt",
    "mail/nl/bureau_expired.html",
    "mail/en/bureau_expired.txt",
    "mail/en/bureau_expired.html",
    "mail/nl/bureau_cancelled.txt",
    "mail/nl/bureau_cancelled.html",
    "mail/en/bureau_cancelled.txt",
    "mail/en/bureau_cancelled.html",
    "mail/nl/bureau_overdue.txt",
    "mail/nl/bureau_overdue.html",
    "mail/en/bureau_overdue.txt",
    "mail/en/bureau_overdue.html",
    "mail/nl/bureau_no_candidate.txt",
    "mail/nl/bureau_no_candidate.html",
    "mail/en/bureau_no_candidate.txt",
    "mail/en/bureau_no_candidate.html",
    "mail/nl/bureau_dead_letter.txt",
    "mail/nl/bureau_dead_letter.html",
    "mail/en/bureau_dead_letter.txt",
    "mail/en/bureau_dead_letter.html",
    "mail/nl/bureau_webhook_dead.txt",
    "mail/nl/bureau_webhook_dead.html",
    "mail/en/bureau_webhook_dead.txt",
    "mail/en/bureau_webhook_dead.html",
    "mail/nl/buddy_sign_in.txt",
    "mail/nl/buddy_sign_in.html",
    "mail/en/buddy_sign_in.txt",
    "mail/en/buddy_sign_in.html",
    "mail/nl/bureau_retirement_requested.txt",
    "mail/nl/bureau_retirement_requested.html",
    "mail/en/bureau_retirement_requested.txt",
    "mail/en/bureau_retirement_requested.html",
    "pages/layout.html",
    "pages/nl/labels.txt",
    "pages/en/labels.txt",
    "pages/nl/proposal.html",
    "pages/en/proposal.html",
    "pages/nl/answered.html",
    "pages/en/answered.html",
    "pages/nl/unavailable.html",
    "pages/en/unavailable.html",
    "pages/nl/check_in.html",
    "pages/en/check_in.html",
    "pages/nl/checked_in.html",
    "pages/en/checked_in.html",
    "mail/nl/client_feedback_invitation.txt",
    "mail/nl/client_feedback_invitation.html",
    "mail/en/client_feedback_invitation.txt",
    "mail/en/client_feedback_invitation.html",
    "pages/nl/feedback_form.html",
    "pages/en/feedback_form.html",
    "pages/nl/feedback_thanks.html",
    "pages/en/feedback_thanks.html",
    "pages/nl/feedback_unavailable.html",
    "pages/en/feedback_unavailable.html",
];

/// A rendered e-mail, before it goes into the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The compiled templates. Cheap to share: build once, keep in an `Arc`.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// Compiles every template file, with the built-in (example) bureau details: for tests.
    /// Panics on a syntax error, which the unit tests catch.
    pub fn new() -> Self {
        Self::with_bureau(&crate::config::Settings::built_in().bureau)
    }

    /// Compiles every template file, showing `bureau` in every mail and page.
    pub fn with_bureau(bureau: &BureauSettings) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_formatter(neutralising_formatter);
        install(&mut env, bureau);
        for (name, source) in FILES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        Templates { env }
    }

    /// Renders the e-mail `kind` in `language` (`nl` or `en`) with `context`.
    pub fn mail(
        &self,
        kind: &str,
        language: &str,
        context: Value,
    ) -> Result<RenderedMail, minijinja::Error> {
        // The reader's language, for the footer and the filters, is the one rendered in.
        let context = minijinja::context! { lang => language, ..context };
        let text = self
            .env
            .get_template(&format!("mail/{language}/{kind}.txt"))?;
        let rendered = text.render_captured(&context)?;
        let subject = rendered
            .state()
            .lookup("subject")
            .map(|s| s.to_string())
            .ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::UndefinedError,
                    format!("mail/{language}/{kind}.txt sets no subject"),
                )
            })?;
        let footer = self.env.get_template("mail/footer.txt")?.render(&context)?;
        let body = format!("{}\n-- \n{}", tidy(rendered.output()), tidy(&footer));
        let html = self
            .env
            .get_template(&format!("mail/{language}/{kind}.html"))?
            .render(&context)?;
        Ok(RenderedMail {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: body,
            html,
        })
    }

    /// Renders the page `name` (`proposal`, `answered`, `unavailable`) in `language`.
    pub fn page(
        &self,
        name: &str,
        language: &str,
        context: Value,
    ) -> Result<String, minijinja::Error> {
        self.env
            .get_template(&format!("pages/{language}/{name}.html"))?
            .render(&context)
    }
}

/// Gives `env` what every mail and page template may use: the `bureau` and the filters
/// `local_time`, `local_date`, `language` and `language_names` (see the module's text). The
/// reader's language is the template's `lang` (`nl` when absent).
pub fn install(env: &mut Environment<'static>, bureau: &BureauSettings) {
    env.add_global("bureau", Value::from_serialize(bureau));
    env.add_filter(
        "local_time",
        |state: &State, at: &str| -> Result<String, Error> {
            Ok(i18n::local_time_in_full(utc(at)?, reader(state)))
        },
    );
    env.add_filter(
        "local_date",
        |state: &State, at: &str| -> Result<String, Error> {
            Ok(i18n::local_date_in_full(utc(at)?, reader(state)))
        },
    );
    env.add_filter("language", |state: &State, code: &str| -> String {
        i18n::language_name(code, reader(state))
    });
    env.add_filter(
        "language_names",
        |state: &State, codes: Vec<String>| -> Vec<String> {
            let lang = reader(state);
            codes
                .iter()
                .map(|code| i18n::language_name(code, lang))
                .collect()
        },
    );
}

/// The reader's language: the template's `lang`.
fn reader(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default()
}

fn utc(text: &str) -> Result<chrono::NaiveDateTime, Error> {
    i18n::parse_utc(text)
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("not a time: `{text}`")))
}

/// The default formatter (escaping by file name), after neutralising response-link markers in
/// every value the service did not mark safe.
fn neutralising_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    use minijinja::value::ValueKind;
    let textual = matches!(
        value.kind(),
        ValueKind::String
            | ValueKind::Seq
            | ValueKind::Map
            | ValueKind::Iterable
            | ValueKind::Plain
    );
    if value.is_safe() || !textual {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let neutral = crate::respond::links::neutralise(&text);
    minijinja::escape_formatter(out, state, &Value::from(neutral.as_ref()))
}

/// Trims the blank lines a template leaves at the start and the end, and ends with one newline.
fn tidy(text: &str) -> String {
    let mut out = text.trim_matches('\n').to_owned();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests;
