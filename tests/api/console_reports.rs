//! The console's reports page: the API's summary (same filters, same figures) as tables and
//! server-drawn SVG charts that carry their numbers, the figures per month, the CSV export,
//! bad filters shown at their fields, and no audit record (as the API's report has none).

use chrono::Duration;
use maatje::auth::StaffRole;
use serde_json::json;

use crate::fixtures::*;
use crate::helpers::*;

/// HTML as a browser reads its attribute values (`&#x2f;` is `/`, `&amp;` is `&`).
fn html(text: &str) -> String {
    text.replace("&#x2f;", "/").replace("&amp;", "&")
}

/// A text with its runs of white space made one space.
fn squash(text: String) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

const NAME_A: &str = "Organisatie A";
const NAME_B: &str = "Organisatie B";
const WINDOW: &str = "from=2026-11-01&to=2026-12-31";

struct Scenario {
    org_b: String,
}

async fn new_request(app: &TestApp, org: &str, client_ref: &str, trigger: &str) -> String {
    let mut body = request_body(org, client_ref);
    body["trigger"] = json!(trigger);
    let response = app.post_json("/v1/buddy-requests", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    id_of(&response.body)
}

async fn exit_interview(app: &TestApp, org: &str, answer: &str, n: u32) -> Option<String> {
    let mut body = json!({ "organisation_id": org, "held_on": "2026-11-22", "answer": answer });
    if answer == "yes" {
        body["candidate"] = profile(n);
    }
    let response = app.post_json("/v1/exit-interviews", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    response.body["buddy"]["id"].as_str().map(str::to_owned)
}

/// November: three requests (first talks, discontent, complaint), one matched after 6 hours,
/// one proposal declined and one expired; December: a question matched after 24 hours. Three
/// exit interviews, one `yes` whose buddy reached screening.
async fn seed(app: &TestApp) -> Scenario {
    let org_a = id_of(&create_organisation(app, NAME_A).await);
    let org_b = id_of(&create_organisation(app, NAME_B).await);
    let b1 = active_buddy(app, &org_a, 1, 2).await;
    let b2 = active_buddy(app, &org_a, 2, 1).await;
    let recruit = exit_interview(app, &org_a, "yes", 11).await.unwrap();
    act(app, &format!("/v1/buddies/{recruit}/start-screening")).await;
    exit_interview(app, &org_a, "no", 0).await;
    exit_interview(app, &org_b, "later", 0).await;

    let r1 = new_request(app, &org_a, "CASE-1", "first_talks").await;
    let r2 = new_request(app, &org_a, "CASE-2", "discontent").await;
    new_request(app, &org_b, "CASE-3", "complaint").await;
    app.clock.advance(Duration::hours(2));
    let p1 = propose(app, &r1, &b1).await;
    let p2 = propose(app, &r2, &b2).await;
    app.clock.advance(Duration::hours(4));
    act(app, &format!("/v1/pairings/{p1}/accept")).await;
    act(app, &format!("/v1/pairings/{p2}/decline")).await;
    let p3 = propose(app, &r2, &b1).await;
    app.expire_pairing(&p3);

    app.clock.advance(Duration::days(10));
    let r4 = new_request(app, &org_a, "CASE-4", "questions").await;
    let p4 = propose(app, &r4, &b2).await;
    app.clock.advance(Duration::hours(24));
    act(app, &format!("/v1/pairings/{p4}/accept")).await;
    Scenario { org_b }
}

#[tokio::test]
async fn the_report_shows_the_summary_as_tables_and_charts_with_their_numbers() {
    let app = spawn_app().await;
    seed(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get(&format!("/console/reports?{WINDOW}")).await;
    assert_eq!(page.status, 200, "{}", page.plain());
    for shown in [
        "Periode: 1 nov 2026 tot en met 30 dec 2026.",
        "Aanvragen in de periode 4",
        // Requests by trigger per month, as a table.
        "Maand Eerste gesprekken Onvrede Klacht Vragen Totaal",
        "nov 2026 1 1 1 0 3",
        "dec 2026 0 0 0 1 1",
        // Time to match per month.
        "nov 2026 1 6 u 6 u",
        "dec 2026 1 24 u 24 u",
        "Tijd tot koppeling (mediaan) 6 u",
        // Proposal outcomes.
        "Voorgesteld 4",
        "Geaccepteerd 2 (50%)",
        "Afgewezen 1 (25%)",
        "Verlopen 1 (25%)",
        // The funnel.
        "Gevraagd 3",
        "Ja 1",
        "In screening gekomen 1",
        "Actief geworden 0",
        "Organisatie A 3",
        "Organisatie B 1",
    ] {
        page.assert_shows(shown);
    }
    // Four charts, each an image named and described with its numbers.
    assert_eq!(page.text.matches("<svg ").count(), 4);
    assert_eq!(page.text.matches("role=\"img\"").count(), 4);
    for (id, numbers) in [
        (
            "chart-triggers",
            "nov 2026: Eerste gesprekken 1, Onvrede 1, Klacht 1, Vragen 0; dec 2026: Eerste gesprekken 0, Onvrede 0, Klacht 0, Vragen 1",
        ),
        (
            "chart-match",
            "nov 2026: mediaan 6 u (1 gekoppeld); dec 2026: mediaan 24 u (1 gekoppeld)",
        ),
        (
            "chart-outcomes",
            "Geaccepteerd 2 (50%), Afgewezen 1 (25%), Verlopen 1 (25%)",
        ),
        (
            "chart-funnel",
            "Gevraagd 3, Ja 1, In screening gekomen 1, Actief geworden 0",
        ),
    ] {
        assert!(
            page.text
                .contains(&format!("aria-labelledby=\"{id}-title {id}-desc\"")),
            "{id}"
        );
        assert!(
            page.text
                .contains(&format!("<desc id=\"{id}-desc\">{numbers}</desc>")),
            "{id}: {}",
            page.text
        );
    }
    // Nothing the policy forbids.
    assert!(!page.text.contains("style="));
    assert!(!page.text.contains("<script"));

    // The same figures as the API's report.
    let api = app.get(&format!("/v1/reports/summary?{WINDOW}")).await.body;
    assert_eq!(api["requests"]["total"], 4);
    assert_eq!(api["proposals"]["accepted"], 2);
    assert_eq!(api["proposals"]["declined"], 1);
    assert_eq!(api["proposals"]["expired"], 1);
    assert_eq!(api["time_to_match"]["median_hours"], 6.0);
    assert_eq!(api["recruitment"]["reached_screening"], 1);

    // And in English.
    console
        .get("/console/language?to=en&back=/console/reports")
        .await;
    let english = console.get(&format!("/console/reports?{WINDOW}")).await;
    english.assert_shows("Requests by reason per month");
    english.assert_shows("Nov 2026 1 1 1 0 3");
    english.assert_shows("Nov 2026 1 6 h 6 h");
    english.assert_shows("Accepted 2 (50%)");
}

#[tokio::test]
async fn the_filters_choose_the_period_and_the_organisation() {
    let app = spawn_app().await;
    let scenario = seed(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console
        .get(&format!(
            "/console/reports?{WINDOW}&organisation={}",
            scenario.org_b
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.plain());
    page.assert_shows("Alleen Organisatie B.");
    page.assert_shows("nov 2026 0 0 1 0 1");
    page.assert_shows("dec 2026 0 0 0 0 0");
    page.assert_shows("Gevraagd 1");
    assert!(page.text.contains(&format!(
        "<option value=\"{}\" selected>Organisatie B</option>",
        scenario.org_b
    )));

    // December only.
    let december = console
        .get("/console/reports?from=2026-12-01&to=2027-01-01")
        .await;
    december.assert_shows("Periode: 1 dec 2026 tot en met 31 dec 2026.");
    december.assert_shows("Aanvragen in de periode 1");
    assert!(!december.plain().contains("nov 2026 1"));
    assert_eq!(december.input_value("from").as_deref(), Some("2026-12-01"));

    // The default: the last 30 days up to today (2026-12-03).
    let default = console.get("/console/reports").await;
    assert_eq!(default.status, 200);
    default.assert_shows("Periode: 4 nov 2026 tot en met 3 dec 2026.");
}

#[tokio::test]
async fn bad_filters_are_shown_at_their_fields_with_what_was_entered() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console
        .get("/console/reports?from=abc&to=2026-13-01&organisation=nope")
        .await;
    assert_eq!(page.status, 422, "{}", page.plain());
    assert!(page.field_error("from").is_some());
    assert!(page.field_error("to").is_some());
    assert!(page.field_error("organisation").is_some());
    assert_eq!(page.input_value("from").as_deref(), Some("abc"));
    assert_eq!(page.input_value("to").as_deref(), Some("2026-13-01"));
    assert!(!page.text.contains("<svg"));

    let reversed = console
        .get("/console/reports?from=2026-12-01&to=2026-11-01")
        .await;
    assert_eq!(reversed.status, 422);
    assert!(reversed.field_error("to").is_some());
    assert_eq!(reversed.field_error("from").map(squash), None);

    // An organisation that does not exist: not found.
    let unknown = console
        .get(&format!(
            "/console/reports?organisation={}",
            uuid::Uuid::now_v7()
        ))
        .await;
    assert_eq!(unknown.status, 404);
    // The CSV of a bad period: back to the page, which says what is wrong.
    let csv = console.get("/console/reports.csv?from=abc").await;
    assert_eq!(csv.status, 303);
    assert_eq!(csv.location(), "/console/reports?from=abc");
    let shown = console.get(csv.location()).await;
    assert_eq!(
        shown.field_error("from").map(squash).as_deref(),
        Some("moet een datum zijn (jjjj-mm-dd)")
    );
}

#[tokio::test]
async fn the_csv_is_the_apis_csv_followed_by_the_figures_per_month() {
    let app = spawn_app().await;
    seed(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get(&format!("/console/reports?{WINDOW}")).await;
    assert!(
        html(&page.text).contains("href=\"/console/reports.csv?from=2026-11-01&to=2026-12-31\"")
    );
    let csv = console.get(&format!("/console/reports.csv?{WINDOW}")).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"rapportage-2026-11-01-2026-12-31.csv\"")
    );
    let api = app
        .request_with_headers(
            Method::GET,
            &format!("/v1/reports/summary?{WINDOW}"),
            None,
            Vec::new(),
            &[
                ("accept", "text/csv"),
                ("authorization", &format!("Bearer {}", app.admin_token)),
            ],
        )
        .await;
    assert_eq!(api.status, 200);
    assert!(
        csv.text.starts_with(&api.text),
        "the API's CSV first:\n{}\n---\n{}",
        csv.text,
        api.text
    );
    let monthly = &csv.text[api.text.len()..];
    for line in [
        "requests_by_trigger_month,2026-11/first_talks,1",
        "requests_by_trigger_month,2026-11/questions,0",
        "requests_by_trigger_month,2026-12/questions,1",
        "time_to_match_month,2026-11/count,1",
        "time_to_match_month,2026-11/median_hours,6",
        "time_to_match_month,2026-12/median_hours,24",
    ] {
        assert!(
            monthly.contains(&format!("{line}\r\n")),
            "{line}: {monthly}"
        );
    }
}

#[tokio::test]
async fn an_empty_programme_draws_empty_charts_and_the_report_is_not_audited() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Admin).await;
    let page = console.get("/console/reports").await;
    assert_eq!(page.status, 200, "{}", page.plain());
    page.assert_shows("Geen aanvragen in deze periode.");
    page.assert_shows("Geaccepteerd 0 (–)");
    assert_eq!(page.text.matches("role=\"img\"").count(), 4);
    assert!(!page.text.contains("NaN"));
    let csv = console.get("/console/reports.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.starts_with("section,key,value\r\n"));
    let records = app.audit_records().await;
    assert!(
        !records.iter().any(|r| r["route"]
            .as_str()
            .is_some_and(|route| route.contains("/console/reports"))),
        "the report holds no personal data and is not audited, as the API's"
    );
}
