//! `/v1/reports/summary`: the HTTP side of the programme summary (the query, content
//! negotiation, the answer); the summary itself is computed in `crate::reports`.

use crate::api::routes::Routes;
use crate::auth::policy::STAFF_ONLY;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{get, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::AppState;
use crate::domain::report::Window;
use crate::domain::values::Check;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::accept::negotiate;
use crate::http::extract::Query;
use crate::reports::SummaryReport;
use crate::store::organisations::ENTITY as ORGANISATION;
use crate::store::reports::{self as store, Scope};

pub fn configure(routes: &mut Routes<'_, '_>) {
    routes.add(summary_report, STAFF_ONLY);
}

const JSON: &str = "application/json";
const CSV: &str = "text/csv";
/// What the summary can be had in, the default first.
const OFFERED: &[&str] = &[JSON, CSV];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day of the window (UTC, `YYYY-MM-DD`), included. Default: 30 days before `to`.
    #[param(value_type = Option<NaiveDate>)]
    pub from: Option<String>,
    /// Day after the window (UTC, `YYYY-MM-DD`), excluded: the window is `[from, to)`, at most
    /// five years long. Default: tomorrow, so the window ends with today.
    #[param(value_type = Option<NaiveDate>)]
    pub to: Option<String>,
    /// Only this organisation: its requests and their pairings, its buddies and its exit
    /// interviews. An unknown organisation answers 404.
    #[param(value_type = Option<Uuid>)]
    pub organisation: Option<String>,
}

/// The validated query: the window and the organisation, every invalid parameter listed (the
/// console's report form is read by it too).
pub(crate) fn parse_query(
    query: ReportQuery,
    today: NaiveDate,
) -> ApiResult<(Window, Option<Uuid>)> {
    let mut check = Check::new();
    let mut date = |field: &str, value: Option<String>| {
        value.and_then(|v| match v.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                check.fail(field, "must be a date, YYYY-MM-DD");
                None
            }
        })
    };
    let (from_given, to_given) = (query.from.is_some(), query.to.is_some());
    let from = date("from", query.from);
    let to = date("to", query.to);
    let organisation = query.organisation.and_then(|v| match Uuid::parse_str(&v) {
        Ok(id) => Some(id),
        Err(_) => {
            check.fail("organisation", "must be an organisation id (a UUID)");
            None
        }
    });
    let dates_valid = from.is_some() == from_given && to.is_some() == to_given;
    let window = match Window::new(from, to, today) {
        Ok(window) => Some(window),
        Err(e) => {
            if dates_valid {
                check.fail(e.field, e.message);
            }
            None
        }
    };
    check.finish()?;
    let window = window.ok_or_else(|| ApiError::internal("a report window was not checked"))?;
    Ok((window, organisation))
}

/// The programme summary, as JSON (default) or CSV.
///
/// The window `[from, to)` is whole UTC days. Counted in it: requests by their creation (by
/// trigger and by organisation); proposals by when they were made, with their outcome now and
/// the rates over the decided ones (`accepted + declined + expired`; null when none); pairings
/// by when they ended (by end reason, with mean evaluation scores); exit interviews by the day
/// they were held, with how many of the buddies from their `yes` answers ever entered
/// `screening` and `active`. Time to first proposal and time to match concern the requests
/// created in the window, in hours, median and 90th percentile by nearest rank. Active pairings,
/// each active buddy's load and the overdue count describe the moment of the report.
///
/// Counts and durations only: buddies appear by id, organisations by id and name, and nothing
/// about clients.
///
/// With `Accept: text/csv` the same report comes as CSV: a `section,key,value` header line,
/// then one row per figure in the order of the JSON form; per-organisation and per-buddy rows
/// carry the id as key; an absent figure (null) is an empty value. A field holding `,`, `;`,
/// tab, a quote or a line break is quoted, and wherever a spreadsheet could start a cell in a
/// field (its start, or after one of those separators) a formula character (`=`, `+`, `-`, `@`)
/// gets a leading `'`.
#[utoipa::path(
    tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "The summary", content(
            (SummaryReport = "application/json"),
            (String = "text/csv", example = "section,key,value\r\nwindow,from,2026-10-24\r\nwindow,to,2026-11-23\r\n…\r\noverdue,now,2\r\n"),
        ), headers(("Vary" = String, description = "`Accept`: the representation depends on it"))),
        (status = 400, description = "`from` or `to` not a date, `organisation` not a UUID, `from` not before `to`, a window longer than five years, an unknown parameter, or an invalid `X-On-Behalf-Of` header; `errors` lists every invalid parameter",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The `Accept` header allows neither `application/json` nor `text/csv`",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/summary")]
async fn summary_report(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    let media = negotiate(&req, OFFERED).ok_or(ApiError::NotAcceptable {
        offered: "application/json, text/csv",
    })?;
    let now = state.clock.now();
    let (window, organisation) = parse_query(query.0, now.date_naive())?;
    let facts = gather(&state, window, organisation, now).await?;
    let report = SummaryReport::compute(facts, window, organisation, now)?;
    let mut response = HttpResponse::Ok();
    response.insert_header((header::VARY, "Accept"));
    Ok(if media == CSV {
        response
            .content_type("text/csv; charset=utf-8")
            .body(report.to_csv())
    } else {
        response.json(report)
    })
}

/// The facts of the summary of `window` and `organisation` at `now` (an unknown organisation
/// is a 404), read in one trip to the database; the console's report reads them here too.
pub(crate) async fn gather(
    state: &AppState,
    window: Window,
    organisation: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<store::Facts> {
    let scope = Scope {
        window,
        organisation_id: organisation.map(crate::domain::ids::OrganisationId::from),
        overdue_cutoff: state.service_level.cutoff(now.naive_utc()),
    };
    state
        .db
        .run(move |conn| -> ApiResult<_> {
            if let Some(id) = &scope.organisation_id {
                if !store::organisation_exists(conn, id)? {
                    return Err(ApiError::not_found(ORGANISATION, id));
                }
            }
            Ok(store::facts(conn, &scope)?)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(from: Option<&str>, to: Option<&str>, organisation: Option<&str>) -> ReportQuery {
        ReportQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            organisation: organisation.map(str::to_owned),
        }
    }

    fn invalid_fields(result: ApiResult<(Window, Option<Uuid>)>) -> Vec<String> {
        match result {
            Err(ApiError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_parameter_is_listed() {
        let today: NaiveDate = "2026-11-22".parse().unwrap();
        assert_eq!(
            invalid_fields(parse_query(
                query(Some("yesterday"), Some("2026-13-01"), Some("nope")),
                today
            )),
            ["from", "to", "organisation"]
        );
        // A bad date is not also blamed for the order of the window.
        assert_eq!(
            invalid_fields(parse_query(
                query(Some("x"), Some("2020-01-01"), None),
                today
            )),
            ["from"]
        );
        assert_eq!(
            invalid_fields(parse_query(
                query(Some("2026-11-02"), Some("2026-11-01"), None),
                today
            )),
            ["to"]
        );
        let (window, organisation) = parse_query(query(None, None, None), today).unwrap();
        assert_eq!(window.to, "2026-11-23".parse::<NaiveDate>().unwrap());
        assert_eq!(organisation, None);
    }
}
