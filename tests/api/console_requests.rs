//! The console's requests: the filtered, paged list and its CSV export; one request with its
//! latest pairing, history, ranked and explained candidates and exclusions; proposing,
//! excluding and lifting an exclusion through the same operations as the API, refused (with
//! the state explained and nothing stored) where the request's state does not allow them.

use chrono::Duration;
use maatje::auth::StaffRole;

use crate::fixtures::{act, active_buddy, open_request, organisation, state_of};
use crate::helpers::*;

/// A field's error without its hidden "Fout:" prefix.
fn stripped(error: Option<String>) -> Option<String> {
    error.map(|e| e.trim_start_matches("Fout:").trim().to_owned())
}

/// The audit records of `route`.
async fn records_of(app: &TestApp, object_type: &str, route: &str) -> Vec<serde_json::Value> {
    app.audit_records_where(&format!("object_type={object_type}"))
        .await
        .into_iter()
        .filter(|r| r["route"] == route)
        .collect()
}

#[tokio::test]
async fn the_list_filters_by_state_trigger_and_overdue_in_either_order() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let first = open_request(&app, &org, "CASE-OLD").await;
    app.clock.advance(Duration::days(6));
    let withdrawn = open_request(&app, &org, "CASE-GONE").await;
    act(&app, &format!("/v1/buddy-requests/{withdrawn}/withdraw")).await;
    open_request(&app, &org, "CASE-NEW").await;
    let console = app.console(StaffRole::Coordinator).await;

    let all = console.get("/console/requests").await;
    assert_eq!(all.status, 200, "{}", all.plain());
    all.assert_shows("Aanvragen");
    for r in ["CASE-OLD", "CASE-GONE", "CASE-NEW"] {
        all.assert_shows(r);
    }
    all.assert_shows("Onvrede");
    assert!(all.text.contains(&format!("/console/requests/{first}")));
    let plain = all.plain();
    assert!(plain.find("CASE-OLD").unwrap() < plain.find("CASE-NEW").unwrap());

    let newest = console.get("/console/requests?order=newest").await;
    let plain = newest.plain();
    assert!(plain.find("CASE-NEW").unwrap() < plain.find("CASE-OLD").unwrap());

    let gone = console.get("/console/requests?state=withdrawn").await;
    gone.assert_shows("CASE-GONE");
    assert!(!gone.plain().contains("CASE-NEW"));
    gone.assert_shows("ingetrokken");

    let overdue = console.get("/console/requests?overdue=yes").await;
    overdue.assert_shows("CASE-OLD");
    overdue.assert_shows("Te laat");
    assert!(!overdue.plain().contains("CASE-NEW"));
    let on_time = console.get("/console/requests?overdue=no").await;
    assert!(!on_time.plain().contains("CASE-OLD"));
    on_time.assert_shows("CASE-NEW");

    let none = console.get("/console/requests?trigger=complaint").await;
    none.assert_shows("Geen aanvragen gevonden");

    let home = console.get("/console").await;
    assert!(home.text.contains("href=\"/console/requests?overdue=yes\""));
    assert!(home.text.contains("href=\"/console/pairings\""));

    let bad = console
        .get("/console/requests?state=bogus&trigger=nope")
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        stripped(bad.field_error("state")).is_some(),
        "{}",
        bad.plain()
    );
    assert!(stripped(bad.field_error("trigger")).is_some());
}

#[tokio::test]
async fn the_list_pages_with_a_next_link_carrying_the_filters() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for n in 0..51 {
        open_request(&app, &org, &format!("CASE-P{n:02}")).await;
    }
    let console = app.console(StaffRole::Coordinator).await;
    let first = console.get("/console/requests?state=open").await;
    first.assert_shows("CASE-P00");
    assert!(!first.plain().contains("CASE-P50"));
    let at = first.text.find("rel=\"next\"").expect("a next link");
    let href = first.text[..at].rsplit("href=\"").next().unwrap();
    let next = href
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    assert!(
        next.starts_with("/console/requests?state=open&cursor="),
        "{next}"
    );
    let second = console.get(&next).await;
    assert_eq!(second.status, 200);
    second.assert_shows("CASE-P50");
    assert!(!second.plain().contains("CASE-P00"));
    assert!(!second.text.contains("rel=\"next\""));
    // A cursor of another list starts again from the first page.
    let reset = console.get("/console/requests?cursor=bm9wZQ").await;
    assert_eq!(reset.status, 303);
}

#[tokio::test]
async fn the_export_is_the_filtered_list_as_csv_and_is_audited() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    open_request(&app, &org, "CASE-A").await;
    let gone = open_request(&app, &org, "CASE-B").await;
    act(&app, &format!("/v1/buddy-requests/{gone}/withdraw")).await;
    let console = app.console(StaffRole::Coordinator).await;
    let csv = console.get("/console/requests.csv?state=open").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment; filename="));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(lines[0].starts_with("id,client_ref,organisation_id,trigger"));
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(lines[1].contains("CASE-A") && lines[1].contains("discontent"));
    let records = records_of(&app, "buddy_request", "GET /console/requests.csv").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["action"], "export");
    assert_eq!(records[0]["actor"]["type"], "staff");
}

#[tokio::test]
async fn a_request_shows_its_details_candidates_with_reasons_and_history() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get(&format!("/console/requests/{request}")).await;
    assert_eq!(page.status, 200, "{}", page.plain());
    page.assert_shows("Aanvraag CASE-1");
    page.assert_shows("Onvrede");
    page.assert_shows("Wants someone who has been through it.");
    page.assert_shows("Client");
    page.assert_shows("Nederlands");
    page.assert_shows("A parent, if possible.");
    page.assert_shows("Niet opgegeven");
    page.assert_shows("Er is nog niemand voorgesteld.");
    // The candidate, with each component, its weight, value and the reason in Dutch.
    page.assert_shows("1. Buddy Voorbeeld 1");
    for component in ["Taal", "Regio", "Ervaring", "Belasting", "Roulatie"] {
        page.assert_shows(component);
    }
    page.assert_shows("spreekt Nederlands, een van de talen van de cliënt");
    page.assert_shows("woont in de regio van de cliënt (Utrecht)");
    page.assert_shows("nog nooit voorgesteld");
    assert!(page.text.contains(&format!("value=\"{buddy}\"")));
    page.assert_shows("Voorstellen");
    // History, from the request's history.
    page.assert_shows("aangemaakt");
    // The read is audited with the client.
    let records = records_of(&app, "buddy_request", "GET /console/requests/{id}").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["action"], "read");
    assert_eq!(records[0]["actor"]["type"], "staff");
    assert_eq!(records[0]["client_ref"], "CASE-1");
    assert_eq!(records[0]["object_id"], request);

    // In English.
    console.get("/console/language?to=en&back=/console").await;
    let english = console.get(&format!("/console/requests/{request}")).await;
    english.assert_shows("Request CASE-1");
    english.assert_shows("speaks Dutch, one of the client's languages");
    english.assert_shows("Discontent");
}

#[tokio::test]
async fn proposing_a_candidate_makes_the_pairing_and_is_audited_once() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let console = app.console(StaffRole::Coordinator).await;
    let path = format!("/console/requests/{request}/propose");
    let done = console.post(&path, &[("buddy_id", &buddy)]).await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(
        done.location(),
        format!("/console/requests/{request}?done=proposed")
    );
    assert_eq!(
        state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
        "proposed"
    );
    let page = console.get(done.location()).await;
    page.assert_shows("Het maatje is voorgesteld");
    page.assert_shows("voorgesteld");
    page.assert_shows("Buddy Voorbeeld 1");
    // Proposed: no candidates and no propose button any more, and why.
    assert!(!page.plain().contains("Voorstellen"));
    page.assert_shows("wacht op het antwoord van het maatje");

    let records = records_of(&app, "pairing", "POST /console/requests/{id}/propose").await;
    assert_eq!(records.len(), 1, "one record per change: {records:?}");
    assert_eq!(records[0]["action"], "create");
    assert_eq!(records[0]["actor"]["type"], "staff");
    assert_eq!(records[0]["outcome"], "allowed");
    assert_eq!(records[0]["status"], 303);
    assert_eq!(records[0]["client_ref"], "CASE-1");
}

#[tokio::test]
async fn a_withdrawn_request_offers_nothing_and_refuses_a_proposal_explaining_why() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;
    act(&app, &format!("/v1/buddy-requests/{request}/withdraw")).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get(&format!("/console/requests/{request}")).await;
    assert_eq!(page.status, 200);
    page.assert_shows("Deze aanvraag is ingetrokken");
    assert!(!page.plain().contains("Voorstellen"));
    assert!(!page.text.contains("/exclude\""));

    let before = app.table_counts();
    let refused = console
        .post(
            &format!("/console/requests/{request}/propose"),
            &[("buddy_id", &buddy)],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    refused.assert_shows("Dit kan niet: de aanvraag heeft de status ‘ingetrokken’");
    refused.assert_shows("Deze aanvraag is ingetrokken");
    let refused = console
        .post(
            &format!("/console/requests/{request}/exclude"),
            &[("buddy_id", &buddy), ("reason", "Kent de familie")],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    refused.assert_shows("ingetrokken");
    assert_eq!(app.table_counts(), before, "nothing stored");
}

#[tokio::test]
async fn a_matched_request_cannot_get_another_proposal() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, request, _) = crate::fixtures::pairing_in(&app, &org, "accepted", 1).await;
    let other = active_buddy(&app, &org, 2, 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let before = app.table_counts();
    let refused = console
        .post(
            &format!("/console/requests/{request}/propose"),
            &[("buddy_id", &other)],
        )
        .await;
    assert_eq!(refused.status, 409);
    refused.assert_shows("gekoppeld");
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn excluding_needs_a_reason_and_can_be_lifted() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let console = app.console(StaffRole::Coordinator).await;
    let path = format!("/console/requests/{request}/exclude");
    let before = app.table_counts();
    let long = "x".repeat(501);
    for (reason, message) in [
        ("", "Vul dit veld in."),
        ("   ", "Vul dit veld in."),
        (long.as_str(), "Maximaal 500 tekens."),
    ] {
        let refused = console
            .post(&path, &[("buddy_id", &buddy), ("reason", reason)])
            .await;
        assert_eq!(refused.status, 422, "{}", refused.plain());
        assert_eq!(
            stripped(refused.field_error("reason")).as_deref(),
            Some(message)
        );
        refused.assert_shows("Het formulier is niet opgeslagen");
        // The chosen buddy is still selected.
        assert!(refused
            .text
            .contains(&format!("<option value=\"{buddy}\" selected>")));
    }
    let refused = console
        .post(&path, &[("buddy_id", "abc"), ("reason", "Kent de familie")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(stripped(refused.field_error("buddy_id")).is_some());
    let refused = console
        .post(
            &path,
            &[
                ("buddy_id", &uuid::Uuid::now_v7().to_string()),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, 404);
    assert_eq!(app.table_counts(), before, "nothing stored");

    let done = console
        .post(
            &path,
            &[("buddy_id", &buddy), ("reason", "Kent de familie")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    let page = console.get(done.location()).await;
    page.assert_shows("Het maatje is uitgesloten");
    page.assert_shows("Kent de familie");
    page.assert_shows("Er is nu geen maatje dat in aanmerking komt");
    page.assert_shows("maatje uitgesloten");
    let records = records_of(&app, "buddy_request", "POST /console/requests/{id}/exclude").await;
    let allowed: Vec<_> = records
        .iter()
        .filter(|r| r["outcome"] == "allowed")
        .collect();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["actor"]["type"], "staff");
    assert_eq!(allowed[0]["action"], "update");

    let lifted = console
        .post(
            &format!("/console/requests/{request}/include"),
            &[("buddy_id", &buddy)],
        )
        .await;
    assert_eq!(lifted.status, 303);
    let page = console.get(lifted.location()).await;
    page.assert_shows("De uitsluiting is opgeheven.");
    page.assert_shows("1. Buddy Voorbeeld 1");
    // Lifting it again: there is nothing to lift.
    let before = app.table_counts();
    let again = console
        .post(
            &format!("/console/requests/{request}/include"),
            &[("buddy_id", &buddy)],
        )
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found_pages() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Coordinator).await;
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/console/requests/{unknown}"),
        "/console/requests/not-a-uuid".to_owned(),
    ] {
        let page = console.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        page.assert_shows("bestaat niet");
    }
    let before = app.table_counts();
    for path in [
        format!("/console/requests/{unknown}/propose"),
        "/console/requests/not-a-uuid/propose".to_owned(),
        "/console/requests/not-a-uuid/exclude".to_owned(),
    ] {
        let page = console
            .post(
                &path,
                &[("buddy_id", &unknown.to_string()), ("reason", "x")],
            )
            .await;
        assert_eq!(page.status, 404, "{path}: {}", page.plain());
    }
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let console = app.console(StaffRole::Coordinator).await;
    let before = app.table_counts();
    for action in ["propose", "exclude", "include"] {
        let refused = console
            .post_raw(
                &format!("/console/requests/{request}/{action}"),
                &[("buddy_id", &buddy), ("reason", "x")],
            )
            .await;
        assert_eq!(refused.status, 403, "{action}");
        refused.assert_shows("Er is niets gewijzigd");
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
        "open"
    );
}
