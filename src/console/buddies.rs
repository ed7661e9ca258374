//! Buddies (maatjes): the list with its filters and CSV export, one buddy's page with the
//! screening checklist, the profile and screening forms and the lifecycle actions, and
//! registering a buddy directly.
//!
//! Every read goes through the API's store functions and DTO ([`crate::api::buddies::Buddy`]),
//! every change through the same operation as the API's route for it, audited alike:
//!
//! | console | API |
//! | --- | --- |
//! | `GET /console/buddies` | `GET /v1/buddies` (search) |
//! | `GET /console/buddies.csv` | (export of the same list) |
//! | `POST /console/buddies/new` | `POST /v1/buddies` |
//! | `GET /console/buddies/{id}` | `GET /v1/buddies/{id}` |
//! | `POST /console/buddies/{id}` | `PATCH /v1/buddies/{id}` |
//! | `POST /console/buddies/{id}/{action}` | `POST /v1/buddies/{id}/{action}` |
//!
//! The checklist and the reasons an activation would be refused come from the domain's own
//! rule ([`Screening::unmet`]), so the page says beforehand exactly what the operation would.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use minijinja::{context, Value};
use serde::Serialize;
use uuid::Uuid;

use super::casework::HistoryLine;
use super::dashboard::ts;
use super::export::{csv_response, csv_text};
use super::forms::{self, FieldErrors, FormData};
use super::i18n::Texts;
use super::page::{explain, see_other, Viewer};
use super::router::Router;
use crate::api::buddies::{
    change_ctx, load_one, Buddy, BuddyInput, BuddyPatch, MAX_CAPACITY, MIN_CAPACITY,
};
use crate::auth::policy::{AuditAction, STAFF_ONLY};
use crate::domain::buddy::{
    BuddyAction, BuddyState, MailLanguage, MeasureKind, Screening, Unmet, VOG_VALIDITY_MONTHS,
};
use crate::domain::ids::{BuddyId, OrganisationId};
use crate::domain::lifecycle::Lifecycle;
use crate::domain::organisation::OrganisationState;
use crate::domain::values::{Check, MAX_EMAIL, MAX_NAME, MAX_PHONE, MAX_REASON, MAX_REGION};
use crate::error::{ApiError, ApiResult};
use crate::i18n::{self, Lang};
use crate::ops::{self, AppState};
use crate::store::buddies::{self as store, Capacity, Filter};
use crate::store::page::PageRequest;

/// Buddies on one page of the list.
pub const PAGE_SIZE: u32 = 50;
/// The most buddies one CSV export holds.
pub const MAX_EXPORT: usize = 10_000;
/// The most history entries and pairings a buddy's page shows.
const MAX_SHOWN: u32 = 200;

pub fn routes(router: &mut Router<'_>) {
    let update = STAFF_ONLY.audit(AuditAction::Update, "buddy");
    router
        .path("/console/buddies", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Search, "buddy"), list)
        })
        .path("/console/buddies.csv", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Export, "buddy"), export)
        })
        .path("/console/buddies/new", |p| {
            p.get(STAFF_ONLY, new_form)
                .post(STAFF_ONLY.audit(AuditAction::Create, "buddy"), create)
        })
        .path("/console/buddies/{id}", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Read, "buddy"), show)
                .post(update, edit)
        })
        .path("/console/buddies/{id}/start-screening", |p| {
            p.post(update, start_screening)
        })
        .path("/console/buddies/{id}/activate", |p| {
            p.post(update, activate)
        })
        .path("/console/buddies/{id}/pause", |p| p.post(update, pause))
        .path("/console/buddies/{id}/resume", |p| p.post(update, resume))
        .path("/console/buddies/{id}/retire", |p| p.post(update, retire));
}

/// A buddy id from the path; a malformed one is a buddy that does not exist.
fn buddy_id(raw: &str) -> ApiResult<BuddyId> {
    Uuid::parse_str(raw)
        .map(BuddyId::from)
        .map_err(|_| ApiError::not_found(store::ENTITY, "malformed id"))
}

fn text(key: &str, lang: Lang) -> String {
    Texts::all().get(key, lang).to_owned()
}

// ----------------------------------------------------------------------------------------
// The list

/// The list's filters, as the GET form sends them.
#[derive(Debug, Default)]
struct ListQuery {
    state: Option<BuddyState>,
    region: Option<String>,
    language: Option<String>,
    capacity: Option<Capacity>,
    cursor: Option<String>,
    /// What was entered, to show the form with it.
    values: BTreeMap<String, String>,
    errors: FieldErrors,
}

impl ListQuery {
    fn parse(req: &HttpRequest, lang: Lang) -> ListQuery {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let mut query = ListQuery {
            errors: FieldErrors::new(lang),
            ..ListQuery::default()
        };
        for (key, value) in pairs {
            let value = value.trim().to_owned();
            if value.is_empty() || query.values.contains_key(&key) {
                continue;
            }
            match key.as_str() {
                "state" => match value.parse::<BuddyState>() {
                    Ok(state) => query.state = Some(state),
                    Err(_) => query.errors.fail("state", "field.choice"),
                },
                "region" => {
                    let mut check = Check::new();
                    let region = check.region("region", &value);
                    match check.finish() {
                        Ok(()) => query.region = Some(region),
                        Err(e) => {
                            query.errors.absorb(&ApiError::from(e), &[]);
                        }
                    }
                }
                "language" => match i18n::known_languages().find(|c| *c == value) {
                    Some(code) => query.language = Some(code.to_owned()),
                    None => query.errors.fail("language", "field.choice"),
                },
                "free" => match value.as_str() {
                    "yes" => query.capacity = Some(Capacity::Free),
                    "no" => query.capacity = Some(Capacity::Full),
                    _ => query.errors.fail("free", "field.choice"),
                },
                "cursor" => query.cursor = Some(value.clone()),
                _ => continue,
            }
            query.values.insert(key, value);
        }
        query
    }

    fn filter(&self) -> Filter {
        Filter {
            state: self.state,
            region: self.region.clone(),
            language: self.language.clone(),
            ..Filter::default()
        }
    }

    /// The filters as a query string (without the cursor), for the next page and the export.
    fn query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.values {
            if key != "cursor" {
                out.append_pair(key, value);
            }
        }
        out.finish()
    }
}

/// A buddy as a line of the list.
#[derive(Serialize)]
struct Line {
    id: String,
    name: String,
    state: String,
    region: String,
    languages: Vec<String>,
    live_pairings: i64,
    capacity: i32,
    free: bool,
}

impl From<Buddy> for Line {
    fn from(b: Buddy) -> Line {
        Line {
            id: b.id.to_string(),
            free: b.live_pairings < i64::from(b.capacity),
            name: b.name,
            state: b.state.as_str().to_owned(),
            region: b.region,
            languages: b.languages,
            live_pairings: b.live_pairings,
            capacity: b.capacity,
        }
    }
}

/// One page of buddies matching `query`, with the cursor of the next.
async fn read_page(
    state: &AppState,
    query: &ListQuery,
    limit: u32,
    cursor: Option<&str>,
) -> ApiResult<(Vec<Buddy>, Option<String>)> {
    let mut errors = Vec::new();
    let page = PageRequest::parse("buddies", Some(limit), cursor, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let filter = query.filter();
    let capacity = query.capacity;
    let request = page.clone();
    let (rows, loads) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let rows = store::list_by_capacity(conn, &filter, capacity, &request)?;
            let ids: Vec<BuddyId> = rows.iter().map(|r| r.id.clone()).collect();
            let loads = store::live_loads(conn, &ids)?;
            Ok((rows, loads))
        })
        .await?;
    let (rows, next) = page.finish(rows, |r| r.id.as_str());
    let buddies = rows
        .into_iter()
        .map(|row| {
            let load = loads.get(&row.id).copied().unwrap_or(0);
            Buddy::from_row(row, load)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((buddies, next))
}

/// (code, name) of every language to choose from, by name in `lang`, with `extra` codes too.
fn language_options(lang: Lang, extra: &[String]) -> Vec<(String, String)> {
    let mut codes: Vec<String> = i18n::known_languages().map(str::to_owned).collect();
    for code in extra {
        if !codes.contains(code) {
            codes.push(code.clone());
        }
    }
    let mut options: Vec<(String, String)> = codes
        .into_iter()
        .map(|code| {
            let name = i18n::language_name(&code, lang);
            (code, name)
        })
        .collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    options
}

fn state_options(lang: Lang) -> Vec<(String, String)> {
    BuddyState::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_owned(),
                super::i18n::state_name(s.as_str(), lang),
            )
        })
        .collect()
}

async fn list(viewer: Viewer, state: Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = ListQuery::parse(&req, viewer.lang);
    let lang = viewer.lang;
    let result = read_page(&state, &query, PAGE_SIZE, query.cursor.as_deref()).await;
    let (buddies, next, cursor_error) = match result {
        Ok((buddies, next)) => (buddies, next, false),
        // A stale or forged cursor: the first page, said so.
        Err(ApiError::Invalid(_)) => match read_page(&state, &query, PAGE_SIZE, None).await {
            Ok((buddies, next)) => (buddies, next, true),
            Err(e) => return viewer.error(&e),
        },
        Err(e) => return viewer.error(&e),
    };
    let filters = query.query_string();
    let next_href = next.map(|cursor| {
        let mut href = String::from("/console/buddies?");
        if !filters.is_empty() {
            href.push_str(&filters);
            href.push('&');
        }
        href.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .append_pair("cursor", &cursor)
                .finish(),
        );
        href
    });
    let with_filters = |path: &str| {
        if filters.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{filters}")
        }
    };
    let export_href = with_filters("/console/buddies.csv");
    let first_href = with_filters("/console/buddies");
    let lines: Vec<Line> = buddies.into_iter().map(Line::from).collect();
    let status = if query.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    viewer.page_with(
        status,
        "buddies.html",
        context! {
            buddies => lines,
            values => &query.values,
            errors => query.errors.to_value(),
            states => state_options(lang),
            languages => language_options(lang, &[]),
            free_options => vec![
                ("yes", text("buddies.free_yes", lang)),
                ("no", text("buddies.free_no", lang)),
            ],
            next_href => next_href,
            export_href => export_href,
            first_href => first_href,
            paged => query.cursor.is_some() && !cursor_error,
            cursor_error => cursor_error,
        },
    )
}

async fn export(viewer: Viewer, state: Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = ListQuery::parse(&req, viewer.lang);
    if !query.errors.is_empty() {
        // The list says what is wrong with the filters, at their fields.
        let filters = query.query_string();
        return see_other(&format!("/console/buddies?{filters}"));
    }
    viewer.respond(export_csv(&viewer, &state, &query).await)
}

async fn export_csv(
    viewer: &Viewer,
    state: &AppState,
    query: &ListQuery,
) -> ApiResult<HttpResponse> {
    let lang = viewer.lang;
    let mut all: Vec<Buddy> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (buddies, next) = read_page(
            state,
            query,
            crate::store::page::MAX_LIMIT,
            cursor.as_deref(),
        )
        .await?;
        all.extend(buddies);
        match next {
            Some(next) if all.len() < MAX_EXPORT => cursor = Some(next),
            _ => break,
        }
    }
    all.truncate(MAX_EXPORT);
    let header = [
        "id",
        "name",
        "state",
        "region",
        "languages",
        "live_pairings",
        "capacity",
        "free_capacity",
    ];
    let rows = all.into_iter().map(|b| {
        let languages: Vec<String> = b
            .languages
            .iter()
            .map(|code| i18n::language_name(code, lang))
            .collect();
        vec![
            b.id.to_string(),
            b.name,
            b.state.as_str().to_owned(),
            b.region,
            languages.join("; "),
            b.live_pairings.to_string(),
            b.capacity.to_string(),
            if b.live_pairings < i64::from(b.capacity) {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
        ]
    });
    Ok(csv_response("maatjes.csv", csv_text(&header, rows)?))
}

// ----------------------------------------------------------------------------------------
// One buddy

/// A pairing of the buddy, as its page lists it.
#[derive(Serialize)]
struct PairingLine {
    id: String,
    request_id: String,
    state: String,
    proposed_at: String,
    ended_at: Option<String>,
}

/// One line of the screening checklist.
#[derive(Serialize)]
struct CheckLine {
    /// `vog`, `training` or `agreement`.
    item: &'static str,
    /// `present`, `missing`, `too_old` or `future`.
    status: &'static str,
    /// Why, or what is there.
    text: String,
}

/// Everything a buddy's page shows, read in one trip to the database.
struct Loaded {
    buddy: Buddy,
    organisation: String,
    pairings: Vec<PairingLine>,
    history: Vec<HistoryLine>,
    /// Accepted and active pairings: what stands in the way of retiring.
    running: i64,
    /// What the buddy set in the portal, and whether they asked to stop.
    portal: PortalFacts,
}

/// What the buddy set in their portal (`crate::portal`): shown to the bureau.
#[derive(Debug, Serialize)]
struct PortalFacts {
    /// When the buddy asked to stop: the bureau confirms by retiring them.
    retirement_requested_at: Option<String>,
    paused_until: Option<String>,
    availability_notes: Option<String>,
}

async fn load(state: &AppState, id: BuddyId, lang: Lang) -> ApiResult<Loaded> {
    let (buddy, organisation, pairings, history, running, portal) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let buddy = load_one(conn, &id)?;
            let organisation = crate::store::organisations::find(
                conn,
                &OrganisationId::from(buddy.organisation_id),
            )
            .map(|o| o.name)
            .unwrap_or_default();
            let mut errors = Vec::new();
            let page = PageRequest::parse("pairings", Some(MAX_SHOWN), None, &mut errors);
            let pairings = crate::store::pairings::list(
                conn,
                &crate::store::pairings::Filter {
                    buddy_id: Some(id.clone()),
                    ..Default::default()
                },
                &page,
            )?;
            let page = PageRequest::parse("history", Some(MAX_SHOWN), None, &mut errors);
            let history = crate::store::history::list(conn, store::ENTITY, id.as_ref(), &page)?;
            let running = store::running_pairings(conn, &id)?;
            let row = store::find(conn, &id)?;
            let portal = PortalFacts {
                retirement_requested_at: row
                    .retirement_requested_at
                    .filter(|_| row.state != BuddyState::Retired)
                    .map(ts),
                paused_until: row.paused_until.map(|d| d.to_string()),
                availability_notes: row.availability_notes,
            };
            Ok((buddy, organisation, pairings, history, running, portal))
        })
        .await?;
    let mut pairings: Vec<PairingLine> = pairings
        .into_iter()
        .map(|p| PairingLine {
            id: p.id.to_string(),
            request_id: p.request_id.to_string(),
            state: p.state.as_str().to_owned(),
            proposed_at: ts(p.proposed_at),
            ended_at: p.ended_at.map(ts),
        })
        .collect();
    pairings.reverse();
    let history = history
        .into_iter()
        .map(|h| HistoryLine {
            action: super::i18n::action_name(&h.action, lang),
            from_state: h.from_state,
            to_state: h.to_state,
            actor: text(&format!("buddies.actor.{}", h.actor_type), lang),
            reason: h.reason,
            at: ts(h.at),
        })
        .collect();
    Ok(Loaded {
        buddy,
        organisation,
        pairings,
        history,
        running,
        portal,
    })
}

/// The explanation of one unmet requirement, in `lang`.
pub fn unmet_text(unmet: Unmet, lang: Lang) -> String {
    let texts = Texts::all();
    let day = |d: chrono::NaiveDate| i18n::date(d, lang);
    match unmet {
        Unmet::NoVog => texts.get("buddies.unmet.no_vog", lang).to_owned(),
        Unmet::VogInFuture { issued } => texts
            .get("buddies.unmet.vog_future", lang)
            .replace("{date}", &day(issued)),
        Unmet::VogTooOld { issued, oldest } => texts
            .get("buddies.unmet.vog_too_old", lang)
            .replace("{date}", &day(issued))
            .replace("{months}", &VOG_VALIDITY_MONTHS.to_string())
            .replace("{oldest}", &day(oldest)),
        Unmet::NoTraining => texts.get("buddies.unmet.no_training", lang).to_owned(),
        Unmet::TrainingInFuture { on } => texts
            .get("buddies.unmet.training_future", lang)
            .replace("{date}", &day(on)),
        Unmet::NoAgreement => texts.get("buddies.unmet.no_agreement", lang).to_owned(),
        Unmet::AgreementInFuture { on } => texts
            .get("buddies.unmet.agreement_future", lang)
            .replace("{date}", &day(on)),
    }
}

/// The checklist of `screening` on `today`: each requirement met (with its date) or not (with
/// the domain's reason), and the reasons activation would be refused.
fn checklist(
    screening: Screening,
    today: chrono::NaiveDate,
    lang: Lang,
) -> (Vec<CheckLine>, Vec<String>) {
    let unmet = screening.unmet(today);
    let texts = Texts::all();
    let day = |d: chrono::NaiveDate| i18n::date(d, lang);
    let mut lines = Vec::new();
    for (item, field, date) in [
        ("vog", "vog_issued_on", screening.vog_issued_on),
        (
            "training",
            "training_completed_on",
            screening.training_completed_on,
        ),
        (
            "agreement",
            "agreement_signed_on",
            screening.agreement_signed_on,
        ),
    ] {
        let line = match unmet.iter().find(|u| u.field() == field) {
            Some(u) => CheckLine {
                item,
                status: match u {
                    Unmet::VogTooOld { .. } => "too_old",
                    Unmet::VogInFuture { .. }
                    | Unmet::TrainingInFuture { .. }
                    | Unmet::AgreementInFuture { .. } => "future",
                    _ => "missing",
                },
                text: unmet_text(*u, lang),
            },
            None => {
                let on = date.expect("a met requirement has its date");
                let text = if item == "vog" {
                    texts
                        .get("buddies.met.vog", lang)
                        .replace("{date}", &day(on))
                        .replace(
                            "{until}",
                            &Screening::vog_valid_until(on).map(day).unwrap_or_default(),
                        )
                } else {
                    texts
                        .get(&format!("buddies.met.{item}"), lang)
                        .replace("{date}", &day(on))
                };
                CheckLine {
                    item,
                    status: "present",
                    text,
                }
            }
        };
        lines.push(line);
    }
    let reasons = unmet.into_iter().map(|u| unmet_text(u, lang)).collect();
    (lines, reasons)
}

/// The form values of a buddy as stored.
fn stored_values(b: &Buddy) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    let mut put = |k: &str, v: Value| {
        values.insert(k.to_owned(), v);
    };
    put("name", Value::from(b.name.clone()));
    put("email", Value::from(b.email.clone()));
    put("phone", Value::from(b.phone.clone().unwrap_or_default()));
    put("mail_language", Value::from(b.mail_language.as_str()));
    put("languages", Value::from(b.languages.clone()));
    put("region", Value::from(b.region.clone()));
    put(
        "experience",
        Value::from(
            b.experience
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect::<Vec<_>>(),
        ),
    );
    put("topics", Value::from(b.topics.join(", ")));
    put("capacity", Value::from(b.capacity.to_string()));
    let date =
        |d: Option<chrono::NaiveDate>| Value::from(d.map(|d| d.to_string()).unwrap_or_default());
    put("vog_issued_on", date(b.vog_issued_on));
    put("training_completed_on", date(b.training_completed_on));
    put("agreement_signed_on", date(b.agreement_signed_on));
    values
}

/// `values` with what `form` entered over it (lists as lists, even of one).
fn entered_over(mut values: BTreeMap<String, Value>, form: &FormData) -> BTreeMap<String, Value> {
    for name in [
        "name",
        "email",
        "phone",
        "mail_language",
        "region",
        "topics",
        "capacity",
        "vog_issued_on",
        "training_completed_on",
        "agreement_signed_on",
        "organisation_id",
        "reason",
    ] {
        if form.has(name) {
            values.insert(name.to_owned(), Value::from(form.get(name).to_owned()));
        }
    }
    // A form with the lists sent them all, even when none was chosen.
    let has_lists = form.get("section") == "profile" || form.has("organisation_id");
    for name in ["languages", "experience"] {
        if has_lists {
            values.insert(name.to_owned(), Value::from(form.all(name)));
        }
    }
    values
}

/// What went wrong with a form or an action on the buddy's page.
#[derive(Default)]
struct Failure {
    /// Which form: `profile`, `screening`, or an action.
    form: String,
    errors: FieldErrors,
    message: Option<String>,
    values: Option<BTreeMap<String, Value>>,
}

fn common_options(lang: Lang, extra_languages: &[String]) -> Value {
    context! {
        language_options => language_options(lang, extra_languages),
        mail_languages => MailLanguage::ALL
            .iter()
            .map(|l| (l.as_str(), i18n::language_name(l.as_str(), lang)))
            .collect::<Vec<_>>(),
        measure_kinds => MeasureKind::TEXTS
            .iter()
            .map(|k| (*k, text(&format!("buddies.measure.{k}"), lang)))
            .collect::<Vec<_>>(),
        min_capacity => MIN_CAPACITY,
        max_capacity => MAX_CAPACITY,
        max_name => MAX_NAME,
        max_email => MAX_EMAIL,
        max_phone => MAX_PHONE,
        max_region => MAX_REGION,
        max_reason => MAX_REASON,
    }
}

/// The done messages a buddy's page knows.
const DONE: &[&str] = &[
    "created",
    "saved",
    "unchanged",
    "start-screening",
    "activate",
    "pause",
    "resume",
    "retire",
];

async fn show(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let done = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v)
        .filter(|v| DONE.contains(&v.as_str()));
    let result = match buddy_id(&id) {
        Ok(id) => {
            page(
                &viewer,
                &state,
                id,
                StatusCode::OK,
                Failure::default(),
                done,
            )
            .await
        }
        Err(e) => Err(e),
    };
    viewer.respond(result)
}

/// The buddy's page, answered with `status` and what went wrong, if anything.
async fn page(
    viewer: &Viewer,
    state: &AppState,
    id: BuddyId,
    status: StatusCode,
    failure: Failure,
    done: Option<String>,
) -> ApiResult<HttpResponse> {
    let lang = viewer.lang;
    let loaded = load(state, id, lang).await?;
    let now = state.clock.now_naive();
    // The operation judges the screening on the UTC day (`ops::buddies::act`); so does the page.
    let today = now.date();
    let b = &loaded.buddy;
    let screening = Screening {
        vog_issued_on: b.vog_issued_on,
        training_completed_on: b.training_completed_on,
        agreement_signed_on: b.agreement_signed_on,
    };
    let (checklist, unmet) = checklist(screening, today, lang);
    let actions: Vec<&str> = BuddyAction::ALL
        .iter()
        .filter(|a| b.state.next(**a).is_some())
        .map(|a| a.as_str())
        .collect();
    let mut values = stored_values(b);
    if let Some(entered) = failure.values {
        values.extend(entered);
    }
    let done_text = done.map(|d| text(&format!("buddies.done.{d}"), lang));
    Ok(viewer.page_with(
        status,
        "buddy.html",
        context! {
            buddy => b,
            organisation => loaded.organisation,
            pairings => loaded.pairings,
            history => loaded.history,
            checklist => checklist,
            unmet => unmet,
            actions => actions,
            running => loaded.running,
            portal => loaded.portal,
            erased => b.erased_at.is_some(),
            values => values,
            errors => failure.errors.to_value(),
            failed => failure.form,
            message => failure.message,
            done => done_text,
            today => today.to_string(),
            now => ts(now),
            ..common_options(lang, &b.languages)
        },
    ))
}

// ----------------------------------------------------------------------------------------
// Changing a buddy

/// The languages and topics a form sent, and their field errors.
fn lists(
    form: &FormData,
    errors: &mut FieldErrors,
) -> (Vec<String>, Vec<MeasureKind>, Vec<String>) {
    let languages = form.all("languages");
    if languages.is_empty() {
        errors.fail("languages", "field.required");
    }
    let mut experience = Vec::new();
    for kind in form.all("experience") {
        match kind.parse::<MeasureKind>() {
            Ok(k) => experience.push(k),
            Err(_) => errors.fail("experience", "field.choice"),
        }
    }
    let topics: Vec<String> = form
        .get("topics")
        .split([',', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    (languages, experience, topics)
}

/// The API's field names of list items (`topics[3]`) and the form's field for them.
fn list_fields() -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for list in ["languages", "topics"] {
        for i in 0..crate::domain::values::MAX_LIST {
            fields.push((format!("{list}[{i}]"), list.to_owned()));
        }
    }
    fields
}

fn absorb(errors: &mut FieldErrors, error: &ApiError) -> bool {
    let fields = list_fields();
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, f)| (a.as_str(), f.as_str()))
        .collect();
    errors.absorb(error, &pairs)
}

fn mail_language(form: &FormData, errors: &mut FieldErrors) -> Option<MailLanguage> {
    forms::choice(form, errors, "mail_language", MailLanguage::TEXTS)
        .and_then(|v| v.parse::<MailLanguage>().ok())
}

fn capacity(form: &FormData, errors: &mut FieldErrors) -> Option<u8> {
    forms::number(
        form,
        errors,
        "capacity",
        i64::from(MIN_CAPACITY),
        i64::from(MAX_CAPACITY),
    )
    .and_then(|n| u8::try_from(n).ok())
}

/// The change a form asks for: only the fields of its section that differ from `current`.
fn patch_of(form: &FormData, current: &Buddy, errors: &mut FieldErrors) -> BuddyPatch {
    let mut patch = BuddyPatch::default();
    match form.get("section") {
        "profile" => {
            let name = forms::required(form, errors, "name", MAX_NAME);
            if name != current.name {
                patch.name = Some(name);
            }
            let email = forms::required(form, errors, "email", MAX_EMAIL);
            if email != current.email {
                patch.email = Some(email);
            }
            let phone = forms::optional(form, errors, "phone", MAX_PHONE);
            if phone != current.phone {
                patch.phone = Some(phone);
            }
            if let Some(language) = mail_language(form, errors) {
                if language != current.mail_language {
                    patch.mail_language = Some(language);
                }
            }
            let region = forms::required(form, errors, "region", MAX_REGION);
            if region != current.region {
                patch.region = Some(region);
            }
            let (languages, experience, topics) = lists(form, errors);
            if languages != current.languages {
                patch.languages = Some(languages);
            }
            if experience != current.experience {
                patch.experience = Some(experience);
            }
            if topics != current.topics {
                patch.topics = Some(topics);
            }
            if let Some(n) = capacity(form, errors) {
                if i32::from(n) != current.capacity {
                    patch.capacity = Some(n);
                }
            }
        }
        "screening" => {
            for (field, now) in [
                ("vog_issued_on", current.vog_issued_on),
                ("training_completed_on", current.training_completed_on),
                ("agreement_signed_on", current.agreement_signed_on),
            ] {
                let cleared = form.get(field).is_empty();
                let date = forms::date(form, errors, field, false);
                if (cleared || date.is_some()) && date != now {
                    let value = Some(date);
                    match field {
                        "vog_issued_on" => patch.vog_issued_on = value,
                        "training_completed_on" => patch.training_completed_on = value,
                        _ => patch.agreement_signed_on = value,
                    }
                }
            }
        }
        _ => errors.fail("section", "field.choice"),
    }
    patch
}

async fn edit(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let result = match buddy_id(&id) {
        Ok(id) => save(&viewer, &state, id, form).await,
        Err(e) => Err(e),
    };
    viewer.respond(result)
}

async fn save(
    viewer: &Viewer,
    state: &AppState,
    id: BuddyId,
    form: FormData,
) -> ApiResult<HttpResponse> {
    let read = id.clone();
    let current = state
        .db
        .run(move |conn| -> ApiResult<_> { load_one(conn, &read) })
        .await?;
    let mut errors = FieldErrors::new(viewer.lang);
    let patch = patch_of(&form, &current, &mut errors);
    let section = form.get("section").to_owned();
    let refused = |errors: FieldErrors, message: Option<String>| Failure {
        form: section.clone(),
        errors,
        message,
        values: Some(entered_over(BTreeMap::new(), &form)),
    };
    let today = state.clock.today();
    let change = match patch.validate(today) {
        Ok(change) => Some(change),
        // Nothing differs from what is stored: nothing to save.
        Err(ApiError::Invalid(list)) if list.iter().all(|f| f.field.is_empty()) => None,
        Err(e) => {
            absorb(&mut errors, &e);
            None
        }
    };
    if !errors.is_empty() {
        let failure = refused(errors, None);
        return page(
            viewer,
            state,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            failure,
            None,
        )
        .await;
    }
    let Some(change) = change else {
        return Ok(see_other(&format!("/console/buddies/{id}?done=unchanged")));
    };
    let ctx = change_ctx(&viewer.caller, state.clock.now_naive(), &id);
    let target = id.clone();
    let result = state
        .change(ctx, move |tx| -> ApiResult<_> {
            Ok(ops::buddies::update_profile(tx, &target, change)?)
        })
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/console/buddies/{id}?done=saved"))),
        Err(e @ ApiError::NotFound { .. }) => Err(e),
        Err(e) => {
            let mut errors = FieldErrors::new(viewer.lang);
            let (status, message) = if absorb(&mut errors, &e) {
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            } else {
                let (status, message) = explain(&e, viewer.lang);
                (status, Some(message))
            };
            page(viewer, state, id, status, refused(errors, message), None).await
        }
    }
}

async fn start_screening(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(viewer, state, id, form, BuddyAction::StartScreening).await
}

async fn activate(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(viewer, state, id, form, BuddyAction::Activate).await
}

async fn pause(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(viewer, state, id, form, BuddyAction::Pause).await
}

async fn resume(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(viewer, state, id, form, BuddyAction::Resume).await
}

async fn retire(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    act(viewer, state, id, form, BuddyAction::Retire).await
}

async fn act(
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
    action: BuddyAction,
) -> HttpResponse {
    let result = match buddy_id(&id) {
        Ok(id) => run_action(&viewer, &state, id, form, action).await,
        Err(e) => Err(e),
    };
    viewer.respond(result)
}

/// Runs `action` as `POST /v1/buddies/{id}/{action}` does; a refusal shows the buddy's page
/// with why (the current state, or the unmet requirements), and nothing is stored.
async fn run_action(
    viewer: &Viewer,
    state: &AppState,
    id: BuddyId,
    form: FormData,
    action: BuddyAction,
) -> ApiResult<HttpResponse> {
    let lang = viewer.lang;
    let mut errors = FieldErrors::new(lang);
    let mut check = Check::new();
    let reason = check.note(
        "reason",
        forms::optional(&form, &mut errors, "reason", MAX_REASON).as_deref(),
        MAX_REASON,
    );
    if let Err(e) = check.finish() {
        errors.absorb(&ApiError::from(e), &[]);
    }
    let failure = |errors: FieldErrors, message: Option<String>| Failure {
        form: action.as_str().to_owned(),
        errors,
        message,
        values: Some(entered_over(BTreeMap::new(), &form)),
    };
    if !errors.is_empty() {
        return page(
            viewer,
            state,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            failure(errors, None),
            None,
        )
        .await;
    }
    let ctx = change_ctx(&viewer.caller, state.clock.now_naive(), &id);
    let target = id.clone();
    let result = state
        .change(ctx, move |tx| -> ApiResult<_> {
            Ok(ops::buddies::act(
                tx,
                &target,
                action,
                None,
                reason.as_deref(),
            )?)
        })
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/console/buddies/{id}?done={}",
            action.as_str()
        ))),
        Err(e @ ApiError::NotFound { .. }) => Err(e),
        Err(e) => {
            let (status, message) = refusal_text(&e, lang);
            page(
                viewer,
                state,
                id,
                status,
                failure(FieldErrors::new(lang), Some(message)),
                None,
            )
            .await
        }
    }
}

/// Why an action was refused, in `lang`: the programme's own conflicts in words of the
/// console, the rest as every page explains them.
fn refusal_text(error: &ApiError, lang: Lang) -> (StatusCode, String) {
    match error {
        ApiError::Conflict { kind, .. } if *kind == "activation-requirements-unmet" => {
            (StatusCode::CONFLICT, text("buddies.refused.activate", lang))
        }
        ApiError::Conflict { kind, .. } if *kind == "buddy-has-live-pairings" => {
            (StatusCode::CONFLICT, text("buddies.refused.retire", lang))
        }
        ApiError::Conflict { kind, .. } if *kind == "buddy-erased" => {
            (StatusCode::CONFLICT, text("buddies.erased", lang))
        }
        other => explain(other, lang),
    }
}

// ----------------------------------------------------------------------------------------
// A new buddy

/// The organisations a buddy can be registered for: the active ones, by name.
async fn filing_organisations(state: &AppState) -> ApiResult<Vec<(String, String)>> {
    let rows = state
        .db
        .run(|conn| -> ApiResult<_> {
            let mut errors = Vec::new();
            let page = PageRequest::parse(
                "organisations",
                Some(crate::store::page::MAX_LIMIT),
                None,
                &mut errors,
            );
            Ok(crate::store::organisations::list(
                conn,
                &crate::store::organisations::Filter {
                    state: Some(OrganisationState::Active),
                },
                &page,
            )?)
        })
        .await?;
    let mut options: Vec<(String, String)> = rows
        .into_iter()
        .map(|o| (o.id.to_string(), o.name))
        .collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(options)
}

async fn new_page(
    viewer: &Viewer,
    state: &AppState,
    status: StatusCode,
    values: BTreeMap<String, Value>,
    errors: FieldErrors,
    message: Option<String>,
) -> ApiResult<HttpResponse> {
    let organisations = filing_organisations(state).await?;
    let extra: Vec<String> = values
        .get("languages")
        .and_then(|v| v.try_iter().ok())
        .map(|i| i.filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    Ok(viewer.page_with(
        status,
        "buddy_new.html",
        context! {
            organisations => organisations,
            values => values,
            errors => errors.to_value(),
            message => message,
            today => state.clock.today().to_string(),
            // A new buddy may leave the mail language to the languages they speak.
            mail_language_spoken => true,
            ..common_options(viewer.lang, &extra)
        },
    ))
}

async fn new_form(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let mut values = BTreeMap::new();
    values.insert("capacity".to_owned(), Value::from("1"));
    values.insert("languages".to_owned(), Value::from(vec!["nl".to_owned()]));
    let result = new_page(
        &viewer,
        &state,
        StatusCode::OK,
        values,
        FieldErrors::new(viewer.lang),
        None,
    )
    .await;
    viewer.respond(result)
}

async fn create(viewer: Viewer, state: Data<AppState>, form: FormData) -> HttpResponse {
    let result = register(&viewer, &state, form).await;
    viewer.respond(result)
}

async fn register(viewer: &Viewer, state: &AppState, form: FormData) -> ApiResult<HttpResponse> {
    let lang = viewer.lang;
    let mut errors = FieldErrors::new(lang);
    let organisation = forms::required(&form, &mut errors, "organisation_id", 36);
    let organisation_id = Uuid::parse_str(&organisation).ok();
    if organisation_id.is_none() {
        errors.fail("organisation_id", "field.choice");
    }
    let name = forms::required(&form, &mut errors, "name", MAX_NAME);
    let email = forms::required(&form, &mut errors, "email", MAX_EMAIL);
    let phone = forms::optional(&form, &mut errors, "phone", MAX_PHONE);
    // Left empty: one the buddy speaks (the API's rule, in `BuddyInput::validate`).
    let language = if form.get("mail_language").is_empty() {
        None
    } else {
        mail_language(&form, &mut errors)
    };
    let region = forms::required(&form, &mut errors, "region", MAX_REGION);
    let (languages, experience, topics) = lists(&form, &mut errors);
    let capacity = capacity(&form, &mut errors);
    let vog = forms::date(&form, &mut errors, "vog_issued_on", false);
    let training = forms::date(&form, &mut errors, "training_completed_on", false);
    let agreement = forms::date(&form, &mut errors, "agreement_signed_on", false);
    let input = BuddyInput {
        organisation_id,
        name,
        email,
        phone,
        mail_language: language,
        languages,
        region,
        experience,
        topics,
        capacity: Some(capacity.unwrap_or(MIN_CAPACITY)),
        vog_issued_on: vog,
        training_completed_on: training,
        agreement_signed_on: agreement,
    };
    let mut check = Check::new();
    let profile = input.validate(&mut check, "", state.clock.today());
    if let Err(e) = check.finish() {
        absorb(&mut errors, &ApiError::from(e));
    }
    let again = |errors: FieldErrors, message: Option<String>, status: StatusCode| {
        new_page(
            viewer,
            state,
            status,
            entered_over(BTreeMap::new(), &form),
            errors,
            message,
        )
    };
    if !errors.is_empty() {
        return again(errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let organisation_id = OrganisationId::from(organisation_id.expect("checked"));
    let now = state.clock.now_naive();
    let result = state
        .change(viewer.ctx(now), move |tx| -> ApiResult<_> {
            Ok(ops::buddies::register(tx, &organisation_id, profile)?)
        })
        .await;
    match result {
        Ok(row) => Ok(see_other(&format!(
            "/console/buddies/{}?done=created",
            row.id
        ))),
        Err(ApiError::NotFound { .. }) => {
            errors.fail("organisation_id", "field.choice");
            again(errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => {
            if absorb(&mut errors, &e) {
                return again(errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            let (status, message) = explain(&e, lang);
            again(errors, Some(message), status).await
        }
    }
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("buddies.title", "Maatjes", "Buddies"),
    ("buddies.filters", "Filters", "Filters"),
    ("buddies.region", "Regio", "Region"),
    ("buddies.language", "Taal", "Language"),
    ("buddies.languages", "Talen", "Languages"),
    ("buddies.free", "Vrije capaciteit", "Free capacity"),
    ("buddies.free_yes", "Ja, kan nog een koppeling aan", "Yes, can take another pairing"),
    ("buddies.free_no", "Nee, vol", "No, full"),
    ("buddies.name", "Naam", "Name"),
    ("buddies.load", "Koppelingen / capaciteit", "Pairings / capacity"),
    ("buddies.load_value", "{load} van {capacity}", "{load} of {capacity}"),
    ("buddies.is_full", "vol", "full"),
    ("buddies.none", "Geen maatjes gevonden met deze filters.", "No buddies match these filters."),
    ("buddies.list_help", "Koppelingen tellen mee zolang ze voorgesteld, geaccepteerd of actief zijn.", "Pairings count while proposed, accepted or active."),
    ("buddies.first_page", "Eerste pagina", "First page"),
    ("buddies.cursor_error", "Die pagina bestaat niet meer; dit is de eerste pagina.", "That page no longer exists; this is the first page."),
    ("buddies.new", "Maatje toevoegen", "Add a buddy"),
    ("buddies.new_intro", "Een maatje dat u hier toevoegt, begint als kandidaat. Maatjes uit exitgesprekken worden aangemaakt bij het vastleggen van het gesprek.", "A buddy added here starts as a candidate. Buddies from exit interviews are created when the interview is recorded."),
    ("buddies.organisation", "Organisatie", "Organisation"),
    ("buddies.choose", "Kies…", "Choose…"),
    ("buddies.create", "Maatje toevoegen", "Add buddy"),
    ("buddies.profile", "Profiel", "Profile"),
    ("buddies.contact", "Contact", "Contact"),
    ("buddies.email", "E-mailadres", "E-mail address"),
    ("buddies.phone", "Telefoonnummer", "Phone number"),
    ("buddies.mail_language", "Taal van de e-mails", "Language of e-mails"),
    ("buddies.mail_language_spoken", "Volgens de gesproken talen (Engels als het maatje wel Engels en geen Nederlands spreekt)", "By the languages spoken (English when the buddy speaks English but not Dutch)"),
    ("buddies.experience", "Ervaring met", "Experience with"),
    ("buddies.topics", "Onderwerpen", "Topics"),
    ("buddies.topics_hint", "Gescheiden door komma's.", "Separated by commas."),
    ("buddies.languages_hint", "Houd Ctrl (of Cmd) ingedrukt om meer talen te kiezen.", "Hold Ctrl (or Cmd) to choose more languages."),
    ("buddies.capacity", "Capaciteit", "Capacity"),
    ("buddies.capacity_hint", "Hoeveel koppelingen tegelijk: {min} tot en met {max}.", "How many pairings at once: {min} to {max}."),
    ("buddies.recruited_by", "Geworven door", "Recruited by"),
    ("buddies.load_now", "Koppelingen nu", "Pairings now"),
    ("buddies.screening", "Screening", "Screening"),
    ("buddies.checklist", "Checklist voor activering", "Activation checklist"),
    ("buddies.check.vog", "VOG (verklaring omtrent het gedrag)", "VOG (certificate of conduct)"),
    ("buddies.check.training", "Training", "Training"),
    ("buddies.check.agreement", "Vrijwilligersovereenkomst", "Volunteer agreement"),
    ("buddies.status.present", "aanwezig", "present"),
    ("buddies.status.missing", "ontbreekt", "missing"),
    ("buddies.status.too_old", "te oud", "too old"),
    ("buddies.status.future", "in de toekomst", "in the future"),
    ("buddies.met.vog", "Afgegeven op {date}; telt voor activering tot en met {until}.", "Issued on {date}; counts for activation until {until}."),
    ("buddies.met.training", "Afgerond op {date}.", "Completed on {date}."),
    ("buddies.met.agreement", "Getekend op {date}.", "Signed on {date}."),
    ("buddies.unmet.no_vog", "Er is geen VOG vastgelegd.", "No VOG (certificate of conduct) is recorded."),
    ("buddies.unmet.vog_future", "De afgiftedatum van de VOG ({date}) ligt in de toekomst.", "The VOG's issue date ({date}) lies in the future."),
    ("buddies.unmet.vog_too_old", "De VOG is afgegeven op {date}, meer dan {months} maanden geleden (hij moet op of na {oldest} zijn afgegeven); er is een nieuwe nodig.", "The VOG was issued on {date}, more than {months} months ago (it must be issued on or after {oldest}); a new one is needed."),
    ("buddies.unmet.no_training", "De training is niet afgerond.", "The training has not been completed."),
    ("buddies.unmet.training_future", "De datum van de training ({date}) ligt in de toekomst.", "The training date ({date}) lies in the future."),
    ("buddies.unmet.no_agreement", "De vrijwilligersovereenkomst is niet getekend.", "The volunteer agreement has not been signed."),
    ("buddies.unmet.agreement_future", "De datum van de overeenkomst ({date}) ligt in de toekomst.", "The agreement date ({date}) lies in the future."),
    ("buddies.all_met", "Aan alle eisen voor activering is voldaan.", "Every activation requirement is met."),
    ("buddies.activation_blocked", "Activeren kan nog niet:", "Cannot be activated yet:"),
    ("buddies.screening_dates", "Screeningsgegevens vastleggen", "Record screening dates"),
    ("buddies.screening_hint", "Niet in de toekomst. Leeg laten om een datum te wissen.", "Not in the future. Leave empty to clear a date."),
    ("buddies.vog_issued_on", "VOG afgegeven op", "VOG issued on"),
    ("buddies.training_completed_on", "Training afgerond op", "Training completed on"),
    ("buddies.agreement_signed_on", "Overeenkomst getekend op", "Agreement signed on"),
    ("buddies.edit_profile", "Profiel wijzigen", "Edit profile"),
    ("buddies.actions", "Status wijzigen", "Change state"),
    ("buddies.action.start-screening", "Screening starten", "Start screening"),
    ("buddies.action.activate", "Activeren", "Activate"),
    ("buddies.action.pause", "Pauzeren", "Pause"),
    ("buddies.action.resume", "Hervatten", "Resume"),
    ("buddies.action.retire", "Laten stoppen", "Retire"),
    ("buddies.pause_help", "Een voorstel dat op antwoord wacht, wordt geannuleerd; de aanvraag gaat weer open.", "A proposal awaiting an answer is cancelled; its request is open again."),
    ("buddies.retire_help", "Definitief. Een voorstel dat op antwoord wacht, wordt geannuleerd.", "For good. A proposal awaiting an answer is cancelled."),
    ("buddies.retire_blocked", "Laten stoppen kan pas als geen koppeling meer geaccepteerd of actief is ({n} nu).", "Retiring is possible once no pairing is accepted or active ({n} now)."),
    ("buddies.no_actions", "Dit maatje is gestopt; er zijn geen acties meer mogelijk.", "This buddy has retired; no further actions are possible."),
    ("buddies.erased", "De gegevens van dit maatje zijn gewist; het profiel kan niet meer worden gewijzigd.", "This buddy's data has been erased; the profile can no longer be changed."),
    ("buddies.reason_optional", "Reden (optioneel, komt in de geschiedenis)", "Reason (optional, kept in the history)"),
    ("buddies.refused.activate", "Activeren is geweigerd: niet aan alle eisen is voldaan. Er is niets gewijzigd.", "Activation was refused: not every requirement is met. Nothing was changed."),
    ("buddies.refused.retire", "Laten stoppen is geweigerd: er loopt nog een geaccepteerde of actieve koppeling. Beëindig die eerst. Er is niets gewijzigd.", "Retiring was refused: an accepted or active pairing still runs. End it first. Nothing was changed."),
    ("buddies.pairings", "Koppelingen", "Pairings"),
    ("buddies.no_pairings", "Nog geen koppelingen.", "No pairings yet."),
    ("buddies.pairing", "Koppeling", "Pairing"),
    ("buddies.request", "Aanvraag", "Request"),
    ("buddies.proposed_at", "Voorgesteld op", "Proposed"),
    ("buddies.ended_at", "Beëindigd op", "Ended"),
    ("buddies.open_pairing", "Koppeling van {date}", "Pairing of {date}"),
    ("buddies.open_request", "Aanvraag openen", "Open request"),
    ("buddies.history", "Geschiedenis", "History"),
    ("buddies.actor.staff", "medewerker", "staff"),
    ("buddies.actor.api_client", "zaaksysteem", "case system"),
    ("buddies.actor.buddy", "het maatje", "the buddy"),
    ("buddies.actor.system", "systeem", "system"),
    ("buddies.actor.unauthenticated", "onbekend", "unknown"),
    ("buddies.measure.supervision_order", "Ondertoezichtstelling", "Supervision order"),
    ("buddies.measure.out_of_home_placement", "Uithuisplaatsing", "Out-of-home placement"),
    ("buddies.measure.guardianship", "Voogdij", "Guardianship"),
    ("buddies.measure.youth_probation", "Jeugdreclassering", "Youth probation"),
    ("buddies.done.created", "Het maatje is toegevoegd als kandidaat.", "The buddy was added as a candidate."),
    ("buddies.done.saved", "De wijzigingen zijn opgeslagen.", "The changes were saved."),
    ("buddies.done.unchanged", "Er was niets gewijzigd; er is niets opgeslagen.", "Nothing had changed; nothing was saved."),
    ("buddies.done.start-screening", "De screening is gestart.", "Screening has started."),
    ("buddies.done.activate", "Het maatje is actief en kan worden voorgesteld.", "The buddy is active and can be proposed."),
    ("buddies.done.pause", "Het maatje is gepauzeerd.", "The buddy is paused."),
    ("buddies.done.resume", "Het maatje is weer actief.", "The buddy is active again."),
    ("buddies.done.retire", "Het maatje is gestopt.", "The buddy has retired."),
    ("buddies.retirement_request", "Het maatje wil stoppen", "The buddy wants to stop"),
    ("buddies.retirement_requested_at", "Gevraagd op hun maatjespagina op", "Asked on their buddy page on"),
    ("buddies.retirement_request_reason", "Op eigen verzoek (maatjespagina)", "At their own request (buddy page)"),
    ("buddies.retirement_confirm", "Stoppen bevestigen", "Confirm retirement"),
    ("buddies.portal_facts", "Van hun maatjespagina", "From their buddy page"),
    ("buddies.paused_until", "Pauze tot", "Paused until"),
    ("buddies.availability_notes", "Beschikbaarheid", "Availability"),
];
