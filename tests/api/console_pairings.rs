//! The console's pairings: the board by state with the time in each state, one pairing with
//! its history and the actions its state allows, activating, cancelling and ending with the
//! evaluation (through the API's operations), the refusals of what a state does not allow
//! (explained, nothing stored), the end form's validation, and the CSV export.

use chrono::Duration;
use maatje::auth::StaffRole;

use crate::fixtures::{organisation, pairing_in, state_of};
use crate::helpers::*;

/// A field's error without its hidden "Fout:" prefix.
fn stripped(error: Option<String>) -> Option<String> {
    error.map(|e| e.trim_start_matches("Fout:").trim().to_owned())
}

async fn records_of(app: &TestApp, route: &str) -> Vec<serde_json::Value> {
    app.audit_records_where("object_type=pairing")
        .await
        .into_iter()
        .filter(|r| r["route"] == route)
        .collect()
}

#[tokio::test]
async fn the_board_shows_each_state_with_links_and_the_time_in_it() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (proposed, request, buddy) = pairing_in(&app, &org, "proposed", 1).await;
    app.clock.advance(Duration::hours(3));
    let (accepted, _, _) = pairing_in(&app, &org, "accepted", 2).await;
    let (active, _, _) = pairing_in(&app, &org, "active", 3).await;
    let (ended, _, _) = pairing_in(&app, &org, "ended", 4).await;
    app.clock.advance(Duration::days(2));
    let console = app.console(StaffRole::Coordinator).await;
    let board = console.get("/console/pairings").await;
    assert_eq!(board.status, 200, "{}", board.plain());
    board.assert_shows("Koppelingen");
    for column in [
        "Voorgesteld (1)",
        "Geaccepteerd (1)",
        "Actief (1)",
        "Recent afgelopen (1)",
    ] {
        board.assert_shows(column);
    }
    for id in [&proposed, &accepted, &active, &ended] {
        assert!(
            board.text.contains(&format!("/console/pairings/{id}\"")),
            "{id}"
        );
    }
    assert!(board
        .text
        .contains(&format!("/console/requests/{request}\"")));
    assert!(board.text.contains(&format!("/console/buddies/{buddy}\"")));
    board.assert_shows("CASE-1");
    board.assert_shows("Buddy Voorbeeld 1");
    board.assert_shows("voorgesteld sinds 2 dagen");
    board.assert_shows("beëindigd sinds 2 dagen");
    // Only an accepted pairing can be activated; accepted and active ones ended.
    assert_eq!(board.text.matches("/activate\"").count(), 1);
    assert_eq!(board.text.matches("/end\"").count(), 2);

    let records = records_of(&app, "GET /console/pairings").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["action"], "search");
    assert_eq!(records[0]["actor"]["type"], "staff");

    // What ended more than 30 days ago leaves the board.
    app.clock.advance(Duration::days(31));
    let console = app.console(StaffRole::Coordinator).await;
    let later = console.get("/console/pairings").await;
    later.assert_shows("Recent afgelopen (0)");

    console.get("/console/language?to=en&back=/console").await;
    let english = console.get("/console/pairings").await;
    english.assert_shows("Pairings");
    english.assert_shows("Proposed (1)");
}

#[tokio::test]
async fn an_accepted_pairing_is_activated_from_the_board() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = pairing_in(&app, &org, "accepted", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let done = console
        .post(
            &format!("/console/pairings/{pairing}/activate"),
            &[("back", "board")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(done.location(), "/console/pairings?done=activated");
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{pairing}")).await,
        "active"
    );
    console
        .get(done.location())
        .await
        .assert_shows("De koppeling is actief.");
    let records = records_of(&app, "POST /console/pairings/{id}/activate").await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["action"], "update");
    assert_eq!(records[0]["actor"]["type"], "staff");
    assert_eq!(records[0]["client_ref"], "CASE-1");
    assert_eq!(records[0]["object_id"], pairing);
}

#[tokio::test]
async fn illegal_moves_are_explained_and_change_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (proposed, _, _) = pairing_in(&app, &org, "proposed", 1).await;
    let (cancelled, _, _) = pairing_in(&app, &org, "cancelled", 2).await;
    let (ended, _, _) = pairing_in(&app, &org, "ended", 3).await;
    let console = app.console(StaffRole::Coordinator).await;
    let before = app.table_counts();

    let refused = console
        .post(&format!("/console/pairings/{proposed}/activate"), &[])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    refused.assert_shows("Dit kan niet: de koppeling heeft de status ‘voorgesteld’, en dan kan ‘activeren’ niet meer.");
    refused.assert_shows("Het voorstel wacht op het antwoord van het maatje.");

    let refused = console
        .post(
            &format!("/console/pairings/{cancelled}/end"),
            &[("reason", "goal_reached"), ("client_score", "4")],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    refused.assert_shows("‘geannuleerd’");
    refused.assert_shows("Dit voorstel is geannuleerd");
    assert!(!refused
        .text
        .contains("method=\"post\" action=\"/console/pairings"));

    for action in ["cancel", "accept", "decline", "activate"] {
        let refused = console
            .post(&format!("/console/pairings/{ended}/{action}"), &[])
            .await;
        assert_eq!(refused.status, 409, "{action}");
        refused.assert_shows("‘beëindigd’");
    }
    assert_eq!(app.table_counts(), before, "nothing stored");

    // The pages do not offer them either.
    let page = console.get(&format!("/console/pairings/{cancelled}")).await;
    assert_eq!(page.status, 200);
    page.assert_shows("Dit voorstel is geannuleerd; er kan niets meer aan worden gewijzigd.");
    assert!(!page
        .text
        .contains("<form method=\"post\" action=\"/console/pairings/"));
    let form = console
        .get(&format!("/console/pairings/{cancelled}/end"))
        .await;
    assert_eq!(form.status, 200);
    assert!(!form.text.contains("name=\"reason\""));
    form.assert_shows("Dit voorstel is geannuleerd");
}

#[tokio::test]
async fn a_proposal_is_cancelled_with_a_reason_and_its_request_opens_again() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, _) = pairing_in(&app, &org, "proposed", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get(&format!("/console/pairings/{pairing}")).await;
    page.assert_shows("Voorstel annuleren");
    page.assert_shows("Accepteren namens het maatje");
    let before = app.table_counts();
    let long = "y".repeat(501);
    let refused = console
        .post(
            &format!("/console/pairings/{pairing}/cancel"),
            &[("reason", &long)],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        stripped(refused.field_error("reason")).as_deref(),
        Some("Maximaal 500 tekens.")
    );
    assert!(refused.text.contains(&long), "the reason is shown again");
    assert_eq!(app.table_counts(), before);

    let done = console
        .post(
            &format!("/console/pairings/{pairing}/cancel"),
            &[("reason", "Verkeerd maatje gekozen")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{pairing}")).await,
        "cancelled"
    );
    assert_eq!(
        state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
        "open"
    );
    let page = console.get(done.location()).await;
    page.assert_shows("Het voorstel is geannuleerd");
    page.assert_shows("Verkeerd maatje gekozen");
    page.assert_shows("geannuleerd");
}

#[tokio::test]
async fn ending_records_the_evaluation() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, _) = pairing_in(&app, &org, "active", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let form = console
        .get(&format!("/console/pairings/{pairing}/end"))
        .await;
    assert_eq!(form.status, 200, "{}", form.plain());
    form.assert_shows("Koppeling beëindigen");
    form.assert_shows("Doel bereikt");
    let done = console
        .post(
            &format!("/console/pairings/{pairing}/end"),
            &[
                ("reason", "goal_reached"),
                ("note", "Klaar."),
                ("client_score", "5"),
                ("buddy_score", "4"),
                ("comment", "Goed contact."),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(
        done.location(),
        format!("/console/pairings/{pairing}?done=ended")
    );
    let stored = app.get(&format!("/v1/pairings/{pairing}")).await.body;
    assert_eq!(stored["state"], "ended");
    assert_eq!(stored["end_reason"], "goal_reached");
    assert_eq!(stored["end_note"], "Klaar.");
    assert_eq!(stored["evaluation"]["client_score"], 5);
    assert_eq!(stored["evaluation"]["buddy_score"], 4);
    assert_eq!(stored["evaluation"]["comment"], "Goed contact.");
    assert_eq!(
        state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
        "closed"
    );
    let page = console.get(done.location()).await;
    page.assert_shows("De koppeling is beëindigd");
    page.assert_shows("Doel bereikt");
    page.assert_shows("Goed contact.");
    let records = records_of(&app, "POST /console/pairings/{id}/end").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["actor"]["type"], "staff");
}

#[tokio::test]
async fn a_bad_end_form_is_shown_again_with_its_values_and_errors() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = pairing_in(&app, &org, "accepted", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let path = format!("/console/pairings/{pairing}/end");
    let before = app.table_counts();
    let long = "z".repeat(2001);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("reason", ""), ("client_score", "4")], "reason"),
        (vec![("reason", "bored"), ("client_score", "4")], "reason"),
        (
            vec![("reason", "other"), ("client_score", "0")],
            "client_score",
        ),
        (
            vec![("reason", "other"), ("client_score", "6")],
            "client_score",
        ),
        (
            vec![("reason", "other"), ("buddy_score", "abc")],
            "buddy_score",
        ),
        (vec![("reason", "other"), ("comment", &long)], "comment"),
        (vec![("reason", "other"), ("note", &long)], "note"),
    ];
    for (fields, field) in cases {
        let refused = console.post(&path, &fields).await;
        assert_eq!(refused.status, 422, "{fields:?}: {}", refused.plain());
        assert!(
            stripped(refused.field_error(field)).is_some(),
            "{field} has no error: {}",
            refused.plain()
        );
        refused.assert_shows("Het formulier is niet opgeslagen");
        for (name, value) in &fields {
            if *name == "reason" {
                if !value.is_empty() && *value != "bored" {
                    assert!(refused
                        .text
                        .contains(&format!("<option value=\"{value}\" selected>")));
                }
            } else if *name == "comment" || *name == "note" {
                assert!(refused.text.contains(value));
            } else {
                assert_eq!(refused.input_value(name).as_deref(), Some(*value));
            }
        }
    }
    let refused = console
        .post(&path, &[("reason", "other"), ("client_score", "0")])
        .await;
    assert_eq!(
        stripped(refused.field_error("client_score")).as_deref(),
        Some("Vul een heel getal in van 1 tot en met 5.")
    );
    assert_eq!(app.table_counts(), before, "nothing stored");
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{pairing}")).await,
        "accepted"
    );
}

#[tokio::test]
async fn the_pairing_page_shows_dates_history_and_allowed_actions() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, buddy) = pairing_in(&app, &org, "accepted", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get(&format!("/console/pairings/{pairing}")).await;
    assert_eq!(page.status, 200, "{}", page.plain());
    page.assert_shows("Koppeling CASE-1 met Buddy Voorbeeld 1");
    page.assert_shows("geaccepteerd sinds");
    page.assert_shows("Beantwoord op");
    page.assert_shows("Kennismaking gehad: activeren");
    assert!(!page.plain().contains("Voorstel annuleren"));
    assert!(page
        .text
        .contains(&format!("/console/requests/{request}\"")));
    assert!(page.text.contains(&format!("/console/buddies/{buddy}\"")));
    // History: proposed, then accepted.
    page.assert_shows("voorgesteld");
    page.assert_shows("geaccepteerd");
    let records = records_of(&app, "GET /console/pairings/{id}").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["action"], "read");
    assert_eq!(records[0]["client_ref"], "CASE-1");
}

#[tokio::test]
async fn the_export_lists_the_pairings_and_is_audited() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = pairing_in(&app, &org, "ended", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let csv = console.get("/console/pairings.csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"pairings.csv\"")
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(lines[0].starts_with("id,request_id,client_ref,buddy_id,buddy_name,state"));
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with(&pairing));
    assert!(lines[1].contains("ended") && lines[1].contains("goal_reached"));
    let records = records_of(&app, "GET /console/pairings.csv").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["action"], "export");
}

#[tokio::test]
async fn unknown_ids_malformed_ids_and_forms_without_csrf() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = pairing_in(&app, &org, "accepted", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/console/pairings/{unknown}"),
        format!("/console/pairings/{unknown}/end"),
        "/console/pairings/nope".to_owned(),
        "/console/pairings/nope/end".to_owned(),
    ] {
        let page = console.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        page.assert_shows("bestaat niet");
    }
    let before = app.table_counts();
    for path in [
        format!("/console/pairings/{unknown}/activate"),
        format!("/console/pairings/{unknown}/end"),
        "/console/pairings/nope/activate".to_owned(),
        "/console/pairings/nope/end".to_owned(),
    ] {
        let page = console.post(&path, &[("reason", "goal_reached")]).await;
        assert_eq!(page.status, 404, "{path}: {}", page.plain());
    }
    for action in ["activate", "end", "cancel", "accept", "decline"] {
        let refused = console
            .post_raw(
                &format!("/console/pairings/{pairing}/{action}"),
                &[("reason", "goal_reached")],
            )
            .await;
        assert_eq!(refused.status, 403, "{action}");
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{pairing}")).await,
        "accepted"
    );
}
