//! Requests: the filterable list (and its CSV export), and one request with its latest
//! pairing, its history, its ranked candidates with each score component explained, and the
//! buddies excluded from it.
//!
//! - `GET /console/requests`: filters `state`, `trigger`, `overdue` (`yes`/`no`), `order`
//!   (`oldest`/`newest`), paged with the store's cursor (`cursor`), as `GET /v1/buddy-requests`.
//! - `GET /console/requests.csv`: the same filtered list as CSV (audited as an export).
//! - `GET /console/requests/{id}`: the request; candidates only while it is `open` (the same
//!   ranking as `GET /v1/buddy-requests/{id}/candidates`).
//! - `POST /console/requests/{id}/propose` (`buddy_id`): as `POST /v1/pairings`.
//! - `POST /console/requests/{id}/exclude` (`buddy_id`, `reason`): as
//!   `POST /v1/buddy-requests/{id}/exclusions`.
//! - `POST /console/requests/{id}/include` (`buddy_id`): as
//!   `DELETE /v1/buddy-requests/{id}/exclusions/{buddy_id}`.
//!
//! Exclusions are changed here only while the request is `open` or `proposed` (it can still
//! get a proposal); the API takes them in any state.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use minijinja::{context, Value};
use serde::Serialize;
use uuid::Uuid;

use super::casework::{csv_response, optional_choice, query_fields, text_or, HistoryLine};
use super::dashboard::ts;
use super::forms::{self, FieldErrors, FormData};
use super::page::path_id;
use super::page::{explain, see_other, Viewer};
use super::router::Router;
use crate::api::requests::{load_one, BuddyRequest};
use crate::api::{history_page_with, HistoryEntry, HistoryQuery};
use crate::audit::note_client_ref;
use crate::auth::policy::{AuditAction, STAFF_ONLY};
use crate::domain::ids::{BuddyId, RequestId};
use crate::domain::request::{RequestState, Trigger};
use crate::domain::values::{Check, MAX_REASON};
use crate::error::{ApiError, ApiResult};
use crate::i18n::{language_name, Lang};
use crate::matching::ComponentName;
use crate::ops::{self, AppState};
use crate::store::casework;
use crate::store::page::PageRequest;
use crate::store::requests::{self as store, Filter, OverdueFilter};

/// Requests on one page of the list.
pub const PAGE_SIZE: u32 = 50;
/// At most this many requests in one export.
pub const EXPORT_LIMIT: i64 = 10_000;
/// Candidates shown on a request's page (the API's default).
pub const CANDIDATES: usize = crate::api::candidates::DEFAULT_LIMIT as usize;

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/requests", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Search, "buddy_request"), list)
        })
        .path("/console/requests.csv", |p| {
            p.get(
                STAFF_ONLY.audit(AuditAction::Export, "buddy_request"),
                export,
            )
        })
        .path("/console/requests/{id}", |p| {
            p.get(STAFF_ONLY.audit(AuditAction::Read, "buddy_request"), show)
        })
        .path("/console/requests/{id}/propose", |p| {
            p.post(STAFF_ONLY.audit(AuditAction::Create, "pairing"), propose)
        })
        .path("/console/requests/{id}/exclude", |p| {
            p.post(
                STAFF_ONLY.audit(AuditAction::Update, "buddy_request"),
                exclude,
            )
        })
        .path("/console/requests/{id}/include", |p| {
            p.post(
                STAFF_ONLY.audit(AuditAction::Update, "buddy_request"),
                include,
            )
        });
}

// ---------------------------------------------------------------------------------------------
// The list

/// The filters of the list, checked.
struct ListFilters {
    state: Option<RequestState>,
    trigger: Option<Trigger>,
    overdue: Option<bool>,
    newest_first: bool,
    cursor: Option<String>,
}

impl ListFilters {
    fn parse(form: &FormData, errors: &mut FieldErrors) -> ListFilters {
        let state = optional_choice(form, errors, "state", RequestState::TEXTS)
            .and_then(|s| s.parse().ok());
        let trigger =
            optional_choice(form, errors, "trigger", Trigger::TEXTS).and_then(|s| s.parse().ok());
        let overdue = optional_choice(form, errors, "overdue", &["yes", "no"]).map(|v| v == "yes");
        let newest_first = optional_choice(form, errors, "order", &["oldest", "newest"]).as_deref()
            == Some("newest");
        let cursor = Some(form.get("cursor").to_owned()).filter(|c| !c.is_empty());
        ListFilters {
            state,
            trigger,
            overdue,
            newest_first,
            cursor,
        }
    }

    fn store_filter(&self, state: &AppState, now: chrono::NaiveDateTime) -> Filter {
        Filter {
            organisation_id: None,
            state: self.state,
            trigger: self.trigger,
            client_ref: None,
            overdue: self.overdue.map(|overdue| OverdueFilter {
                overdue,
                cutoff: state.service_level.cutoff(now),
            }),
        }
    }

    /// The query string of these filters (without a cursor), for links.
    fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(state) = self.state {
            query.append_pair("state", state.as_str());
        }
        if let Some(trigger) = self.trigger {
            query.append_pair("trigger", trigger.as_str());
        }
        if let Some(overdue) = self.overdue {
            query.append_pair("overdue", if overdue { "yes" } else { "no" });
        }
        if self.newest_first {
            query.append_pair("order", "newest");
        }
        query.finish()
    }
}

#[derive(Serialize)]
struct ListedRequest {
    id: String,
    client_ref: String,
    trigger: String,
    region: String,
    created_at: String,
    state: String,
    overdue: bool,
}

async fn list(req: HttpRequest, viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let form = query_fields(&req);
    viewer.respond(list_page(&viewer, &state, &form).await)
}

async fn list_page(viewer: &Viewer, state: &AppState, form: &FormData) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let mut errors = FieldErrors::new(viewer.lang);
    let filters = ListFilters::parse(form, &mut errors);
    let mut invalid = Vec::new();
    let page = PageRequest::parse(
        "console-requests",
        Some(PAGE_SIZE),
        filters.cursor.as_deref(),
        &mut invalid,
    );
    if !invalid.is_empty() {
        // A cursor that is not this list's: start from the first page.
        return Ok(see_other(&format!("/console/requests?{}", filters.query())));
    }
    if !errors.is_empty() {
        return Ok(viewer.page_with(
            StatusCode::BAD_REQUEST,
            "requests.html",
            list_context(now, form, &errors, Vec::new(), None, "", state, viewer.lang),
        ));
    }
    let filter = filters.store_filter(state, now);
    let (after, fetch, newest) = (page.after.clone(), page.fetch(), filters.newest_first);
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok(casework::requests(
                conn,
                &filter,
                after.as_deref(),
                fetch,
                newest,
            )?)
        })
        .await?;
    let (rows, next) = page.finish(rows, |r| r.id.as_str());
    let level = state.service_level;
    let items: Vec<ListedRequest> = rows
        .into_iter()
        .map(|r| ListedRequest {
            overdue: level.is_overdue(r.state, r.created_at, now),
            id: r.id.to_string(),
            client_ref: r.client_ref,
            trigger: r.trigger_kind.as_str().to_owned(),
            region: r.region,
            created_at: ts(r.created_at),
            state: r.state.as_str().to_owned(),
        })
        .collect();
    let query = filters.query();
    let next = next.map(|cursor| {
        let mut link = form_urlencoded::Serializer::new(query.clone());
        link.append_pair("cursor", &cursor);
        format!("/console/requests?{}", link.finish())
    });
    Ok(viewer.page(
        "requests.html",
        list_context(now, form, &errors, items, next, &query, state, viewer.lang),
    ))
}

#[allow(clippy::too_many_arguments)]
fn list_context(
    now: chrono::NaiveDateTime,
    form: &FormData,
    errors: &FieldErrors,
    items: Vec<ListedRequest>,
    next: Option<String>,
    query: &str,
    state: &AppState,
    lang: Lang,
) -> Value {
    context! {
        now => ts(now),
        values => form.entered(),
        errors => errors.to_value(),
        items => items,
        next => next,
        export => if query.is_empty() { "/console/requests.csv".to_owned() } else { format!("/console/requests.csv?{query}") },
        state_options => RequestState::TEXTS
            .iter()
            .map(|s| (*s, super::i18n::state_name(s, lang)))
            .collect::<Vec<_>>(),
        trigger_options => Trigger::TEXTS
            .iter()
            .map(|t| (*t, text_or(&format!("trigger.{t}"), lang, t)))
            .collect::<Vec<_>>(),
        overdue_days => state.service_level.overdue_after_days,
    }
}

async fn export(req: HttpRequest, viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let form = query_fields(&req);
    viewer.respond(export_csv(&viewer, &state, &form).await)
}

async fn export_csv(viewer: &Viewer, state: &AppState, form: &FormData) -> ApiResult<HttpResponse> {
    let now = state.clock.now_naive();
    let mut errors = FieldErrors::new(viewer.lang);
    let filters = ListFilters::parse(form, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid("filter", "is not one of the choices"));
    }
    let filter = filters.store_filter(state, now);
    let newest = filters.newest_first;
    let rows = state
        .db
        .run(move |conn| -> ApiResult<_> {
            Ok(casework::requests(
                conn,
                &filter,
                None,
                EXPORT_LIMIT,
                newest,
            )?)
        })
        .await?;
    let level = state.service_level;
    let lines: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.client_ref.clone(),
                r.organisation_id.to_string(),
                r.trigger_kind.as_str().to_owned(),
                r.region.clone(),
                r.state.as_str().to_owned(),
                if level.is_overdue(r.state, r.created_at, now) {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
                crate::i18n::utc_text(r.created_at),
            ]
        })
        .collect();
    csv_response(
        "buddy-requests.csv",
        &[
            "id",
            "client_ref",
            "organisation_id",
            "trigger",
            "region",
            "state",
            "overdue",
            "created_at",
        ],
        &lines,
    )
}

// ---------------------------------------------------------------------------------------------
// One request

#[derive(Serialize)]
struct ComponentView {
    name: String,
    weight: f64,
    value: String,
    reason: String,
}

#[derive(Serialize)]
struct CandidateView {
    rank: usize,
    buddy_id: String,
    name: String,
    region: String,
    languages: Vec<String>,
    score: String,
    components: Vec<ComponentView>,
}

#[derive(Serialize)]
struct ExclusionView {
    buddy_id: String,
    name: String,
    reason: String,
    created_at: String,
}

/// Everything the request's page shows.
struct Detail {
    request: BuddyRequest,
    buddy_name: Option<String>,
    history: Vec<HistoryEntry>,
    candidates: Option<(usize, Vec<CandidateView>)>,
    exclusions: Vec<ExclusionView>,
}

/// What a form on the page brings back when it was refused.
#[derive(Default)]
struct Refusal {
    status: Option<StatusCode>,
    message: Option<String>,
    values: Option<Value>,
    errors: Option<FieldErrors>,
}

async fn show(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
) -> HttpResponse {
    let done = query_fields(&req).get("done").to_owned();
    let page = detail_page(&req, &viewer, &state, &id, Refusal::default(), &done).await;
    viewer.respond(page)
}

async fn load_detail(viewer: &Viewer, state: &AppState, id: Uuid) -> ApiResult<Detail> {
    let now = state.clock.now_naive();
    let level = state.service_level;
    let weights = state.matching.weights();
    let cache = state.candidates.clone();
    let lang = viewer.lang;
    let request_id = RequestId::from(id);
    let (request, buddy_name, candidates, exclusions) = state
        .db
        .run(move |conn| -> ApiResult<_> {
            let request = load_one(conn, &request_id, None, level, now)?;
            let candidates = if request.state == RequestState::Open {
                Some(ops::pairings::candidates(
                    conn,
                    &cache,
                    &request_id,
                    &weights,
                    now,
                    CANDIDATES,
                )?)
            } else {
                None
            };
            let (exclusions, _) = crate::store::exclusions::list(conn, &request_id)?;
            let mut ids: Vec<BuddyId> = exclusions.iter().map(|e| e.buddy_id.clone()).collect();
            if let Some(pairing) = &request.pairing {
                if let Some(buddy) = pairing.buddy_id {
                    ids.push(BuddyId::from(buddy));
                }
            }
            let names = casework::buddy_names(conn, &ids)?;
            let buddy_name = request
                .pairing
                .as_ref()
                .and_then(|p| p.buddy_id)
                .and_then(|b| names.get(&b.to_string()).cloned());
            let exclusions = exclusions
                .into_iter()
                .map(|e| ExclusionView {
                    name: names.get(e.buddy_id.as_str()).cloned().unwrap_or_default(),
                    buddy_id: e.buddy_id.to_string(),
                    reason: e.reason,
                    created_at: ts(e.created_at),
                })
                .collect::<Vec<_>>();
            Ok((request, buddy_name, candidates, exclusions))
        })
        .await?;
    let history = history_page_with(
        state,
        &viewer.caller,
        store::ENTITY,
        id,
        HistoryQuery {
            limit: Some(crate::store::page::MAX_LIMIT),
            cursor: None,
        },
        |_conn, _id: &RequestId| Ok(()),
    )
    .await?
    .0
    .items;
    let candidates = candidates.map(|ranking| {
        let list = ranking
            .candidates
            .into_iter()
            .map(|c| CandidateView {
                rank: c.rank,
                buddy_id: c.buddy_id.to_string(),
                name: c.name,
                region: c.region,
                languages: c.languages,
                score: format!("{:.2}", c.score),
                components: c
                    .components
                    .into_iter()
                    .map(|k| ComponentView {
                        name: k.name.as_str().to_owned(),
                        weight: k.weight,
                        value: format!("{:.2}", k.value),
                        reason: reason_text(k.name, &k.reason, lang),
                    })
                    .collect(),
            })
            .collect();
        (ranking.eligible, list)
    });
    Ok(Detail {
        request,
        buddy_name,
        history,
        candidates,
        exclusions,
    })
}

async fn detail_page(
    req: &HttpRequest,
    viewer: &Viewer,
    state: &AppState,
    raw_id: &str,
    refusal: Refusal,
    done: &str,
) -> ApiResult<HttpResponse> {
    let id = path_id(raw_id, store::ENTITY)?;
    let detail = load_detail(viewer, state, id).await?;
    note_client_ref(req, &detail.request.client_ref);
    let now = state.clock.now_naive();
    let lang = viewer.lang;
    let history: Vec<HistoryLine> = detail
        .history
        .into_iter()
        .map(|h| HistoryLine {
            action: text_or(&format!("requests.action.{}", h.action), lang, &h.action),
            from_state: h.from_state,
            to_state: h.to_state,
            actor: text_or(
                &format!("requests.actor.{}", h.actor.actor_type),
                lang,
                &h.actor.actor_type,
            ),
            reason: h.reason,
            at: h.at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        })
        .collect();
    let request_state = detail.request.state;
    let (eligible, candidates) = match detail.candidates {
        Some((eligible, list)) => (eligible, Some(list)),
        None => (0, None),
    };
    let done = ["proposed", "excluded", "included"]
        .into_iter()
        .find(|k| *k == done);
    let excludable =
        crate::domain::request::ensure_takes_exclusions(request_state, "exclude").is_ok();
    let status = refusal.status.unwrap_or(StatusCode::OK);
    Ok(viewer.page_with(
        status,
        "request.html",
        context! {
            now => ts(now),
            request => Value::from_serialize(&detail.request),
            created_at => ts(detail.request.created_at.naive_utc()),
            closed_at => detail.request.closed_at.map(|t| ts(t.naive_utc())),
            buddy_name => detail.buddy_name,
            history => history,
            candidate_options => candidates
                .as_ref()
                .map(|list| list.iter().map(|c| (c.buddy_id.clone(), c.name.clone())).collect::<Vec<_>>())
                .unwrap_or_default(),
            candidates => candidates,
            eligible => eligible,
            exclusions => detail.exclusions,
            excludable => excludable,
            done => done,
            refusal => refusal.message,
            values => refusal.values.unwrap_or_else(|| context! {}),
            errors => refusal.errors.map(|e| e.to_value()).unwrap_or_else(|| context! {}),
        },
    ))
}

/// Shows the request's page again after a refused form: with the explanation of the refusal
/// (and, for field errors, what was entered and the errors at their fields).
async fn refused(
    req: &HttpRequest,
    viewer: &Viewer,
    state: &AppState,
    raw_id: &str,
    error: ApiError,
    form: &FormData,
    mut errors: FieldErrors,
) -> HttpResponse {
    let refusal = if errors.absorb(&error, &[]) || !errors.is_empty() {
        Refusal {
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            // The form says so above its fields (`m.form_errors`).
            message: None,
            values: Some(form.entered()),
            errors: Some(errors),
        }
    } else {
        let (status, message) = explain(&error, viewer.lang);
        if status == StatusCode::NOT_FOUND
            && matches!(&error, ApiError::NotFound { resource, .. } if *resource == store::ENTITY)
        {
            return viewer.error(&error);
        }
        Refusal {
            status: Some(status),
            message: Some(message),
            values: Some(form.entered()),
            errors: None,
        }
    };
    let page = detail_page(req, viewer, state, raw_id, refusal, "").await;
    viewer.respond(page)
}

/// The buddy a form names, or a field error.
fn buddy_field(form: &FormData, errors: &mut FieldErrors) -> Option<BuddyId> {
    let value = form.get("buddy_id");
    if value.is_empty() {
        errors.fail("buddy_id", "field.required");
        return None;
    }
    match Uuid::parse_str(value) {
        Ok(id) => Some(BuddyId::from(id)),
        Err(_) => {
            errors.fail("buddy_id", "field.choice");
            None
        }
    }
}

async fn propose(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let request_id = match path_id(&id, store::ENTITY) {
        Ok(id) => RequestId::from(id),
        Err(e) => return viewer.error(&e),
    };
    let mut errors = FieldErrors::new(viewer.lang);
    let Some(buddy_id) = buddy_field(&form, &mut errors) else {
        let e = ApiError::invalid("buddy_id", "is required");
        return refused(&req, &viewer, &state, &id, e, &form, errors).await;
    };
    let now = state.clock.now_naive();
    let result = state
        .change(viewer.ctx(now), move |tx| -> ApiResult<_> {
            Ok(ops::pairings::propose_by_caller(
                tx,
                &request_id,
                &buddy_id,
            )?)
        })
        .await;
    match result {
        Ok(_) => see_other(&format!("/console/requests/{}?done=proposed", id.as_str())),
        Err(e) => refused(&req, &viewer, &state, &id, e, &form, errors).await,
    }
}

async fn exclude(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let request_id = match path_id(&id, store::ENTITY) {
        Ok(id) => RequestId::from(id),
        Err(e) => return viewer.error(&e),
    };
    let mut errors = FieldErrors::new(viewer.lang);
    let buddy_id = buddy_field(&form, &mut errors);
    let reason = forms::required(&form, &mut errors, "reason", MAX_REASON);
    let mut check = Check::new();
    let reason = check.text("reason", &reason, MAX_REASON);
    let checked = check.finish().map_err(ApiError::from);
    let (Some(buddy_id), true, Ok(())) = (buddy_id, errors.is_empty(), &checked) else {
        let e = checked
            .err()
            .unwrap_or_else(|| ApiError::invalid("reason", "is required"));
        return refused(&req, &viewer, &state, &id, e, &form, errors).await;
    };
    let now = state.clock.now_naive();
    let result = state
        .change(viewer.ctx(now), move |tx| -> ApiResult<_> {
            Ok(crate::ops::records::exclude(
                tx,
                &request_id,
                &buddy_id,
                &reason,
            )?)
        })
        .await;
    match result {
        Ok(_) => see_other(&format!("/console/requests/{}?done=excluded", id.as_str())),
        Err(e) => refused(&req, &viewer, &state, &id, e, &form, errors).await,
    }
}

async fn include(
    req: HttpRequest,
    viewer: Viewer,
    state: Data<AppState>,
    id: Path<String>,
    form: FormData,
) -> HttpResponse {
    let request_id = match path_id(&id, store::ENTITY) {
        Ok(id) => RequestId::from(id),
        Err(e) => return viewer.error(&e),
    };
    let mut errors = FieldErrors::new(viewer.lang);
    let Some(buddy_id) = buddy_field(&form, &mut errors) else {
        let e = ApiError::invalid("buddy_id", "is required");
        return refused(&req, &viewer, &state, &id, e, &form, errors).await;
    };
    let now = state.clock.now_naive();
    let result = state
        .change(viewer.ctx(now), move |tx| -> ApiResult<_> {
            Ok(crate::ops::records::include(tx, &request_id, &buddy_id)?)
        })
        .await;
    match result {
        Ok(()) => see_other(&format!("/console/requests/{}?done=included", id.as_str())),
        Err(e) => {
            refused(
                &req,
                &viewer,
                &state,
                &id,
                e,
                &FormData::default(),
                FieldErrors::new(viewer.lang),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The reasons of the score, in the page's language, languages by name

fn names(codes: &str, lang: Lang) -> String {
    let names: Vec<String> = codes
        .split([',', ' '])
        .filter(|c| !c.is_empty() && *c != "and")
        .map(|c| language_name(c, lang))
        .collect();
    let and = match lang {
        Lang::Nl => " en ",
        Lang::En => " and ",
    };
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}{and}{last}", rest.join(", ")),
        _ => names.join(""),
    }
}

fn measure_name(words: &str, lang: Lang) -> String {
    let key = format!("requests.measure.{}", words.replace(' ', "_"));
    text_or(&key, lang, words)
}

/// The reason of a score component (the matching's plain English, see
/// `crate::matching::score`) in `lang`, with language names instead of codes; the English as
/// it is when its form is not known.
pub fn reason_text(name: ComponentName, reason: &str, lang: Lang) -> String {
    let nl = lang == Lang::Nl;
    let translated = match name {
        ComponentName::Language => {
            if let Some(codes) = reason
                .strip_prefix("speaks none of the client's languages (")
                .and_then(|r| r.strip_suffix(')'))
            {
                Some(if nl {
                    format!(
                        "spreekt geen van de talen van de cliënt ({})",
                        names(codes, lang)
                    )
                } else {
                    format!(
                        "speaks none of the client's languages ({})",
                        names(codes, lang)
                    )
                })
            } else if let Some(code) = reason
                .strip_prefix("speaks ")
                .and_then(|r| r.strip_suffix(", one of the client's languages"))
            {
                Some(if nl {
                    format!(
                        "spreekt {}, een van de talen van de cliënt",
                        names(code, lang)
                    )
                } else {
                    format!(
                        "speaks {}, one of the client's languages",
                        names(code, lang)
                    )
                })
            } else {
                reason
                    .strip_prefix("speaks ")
                    .and_then(|r| r.strip_suffix(", the client's languages"))
                    .map(|codes| {
                        if nl {
                            format!("spreekt {}, talen van de cliënt", names(codes, lang))
                        } else {
                            format!("speaks {}, the client's languages", names(codes, lang))
                        }
                    })
            }
        }
        ComponentName::Region if nl => {
            if let Some(region) = reason
                .strip_prefix("lives in the client's region (")
                .and_then(|r| r.strip_suffix(')'))
            {
                Some(format!("woont in de regio van de cliënt ({region})"))
            } else {
                reason
                    .strip_prefix("lives in ")
                    .and_then(|r| r.strip_suffix(')'))
                    .and_then(|r| r.split_once(", not in the client's region ("))
                    .map(|(theirs, client)| {
                        format!("woont in {theirs}, niet in de regio van de cliënt ({client})")
                    })
            }
        }
        ComponentName::Experience => {
            if reason == "the request names no measure: neutral" {
                Some(if nl {
                    "de aanvraag noemt geen maatregel: neutraal".to_owned()
                } else {
                    reason.to_owned()
                })
            } else if let Some(words) = reason
                .strip_prefix("went through a ")
                .and_then(|r| r.strip_suffix(" too"))
            {
                Some(if nl {
                    format!("maakte zelf ook een {} mee", measure_name(words, lang))
                } else {
                    format!("went through a {} too", measure_name(words, lang))
                })
            } else {
                reason.strip_prefix("has no experience of a ").map(|words| {
                    if nl {
                        format!("heeft geen ervaring met een {}", measure_name(words, lang))
                    } else {
                        format!("has no experience of a {}", measure_name(words, lang))
                    }
                })
            }
        }
        ComponentName::Load if nl => {
            let rest = reason.strip_prefix("no pairing yet: ");
            let counts = rest.unwrap_or(reason);
            counts
                .strip_suffix(" taken")
                .and_then(|c| c.split_once(" of "))
                .and_then(|(load, places)| {
                    let capacity = places.split(' ').next()?;
                    let unit = if capacity == "1" {
                        "plaats"
                    } else {
                        "plaatsen"
                    };
                    let prefix = if rest.is_some() {
                        "nog geen koppeling: "
                    } else {
                        ""
                    };
                    Some(format!("{prefix}{load} van {capacity} {unit} bezet"))
                })
        }
        ComponentName::Rotation if nl => {
            if reason == "never proposed before" {
                Some("nog nooit voorgesteld".to_owned())
            } else {
                reason
                    .strip_prefix("last proposal ")
                    .and_then(|r| r.strip_suffix(" days)"))
                    .and_then(|r| r.split_once(" (counts in full after "))
                    .map(|(when, full)| {
                        let when = match when {
                            "less than a day ago" => "minder dan een dag geleden".to_owned(),
                            "1 day ago" => "1 dag geleden".to_owned(),
                            other => other.replace(" days ago", " dagen geleden"),
                        };
                        format!("laatste voorstel {when} (telt volledig mee na {full} dagen)")
                    })
            }
        }
        _ => None,
    };
    translated.unwrap_or_else(|| reason.to_owned())
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("requests.title", "Aanvragen", "Requests"),
    ("requests.filters", "Filters", "Filters"),
    ("requests.state", "Status", "State"),
    ("requests.trigger", "Aanleiding", "Reason"),
    ("requests.overdue", "Te laat", "Overdue"),
    ("requests.on_time", "Op tijd", "On time"),
    ("requests.overdue_yes", "Alleen te late", "Overdue only"),
    ("requests.overdue_no", "Alleen op tijd", "On time only"),
    ("requests.order", "Volgorde", "Order"),
    ("requests.oldest", "Oudste eerst", "Oldest first"),
    ("requests.newest", "Nieuwste eerst", "Newest first"),
    ("requests.client_ref", "Cliëntverwijzing", "Client reference"),
    ("requests.region", "Regio", "Region"),
    ("requests.age", "Leeftijd", "Age"),
    ("requests.none", "Geen aanvragen gevonden met deze filters.", "No requests match these filters."),
    ("requests.overdue_help", "Een open aanvraag is te laat na {days} dagen.", "An open request is overdue after {days} days."),
    ("requests.list_label", "Gevonden aanvragen", "Requests found"),
    ("requests.request", "Aanvraag {ref}", "Request {ref}"),
    ("requests.back", "Terug naar de aanvragen", "Back to the requests"),
    ("requests.details", "Gegevens", "Details"),
    ("requests.trigger_note", "Toelichting", "Note"),
    ("requests.first_name", "Voornaam", "First name"),
    ("requests.languages", "Talen", "Languages"),
    ("requests.preferences", "Wensen", "Preferences"),
    ("requests.measure", "Maatregel", "Measure"),
    ("requests.no_measure", "Niet opgegeven", "Not given"),
    ("requests.created", "Aangemaakt", "Created"),
    ("requests.closed", "Afgesloten", "Closed"),
    ("requests.anonymised", "De contactgegevens van deze cliënt zijn geanonimiseerd.", "This client's contact details have been anonymised."),
    ("requests.measure.supervision_order", "ondertoezichtstelling", "supervision order"),
    ("requests.measure.out_of_home_placement", "uithuisplaatsing", "out-of-home placement"),
    ("requests.measure.guardianship", "voogdij", "guardianship"),
    ("requests.measure.youth_probation", "jeugdreclassering", "youth probation"),
    ("requests.pairing", "Laatste koppeling", "Latest pairing"),
    ("requests.no_pairing", "Er is nog niemand voorgesteld.", "Nobody has been proposed yet."),
    ("requests.open_pairing", "Koppeling openen", "Open the pairing"),
    ("requests.buddy", "Maatje", "Buddy"),
    ("requests.state_help.open", "Deze aanvraag wacht op een voorstel. Kies hieronder een kandidaat.", "This request awaits a proposal. Choose a candidate below."),
    ("requests.state_help.proposed", "Er is een maatje voorgesteld; de aanvraag wacht op het antwoord van het maatje. Er kan nu niemand anders worden voorgesteld.", "A buddy has been proposed; the request awaits the buddy's answer. Nobody else can be proposed now."),
    ("requests.state_help.matched", "Deze aanvraag is gekoppeld aan een maatje. Er kan niemand meer worden voorgesteld.", "This request is matched with a buddy. Nobody else can be proposed."),
    ("requests.state_help.closed", "Deze aanvraag is afgesloten. Er kan niets meer aan worden gewijzigd.", "This request is closed. Nothing can be changed any more."),
    ("requests.state_help.withdrawn", "Deze aanvraag is ingetrokken. Er kan niemand meer worden voorgesteld of uitgesloten.", "This request was withdrawn. Nobody can be proposed or excluded any more."),
    ("requests.candidates", "Kandidaten", "Candidates"),
    ("requests.candidates_help", "{eligible} maatjes komen in aanmerking; de beste staan bovenaan. Per onderdeel staat het gewicht, de waarde (0 tot 1) en waarom.", "{eligible} buddies are eligible; the best come first. Each component shows its weight, its value (0 to 1) and why."),
    ("requests.no_candidates", "Er is nu geen maatje dat in aanmerking komt (actief, met ruimte, niet eerder afgewezen of uitgesloten).", "No buddy is eligible now (active, with room, not declined before or excluded)."),
    ("requests.rank", "Plaats", "Rank"),
    ("requests.score", "Score", "Score"),
    ("requests.component", "Onderdeel", "Component"),
    ("requests.weight", "Gewicht", "Weight"),
    ("requests.value", "Waarde", "Value"),
    ("requests.why", "Waarom", "Why"),
    ("requests.component.language", "Taal", "Language"),
    ("requests.component.region", "Regio", "Region"),
    ("requests.component.experience", "Ervaring", "Experience"),
    ("requests.component.load", "Belasting", "Load"),
    ("requests.component.rotation", "Roulatie", "Rotation"),
    ("requests.candidate_heading", "{rank}. {name}", "{rank}. {name}"),
    ("requests.score_of", "Score {score}", "Score {score}"),
    ("requests.propose", "Voorstellen", "Propose"),
    ("requests.breakdown", "Opbouw van de score van {name}", "Score breakdown of {name}"),
    ("requests.exclude", "Maatje uitsluiten", "Exclude a buddy"),
    ("requests.exclude_help", "Een uitgesloten maatje wordt nooit voor deze aanvraag voorgesteld (bijvoorbeeld omdat het de familie kent).", "An excluded buddy is never proposed for this request (for instance because they know the family)."),
    ("requests.exclude_buddy", "Maatje", "Buddy"),
    ("requests.choose", "Kies een maatje", "Choose a buddy"),
    ("requests.exclude_reason", "Reden van uitsluiting", "Reason for the exclusion"),
    ("requests.exclude_submit", "Uitsluiten", "Exclude"),
    ("requests.exclusions", "Uitgesloten maatjes", "Excluded buddies"),
    ("requests.no_exclusions", "Er is niemand uitgesloten.", "Nobody is excluded."),
    ("requests.excluded_at", "Uitgesloten op", "Excluded"),
    ("requests.include", "Opheffen", "Lift"),
    ("requests.history", "Geschiedenis", "History"),
    ("requests.done.proposed", "Het maatje is voorgesteld; het krijgt een e-mail met het voorstel.", "The buddy has been proposed and gets an e-mail with the proposal."),
    ("requests.done.excluded", "Het maatje is uitgesloten voor deze aanvraag.", "The buddy is excluded from this request."),
    ("requests.done.included", "De uitsluiting is opgeheven.", "The exclusion has been lifted."),
    ("requests.action.create", "aangemaakt", "created"),
    ("requests.action.propose", "voorgesteld", "proposed"),
    ("requests.action.proposal-declined", "voorstel afgewezen", "proposal declined"),
    ("requests.action.proposal-expired", "voorstel verlopen", "proposal expired"),
    ("requests.action.proposal-cancelled", "voorstel geannuleerd", "proposal cancelled"),
    ("requests.action.match", "gekoppeld", "matched"),
    ("requests.action.close", "afgesloten", "closed"),
    ("requests.action.withdraw", "ingetrokken", "withdrawn"),
    ("requests.action.exclude-buddy", "maatje uitgesloten", "buddy excluded"),
    ("requests.action.include-buddy", "uitsluiting opgeheven", "exclusion lifted"),
    ("requests.actor.staff", "medewerker", "staff"),
    ("requests.actor.api_client", "casussysteem", "case system"),
    ("requests.actor.buddy", "maatje", "buddy"),
    ("requests.actor.system", "de dienst", "the service"),
    ("requests.export", "Exporteren als CSV", "Export as CSV"),
    ("requests.all_open", "Alle open aanvragen", "All open requests"),
    ("requests.all_overdue", "Alle te late aanvragen", "All overdue requests"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reasons_read_in_dutch_with_language_names() {
        let nl = |name, reason| reason_text(name, reason, Lang::Nl);
        assert_eq!(
            nl(
                ComponentName::Language,
                "speaks nl, one of the client's languages"
            ),
            "spreekt Nederlands, een van de talen van de cliënt"
        );
        assert_eq!(
            reason_text(
                ComponentName::Language,
                "speaks nl and en, the client's languages",
                Lang::En
            ),
            "speaks Dutch and English, the client's languages"
        );
        assert_eq!(
            nl(
                ComponentName::Language,
                "speaks none of the client's languages (ar, tr)"
            ),
            "spreekt geen van de talen van de cliënt (Arabisch en Turks)"
        );
        assert_eq!(
            nl(
                ComponentName::Region,
                "lives in Zeist, not in the client's region (Utrecht)"
            ),
            "woont in Zeist, niet in de regio van de cliënt (Utrecht)"
        );
        assert_eq!(
            nl(
                ComponentName::Experience,
                "went through a supervision order too"
            ),
            "maakte zelf ook een ondertoezichtstelling mee"
        );
        assert_eq!(
            nl(ComponentName::Load, "no pairing yet: 0 of 1 place taken"),
            "nog geen koppeling: 0 van 1 plaats bezet"
        );
        assert_eq!(
            nl(ComponentName::Load, "1 of 2 places taken"),
            "1 van 2 plaatsen bezet"
        );
        assert_eq!(
            nl(
                ComponentName::Rotation,
                "last proposal 12 days ago (counts in full after 30 days)"
            ),
            "laatste voorstel 12 dagen geleden (telt volledig mee na 30 dagen)"
        );
        assert_eq!(
            nl(ComponentName::Rotation, "something new"),
            "something new"
        );
    }
}
