//! The audit trail for administrators: the records with filters (time, who, what, outcome),
//! oldest first as in the chain, and a check of the whole hash chain (the same check as
//! `maatje audit verify`). Reading the trail is not itself recorded, as in the API.

use actix_web::web::{Data, Query};
use actix_web::HttpResponse;
use chrono::TimeZone;
use minijinja::context;
use serde::Deserialize;

use super::page::Viewer;
use super::router::Router;
use crate::api::audit::AuditRecord;
use crate::auth::policy::{ADMINS, OBJECT_TYPES};
use crate::error::{ApiError, ApiResult};
use crate::ops::AppState;
use crate::store::audit as store;
use crate::store::page::PageRequest;

/// Records per page.
const PAGE: u32 = 50;

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/admin/audit", |p| p.get(ADMINS, records))
        .path("/console/admin/audit/verify", |p| p.get(ADMINS, verify))
        .path("/console/admin/audit.csv", |p| p.get(ADMINS, export));
}

/// The filters, as the form sends them (empty fields are no filter).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
struct AuditFilter {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    actor_type: String,
    #[serde(default)]
    object_type: String,
    #[serde(default)]
    object_id: String,
    #[serde(default)]
    outcome: String,
    #[serde(default, skip_serializing)]
    cursor: Option<String>,
}

/// The start of the local day `day`, in UTC.
fn day_start(day: chrono::NaiveDate) -> chrono::NaiveDateTime {
    let start = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    chrono_tz::Europe::Amsterdam
        .from_local_datetime(&start)
        .earliest()
        .map_or(start, |t| t.naive_utc())
}

async fn records(viewer: Viewer, state: Data<AppState>, query: Query<AuditFilter>) -> HttpResponse {
    let filter = query.into_inner();
    let result = async {
        let (query, errors) = parse(&filter, viewer.lang);
        let mut paging = Vec::new();
        let page = PageRequest::parse_keyed(
            "audit",
            Some(PAGE),
            filter.cursor.as_deref(),
            &mut paging,
            |key| key.parse::<i64>().is_ok_and(|seq| seq >= 0),
        );
        if !paging.is_empty() {
            return Err(ApiError::Invalid(paging));
        }
        let (items, next_cursor) = if errors.is_empty() {
            let request = page.clone();
            let rows = state
                .db
                .run(move |conn| -> ApiResult<_> { Ok(store::list(conn, &query, &request)?) })
                .await?;
            let (rows, next) = page.finish_keyed(rows, |r| r.seq.to_string());
            let items = rows
                .into_iter()
                .map(AuditRecord::try_from)
                .collect::<ApiResult<Vec<_>>>()?;
            (items, next)
        } else {
            (Vec::new(), None)
        };
        let next = next_cursor.map(|cursor| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (key, value) in [
                ("from", &filter.from),
                ("to", &filter.to),
                ("actor_type", &filter.actor_type),
                ("object_type", &filter.object_type),
                ("object_id", &filter.object_id),
                ("outcome", &filter.outcome),
            ] {
                if !value.is_empty() {
                    query.append_pair(key, value);
                }
            }
            query.append_pair("cursor", &cursor);
            format!("/console/admin/audit?{}", query.finish())
        });
        let status = if errors.is_empty() {
            actix_web::http::StatusCode::OK
        } else {
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
        };
        Ok(viewer.page_with(
            status,
            "admin_audit.html",
            context! {
                records => items,
                values => &filter,
                errors => errors.to_value(),
                next => next,
                csv_href => format!(
                    "/console/admin/audit.csv?{}",
                    serde_urlencoded::to_string(&filter).unwrap_or_default()
                ),
                actor_types => ACTOR_TYPES,
                object_types => OBJECT_TYPES,
                outcomes => OUTCOMES,
            },
        ))
    }
    .await;
    viewer.respond(result)
}

/// Who may appear in the trail, and how a request ended: the filters' choices.
const ACTOR_TYPES: &[&str] = &["staff", "api_client", "buddy", "system", "unauthenticated"];
const OUTCOMES: &[&str] = &["allowed", "denied", "failed"];

/// The store's filter of the form's fields, and the errors of those that are not valid (their
/// filter is left out).
fn parse(
    filter: &AuditFilter,
    lang: crate::i18n::Lang,
) -> (store::Filter, super::forms::FieldErrors) {
    let mut errors = super::forms::FieldErrors::new(lang);
    let day = |field: &str, text: &str, errors: &mut super::forms::FieldErrors| {
        if text.is_empty() {
            return None;
        }
        text.parse::<chrono::NaiveDate>()
            .map_err(|_| errors.fail(field, "field.date"))
            .ok()
    };
    let from = day("from", &filter.from, &mut errors).map(day_start);
    // Through the whole `to` day.
    let to = day("to", &filter.to, &mut errors).map(|d| day_start(d + chrono::Days::new(1)));
    let pick =
        |field: &str, value: &str, known: &[&str], errors: &mut super::forms::FieldErrors| {
            if value.is_empty() {
                None
            } else if known.contains(&value) {
                Some(value.to_owned())
            } else {
                errors.fail(field, "field.choice");
                None
            }
        };
    let actor_type = pick("actor_type", &filter.actor_type, ACTOR_TYPES, &mut errors);
    let object_type = pick(
        "object_type",
        &filter.object_type,
        OBJECT_TYPES,
        &mut errors,
    );
    let outcome = pick("outcome", &filter.outcome, OUTCOMES, &mut errors);
    let object_id = if filter.object_id.is_empty() {
        None
    } else {
        match uuid::Uuid::try_parse(&filter.object_id) {
            Ok(id) => Some(id.to_string()),
            Err(_) => {
                errors.fail("object_id", "audit.bad_id");
                None
            }
        }
    };
    (
        store::Filter {
            from,
            to,
            actor_id: None,
            actor_type,
            client_ref: None,
            object_type,
            object_id,
            outcome,
        },
        errors,
    )
}

/// The records of the filters as CSV, oldest first, at most [`EXPORT_LIMIT`]; filters with
/// errors lead back to the page, which shows them.
async fn export(viewer: Viewer, state: Data<AppState>, query: Query<AuditFilter>) -> HttpResponse {
    let filter = query.into_inner();
    let result = async {
        let (query, errors) = parse(&filter, viewer.lang);
        if !errors.is_empty() {
            let again = serde_urlencoded::to_string(&filter).unwrap_or_default();
            return Ok(super::page::see_other(&format!(
                "/console/admin/audit?{again}"
            )));
        }
        let rows = state
            .db
            .run(move |conn| -> ApiResult<_> {
                let mut rows = Vec::new();
                let mut after: Option<String> = None;
                loop {
                    let mut paging = Vec::new();
                    let mut page =
                        PageRequest::parse_keyed("audit", Some(200), None, &mut paging, |_| true);
                    page.after = after.take();
                    let batch = store::list(conn, &query, &page)?;
                    let more = batch.len() > 200;
                    let batch: Vec<_> = batch.into_iter().take(200).collect();
                    after = batch.last().map(|r| r.seq.to_string());
                    rows.extend(batch);
                    if !more || rows.len() >= EXPORT_LIMIT {
                        break;
                    }
                }
                rows.truncate(EXPORT_LIMIT);
                Ok(rows)
            })
            .await?;
        let records = rows
            .into_iter()
            .map(AuditRecord::try_from)
            .collect::<ApiResult<Vec<_>>>()?;
        let header = [
            "seq",
            "id",
            "at",
            "actor_type",
            "actor_id",
            "on_behalf_of",
            "action",
            "object_type",
            "object_id",
            "client_ref",
            "outcome",
            "status",
            "source_address",
            "request_id",
            "route",
            "prev_hash",
            "hash",
        ];
        let text = super::export::csv_text(
            &header,
            records.into_iter().map(|r| {
                vec![
                    r.seq.to_string(),
                    r.id.to_string(),
                    crate::i18n::utc_text(r.at.naive_utc()),
                    r.actor.actor_type,
                    r.actor.id.unwrap_or_default(),
                    r.on_behalf_of.unwrap_or_default(),
                    r.action,
                    r.object_type,
                    r.object_id.map(|id| id.to_string()).unwrap_or_default(),
                    r.client_ref.unwrap_or_default(),
                    r.outcome.as_str().to_owned(),
                    r.status.to_string(),
                    r.source_address.unwrap_or_default(),
                    r.request_id.unwrap_or_default(),
                    r.route,
                    r.prev_hash,
                    r.hash,
                ]
            }),
        )?;
        Ok(super::export::csv_response("audit.csv", text))
    }
    .await;
    viewer.respond(result)
}

/// The most records one CSV export holds; narrow the filters for more.
const EXPORT_LIMIT: usize = 50_000;

async fn verify(viewer: Viewer, state: Data<AppState>) -> HttpResponse {
    let result = async {
        let verdict = state
            .db
            .run(|conn| -> ApiResult<_> { Ok(crate::audit::chain::verify(conn, None)?) })
            .await?;
        let (intact, records, head, broken) = match verdict {
            Ok(intact) => (true, intact.records, intact.head().to_string(), None),
            Err(broken) => {
                tracing::error!(seq = broken.seq, "the audit chain is broken");
                (false, 0, String::new(), Some(broken.to_string()))
            }
        };
        Ok(viewer.page(
            "admin_audit_verify.html",
            context! { intact => intact, records => records, head => head, broken => broken },
        ))
    }
    .await;
    viewer.respond(result)
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("audit.title", "Audittrail", "Audit trail"),
    ("audit.help", "Elk verzoek dat persoonsgegevens raakt, toegestaan of geweigerd, in de volgorde van de hashketen (NEN 7513).", "Every request that touches personal data, allowed or refused, in the order of the hash chain (NEN 7513)."),
    ("audit.from", "Vanaf datum", "From date"),
    ("audit.to", "Tot en met datum", "Through date"),
    ("audit.actor_type", "Wie", "Who"),
    ("audit.object_type", "Soort gegeven", "Kind of record"),
    ("audit.object_id", "Id van het gegeven", "Record id"),
    ("audit.outcome", "Uitkomst", "Outcome"),
    ("audit.bad_id", "Vul een id in (zoals 0193a5c4-7d10-7000-8000-00000000a001).", "Enter an id (like 0193a5c4-7d10-7000-8000-00000000a001)."),
    ("audit.at", "Tijd", "Time"),
    ("audit.action", "Handeling", "Action"),
    ("audit.route", "Route", "Route"),
    ("audit.status", "HTTP-status", "HTTP status"),
    ("audit.none", "Geen records met deze filters.", "No records with these filters."),
    ("audit.verify", "Keten controleren", "Verify the chain"),
    ("audit.verify_title", "Controle van de audittrail", "Audit trail check"),
    ("audit.intact", "De keten is intact: {n} records, elk met de hash van zijn voorganger.", "The chain is intact: {n} records, each with its predecessor's hash."),
    ("audit.head", "Kop van de keten (bewaar deze buiten de database om later te vergelijken)", "Head of the chain (keep it outside the database to compare later)"),
    ("audit.broken", "De keten is VERBROKEN. Meld dit direct aan de functionaris gegevensbescherming.", "The chain is BROKEN. Report this to the data protection officer at once."),
    ("audit.actor.staff", "medewerker", "staff"),
    ("audit.actor.api_client", "casussysteem", "case system"),
    ("audit.actor.buddy", "maatje", "buddy"),
    ("audit.actor.system", "de dienst zelf", "the service"),
    ("audit.actor.unauthenticated", "niet ingelogd", "not signed in"),
    ("audit.object.buddy", "maatje", "buddy"),
    ("audit.object.buddy_request", "aanvraag", "request"),
    ("audit.object.exit_interview", "exitgesprek", "exit interview"),
    ("audit.object.pairing", "koppeling", "pairing"),
    ("audit.object.client_feedback", "cliëntfeedback", "client feedback"),
    ("audit.outcome.allowed", "toegestaan", "allowed"),
    ("audit.outcome.denied", "geweigerd", "denied"),
    ("audit.outcome.failed", "mislukt", "failed"),
    ("audit.action.create", "aanmaken", "create"),
    ("audit.action.read", "inzien", "read"),
    ("audit.action.update", "wijzigen", "update"),
    ("audit.action.delete", "verwijderen", "delete"),
    ("audit.action.search", "zoeken", "search"),
    ("audit.action.export", "exporteren", "export"),
];
