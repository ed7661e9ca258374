//! The console's buddies: the list with its filters and CSV export, a buddy's page with the
//! screening checklist, the screening and profile forms, the lifecycle actions (each refused
//! one explained, nothing stored), adding a buddy directly, and their audit records.

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

/// A fresh id no buddy has.
fn unknown_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn patch(app: &TestApp, id: &str, body: serde_json::Value) {
    let response = app.patch_json(&format!("/v1/buddies/{id}"), &body).await;
    assert_eq!(response.status, 200, "{}", response.text);
}

/// A buddy in `screening` without any screening date.
async fn in_screening(app: &TestApp, org: &str, n: u32) -> String {
    let id = candidate(app, org, n).await;
    act(app, &format!("/v1/buddies/{id}/start-screening")).await;
    id
}

#[tokio::test]
async fn the_list_filters_by_state_region_language_and_free_capacity() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let candidate_id = candidate(&app, &org, 1).await;
    // Full: capacity 1, one proposal waiting.
    let (_, _, full) = pairing_in(&app, &org, "proposed", 2).await;
    // Free: capacity 2, no pairing, elsewhere, speaking Arabic.
    let free = active_buddy(&app, &org, 3, 2).await;
    patch(
        &app,
        &free,
        json!({ "region": "Amersfoort", "languages": ["ar", "nl"] }),
    )
    .await;
    let console = app.console(StaffRole::Coordinator).await;

    let names = |page: &str| -> Vec<u32> {
        (1..=3)
            .filter(|n| page.contains(&format!("Buddy Voorbeeld {n}")))
            .collect()
    };
    let all = console.get("/console/buddies").await;
    assert_eq!(all.status, 200, "{}", all.plain());
    assert_eq!(names(&all.plain()), [1, 2, 3]);
    all.assert_shows("Nederlands, Engels");
    all.assert_shows("Arabisch, Nederlands");
    all.assert_shows("1 van 1 vol");
    all.assert_shows("0 van 2");
    assert!(all
        .text
        .contains(&format!("href=\"/console/buddies/{candidate_id}\"")));
    assert!(all
        .text
        .contains(&format!("href=\"/console/buddies/{full}\"")));

    for (query, expected) in [
        ("state=active", vec![2, 3]),
        ("state=candidate", vec![1]),
        ("region=Amersfoort", vec![3]),
        ("language=ar", vec![3]),
        ("language=en", vec![1, 2]),
        ("free=no", vec![2]),
        ("free=yes", vec![1, 3]),
        ("state=active&free=yes&language=nl", vec![3]),
        ("state=paused", vec![]),
    ] {
        let page = console.get(&format!("/console/buddies?{query}")).await;
        assert_eq!(page.status, 200, "{query}: {}", page.plain());
        assert_eq!(names(&page.plain()), expected, "{query}");
        // The export link keeps the filters.
        assert!(
            html(&page.text).contains("href=\"/console/buddies.csv?"),
            "{query}"
        );
    }
    let chosen = console.get("/console/buddies?language=ar&free=yes").await;
    assert!(chosen
        .text
        .contains("<option value=\"ar\" selected>Arabisch</option>"));
    assert!(chosen.text.contains("<option value=\"yes\" selected>"));

    // A filter that is none of the choices is said so at its field, and not applied.
    let bad = console
        .get("/console/buddies?state=asleep&language=xx&free=maybe")
        .await;
    assert_eq!(bad.status, 422);
    for field in ["state", "language", "free"] {
        assert_eq!(
            bad.field_error(field).map(squash).as_deref(),
            Some("Kies een van de mogelijkheden."),
            "{field}"
        );
    }
    assert_eq!(names(&bad.plain()), [1, 2, 3]);
    // The export of a bad filter: back to the list, which says what is wrong.
    let csv = console.get("/console/buddies.csv?free=maybe").await;
    assert_eq!(csv.status, 303);
    assert_eq!(csv.location(), "/console/buddies?free=maybe");

    // In English, languages by their English names.
    console
        .get("/console/language?to=en&back=/console/buddies")
        .await;
    let english = console.get("/console/buddies").await;
    english.assert_shows("Buddies");
    english.assert_shows("Dutch, English");
    english.assert_shows("Arabic, Dutch");
}

#[tokio::test]
async fn the_list_is_paged() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for n in 1..=52 {
        candidate(&app, &org, n).await;
    }
    let console = app.console(StaffRole::Coordinator).await;
    let first = console.get("/console/buddies?state=candidate").await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.text.matches("<tr>").count(),
        51,
        "a header and 50 lines"
    );
    let next = first
        .text
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .map(|s| html(s.split('"').next().unwrap()))
        .expect("a next page link");
    assert!(
        next.starts_with("/console/buddies?state=candidate&cursor="),
        "{next}"
    );
    let second = console.get(&next).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.text.matches("<tr>").count(), 3);
    assert!(!second.text.contains("rel=\"next\""));
    // A forged cursor: the first page, said so.
    let forged = console.get("/console/buddies?cursor=nonsense").await;
    assert_eq!(forged.status, 200);
    forged.assert_shows("Die pagina bestaat niet meer");
}

#[tokio::test]
async fn the_csv_export_holds_the_filtered_list_guarded_and_is_audited_as_an_export() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let mut body = profile(1);
    body["organisation_id"] = json!(org);
    body["name"] = json!("=HYPERLINK(\"https://evil.example\",\"klik\")");
    body["region"] = json!("@Utrecht, Noord");
    let response = app.post_json("/v1/buddies", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    let tricky = id_of(&response.body);
    let active = active_buddy(&app, &org, 2, 2).await;
    let console = app.console(StaffRole::Coordinator).await;

    let csv = console.get("/console/buddies.csv?state=candidate").await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"maatjes.csv\"")
    );
    let lines: Vec<&str> = csv.text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,name,state,region,languages,live_pairings,capacity,free_capacity"
    );
    assert_eq!(
        lines[1],
        format!(
            "{tricky},\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"klik\"\")\",candidate,\"'@Utrecht, Noord\",Nederlands; Engels,0,1,yes"
        )
    );
    assert_eq!(
        lines.len(),
        3,
        "one buddy and the final line end: {lines:?}"
    );
    assert!(!csv.text.contains(&active));

    let all = console.get("/console/buddies.csv").await;
    assert!(all.text.contains(&active) && all.text.contains(&tricky));

    let records = app.audit_records_where("object_type=buddy").await;
    let export = records
        .iter()
        .find(|r| r["route"] == "GET /console/buddies.csv")
        .expect("the export is recorded");
    assert_eq!(export["action"], "export");
    assert_eq!(export["actor"]["type"], "staff");
    assert_eq!(export["outcome"], "allowed");
    let search = records
        .iter()
        .find(|r| r["route"] == "GET /console/buddies")
        .is_none();
    assert!(search, "no list was shown in this test");
}

#[tokio::test]
async fn a_buddy_page_shows_profile_checklist_pairings_and_history_and_is_audited() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, buddy) = pairing_in(&app, &org, "active", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get(&format!("/console/buddies/{buddy}")).await;
    assert_eq!(page.status, 200, "{}", page.plain());
    for shown in [
        "Buddy Voorbeeld 1",
        "buddy1@example.org",
        "+31 6 1234 5678",
        "Nederlands, Engels",
        "Utrecht",
        "Ondertoezichtstelling",
        "school",
        "Gecertificeerde Instelling Test",
        "1 van 1",
        "actief",
        // The checklist: each requirement with its date.
        "VOG (verklaring omtrent het gedrag): ✓ aanwezig Afgegeven op 1 okt 2026; telt voor activering tot en met 1 jan 2027.",
        "Training: ✓ aanwezig Afgerond op 10 nov 2026.",
        "Vrijwilligersovereenkomst: ✓ aanwezig Getekend op 12 nov 2026.",
        "Aan alle eisen voor activering is voldaan.",
        // The history, oldest first.
        "aanmaken",
        "kandidaat → in screening",
        "in screening → actief",
    ] {
        page.assert_shows(shown);
    }
    assert!(page
        .text
        .contains(&format!("href=\"/console/pairings/{pairing}\"")));
    assert!(page
        .text
        .contains(&format!("href=\"/console/requests/{request}\"")));
    // Active: pause and retire are offered; retiring waits for the running pairing.
    for action in ["pause", "retire"] {
        assert!(page
            .text
            .contains(&format!("action=\"/console/buddies/{buddy}/{action}\"")));
    }
    for action in ["start-screening", "activate", "resume"] {
        assert!(!page
            .text
            .contains(&format!("action=\"/console/buddies/{buddy}/{action}\"")));
    }
    page.assert_shows(
        "Laten stoppen kan pas als geen koppeling meer geaccepteerd of actief is (1 nu).",
    );
    assert_eq!(
        page.input_value("vog_issued_on").as_deref(),
        Some(VOG_ISSUED_ON)
    );
    assert_eq!(page.input_value("capacity").as_deref(), Some("1"));

    let records = app.audit_records_where("object_type=buddy").await;
    let read = records
        .iter()
        .find(|r| r["route"] == "GET /console/buddies/{id}")
        .expect("the page's read is recorded");
    assert_eq!(read["action"], "read");
    assert_eq!(read["actor"]["type"], "staff");
    assert_eq!(read["object_id"], buddy.as_str());

    // In English too.
    console
        .get(&format!(
            "/console/language?to=en&back=/console/buddies/{buddy}"
        ))
        .await;
    let english = console.get(&format!("/console/buddies/{buddy}")).await;
    english.assert_shows("Issued on 1 Oct 2026; counts for activation until 1 Jan 2027.");
    english.assert_shows("Supervision order");
    english.assert_shows("Dutch, English");
}

#[tokio::test]
async fn activation_without_a_vog_is_refused_before_and_after_the_button_naming_what_is_missing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = candidate(&app, &org, 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let path = format!("/console/buddies/{buddy}");

    // A candidate: the checklist already says what is missing; activating is not offered, and
    // posting it anyway explains the state.
    let page = console.get(&path).await;
    page.assert_shows(
        "VOG (verklaring omtrent het gedrag): ✗ ontbreekt Er is geen VOG vastgelegd.",
    );
    page.assert_shows("Activeren kan nog niet:");
    assert!(!page.text.contains(&format!("action=\"{path}/activate\"")));
    let before = app.table_counts();
    let refused = console.post(&format!("{path}/activate"), &[]).await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    refused.assert_shows(
        "Dit kan niet: het maatje heeft de status ‘kandidaat’, en dan kan ‘activeren’ niet meer.",
    );
    refused.assert_shows("Er is geen VOG vastgelegd.");
    assert_eq!(app.table_counts(), before);

    // Screening started from the console.
    let started = console.post(&format!("{path}/start-screening"), &[]).await;
    assert_eq!(started.status, 303, "{}", started.plain());
    assert_eq!(started.location(), format!("{path}?done=start-screening"));
    let page = console.get(started.location()).await;
    page.assert_shows("De screening is gestart.");
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "screening"
    );
    // The button is there, disabled, with the reasons.
    assert!(page.text.contains(
        "<button type=\"submit\" disabled aria-describedby=\"activation-blocked\">Activeren</button>"
    ));
    page.assert_shows("Activeren kan nog niet: Er is geen VOG vastgelegd. De training is niet afgerond. De vrijwilligersovereenkomst is niet getekend.");

    // Training and agreement done, the VOG still missing: posting anyway is refused by the
    // operation, the page names the VOG, and nothing changes.
    patch(
        &app,
        &buddy,
        json!({ "training_completed_on": TRAINED_ON, "agreement_signed_on": SIGNED_ON }),
    )
    .await;
    let before = app.table_counts();
    let refused = console.post(&format!("{path}/activate"), &[]).await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    refused.assert_shows(
        "Activeren is geweigerd: niet aan alle eisen is voldaan. Er is niets gewijzigd.",
    );
    refused.assert_shows("Er is geen VOG vastgelegd.");
    assert!(!refused.plain().contains("De training is niet afgerond"));
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "screening"
    );

    // A VOG too old: said so, with the dates.
    patch(&app, &buddy, json!({ "vog_issued_on": "2026-08-01" })).await;
    let before = app.table_counts();
    let page = console.get(&path).await;
    page.assert_shows("✗ te oud De VOG is afgegeven op 1 aug 2026, meer dan 3 maanden geleden (hij moet op of na 22 aug 2026 zijn afgegeven); er is een nieuwe nodig.");
    let refused = console.post(&format!("{path}/activate"), &[]).await;
    assert_eq!(refused.status, 409);
    assert_eq!(app.table_counts(), before);

    // The API says the same, in its own (unchanged) words.
    let api = app
        .post_empty(&format!("/v1/buddies/{buddy}/activate"))
        .await;
    assert_eq!(api.status, 409);
    assert!(api.body["detail"]
        .as_str()
        .unwrap()
        .contains("vog_issued_on: the VOG was issued on 2026-08-01, more than 3 months ago; a new one is needed"));
}

#[tokio::test]
async fn the_screening_form_records_dates_refuses_bad_ones_and_then_activation_works() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = in_screening(&app, &org, 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let path = format!("/console/buddies/{buddy}");

    let before = app.table_counts();
    let refused = console
        .post(
            &path,
            &[
                ("section", "screening"),
                ("vog_issued_on", "2026-11-01"),
                ("training_completed_on", "abc"),
                ("agreement_signed_on", "2026-11-23"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.plain());
    refused.assert_shows("Het formulier is niet opgeslagen.");
    assert_eq!(refused.field_error("vog_issued_on").map(squash), None);
    assert_eq!(
        refused
            .field_error("training_completed_on")
            .map(squash)
            .as_deref(),
        Some("Vul een datum in (dd-mm-jjjj).")
    );
    assert_eq!(
        refused
            .field_error("agreement_signed_on")
            .map(squash)
            .as_deref(),
        Some("mag niet in de toekomst liggen")
    );
    assert_eq!(
        refused.input_value("vog_issued_on").as_deref(),
        Some("2026-11-01")
    );
    assert_eq!(
        refused.input_value("training_completed_on").as_deref(),
        Some("abc")
    );
    assert_eq!(
        refused.input_value("agreement_signed_on").as_deref(),
        Some("2026-11-23")
    );
    assert_eq!(app.table_counts(), before, "nothing stored");

    let saved = console
        .post(
            &path,
            &[
                ("section", "screening"),
                ("vog_issued_on", "2026-11-01"),
                ("training_completed_on", TRAINED_ON),
                ("agreement_signed_on", SIGNED_ON),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.plain());
    assert_eq!(saved.location(), format!("{path}?done=saved"));
    let api = app.get(&format!("/v1/buddies/{buddy}")).await;
    assert_eq!(api.body["vog_issued_on"], "2026-11-01");
    assert_eq!(api.body["training_completed_on"], TRAINED_ON);
    assert_eq!(api.body["agreement_signed_on"], SIGNED_ON);
    let page = console.get(saved.location()).await;
    page.assert_shows("De wijzigingen zijn opgeslagen.");
    page.assert_shows("Aan alle eisen voor activering is voldaan.");
    assert!(page
        .text
        .contains("<button type=\"submit\">Activeren</button>"));

    // The same again: nothing to save, nothing stored.
    let counts = app.table_counts();
    let same = console
        .post(
            &path,
            &[
                ("section", "screening"),
                ("vog_issued_on", "2026-11-01"),
                ("training_completed_on", TRAINED_ON),
                ("agreement_signed_on", SIGNED_ON),
            ],
        )
        .await;
    assert_eq!(same.location(), format!("{path}?done=unchanged"));
    assert_eq!(app.table_counts(), counts);

    let activated = console.post(&format!("{path}/activate"), &[]).await;
    assert_eq!(activated.status, 303, "{}", activated.plain());
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "active"
    );
    console
        .get(activated.location())
        .await
        .assert_shows("Het maatje is actief en kan worden voorgesteld.");

    // Clearing a date is recorded as a change of that field only.
    let cleared = console
        .post(
            &path,
            &[
                ("section", "screening"),
                ("vog_issued_on", "2026-11-01"),
                ("training_completed_on", TRAINED_ON),
                ("agreement_signed_on", ""),
            ],
        )
        .await;
    assert_eq!(cleared.status, 303);
    let api = app.get(&format!("/v1/buddies/{buddy}")).await;
    assert!(api.body.get("agreement_signed_on").is_none());
    let history = app.history(&format!("/v1/buddies/{buddy}")).await;
    assert_eq!(
        history.last().unwrap()["reason"],
        "changed: agreement_signed_on"
    );
}

#[tokio::test]
async fn the_profile_form_changes_what_the_patch_allows_and_reshows_bad_input() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = candidate(&app, &org, 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let path = format!("/console/buddies/{buddy}");
    let long = "x".repeat(201);
    let before = app.table_counts();
    for (capacity, message) in [
        ("abc", "Vul een heel getal in van 1 tot en met 10."),
        ("11", "Vul een heel getal in van 1 tot en met 10."),
        ("0", "Vul een heel getal in van 1 tot en met 10."),
    ] {
        let refused = console
            .post(
                &path,
                &[
                    ("section", "profile"),
                    ("name", &long),
                    ("email", "not-an-address"),
                    ("phone", ""),
                    ("mail_language", "nl"),
                    ("languages", "nl"),
                    ("region", ""),
                    ("topics", "school"),
                    ("capacity", capacity),
                ],
            )
            .await;
        assert_eq!(refused.status, 422, "{}", refused.plain());
        assert_eq!(
            refused.field_error("capacity").map(squash).as_deref(),
            Some(message)
        );
        assert_eq!(
            refused.field_error("name").map(squash).as_deref(),
            Some("Maximaal 200 tekens.")
        );
        assert_eq!(
            refused.field_error("email").map(squash).as_deref(),
            Some("moet een e-mailadres zijn, zoals naam@voorbeeld.nl")
        );
        assert_eq!(
            refused.field_error("region").map(squash).as_deref(),
            Some("Vul dit veld in.")
        );
        // What was entered is shown again.
        assert_eq!(refused.input_value("name").as_deref(), Some(long.as_str()));
        assert_eq!(
            refused.input_value("email").as_deref(),
            Some("not-an-address")
        );
        assert_eq!(refused.input_value("capacity").as_deref(), Some(capacity));
        assert!(refused.text.contains("aria-invalid=\"true\""));
    }
    // No language chosen.
    let refused = console
        .post(
            &path,
            &[
                ("section", "profile"),
                ("name", "Sam"),
                ("email", "sam@example.org"),
                ("mail_language", "nl"),
                ("region", "Utrecht"),
                ("capacity", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.field_error("languages").map(squash).as_deref(),
        Some("Vul dit veld in.")
    );
    assert_eq!(app.table_counts(), before, "nothing stored");

    let saved = console
        .post(
            &path,
            &[
                ("section", "profile"),
                ("name", "Buddy Voorbeeld 1"),
                ("email", "buddy1@example.org"),
                ("phone", "+31 6 1234 5678"),
                ("mail_language", "en"),
                ("languages", "nl"),
                ("languages", "ar"),
                ("region", "Amersfoort"),
                ("experience", "supervision_order"),
                ("experience", "guardianship"),
                ("topics", "school, sport"),
                ("capacity", "3"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.plain());
    let api = app.get(&format!("/v1/buddies/{buddy}")).await;
    assert_eq!(api.body["region"], "Amersfoort");
    assert_eq!(api.body["languages"], json!(["nl", "ar"]));
    assert_eq!(api.body["mail_language"], "en");
    assert_eq!(
        api.body["experience"],
        json!(["supervision_order", "guardianship"])
    );
    assert_eq!(api.body["topics"], json!(["school", "sport"]));
    assert_eq!(api.body["capacity"], 3);
    let history = app.history(&format!("/v1/buddies/{buddy}")).await;
    assert_eq!(
        history.last().unwrap()["reason"],
        "changed: mail_language, languages, region, experience, topics, capacity"
    );
    assert_eq!(history.last().unwrap()["actor"]["type"], "staff");
    let records = app.audit_records_where("object_type=buddy").await;
    let update = records
        .iter()
        .find(|r| r["route"] == "POST /console/buddies/{id}" && r["outcome"] == "allowed")
        .expect("the change is recorded");
    assert_eq!(update["action"], "update");
    assert_eq!(update["actor"]["type"], "staff");
    assert_eq!(update["object_id"], buddy.as_str());
}

#[tokio::test]
async fn illegal_transitions_explain_the_state_and_store_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let path = format!("/console/buddies/{buddy}");

    // Resume an active buddy.
    let before = app.table_counts();
    let refused = console.post(&format!("{path}/resume"), &[]).await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    refused.assert_shows(
        "Dit kan niet: het maatje heeft de status ‘actief’, en dan kan ‘hervatten’ niet meer.",
    );
    assert_eq!(app.table_counts(), before);

    // Pause with a reason, resume: both offered only where they apply.
    let paused = console
        .post(&format!("{path}/pause"), &[("reason", "Op vakantie")])
        .await;
    assert_eq!(paused.status, 303, "{}", paused.plain());
    let page = console.get(paused.location()).await;
    page.assert_shows("Het maatje is gepauzeerd.");
    page.assert_shows("Op vakantie");
    assert!(page.text.contains(&format!("action=\"{path}/resume\"")));
    assert!(!page.text.contains(&format!("action=\"{path}/pause\"")));
    let resumed = console.post(&format!("{path}/resume"), &[]).await;
    assert_eq!(resumed.status, 303);
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "active"
    );

    // A reason too long is shown again at the retire form; nothing changes.
    let before = app.table_counts();
    let long = "r".repeat(501);
    let refused = console
        .post(&format!("{path}/retire"), &[("reason", &long)])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.plain());
    assert_eq!(
        refused.field_error("reason-retire").map(squash).as_deref(),
        Some("Maximaal 500 tekens.")
    );
    assert_eq!(
        refused.input_value("reason").as_deref().map(str::len),
        Some(0)
    );
    assert!(refused.text.contains(&format!("value=\"{long}\"")));
    assert_eq!(app.table_counts(), before);

    // Retire, then retire again.
    let retired = console
        .post(&format!("{path}/retire"), &[("reason", "Verhuisd")])
        .await;
    assert_eq!(retired.status, 303);
    let page = console.get(retired.location()).await;
    page.assert_shows("Het maatje is gestopt.");
    page.assert_shows("Dit maatje is gestopt; er zijn geen acties meer mogelijk.");
    assert!(!page.text.contains(&format!("action=\"{path}/retire\"")));
    let before = app.table_counts();
    let again = console.post(&format!("{path}/retire"), &[]).await;
    assert_eq!(again.status, 409);
    again.assert_shows(
        "Dit kan niet: het maatje heeft de status ‘gestopt’, en dan kan ‘laten stoppen’ niet meer.",
    );
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        history_actions(&app, &format!("/v1/buddies/{buddy}")).await,
        [
            "create",
            "start-screening",
            "update",
            "activate",
            "pause",
            "resume",
            "retire"
        ]
    );
}

#[tokio::test]
async fn retiring_a_buddy_with_a_running_pairing_is_refused_and_explained() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, _, buddy) = pairing_in(&app, &org, "accepted", 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let before = app.table_counts();
    let refused = console
        .post(&format!("/console/buddies/{buddy}/retire"), &[])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    refused.assert_shows(
        "Laten stoppen is geweigerd: er loopt nog een geaccepteerde of actieve koppeling.",
    );
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found_pages() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let unknown = unknown_id();
    for path in [
        format!("/console/buddies/{unknown}"),
        "/console/buddies/abc".to_owned(),
        "/console/buddies/12345678-1234-1234-1234-1234567890zz".to_owned(),
    ] {
        let page = console.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.plain());
        page.assert_shows("bestaat niet (meer)");
    }
    let before = app.table_counts();
    for path in [
        format!("/console/buddies/{unknown}/activate"),
        "/console/buddies/abc/retire".to_owned(),
    ] {
        let page = console.post(&path, &[]).await;
        assert_eq!(page.status, 404, "{path}: {}", page.plain());
    }
    let page = console
        .post(
            &format!("/console/buddies/{unknown}"),
            &[("section", "screening")],
        )
        .await;
    assert_eq!(page.status, 404);
    assert_eq!(app.table_counts(), before);
    let _ = org;
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = candidate(&app, &org, 1).await;
    let console = app.console(StaffRole::Coordinator).await;
    let before = app.table_counts();
    for (path, fields) in [
        (format!("/console/buddies/{buddy}/start-screening"), vec![]),
        (
            format!("/console/buddies/{buddy}/retire"),
            vec![("reason", "x")],
        ),
        (
            format!("/console/buddies/{buddy}"),
            vec![("section", "profile"), ("region", "Elders")],
        ),
        (
            "/console/buddies/new".to_owned(),
            vec![("organisation_id", org.as_str()), ("name", "X")],
        ),
    ] {
        let refused = console.post_raw(&path, &fields).await;
        assert_eq!(refused.status, 403, "{path}");
        refused.assert_shows("Er is niets gewijzigd");
        let mut forged = fields.clone();
        forged.push(("_csrf", "0123456789abcdef"));
        assert_eq!(console.post_raw(&path, &forged).await.status, 403, "{path}");
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "candidate"
    );
}

#[tokio::test]
async fn a_buddy_is_added_directly_as_a_candidate() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let form = console.get("/console/buddies/new").await;
    assert_eq!(form.status, 200, "{}", form.plain());
    form.assert_shows("Gecertificeerde Instelling Test");
    assert!(form.text.contains(&format!("<option value=\"{org}\">")));

    let before = app.table_counts();
    let refused = console
        .post(
            "/console/buddies/new",
            &[
                ("organisation_id", ""),
                ("name", "Sam de Vries"),
                ("email", "sam@example.org"),
                ("mail_language", "nl"),
                ("languages", "nl"),
                ("region", "Utrecht"),
                ("capacity", "12"),
                ("vog_issued_on", "2027-01-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.plain());
    assert_eq!(
        refused
            .field_error("organisation_id")
            .map(squash)
            .as_deref(),
        Some("Vul dit veld in.")
    );
    assert_eq!(
        refused.field_error("capacity").map(squash).as_deref(),
        Some("Vul een heel getal in van 1 tot en met 10.")
    );
    assert_eq!(
        refused.field_error("vog_issued_on").map(squash).as_deref(),
        Some("mag niet in de toekomst liggen")
    );
    assert_eq!(refused.input_value("name").as_deref(), Some("Sam de Vries"));
    assert_eq!(
        refused.input_value("vog_issued_on").as_deref(),
        Some("2027-01-01")
    );
    assert!(refused
        .text
        .contains("<option value=\"nl\" selected>Nederlands</option>"));
    assert_eq!(app.table_counts(), before);

    let created = console
        .post(
            "/console/buddies/new",
            &[
                ("organisation_id", &org),
                ("name", "Sam de Vries"),
                ("email", "sam@example.org"),
                ("phone", ""),
                ("mail_language", "nl"),
                ("languages", "nl"),
                ("languages", "tr"),
                ("region", "Utrecht"),
                ("experience", "youth_probation"),
                ("topics", ""),
                ("capacity", "2"),
                ("vog_issued_on", "2026-11-01"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.plain());
    let location = created.location().to_owned();
    let id = location
        .strip_prefix("/console/buddies/")
        .and_then(|rest| rest.strip_suffix("?done=created"))
        .expect("the new buddy's page")
        .to_owned();
    let api = app.get(&format!("/v1/buddies/{id}")).await;
    assert_eq!(api.body["state"], "candidate");
    assert_eq!(api.body["languages"], json!(["nl", "tr"]));
    assert_eq!(api.body["capacity"], 2);
    assert_eq!(api.body["vog_issued_on"], "2026-11-01");
    let page = console.get(&location).await;
    page.assert_shows("Het maatje is toegevoegd als kandidaat.");
    page.assert_shows("Nederlands, Turks");

    let records = app.audit_records_where("object_type=buddy").await;
    let create = records
        .iter()
        .find(|r| r["route"] == "POST /console/buddies/new" && r["outcome"] == "allowed")
        .expect("the creation is recorded");
    assert_eq!(create["action"], "create");
    assert_eq!(create["actor"]["type"], "staff");
}

/// A new buddy whose mail language is left open gets one they speak (the domain's rule, as in
/// the API); a choice wins.
#[tokio::test]
async fn a_new_buddy_s_mail_language_left_open_is_one_they_speak() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let console = app.console(StaffRole::Coordinator).await;
    let form = console.get("/console/buddies/new").await;
    assert_eq!(form.status, 200, "{}", form.plain());
    form.assert_shows("Volgens de gesproken talen");
    for (n, chosen, expected) in [(1, "", "en"), (2, "nl", "nl")] {
        let email = format!("sam{n}@example.org");
        let created = console
            .post(
                "/console/buddies/new",
                &[
                    ("organisation_id", &org),
                    ("name", "Sam de Vries"),
                    ("email", &email),
                    ("phone", ""),
                    ("mail_language", chosen),
                    ("languages", "ar"),
                    ("languages", "en"),
                    ("region", "Utrecht"),
                    ("topics", ""),
                    ("capacity", "1"),
                ],
            )
            .await;
        assert_eq!(created.status, 303, "{}", created.plain());
        let id = created
            .location()
            .strip_prefix("/console/buddies/")
            .and_then(|rest| rest.strip_suffix("?done=created"))
            .expect("the new buddy's page")
            .to_owned();
        let api = app.get(&format!("/v1/buddies/{id}")).await;
        assert_eq!(api.body["mail_language"], expected, "chosen {chosen:?}");
    }
}
