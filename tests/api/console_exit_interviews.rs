//! The console's exit interviews: the recorded outcomes and the recruitment funnel, the form
//! that records an outcome (a `yes` creates the buddy candidate and goes on to the buddy's
//! page) through the same operation as the API, its validation (nothing stored), and the CSV.

use maatje::auth::StaffRole;
use serde_json::json;

use crate::fixtures::{act, organisation, profile};
use crate::helpers::*;

/// A field's error without its hidden "Fout:" prefix.
fn stripped(error: Option<String>) -> Option<String> {
    error.map(|e| e.trim_start_matches("Fout:").trim().to_owned())
}

/// A form, the field it must be refused at, and the message there (when pinned).
type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, Option<&'a str>);

async fn record_via_api(app: &TestApp, org: &str, answer: &str, n: u32) -> serde_json::Value {
    let mut body = json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": answer });
    if answer == "yes" {
        body["candidate"] = profile(n);
    }
    let response = app.post_json("/v1/exit-interviews", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    response.body
}

#[tokio::test]
async fn the_list_shows_outcomes_and_the_recruitment_funnel() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let yes = record_via_api(&app, &org, "yes", 1).await;
    record_via_api(&app, &org, "yes", 2).await;
    record_via_api(&app, &org, "no", 0).await;
    record_via_api(&app, &org, "later", 0).await;
    let buddy = yes["buddy"]["id"].as_str().unwrap().to_owned();
    act(&app, &format!("/v1/buddies/{buddy}/start-screening")).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get("/console/exit-interviews").await;
    assert_eq!(page.status, 200, "{}", page.plain());
    page.assert_shows("Exitgesprekken");
    page.assert_shows("Gevraagd in een exitgesprek 4");
    page.assert_shows("Zei ja 2");
    page.assert_shows("Werd kandidaat-maatje 2");
    page.assert_shows("Kwam in screening 1");
    page.assert_shows("Werd actief maatje 0");
    page.assert_shows("Daarnaast: 1 keer nee, 1 keer later.");
    page.assert_shows("Gecertificeerde Instelling Test");
    page.assert_shows("20 nov 2026");
    assert!(page.text.contains(&format!("/console/buddies/{buddy}\"")));
    assert!(page.text.contains("/console/exit-interviews/new"));

    console.get("/console/language?to=en&back=/console").await;
    let english = console.get("/console/exit-interviews").await;
    english.assert_shows("Recruitment");
    english.assert_shows("Said yes 2");
}

#[tokio::test]
async fn a_yes_creates_the_candidate_and_opens_the_buddy() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let inactive = id_of(&create_organisation(&app, "Vertrokken Instelling").await);
    act(&app, &format!("/v1/organisations/{inactive}/deactivate")).await;
    let console = app.console(StaffRole::Coordinator).await;
    let form = console.get("/console/exit-interviews/new").await;
    assert_eq!(form.status, 200, "{}", form.plain());
    assert!(form.text.contains(&format!("<option value=\"{org}\"")));
    assert!(!form.text.contains(&format!("<option value=\"{inactive}\"")));
    assert_eq!(form.input_value("held_on").as_deref(), Some("2026-11-22"));
    form.assert_shows("Nederlands");
    form.assert_shows("ondertoezichtstelling");

    let done = console
        .post(
            "/console/exit-interviews/new",
            &[
                ("organisation_id", &org),
                ("held_on", "2026-11-21"),
                ("answer", "yes"),
                ("name", "Sam de Vries"),
                ("email", "sam@example.org"),
                ("phone", ""),
                ("region", "Utrecht"),
                ("languages", "nl"),
                ("languages", "ar"),
                ("experience", "guardianship"),
                ("mail_language", "en"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    let buddy = done
        .location()
        .strip_prefix("/console/buddies/")
        .expect("the new buddy's page")
        .to_owned();
    let stored = app.get(&format!("/v1/buddies/{buddy}")).await.body;
    assert_eq!(stored["state"], "candidate");
    assert_eq!(stored["name"], "Sam de Vries");
    assert_eq!(stored["languages"], json!(["nl", "ar"]));
    assert_eq!(stored["experience"], json!(["guardianship"]));
    assert_eq!(stored["mail_language"], "en");
    assert_eq!(stored["organisation_id"], org.as_str());

    let records: Vec<_> = app
        .audit_records_where("object_type=exit_interview")
        .await
        .into_iter()
        .filter(|r| r["route"] == "POST /console/exit-interviews/new")
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["action"], "create");
    assert_eq!(records[0]["actor"]["type"], "staff");
    assert_eq!(records[0]["outcome"], "allowed");
}

#[tokio::test]
async fn a_no_is_recorded_without_personal_data() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let before = app.table_counts();
    let done = console
        .post(
            "/console/exit-interviews/new",
            &[
                ("organisation_id", &org),
                ("held_on", "2026-11-22"),
                ("answer", "no"),
                ("mail_language", "nl"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(done.location(), "/console/exit-interviews?done=recorded");
    let after = app.table_counts();
    assert_eq!(after["exit_interviews"], before["exit_interviews"] + 1);
    assert_eq!(after["buddies"], before["buddies"]);
    console
        .get(done.location())
        .await
        .assert_shows("De uitkomst is vastgelegd.");
}

#[tokio::test]
async fn bad_input_is_shown_again_with_values_and_errors_and_nothing_is_stored() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let before = app.table_counts();
    let long = "n".repeat(201);
    // (the form, the field with the error, its message when the test pins it)
    let cases: Vec<Case<'_>> = vec![
        // A day in the future.
        (
            vec![
                ("organisation_id", &org),
                ("held_on", "2026-11-23"),
                ("answer", "no"),
            ],
            "held_on",
            Some("De datum mag niet in de toekomst liggen."),
        ),
        (
            vec![
                ("organisation_id", &org),
                ("held_on", "22-11"),
                ("answer", "no"),
            ],
            "held_on",
            None,
        ),
        // No organisation, an unknown one.
        (
            vec![("held_on", "2026-11-20"), ("answer", "no")],
            "organisation_id",
            Some("Vul dit veld in."),
        ),
        (
            vec![
                ("organisation_id", "0190aaaa-0000-7000-8000-000000000001"),
                ("held_on", "2026-11-20"),
                ("answer", "no"),
            ],
            "organisation_id",
            None,
        ),
        (
            vec![
                ("organisation_id", &org),
                ("held_on", "2026-11-20"),
                ("answer", "maybe"),
            ],
            "answer",
            None,
        ),
        // A yes without a name, with a name too long, a bad address, no language.
        (
            vec![
                ("organisation_id", &org),
                ("held_on", "2026-11-20"),
                ("answer", "yes"),
                ("name", ""),
                ("email", "sam@example.org"),
                ("region", "Utrecht"),
                ("languages", "nl"),
            ],
            "name",
            Some("Vul dit veld in."),
        ),
        (
            vec![
                ("organisation_id", &org),
                ("held_on", "2026-11-20"),
                ("answer", "yes"),
                ("name", &long),
                ("email", "sam@example.org"),
                ("region", "Utrecht"),
                ("languages", "nl"),
            ],
            "name",
            Some("Maximaal 200 tekens."),
        ),
        (
            vec![
                ("organisation_id", &org),
                ("held_on", "2026-11-20"),
                ("answer", "yes"),
                ("name", "Sam"),
                ("email", "not-an-address"),
                ("region", "Utrecht"),
                ("languages", "nl"),
            ],
            "email",
            Some("moet een e-mailadres zijn, zoals naam@voorbeeld.nl"),
        ),
        (
            vec![
                ("organisation_id", &org),
                ("held_on", "2026-11-20"),
                ("answer", "yes"),
                ("name", "Sam"),
                ("email", "sam@example.org"),
                ("region", "Utrecht"),
            ],
            "languages",
            Some("Kies minstens één taal."),
        ),
        // A no with a candidate's details.
        (
            vec![
                ("organisation_id", &org),
                ("held_on", "2026-11-20"),
                ("answer", "no"),
                ("name", "Sam"),
            ],
            "answer",
            None,
        ),
    ];
    for (fields, field, message) in cases {
        let refused = console.post("/console/exit-interviews/new", &fields).await;
        assert_eq!(refused.status, 422, "{fields:?}: {}", refused.plain());
        let error = stripped(refused.field_error(field))
            .unwrap_or_else(|| panic!("no error at {field}: {}", refused.plain()));
        if let Some(message) = message {
            assert_eq!(error, message, "{fields:?}");
        }
        refused.assert_shows("Het formulier is niet opgeslagen");
        for (name, value) in &fields {
            match *name {
                "organisation_id" | "answer" => {
                    if *value == org || ["no", "yes"].contains(value) {
                        let selected = format!("<option value=\"{value}\" selected>");
                        assert!(refused.text.contains(&selected), "{name} kept");
                    }
                }
                "languages" => {
                    assert!(refused.text.contains(&format!("value=\"{value}\" checked")))
                }
                _ => assert_eq!(refused.input_value(name).as_deref(), Some(*value), "{name}"),
            }
        }
    }
    assert_eq!(app.table_counts(), before, "nothing stored");
}

#[tokio::test]
async fn the_export_and_a_form_without_csrf() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    record_via_api(&app, &org, "later", 0).await;
    let console = app.console(StaffRole::Coordinator).await;
    let csv = console.get("/console/exit-interviews.csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        lines[0],
        "id,organisation_id,organisation,held_on,answer,buddy_id,created_at"
    );
    assert_eq!(lines.len(), 2);
    assert!(lines[1].contains(",2026-11-20,later,"));

    let before = app.table_counts();
    let refused = console
        .post_raw(
            "/console/exit-interviews/new",
            &[
                ("organisation_id", &org),
                ("held_on", "2026-11-20"),
                ("answer", "no"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    refused.assert_shows("Er is niets gewijzigd");
    assert_eq!(app.table_counts(), before);
}

/// A candidate whose mail language is left open gets one they speak (the domain's rule).
#[tokio::test]
async fn a_candidate_s_mail_language_left_open_is_one_they_speak() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let form = console.get("/console/exit-interviews/new").await;
    form.assert_shows("Volgens de gesproken talen");
    let done = console
        .post(
            "/console/exit-interviews/new",
            &[
                ("organisation_id", &org),
                ("held_on", "2026-11-21"),
                ("answer", "yes"),
                ("name", "Sam de Vries"),
                ("email", "sam@example.org"),
                ("phone", ""),
                ("region", "Utrecht"),
                ("languages", "en"),
                ("languages", "tr"),
                ("mail_language", ""),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    let buddy = done
        .location()
        .strip_prefix("/console/buddies/")
        .expect("the new buddy's page")
        .to_owned();
    let stored = app.get(&format!("/v1/buddies/{buddy}")).await.body;
    assert_eq!(stored["mail_language"], "en");
}
