//! Reports (rapportages): the programme summary of `GET /v1/reports/summary` (the same query
//! rules, the same facts, the same computation), as tables with charts drawn on the server
//! ([`super::charts`]), and as CSV (`GET /console/reports.csv`: the API's CSV form followed by
//! the figures per month).
//!
//! The charts: requests by trigger per month, the median time to match per month, proposal
//! outcomes, and the recruitment funnel. The figures per month come from
//! [`crate::reports::monthly`], computed from the same facts as the summary. Like the API's
//! summary, the report holds counts and durations only, and is not audited.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDate;
use minijinja::context;
use serde::Serialize;

use super::charts::{self, Bar, Group};
use super::export::csv_response;
use super::forms::FieldErrors;
use super::i18n::Texts;
use super::page::Viewer;
use super::router::Router;
use crate::api::reports::{gather, parse_query, ReportQuery};
use crate::auth::policy::STAFF_ONLY;
use crate::domain::report::Window;
use crate::domain::request::Trigger;
use crate::error::ApiResult;
use crate::i18n::{self, Lang};
use crate::ops::AppState;
use crate::reports::monthly::Monthly;
use crate::reports::SummaryReport;
use crate::store::page::PageRequest;

pub fn routes(router: &mut Router<'_>) {
    router
        .path("/console/reports", |p| p.get(STAFF_ONLY, show))
        .path("/console/reports.csv", |p| p.get(STAFF_ONLY, export));
}

fn text(key: &str, lang: Lang) -> String {
    Texts::all().get(key, lang).to_owned()
}

/// The report form's values (`from`, `to`, `organisation`), as entered.
fn entered(req: &HttpRequest) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let mut values = BTreeMap::new();
    for (key, value) in pairs {
        let value = value.trim().to_owned();
        if ["from", "to", "organisation"].contains(&key.as_str()) && !value.is_empty() {
            values.entry(key).or_insert(value);
        }
    }
    values
}

/// The window and organisation of the form, by the API's rules; the field errors otherwise.
fn window_of(
    values: &BTreeMap<String, String>,
    today: NaiveDate,
    lang: Lang,
) -> Result<(Window, Option<uuid::Uuid>), FieldErrors> {
    let query = ReportQuery {
        from: values.get("from").cloned(),
        to: values.get("to").cloned(),
        organisation: values.get("organisation").cloned(),
    };
    parse_query(query, today).map_err(|e| {
        let mut errors = FieldErrors::new(lang);
        if !errors.absorb(&e, &[]) {
            errors.fail("from", "field.date");
        }
        errors
    })
}

/// The report and its figures per month.
async fn compute(
    state: &AppState,
    window: Window,
    organisation: Option<uuid::Uuid>,
) -> ApiResult<(SummaryReport, Monthly)> {
    let now = state.clock.now();
    let facts = gather(state, window, organisation, now).await?;
    let monthly = Monthly::compute(&facts, window);
    let report = SummaryReport::compute(facts, window, organisation, now)?;
    Ok((report, monthly))
}

/// `2026-11` as `nov 2026`.
fn month_name(month: &str, lang: Lang) -> String {
    match format!("{month}-01").parse::<NaiveDate>() {
        Ok(day) => {
            let text = i18n::date(day, lang);
            text.split_once(' ')
                .map_or(text.clone(), |(_, rest)| rest.to_owned())
        }
        Err(_) => month.to_owned(),
    }
}

/// A number with one decimal at most, as people read it: `12,5` / `12.5`.
fn number(value: f64, lang: Lang) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    let text = if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    };
    match lang {
        Lang::Nl => text.replace('.', ","),
        Lang::En => text,
    }
}

/// Hours as people read them: `12,5 u` / `12.5 h`, `–` for none.
fn hours(value: Option<f64>, lang: Lang) -> String {
    match value {
        None => "–".to_owned(),
        Some(h) => match lang {
            Lang::Nl => format!("{} u", number(h, lang)),
            Lang::En => format!("{} h", number(h, lang)),
        },
    }
}

/// A rate as a percentage, `–` for none.
fn percent(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |r| {
        format!("{}%", (r * 100.0).round() as i64)
    })
}

#[derive(Serialize)]
struct MonthLine {
    month: String,
    counts: Vec<u64>,
    total: u64,
    matched: u64,
    median: String,
    p90: String,
}

#[derive(Serialize)]
struct Row {
    label: String,
    value: String,
}

/// One organisation's quarter of client feedback, as the page shows it.
#[derive(Serialize)]
struct FeedbackLine {
    organisation_id: String,
    organisation: String,
    quarter: String,
    suppressed: bool,
    answers: u64,
    mean: String,
    distribution: Vec<u64>,
}

fn feedback_lines(report: &SummaryReport, lang: Lang) -> Vec<FeedbackLine> {
    report
        .client_feedback
        .groups
        .iter()
        .map(|g| FeedbackLine {
            organisation_id: g.organisation_id.to_string(),
            organisation: g.organisation_name.clone(),
            quarter: g.quarter.clone(),
            suppressed: g.suppressed,
            answers: g.figures.as_ref().map_or(0, |f| f.answers),
            mean: g.figures.as_ref().map_or_else(String::new, |f| {
                let text = format!("{:.2}", f.mean_score);
                match lang {
                    Lang::Nl => text.replace('.', ","),
                    Lang::En => text,
                }
            }),
            distribution: g
                .figures
                .as_ref()
                .map_or_else(Vec::new, |f| f.distribution.clone()),
        })
        .collect()
}

/// The charts and tables of a report, in `lang`.
fn figures(report: &SummaryReport, monthly: &Monthly, lang: Lang) -> minijinja::Value {
    let trigger_names: Vec<String> = Trigger::ALL
        .iter()
        .map(|t| text(&format!("trigger.{}", t.as_str()), lang))
        .collect();
    let months: Vec<MonthLine> = monthly
        .months
        .iter()
        .map(|m| MonthLine {
            month: month_name(&m.month, lang),
            counts: m.requests_by_trigger.iter().map(|(_, n)| *n).collect(),
            total: m.requests(),
            matched: m.time_to_match.count,
            median: hours(m.time_to_match.median_hours, lang),
            p90: hours(m.time_to_match.p90_hours, lang),
        })
        .collect();

    // Requests by trigger per month.
    let groups: Vec<Group> = months
        .iter()
        .map(|m| Group {
            label: m.month.clone(),
            values: m.counts.iter().map(|n| Some(*n as f64)).collect(),
            texts: m.counts.iter().map(u64::to_string).collect(),
        })
        .collect();
    let desc = months
        .iter()
        .map(|m| {
            let counts: Vec<String> = trigger_names
                .iter()
                .zip(&m.counts)
                .map(|(name, n)| format!("{name} {n}"))
                .collect();
            format!("{}: {}", m.month, counts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let triggers_chart = charts::columns(
        "chart-triggers",
        &text("reports.triggers", lang),
        &desc,
        &trigger_names,
        &groups,
    );

    // Median time to match per month.
    let groups: Vec<Group> = monthly
        .months
        .iter()
        .zip(&months)
        .map(|(m, line)| Group {
            label: line.month.clone(),
            values: vec![m.time_to_match.median_hours],
            texts: vec![line.median.clone()],
        })
        .collect();
    let desc = months
        .iter()
        .map(|m| {
            text("reports.match_desc", lang)
                .replace("{month}", &m.month)
                .replace("{median}", &m.median)
                .replace("{n}", &m.matched.to_string())
        })
        .collect::<Vec<_>>()
        .join("; ");
    let match_chart = charts::columns(
        "chart-match",
        &text("reports.time_to_match", lang),
        &desc,
        &[text("reports.median", lang)],
        &groups,
    );

    // Proposal outcomes.
    let p = &report.proposals;
    let outcomes: Vec<(String, u64, Option<f64>)> = vec![
        (
            text("reports.accepted", lang),
            p.accepted,
            p.acceptance_rate,
        ),
        (text("reports.declined", lang), p.declined, p.decline_rate),
        (text("reports.expired", lang), p.expired, p.expiry_rate),
    ];
    let bars: Vec<Bar> = outcomes
        .iter()
        .map(|(label, n, rate)| Bar {
            label: label.clone(),
            value: Some(*n as f64),
            text: format!("{n} ({})", percent(*rate)),
        })
        .collect();
    let desc = bars
        .iter()
        .map(|b| format!("{} {}", b.label, b.text))
        .collect::<Vec<_>>()
        .join(", ");
    let outcomes_chart = charts::bars(
        "chart-outcomes",
        &text("reports.outcomes", lang),
        &desc,
        &bars,
    );
    let outcome_rows = vec![
        Row {
            label: text("reports.proposed", lang),
            value: p.proposed.to_string(),
        },
        Row {
            label: text("reports.accepted", lang),
            value: format!("{} ({})", p.accepted, percent(p.acceptance_rate)),
        },
        Row {
            label: text("reports.declined", lang),
            value: format!("{} ({})", p.declined, percent(p.decline_rate)),
        },
        Row {
            label: text("reports.expired", lang),
            value: format!("{} ({})", p.expired, percent(p.expiry_rate)),
        },
        Row {
            label: text("reports.pending", lang),
            value: p.pending.to_string(),
        },
        Row {
            label: text("reports.cancelled", lang),
            value: p.cancelled.to_string(),
        },
    ];

    // The recruitment funnel.
    let r = &report.recruitment;
    let funnel: Vec<(String, u64)> = vec![
        (text("reports.asked", lang), r.asked),
        (text("reports.said_yes", lang), r.yes),
        (text("reports.reached_screening", lang), r.reached_screening),
        (text("reports.reached_active", lang), r.reached_active),
    ];
    let bars: Vec<Bar> = funnel
        .iter()
        .map(|(label, n)| Bar {
            label: label.clone(),
            value: Some(*n as f64),
            text: n.to_string(),
        })
        .collect();
    let desc = bars
        .iter()
        .map(|b| format!("{} {}", b.label, b.text))
        .collect::<Vec<_>>()
        .join(", ");
    let funnel_chart = charts::bars("chart-funnel", &text("reports.funnel", lang), &desc, &bars);
    let mut funnel_rows: Vec<Row> = funnel
        .into_iter()
        .map(|(label, n)| Row {
            label,
            value: n.to_string(),
        })
        .collect();
    funnel_rows.insert(
        2,
        Row {
            label: text("reports.said_no", lang),
            value: r.no.to_string(),
        },
    );
    funnel_rows.insert(
        3,
        Row {
            label: text("reports.said_later", lang),
            value: r.later.to_string(),
        },
    );

    let overall = vec![
        Row {
            label: text("reports.requests_total", lang),
            value: report.requests.total.to_string(),
        },
        Row {
            label: text("reports.first_proposal_median", lang),
            value: hours(report.time_to_first_proposal.median_hours, lang),
        },
        Row {
            label: text("reports.match_median", lang),
            value: hours(report.time_to_match.median_hours, lang),
        },
        Row {
            label: text("reports.match_p90", lang),
            value: hours(report.time_to_match.p90_hours, lang),
        },
        Row {
            label: text("reports.active_pairings", lang),
            value: report.pairings.active.to_string(),
        },
        Row {
            label: text("reports.ended", lang),
            value: report.outcomes.ended.to_string(),
        },
        Row {
            label: text("reports.overdue", lang),
            value: report.overdue.to_string(),
        },
        Row {
            label: text("reports.contacts_recorded", lang),
            value: report.contacts.recorded.to_string(),
        },
        Row {
            label: text("reports.contacts_per_pairing", lang),
            value: report
                .contacts
                .average_per_pairing
                .map(|v| number(v, lang))
                .unwrap_or_else(|| "–".into()),
        },
        Row {
            label: text("reports.contact_overdue", lang),
            value: report.contacts.without_recent_contact.to_string(),
        },
    ];
    context! {
        trigger_names => trigger_names,
        months => months,
        triggers_chart => triggers_chart,
        match_chart => match_chart,
        outcomes_chart => outcomes_chart,
        outcome_rows => outcome_rows,
        funnel_chart => funnel_chart,
        funnel_rows => funnel_rows,
        overall => overall,
        organisations_counted => report.requests.by_organisation.iter().map(|o| (o.name.clone(), o.requests)).collect::<Vec<_>>(),
        feedback => feedback_lines(report, lang),
    }
}

/// Every organisation, by name, for the filter.
async fn organisations(state: &AppState) -> ApiResult<Vec<(String, String)>> {
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
                &crate::store::organisations::Filter { state: None },
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

async fn show(viewer: Viewer, state: Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = render(&viewer, &state, &req).await;
    viewer.respond(result)
}

async fn render(viewer: &Viewer, state: &AppState, req: &HttpRequest) -> ApiResult<HttpResponse> {
    let lang = viewer.lang;
    let values = entered(req);
    let organisations = organisations(state).await?;
    let today = state.clock.now().date_naive();
    let (status, errors, report) = match window_of(&values, today, lang) {
        Ok((window, organisation)) => {
            let (report, monthly) = compute(state, window, organisation).await?;
            let period = context! {
                from => window.from.to_string(),
                last => window.to.pred_opt().unwrap_or(window.to).to_string(),
            };
            let csv = {
                let mut out = form_urlencoded::Serializer::new(String::new());
                out.append_pair("from", &window.from.to_string());
                out.append_pair("to", &window.to.to_string());
                if let Some(id) = organisation {
                    out.append_pair("organisation", &id.to_string());
                }
                format!("/console/reports.csv?{}", out.finish())
            };
            let organisation_name = organisation.and_then(|id| {
                organisations
                    .iter()
                    .find(|(o, _)| *o == id.to_string())
                    .map(|(_, name)| name.clone())
            });
            (
                StatusCode::OK,
                FieldErrors::new(lang),
                Some(context! {
                    period => period,
                    csv_href => csv,
                    organisation_name => organisation_name,
                    generated_at => super::dashboard::ts(report.generated_at.naive_utc()),
                    ..figures(&report, &monthly, lang)
                }),
            )
        }
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
    };
    Ok(viewer.page_with(
        status,
        "reports.html",
        context! {
            values => values,
            errors => errors.to_value(),
            organisations => organisations,
            report => report,
        },
    ))
}

async fn export(viewer: Viewer, state: Data<AppState>, req: HttpRequest) -> HttpResponse {
    let values = entered(&req);
    let today = state.clock.now().date_naive();
    let result = match window_of(&values, today, viewer.lang) {
        Ok((window, organisation)) => {
            compute(&state, window, organisation)
                .await
                .map(|(report, monthly)| {
                    let filename = format!("rapportage-{}-{}.csv", window.from, window.to);
                    csv_response(
                        &filename,
                        format!("{}{}", report.to_csv(), monthly.to_csv_lines()),
                    )
                })
        }
        // The report's page says what is wrong with the filters, at their fields.
        Err(_) => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (key, value) in &values {
                query.append_pair(key, value);
            }
            Ok(super::page::see_other(&format!(
                "/console/reports?{}",
                query.finish()
            )))
        }
    };
    viewer.respond(result)
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("reports.title", "Rapportages", "Reports"),
    ("reports.intro", "Aantallen en doorlooptijden van het programma; geen persoonsgegevens. Dezelfde cijfers als GET /v1/reports/summary.", "Counts and durations of the programme; no personal data. The same figures as GET /v1/reports/summary."),
    ("reports.filters", "Periode en organisatie", "Period and organisation"),
    ("reports.from", "Van", "From"),
    ("reports.to", "Tot (niet meegeteld)", "Until (excluded)"),
    ("reports.to_hint", "De periode eindigt vóór deze dag. Standaard: de laatste 30 dagen tot en met vandaag.", "The period ends before this day. Default: the last 30 days up to and including today."),
    ("reports.organisation", "Organisatie", "Organisation"),
    ("reports.all_organisations", "Alle organisaties", "All organisations"),
    ("reports.show", "Tonen", "Show"),
    ("reports.period", "Periode: {from} tot en met {last}.", "Period: {from} to {last} inclusive."),
    ("reports.for_organisation", "Alleen {name}.", "Only {name}."),
    ("reports.generated", "Berekend op", "Computed"),
    ("reports.overview", "Overzicht", "Overview"),
    ("reports.figure", "Cijfer", "Figure"),
    ("reports.value", "Waarde", "Value"),
    ("reports.requests_total", "Aanvragen in de periode", "Requests in the period"),
    ("reports.first_proposal_median", "Tijd tot eerste voorstel (mediaan)", "Time to first proposal (median)"),
    ("reports.match_median", "Tijd tot koppeling (mediaan)", "Time to match (median)"),
    ("reports.match_p90", "Tijd tot koppeling (90e percentiel)", "Time to match (90th percentile)"),
    ("reports.active_pairings", "Actieve koppelingen nu", "Active pairings now"),
    ("reports.ended", "Beëindigde koppelingen in de periode", "Pairings ended in the period"),
    ("reports.overdue", "Aanvragen nu te laat", "Requests overdue now"),
    (
        "reports.contacts_recorded",
        "Contactmomenten in de periode",
        "Contact moments in the period",
    ),
    (
        "reports.contacts_per_pairing",
        "Contactmomenten per koppeling met contact",
        "Contact moments per pairing with contact",
    ),
    (
        "reports.contact_overdue",
        "Koppelingen nu zonder recent contact",
        "Pairings now without recent contact",
    ),
    ("reports.triggers", "Aanvragen per aanleiding per maand", "Requests by reason per month"),
    ("reports.month", "Maand", "Month"),
    ("reports.total", "Totaal", "Total"),
    ("reports.time_to_match", "Tijd tot koppeling per maand (mediaan)", "Time to match per month (median)"),
    ("reports.time_to_match_help", "Van het aanmaken van een aanvraag tot het eerste geaccepteerde voorstel, voor de aanvragen van die maand die gekoppeld zijn.", "From a request's creation to its first accepted proposal, for the requests of that month that were matched."),
    ("reports.median", "Mediaan", "Median"),
    ("reports.p90", "90e percentiel", "90th percentile"),
    ("reports.matched", "Gekoppeld", "Matched"),
    ("reports.match_desc", "{month}: mediaan {median} ({n} gekoppeld)", "{month}: median {median} ({n} matched)"),
    ("reports.outcomes", "Uitkomst van voorstellen", "Proposal outcomes"),
    ("reports.outcomes_help", "Voorstellen gedaan in de periode, naar hun uitkomst nu; percentages van de beslist (geaccepteerd, afgewezen of verlopen).", "Proposals made in the period, by their outcome now; percentages of the decided ones (accepted, declined or expired)."),
    ("reports.proposed", "Voorgesteld", "Proposed"),
    ("reports.accepted", "Geaccepteerd", "Accepted"),
    ("reports.declined", "Afgewezen", "Declined"),
    ("reports.expired", "Verlopen", "Expired"),
    ("reports.pending", "Wacht op antwoord", "Awaiting an answer"),
    ("reports.cancelled", "Geannuleerd", "Cancelled"),
    ("reports.funnel", "Werving: van exitgesprek tot actief maatje", "Recruitment: from exit interview to active buddy"),
    ("reports.funnel_help", "Exitgesprekken in de periode; van de maatjes uit een ‘ja’: hoeveel ooit in screening en ooit actief zijn gekomen.", "Exit interviews in the period; of the buddies from a ‘yes’: how many ever reached screening and ever became active."),
    ("reports.asked", "Gevraagd", "Asked"),
    ("reports.said_yes", "Ja", "Yes"),
    ("reports.said_no", "Nee", "No"),
    ("reports.said_later", "Later", "Later"),
    ("reports.reached_screening", "In screening gekomen", "Reached screening"),
    ("reports.reached_active", "Actief geworden", "Became active"),
    ("reports.by_organisation", "Aanvragen per organisatie", "Requests by organisation"),
    ("reports.no_requests", "Geen aanvragen in deze periode.", "No requests in this period."),
    ("reports.table_of_chart", "Dezelfde cijfers als tabel", "The same figures as a table"),
    ("reports.feedback", "Cliëntfeedback per organisatie en kwartaal", "Client feedback per organisation and quarter"),
    ("reports.feedback_help", "De kwartalen die de periode raakt. Anoniem, los van de dossiers; een kwartaal met minder dan 5 antwoorden wordt niet getoond.", "The quarters the period touches. Anonymous, apart from the case files; a quarter with fewer than 5 answers is not shown."),
    ("reports.feedback_quarter", "Kwartaal", "Quarter"),
    ("reports.feedback_answers", "Antwoorden", "Answers"),
    ("reports.feedback_mean", "Gemiddeld cijfer", "Mean score"),
    ("reports.feedback_score", "Cijfer {n}", "Score {n}"),
    ("reports.feedback_suppressed", "minder dan 5 antwoorden", "fewer than 5 answers"),
    ("reports.feedback_texts", "teksten", "texts"),
];
