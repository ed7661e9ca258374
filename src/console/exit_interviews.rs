//! Exit interviews: the recorded outcomes (newest first), the recruitment funnel of the last
//! [`FUNNEL_DAYS`] days (the summary report's, `crate::reports`), the form that records an
//! outcome as `POST /v1/exit-interviews` does, and the CSV export.
//!
//! A `yes` creates the buddy candidate: the form then goes on to the new buddy's page.

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Days, NaiveDate};
use minijinja::{context, Value};
use serde::Serialize;

use super::casework::{csv_response, query_fields};
use super::dashboard::ts;
use super::forms::{self, FieldErrors, FormData};
use super::page::{explain, see_other, Viewer};
use super::router::Router;
use crate::api::buddies::BuddyInput;
use crate::auth::policy::{AuditAction, STAFF_ONLY};
use crate::domain::buddy::{MailLanguage, MeasureKind};
use crate::domain::exit_interview::Answer;
use crate::domain::ids::OrganisationId;
use crate::domain::report::Window;
use crate::domain::values::{Check, MAX_EMAIL, MAX_NAME, MAX_PHONE, MAX_REGION};
use crate::error::{ApiError, ApiResult};
use crate::i18n::{known_languages, language_name};
use crate::ops::AppState;
use crate::reports::SummaryReport;
use crate::store::casework;
use crate::store::page::PageRequest;
use crate::store::reports::{self as report_store, Scope};

/// Outcomes on one page of the list.
pub const PAGE_SIZE: u32 = 50;
/// The funnel counts the interviews held in this many days up to today.
pub const FUNNEL_DAYS: u64 = 365;
/// At most this many outcomes in one export.
pub const EXPORT_LIMIT: i64 = 10_000;

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/exit-interviews", |p| p.get(STAFF_ONLY, list))
        .path("/console/exit-interviews.csv", |p| {
            p.get(STAFF_ONLY, export)
        })
        .path("/console/exit-interviews/new", |p| {
            p.get(STAFF_ONLY, new_form).post(
                STAFF_ONLY.audit(AuditAction::Create, "exit_interview"),
                record,
            )
        });
}

#[derive(Serialize)]
struct Outcome {
    id: String,
    organisation: String,
    held_on: String,
    answer: String,
    buddy_id: Option<String>,
    created_at: String,
}

#[derive(Serialize)]
struct Stage {
    key: &'static str,
    count: u64,
}

async fn list(req: HttpRequest, viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let form = query_fields(&req);
    viewer.respond(list_page(&viewer, &state, &form).await)
}

async fn list_page(viewer: &Viewer, state: &AppState, form: &FormData) -> ApiResult<HttpResponse> {
    let now = state.clock.now();
    let today = now.date_naive();
    let cursor = Some(form.get("cursor")).filter(|c| !c.is_empty());
    let mut invalid = Vec::new();
    let page = PageRequest::parse(
        "console-exit-interviews",
        Some(PAGE_SIZE),
        cursor,
        &mut invalid,
    );
    if !invalid.is_empty() {
        return Ok(see_other("/console/exit-interviews"));
    }
    let from = today
        .checked_sub_days(Days::new(FUNNEL_DAYS))
        .unwrap_or(today);
    let window = Window::new(Some(from), None, today)
        .map_err(|e| ApiError::internal(format!("the funnel's window: {}", e.message)))?;
    let scope = Scope {
        window,
        organisation_id: None,
        overdue_cutoff: state.service_level.cutoff(now.naive_utc()),
    };
    let (after, fetch) = (page.after.clone(), i64::from(page.limit) + 1);
    let (rows, facts) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let rows = casework::exit_interviews(conn, after.as_deref(), fetch)?;
            let facts = report_store::facts(conn, &scope)?;
            Ok((rows, facts))
        })
        .await?;
    let (rows, next) = page.finish(rows, |(r, _)| r.id.as_str());
    let candidates = facts
        .interviews
        .iter()
        .filter(|(answer, buddy)| *answer == Answer::Yes && buddy.is_some())
        .count() as u64;
    let report = SummaryReport::compute(facts, window, None, now)?;
    let r = &report.recruitment;
    let funnel = vec![
        Stage {
            key: "asked",
            count: r.asked,
        },
        Stage {
            key: "yes",
            count: r.yes,
        },
        Stage {
            key: "candidates",
            count: candidates,
        },
        Stage {
            key: "screening",
            count: r.reached_screening,
        },
        Stage {
            key: "active",
            count: r.reached_active,
        },
    ];
    let items: Vec<Outcome> = rows
        .into_iter()
        .map(|(row, organisation)| Outcome {
            id: row.id.to_string(),
            organisation,
            held_on: row.held_on.to_string(),
            answer: row.answer.as_str().to_owned(),
            buddy_id: row.buddy_id.map(|b| b.to_string()),
            created_at: ts(row.created_at),
        })
        .collect();
    let next = next.map(|cursor| {
        let mut link = form_urlencoded::Serializer::new(String::new());
        link.append_pair("cursor", &cursor);
        format!("/console/exit-interviews?{}", link.finish())
    });
    let done = (form.get("done") == "recorded").then_some("recorded");
    Ok(viewer.page(
        "exit_interviews.html",
        context! {
            items => items,
            next => next,
            funnel => funnel,
            funnel_from => window.from.to_string(),
            funnel_days => FUNNEL_DAYS,
            done => done,
            no => r.no,
            later => r.later,
        },
    ))
}

async fn export(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let result = async {
        let rows = state
            .db
            .run(move |conn| -> ApiResult<_> {
                Ok(casework::exit_interviews(conn, None, EXPORT_LIMIT)?)
            })
            .await?;
        let lines: Vec<Vec<String>> = rows
            .into_iter()
            .map(|(row, organisation)| {
                vec![
                    row.id.to_string(),
                    row.organisation_id.to_string(),
                    organisation,
                    row.held_on.to_string(),
                    row.answer.as_str().to_owned(),
                    row.buddy_id.map(|b| b.to_string()).unwrap_or_default(),
                    crate::i18n::utc_text(row.created_at),
                ]
            })
            .collect();
        csv_response(
            "exit-interviews.csv",
            &[
                "id",
                "organisation_id",
                "organisation",
                "held_on",
                "answer",
                "buddy_id",
                "created_at",
            ],
            &lines,
        )
    }
    .await;
    viewer.respond(result)
}

// ---------------------------------------------------------------------------------------------
// Recording an outcome

async fn new_form(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let today = state.clock.now().date_naive();
    let values = context! { held_on => today.to_string() };
    let page = form_page(&viewer, &state, StatusCode::OK, values, None, None).await;
    viewer.respond(page)
}

async fn form_page(
    viewer: &Viewer,
    state: &AppState,
    status: StatusCode,
    values: Value,
    errors: Option<FieldErrors>,
    refusal: Option<String>,
) -> ApiResult<HttpResponse> {
    let organisations = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(casework::active_organisations(conn)?) })
        .await?;
    let lang = viewer.lang;
    let organisations: Vec<(String, String)> = organisations
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    let mut languages: Vec<(&str, String)> = known_languages()
        .map(|code| (code, language_name(code, lang)))
        .collect();
    languages.sort_by(|a, b| a.1.cmp(&b.1));
    let experience: Vec<(&str, String)> = MeasureKind::TEXTS
        .iter()
        .map(|m| (*m, viewer.text(&format!("requests.measure.{m}"))))
        .collect();
    let answers: Vec<(&str, String)> = Answer::TEXTS
        .iter()
        .map(|a| (*a, viewer.text(&format!("exit_interviews.answer.{a}"))))
        .collect();
    Ok(viewer.page_with(
        status,
        "exit_interview_new.html",
        context! {
            organisations => organisations,
            languages => languages,
            experience => experience,
            answers => answers,
            mail_languages => [("nl", language_name("nl", lang)), ("en", language_name("en", lang))],
            values => values,
            errors => errors.map(|e| e.to_value()).unwrap_or_else(|| context! {}),
            refusal => refusal,
        },
    ))
}

/// The fields only a `yes` carries.
const CANDIDATE_FIELDS: &[&str] = &[
    "name",
    "email",
    "phone",
    "region",
    "languages",
    "experience",
];

async fn record(viewer: Viewer, state: Data<AppState>, form: FormData) -> HttpResponse {
    let today = state.clock.now().date_naive();
    let mut errors = FieldErrors::new(viewer.lang);
    let organisations = match state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(casework::active_organisations(conn)?) })
        .await
    {
        Ok(list) => list,
        Err(e) => return viewer.error(&e),
    };
    let ids: Vec<String> = organisations.iter().map(|(id, _)| id.to_string()).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let organisation =
        forms::choice(&form, &mut errors, "organisation_id", &id_refs).map(OrganisationId::from);
    let held_on = forms::date(&form, &mut errors, "held_on", true);
    if held_on.is_some_and(|day: NaiveDate| day > today) {
        errors.fail("held_on", "exit_interviews.future");
    }
    let answer = forms::choice(&form, &mut errors, "answer", Answer::TEXTS)
        .and_then(|a| a.parse::<Answer>().ok());
    let mut check = Check::new();
    let candidate = match answer {
        Some(Answer::Yes) => {
            let name = forms::required(&form, &mut errors, "name", MAX_NAME);
            let email = forms::required(&form, &mut errors, "email", MAX_EMAIL);
            let phone = forms::optional(&form, &mut errors, "phone", MAX_PHONE);
            let region = forms::required(&form, &mut errors, "region", MAX_REGION);
            let languages = form.all("languages");
            if languages.is_empty() {
                errors.fail("languages", "exit_interviews.choose_language");
            }
            let mut experience = Vec::new();
            for value in form.all("experience") {
                match value.parse::<MeasureKind>() {
                    Ok(kind) => experience.push(kind),
                    Err(_) => errors.fail("experience", "field.choice"),
                }
            }
            // Left empty: one the candidate speaks (the API's rule, in `BuddyInput::validate`).
            let mail_language = match form.get("mail_language") {
                "" => None,
                "nl" => Some(MailLanguage::Nl),
                "en" => Some(MailLanguage::En),
                _ => {
                    errors.fail("mail_language", "field.choice");
                    None
                }
            };
            let input = BuddyInput {
                organisation_id: None,
                name,
                email,
                phone,
                mail_language,
                languages,
                region,
                experience,
                topics: Vec::new(),
                capacity: None,
                vog_issued_on: None,
                training_completed_on: None,
                agreement_signed_on: None,
            };
            Some(input.validate(&mut check, "", today))
        }
        Some(_) => {
            if CANDIDATE_FIELDS
                .iter()
                .any(|field| !form.all(field).is_empty())
            {
                errors.fail("answer", "exit_interviews.only_yes");
            }
            None
        }
        None => None,
    };
    if let Err(e) = check.finish() {
        errors.absorb(&ApiError::from(e), &[]);
    }
    let (Some(organisation), Some(held_on), Some(answer), true) =
        (organisation, held_on, answer, errors.is_empty())
    else {
        let page = form_page(
            &viewer,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            form.entered(),
            Some(errors),
            None,
        )
        .await;
        return viewer.respond(page);
    };
    let now = state.clock.now_naive();
    let result = state
        .change(viewer.ctx(now), move |tx| {
            crate::ops::records::record_exit_interview(
                tx,
                &organisation,
                held_on,
                answer,
                candidate,
            )
        })
        .await
        .map_err(ApiError::from);
    match result {
        Ok((_, Some(buddy))) => see_other(&format!("/console/buddies/{}", buddy.id)),
        Ok((_, None)) => see_other("/console/exit-interviews?done=recorded"),
        Err(e @ ApiError::Invalid(_)) => {
            errors.absorb(&e, &[]);
            let page = form_page(
                &viewer,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.entered(),
                Some(errors),
                None,
            )
            .await;
            viewer.respond(page)
        }
        Err(e) => {
            let (status, message) = explain(&e, viewer.lang);
            let page =
                form_page(&viewer, &state, status, form.entered(), None, Some(message)).await;
            viewer.respond(page)
        }
    }
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("exit_interviews.title", "Exitgesprekken", "Exit interviews"),
    ("exit_interviews.funnel", "Werving", "Recruitment"),
    ("exit_interviews.funnel_help", "Exitgesprekken van de afgelopen {days} dagen (vanaf {from}) en hoe ver de maatjes uit een ‘ja’ tot nu toe kwamen.", "Exit interviews of the last {days} days (from {from}) and how far the buddies from a ‘yes’ have come so far."),
    ("exit_interviews.stage", "Stap", "Stage"),
    ("exit_interviews.count", "Aantal", "Count"),
    ("exit_interviews.stage.asked", "Gevraagd in een exitgesprek", "Asked at an exit interview"),
    ("exit_interviews.stage.yes", "Zei ja", "Said yes"),
    ("exit_interviews.stage.candidates", "Werd kandidaat-maatje", "Became a buddy candidate"),
    ("exit_interviews.stage.screening", "Kwam in screening", "Reached screening"),
    ("exit_interviews.stage.active", "Werd actief maatje", "Became an active buddy"),
    ("exit_interviews.no_later", "Daarnaast: {no} keer nee, {later} keer later.", "Besides: {no} times no, {later} times later."),
    ("exit_interviews.outcomes", "Vastgelegde uitkomsten", "Recorded outcomes"),
    ("exit_interviews.none", "Er zijn nog geen exitgesprekken vastgelegd.", "No exit interviews have been recorded yet."),
    ("exit_interviews.new", "Uitkomst vastleggen", "Record an outcome"),
    ("exit_interviews.held_on", "Datum van het gesprek", "Date of the interview"),
    ("exit_interviews.organisation", "Organisatie", "Organisation"),
    ("exit_interviews.answer", "Antwoord", "Answer"),
    ("exit_interviews.buddy", "Maatje", "Buddy"),
    ("exit_interviews.open_buddy", "Maatje openen", "Open the buddy"),
    ("exit_interviews.recorded_at", "Vastgelegd", "Recorded"),
    ("exit_interviews.answer.yes", "Ja", "Yes"),
    ("exit_interviews.answer.no", "Nee", "No"),
    ("exit_interviews.answer.later", "Later", "Later"),
    ("exit_interviews.choose_organisation", "Kies een organisatie", "Choose an organisation"),
    ("exit_interviews.choose_answer", "Kies een antwoord", "Choose an answer"),
    ("exit_interviews.candidate", "Gegevens van het kandidaat-maatje (alleen bij ‘ja’)", "The buddy candidate's details (only for ‘yes’)"),
    ("exit_interviews.candidate_help", "Alleen bij ‘ja’ worden persoonsgegevens vastgelegd; laat deze velden anders leeg.", "Personal data is recorded only for ‘yes’; otherwise leave these fields empty."),
    ("exit_interviews.name", "Volledige naam", "Full name"),
    ("exit_interviews.email", "E-mailadres", "E-mail address"),
    ("exit_interviews.phone", "Telefoonnummer", "Phone number"),
    ("exit_interviews.region", "Regio of gemeente", "Region or municipality"),
    ("exit_interviews.languages", "Talen die het maatje spreekt", "Languages the buddy speaks"),
    ("exit_interviews.experience", "Maatregelen die het maatje zelf meemaakte", "Measures the buddy went through"),
    ("exit_interviews.mail_language", "Taal van de e-mails", "Language of the e-mails"),
    ("exit_interviews.mail_language_spoken", "Volgens de gesproken talen (Engels als de kandidaat wel Engels en geen Nederlands spreekt)", "By the languages spoken (English when the candidate speaks English but not Dutch)"),
    ("exit_interviews.submit", "Vastleggen", "Record"),
    ("exit_interviews.future", "De datum mag niet in de toekomst liggen.", "The date must not lie in the future."),
    ("exit_interviews.only_yes", "Alleen bij ‘ja’ worden gegevens van een kandidaat vastgelegd: kies ‘ja’ of maak die velden leeg.", "Only a ‘yes’ records a candidate's details: choose ‘yes’ or empty those fields."),
    ("exit_interviews.choose_language", "Kies minstens één taal.", "Choose at least one language."),
    ("exit_interviews.done.recorded", "De uitkomst is vastgelegd.", "The outcome has been recorded."),
    ("exit_interviews.export", "Exporteren als CSV", "Export as CSV"),
];
