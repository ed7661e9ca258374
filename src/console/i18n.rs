//! The console's texts in Dutch and English, and the template functions that show them.
//!
//! Each view keeps its texts beside its handlers, as `(key, Dutch, English)` triples
//! (`pub const TEXTS`), listed in [`CATALOGUES`]. In a template, `t("key")` prints the text in
//! the page's language (`lang` in the context), with `{name}` placeholders filled from keyword
//! arguments: `t("dashboard.overdue", n=3)`. A key without a text is an error, which the
//! template tests catch, never a blank.
//!
//! Filters: `local` (a UTC time in Europe/Amsterdam local time), `day` (a date), `since`
//! (the time from a UTC time to `now`), `language` (a language code by name), `state`, and
//! `utc` (the time for `<time datetime>`).

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::NaiveDateTime;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::i18n::{self, Lang};

/// Every view's texts.
const CATALOGUES: &[&[(&str, &str, &str)]] = &[
    COMMON,
    super::session::TEXTS,
    super::forms::TEXTS,
    super::dashboard::TEXTS,
    super::admin::TEXTS,
    super::admin_clients::TEXTS,
    super::admin_audit::TEXTS,
    super::admin_privacy::TEXTS,
    super::admin_feedback::TEXTS,
    super::buddies::TEXTS,
    super::reports::TEXTS,
    super::requests::TEXTS,
    super::pairings::TEXTS,
    super::exit_interviews::TEXTS,
    crate::portal::TEXTS,
    crate::portal::session::TEXTS,
    crate::portal::pages::TEXTS,
];

/// The texts every page uses: the layout, errors, states and field messages.
const COMMON: &[(&str, &str, &str)] = &[
    ("app.name", "maatje", "maatje"),
    ("app.tagline", "Maatjesprogramma jeugdbescherming", "Buddy programme, youth protection"),
    ("layout.skip", "Naar de inhoud", "Skip to content"),
    ("layout.nav", "Hoofdmenu", "Main menu"),
    ("layout.language", "Taal", "Language"),
    ("layout.switch_language", "English", "Nederlands"),
    ("layout.logout", "Uitloggen", "Log out"),
    ("layout.signed_in_as", "Ingelogd als", "Signed in as"),
    ("role.admin", "beheerder", "administrator"),
    ("role.coordinator", "coördinator", "coordinator"),
    ("nav.dashboard", "Werkvoorraad", "Work queue"),
    ("nav.requests", "Aanvragen", "Requests"),
    ("nav.buddies", "Maatjes", "Buddies"),
    ("nav.pairings", "Koppelingen", "Pairings"),
    ("nav.exit_interviews", "Exitgesprekken", "Exit interviews"),
    ("nav.reports", "Rapportages", "Reports"),
    ("nav.admin", "Beheer", "Administration"),
    ("common.save", "Opslaan", "Save"),
    ("common.cancel", "Annuleren", "Cancel"),
    ("common.back", "Terug", "Back"),
    ("common.filter", "Filteren", "Filter"),
    ("common.export_csv", "Exporteren als CSV", "Export as CSV"),
    ("common.none", "Geen", "None"),
    ("common.yes", "ja", "yes"),
    ("common.no", "nee", "no"),
    ("common.any", "Alle", "Any"),
    ("common.state", "Status", "State"),
    ("common.created", "Aangemaakt", "Created"),
    ("common.updated", "Gewijzigd", "Updated"),
    ("common.actions", "Acties", "Actions"),
    ("common.details", "Details", "Details"),
    ("common.open", "Openen", "Open"),
    ("common.reason", "Reden", "Reason"),
    ("history.when", "Wanneer", "When"),
    ("history.what", "Wat", "What"),
    ("history.from_to", "Status", "State"),
    ("history.who", "Door", "By"),
    ("common.optional", "(optioneel)", "(optional)"),
    ("common.required", "(verplicht)", "(required)"),
    ("common.form_errors", "Het formulier is niet opgeslagen. Verbeter de gemarkeerde velden.", "The form was not saved. Please correct the marked fields."),
    ("common.error_prefix", "Fout:", "Error:"),
    ("common.done", "Gelukt.", "Done."),
    ("common.page_next", "Volgende pagina", "Next page"),
    ("common.results", "Resultaten", "Results"),
    ("error.title", "Er ging iets mis", "Something went wrong"),
    ("error.not_found", "Deze pagina of dit item bestaat niet (meer), of u heeft er geen toegang toe.", "This page or item does not exist (any more), or you have no access to it."),
    ("error.forbidden", "Geen toegang: deze pagina is alleen voor beheerders.", "No access: this page is for administrators only."),
    ("error.unauthorized", "Log opnieuw in om verder te gaan.", "Please log in again to continue."),
    ("error.illegal_transition", "Dit kan niet: {resource} heeft de status ‘{state}’, en dan kan ‘{action}’ niet meer.", "Not possible: the {resource} is ‘{state}’, and then ‘{action}’ is not allowed."),
    ("error.conflict", "Dit kan niet volgens de regels van het programma:", "The programme's rules do not allow this:"),
    ("error.duplicate_request", "Er bestaat al een aanvraag met deze cliëntverwijzing.", "A request with this client reference already exists."),
    ("error.changed", "Iemand anders heeft dit intussen gewijzigd. Laad de pagina opnieuw.", "Someone else changed this meanwhile. Please reload the page."),
    ("error.unavailable", "De dienst is even niet bereikbaar. Probeer het zo opnieuw.", "The service is briefly unavailable. Please try again shortly."),
    ("error.internal", "Er ging iets mis aan onze kant. Het is vastgelegd; probeer het later opnieuw.", "Something went wrong on our side. It was logged; please try again later."),
    ("error.csrf", "Dit formulier is verlopen of komt niet van deze pagina. Er is niets gewijzigd. Open de pagina opnieuw en probeer het nog eens.", "This form has expired or did not come from this page. Nothing was changed. Open the page again and retry."),
    ("error.back_home", "Naar de werkvoorraad", "To the work queue"),
    ("trigger.first_talks", "Eerste gesprekken", "First talks"),
    ("trigger.discontent", "Onvrede", "Discontent"),
    ("trigger.complaint", "Klacht", "Complaint"),
    ("trigger.questions", "Vragen", "Questions"),
    ("resource.buddy", "het maatje", "buddy"),
    ("resource.buddy_request", "de aanvraag", "request"),
    ("resource.pairing", "de koppeling", "pairing"),
    ("resource.organisation", "de organisatie", "organisation"),
    ("resource.staff", "het account", "account"),
    ("resource.api_client", "de API-client", "API client"),
    ("resource.exit_interview", "het exitgesprek", "exit interview"),
    ("resource.outbox_message", "het bericht", "message"),
    ("resource.webhook_endpoint", "het webhook-adres", "webhook endpoint"),
];

/// Names of states, shared by every resource.
const STATES: &[(&str, &str, &str)] = &[
    ("open", "open", "open"),
    ("matched", "gekoppeld", "matched"),
    ("withdrawn", "ingetrokken", "withdrawn"),
    ("closed", "afgesloten", "closed"),
    ("candidate", "kandidaat", "candidate"),
    ("screening", "in screening", "in screening"),
    ("active", "actief", "active"),
    ("paused", "gepauzeerd", "paused"),
    ("retired", "gestopt", "retired"),
    ("proposed", "voorgesteld", "proposed"),
    ("accepted", "geaccepteerd", "accepted"),
    ("declined", "afgewezen", "declined"),
    ("expired", "verlopen", "expired"),
    ("ended", "beëindigd", "ended"),
    ("cancelled", "geannuleerd", "cancelled"),
    ("inactive", "inactief", "inactive"),
    ("revoked", "ingetrokken", "revoked"),
    ("pending", "wachtend", "pending"),
    ("sent", "verzonden", "sent"),
    ("dead", "mislukt", "failed"),
];

/// Names of actions, for "cannot … when …" messages.
const ACTIONS: &[(&str, &str, &str)] = &[
    ("propose", "voorstellen", "propose"),
    ("accept", "accepteren", "accept"),
    ("decline", "afwijzen", "decline"),
    ("activate", "activeren", "activate"),
    ("end", "beëindigen", "end"),
    ("cancel", "annuleren", "cancel"),
    ("withdraw", "intrekken", "withdraw"),
    ("close", "afsluiten", "close"),
    ("pause", "pauzeren", "pause"),
    ("resume", "hervatten", "resume"),
    ("retire", "laten stoppen", "retire"),
    ("exclude", "uitsluiten", "exclude"),
    ("screen", "screenen", "screen"),
    ("deactivate", "deactiveren", "deactivate"),
    ("reactivate", "heractiveren", "reactivate"),
    ("retry", "opnieuw versturen", "retry"),
    ("start-screening", "screening starten", "start screening"),
    ("create", "aanmaken", "create"),
    ("update", "wijzigen", "update"),
];

/// All texts by key.
pub struct Texts {
    by_key: HashMap<&'static str, (&'static str, &'static str)>,
}

impl Texts {
    /// The texts of every catalogue (built once).
    pub fn all() -> &'static Texts {
        static TEXTS: OnceLock<Texts> = OnceLock::new();
        TEXTS.get_or_init(|| {
            let mut by_key = HashMap::new();
            for catalogue in CATALOGUES {
                for (key, nl, en) in catalogue.iter() {
                    let previous = by_key.insert(*key, (*nl, *en));
                    debug_assert!(previous.is_none(), "console text {key} is defined twice");
                }
            }
            Texts { by_key }
        })
    }

    /// The text of `key` in `lang`; the key itself when there is none (the template tests
    /// make sure there always is).
    pub fn get<'a>(&self, key: &'a str, lang: Lang) -> &'a str
    where
        'static: 'a,
    {
        match self.by_key.get(key) {
            Some((nl, en)) => match lang {
                Lang::Nl => nl,
                Lang::En => en,
            },
            None => key,
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// Every key, for tests.
    pub fn keys(&self) -> impl Iterator<Item = &&'static str> {
        self.by_key.keys()
    }
}

/// Every key defined twice (should be none).
pub fn duplicate_keys() -> Vec<&'static str> {
    let mut seen = std::collections::HashSet::new();
    CATALOGUES
        .iter()
        .flat_map(|c| c.iter())
        .filter(|(key, _, _)| !seen.insert(*key))
        .map(|(key, _, _)| *key)
        .collect()
}

fn lookup(table: &[(&str, &str, &str)], key: &str, lang: Lang) -> Option<String> {
    table.iter().find(|(k, _, _)| *k == key).map(|(_, nl, en)| {
        match lang {
            Lang::Nl => *nl,
            Lang::En => *en,
        }
        .to_owned()
    })
}

/// The name of a state (`withdrawn` → "ingetrokken"), or the state as it is.
pub fn state_name(state: &str, lang: Lang) -> String {
    lookup(STATES, state, lang).unwrap_or_else(|| state.replace('_', " "))
}

/// The name of an action (`propose` → "voorstellen"), or the action as it is.
pub fn action_name(action: &str, lang: Lang) -> String {
    lookup(ACTIONS, action, lang).unwrap_or_else(|| action.replace('_', " "))
}

/// A field message of the domain's validation (in English) in `lang`: the common ones are
/// translated, the rest shown as they are.
pub fn field_message(message: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return message.to_owned();
    }
    let number = |prefix: &str, suffix: &str| -> Option<String> {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_owned)
    };
    if let Some(n) = number("must be at most ", " characters") {
        return format!("Maximaal {n} tekens.");
    }
    if let Some(n) = number("must be at least ", " characters") {
        return format!("Minstens {n} tekens.");
    }
    match message {
        "must not be empty" | "is required" => "Vul dit veld in.".into(),
        "must not contain control characters" => "mag geen besturingstekens bevatten".into(),
        "must be a valid e-mail address" => "moet een geldig e-mailadres zijn".into(),
        "must be an e-mail address such as name@example.org" => {
            "moet een e-mailadres zijn, zoals naam@voorbeeld.nl".into()
        }
        "must be an ISO 639-1 language code, e.g. nl" => "moet een taal zijn".into(),
        "must be a date (YYYY-MM-DD)" => "moet een datum zijn (jjjj-mm-dd)".into(),
        "must be a whole number" => "moet een heel getal zijn".into(),
        "must not be in the future" => "mag niet in de toekomst liggen".into(),
        "must not lie in the future" => "mag niet in de toekomst liggen".into(),
        "must be a date, YYYY-MM-DD" => "moet een datum zijn (jjjj-mm-dd)".into(),
        "must be an organisation id (a UUID)" => "kies een van de organisaties".into(),
        "must be a phone number such as +31 6 12345678" => {
            "moet een telefoonnummer zijn, zoals 06 12345678".into()
        }
        "must name at least one language (ISO 639-1 code, e.g. nl)" => {
            "kies minstens één taal".into()
        }
        "is not one of the choices" => "is geen van de keuzes".into(),
        "must lie after today: the buddy is active again on that day" => {
            "moet na vandaag liggen: op die dag ben je weer beschikbaar".into()
        }
        "must lie at most 366 days ahead" => "mag hoogstens een jaar vooruit liggen".into(),
        other => other.to_owned(),
    }
}

/// The page language of a template call.
fn page_lang(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default()
}

/// Adds `t` and the filters to `env`.
pub fn install(env: &mut Environment<'static>, texts: &'static Texts) {
    env.add_function(
        "t",
        move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, Error> {
            let lang = page_lang(state);
            let Some((nl, en)) = texts.by_key.get(key) else {
                return Err(Error::new(
                    ErrorKind::UndefinedError,
                    format!("no console text `{key}`"),
                ));
            };
            let mut text = match lang {
                Lang::Nl => (*nl).to_owned(),
                Lang::En => (*en).to_owned(),
            };
            for name in kwargs.args() {
                let value: Value = kwargs.get(name)?;
                text = text.replace(&format!("{{{name}}}"), &value.to_string());
            }
            Ok(text)
        },
    );
    env.add_filter(
        "local",
        |state: &State, at: &str| -> Result<String, Error> {
            Ok(i18n::local_time(parse_time(at)?, page_lang(state)))
        },
    );
    env.add_filter(
        "local_date",
        |state: &State, at: &str| -> Result<String, Error> {
            Ok(i18n::local_date(parse_time(at)?, page_lang(state)))
        },
    );
    env.add_filter("day", |state: &State, day: &str| -> Result<String, Error> {
        let day = day
            .parse::<chrono::NaiveDate>()
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("not a date: {e}")))?;
        Ok(i18n::date(day, page_lang(state)))
    });
    env.add_filter("utc", |at: &str| -> Result<String, Error> {
        Ok(i18n::utc_text(parse_time(at)?))
    });
    env.add_filter(
        "since",
        |state: &State, at: &str, now: &str| -> Result<String, Error> {
            Ok(i18n::duration_text(
                parse_time(at)?,
                parse_time(now)?,
                page_lang(state),
            ))
        },
    );
    // The first part of an id, enough to tell records apart on a page.
    env.add_filter("truncate_id", |id: &str| -> String {
        format!("{}…", id.chars().take(8).collect::<String>())
    });
    env.add_filter("language", |state: &State, code: &str| -> String {
        i18n::language_name(code, page_lang(state))
    });
    env.add_filter("state", |state: &State, name: &str| -> String {
        state_name(name, page_lang(state))
    });
}

/// A time as the service serialises it (`2026-12-07T09:15:00`, with or without `Z` or
/// fractions).
fn parse_time(text: &str) -> Result<NaiveDateTime, Error> {
    let trimmed = text.trim_end_matches('Z');
    trimmed
        .parse::<NaiveDateTime>()
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text).map(|t| t.naive_utc()))
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("not a time `{text}`: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_defined_once() {
        assert_eq!(duplicate_keys(), Vec::<&str>::new());
    }

    #[test]
    fn every_text_used_by_a_template_exists() {
        let texts = Texts::all();
        for (name, source) in super::super::Console::template_sources() {
            for (at, _) in source.match_indices("t(\"") {
                // `t(` itself, not the end of another name (`m.select("state", ...)`).
                let before = source[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let key = source[at + 3..].split('"').next().unwrap();
                // `t("role." ~ role)`: a family of keys, checked where the values are known.
                if key.ends_with('.') {
                    continue;
                }
                assert!(
                    texts.contains(key),
                    "{name} uses the undefined text `{key}`"
                );
            }
        }
    }

    #[test]
    fn no_text_is_left_untranslated_by_accident() {
        for catalogue in CATALOGUES {
            for (key, nl, en) in catalogue.iter() {
                assert!(!nl.is_empty() && !en.is_empty(), "{key} has an empty text");
            }
        }
    }

    #[test]
    fn field_messages_are_translated() {
        assert_eq!(
            field_message("must be at most 200 characters", Lang::Nl),
            "Maximaal 200 tekens."
        );
        assert_eq!(
            field_message("must not be empty", Lang::Nl),
            "Vul dit veld in."
        );
        assert_eq!(
            field_message("must not be empty", Lang::En),
            "must not be empty"
        );
    }
}
