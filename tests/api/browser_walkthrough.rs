//! The README walk-through by clicks in a real browser, the client bureau's side in the console:
//! log in, record an exit interview, screen and activate the buddy; see a request the case
//! system filed through the API, open its candidates and propose; the buddy accepts through the
//! mail's link; activate and end the pairing with an evaluation; see it in the report and export
//! it as CSV. Every view on the way is checked with axe-core, at 320 px, and kept as a
//! screenshot. Skipped unless the browser tests are configured (see `helpers/browser.rs`).

use maatje::auth::StaffRole;
use serde_json::json;

use crate::browser_console::sign_in;
use crate::fixtures::organisation;
use crate::helpers::{spawn_app, Browser, TestApp};
use crate::respond::proposal_links;

/// Sets a form control's value as a person picking it would (date inputs and selects take
/// typed text by the browser's locale, so their value is set directly), and tells the page.
async fn set(browser: &Browser, css: &str, value: &str) {
    browser.find(css).await;
    browser
        .script(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(css), json!(value)],
        )
        .await;
}

/// Where the browser is, as a path without the query.
async fn page_path(browser: &Browser) -> String {
    browser.path().await.split('?').next().unwrap().to_owned()
}

/// The value of the session cookie the browser holds, to fetch a download as that session.
async fn session_cookie(browser: &Browser) -> String {
    let cookie = browser
        .client()
        .get_named_cookie("maatje_session")
        .await
        .expect("the browser holds a console session");
    cookie.value().to_owned()
}

async fn download(app: &TestApp, browser: &Browser, path: &str) -> (String, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .header(
            "cookie",
            format!("maatje_session={}", session_cookie(browser).await),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (kind, response.text().await.unwrap())
}

#[tokio::test]
async fn the_walk_through_by_clicks() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, case_key) = app.create_case_system(&org, "Casus-systeem").await;
    let today = "2026-11-22";

    // The client bureau logs in.
    sign_in(&browser, &app, StaffRole::Admin).await;

    // A departing client says yes at the exit interview: recorded, and a buddy candidate made.
    browser
        .click("nav a[href='/console/exit-interviews']")
        .await;
    browser.wait_for_text("Exitgesprekken").await;
    browser.check_view("walk-exit-interviews").await;
    browser
        .click("a[href='/console/exit-interviews/new']")
        .await;
    browser.find("#f-held_on").await;
    browser.check_view("walk-exit-interview-new").await;
    set(&browser, "#f-organisation_id", &org).await;
    set(&browser, "#f-held_on", today).await;
    set(&browser, "#f-answer", "yes").await;
    browser.fill("#f-name", "Sam Voorbeeld").await;
    browser.fill("#f-email", "buddy1@example.org").await;
    browser.fill("#f-region", "Utrecht").await;
    browser.click("#f-languages-nl").await;
    browser.click("#f-languages-en").await;
    browser.click("#f-experience-supervision_order").await;
    browser.click_button("Vastleggen").await;
    browser.wait_for_text("Checklist voor activering").await;
    let buddy_page = page_path(&browser).await;
    assert!(buddy_page.starts_with("/console/buddies/"), "{buddy_page}");
    let buddy = buddy_page.rsplit('/').next().unwrap().to_owned();
    browser.check_view("walk-buddy-candidate").await;

    // The client bureau screens and activates the buddy.
    browser
        .click("form[action$='/start-screening'] button")
        .await;
    browser.wait_for_text("in screening").await;
    set(&browser, "#f-vog_issued_on", today).await;
    set(&browser, "#f-training_completed_on", today).await;
    set(&browser, "#f-agreement_signed_on", today).await;
    browser
        .click("form:has(#f-vog_issued_on) button[type=submit]")
        .await;
    browser
        .find("form[action$='/activate'] button:not([disabled])")
        .await;
    browser.check_view("walk-buddy-screened").await;
    browser.click("form[action$='/activate'] button").await;
    browser.find("form[action$='/pause'] button").await;
    browser.check_view("walk-buddy-active").await;
    assert_eq!(
        app.get(&format!("/v1/buddies/{buddy}")).await.body["state"],
        "active"
    );

    // The case system requests a buddy for its client, through the API.
    app.use_token(Some(&case_key));
    let filed = app
        .post_json(
            "/v1/buddy-requests",
            &json!({
                "client_ref": "CASE-2026-0042", "trigger": "complaint",
                "client": {"first_name": "Alex", "email": "client1@example.org",
                           "preferred_channel": "email", "languages": ["nl"]},
                "region": "Utrecht", "consent_to_share_contact": true,
            }),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    let request = filed.body["id"].as_str().unwrap().to_owned();
    app.use_admin();

    // The client bureau sees it in the work queue, opens its candidates and proposes.
    browser.click("nav a[href='/console']").await;
    browser.wait_for_text("CASE-2026-0042").await;
    browser.check_view("walk-dashboard").await;
    browser
        .click(&format!("a[href='/console/requests/{request}']"))
        .await;
    browser.wait_for_text("Sam Voorbeeld").await;
    browser.check_view("walk-request-open").await;
    browser.click("form[action$='/propose'] button").await;
    browser.wait_for_text("Het maatje is voorgesteld").await;
    browser.check_view("walk-request-proposed").await;
    let pairing = app.get(&format!("/v1/buddy-requests/{request}")).await.body["pairing"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The buddy accepts through the link in the proposal mail.
    let (accept, _) = proposal_links(&app, &pairing);
    browser.goto(&format!("{}{accept}", app.address)).await;
    browser.click_button("Ja, ik word maatje").await;
    browser.wait_for_text("je bent maatje").await;

    // They meet: the bureau activates the pairing on the board ...
    browser
        .goto(&format!("{}/console/pairings", app.address))
        .await;
    browser.wait_for_text("CASE-2026-0042").await;
    browser.check_view("walk-pairings-accepted").await;
    browser
        .click(&format!("a[href='/console/pairings/{pairing}']"))
        .await;
    browser.find("form[action$='/activate'] button").await;
    browser.check_view("walk-pairing-accepted").await;
    browser.click("form[action$='/activate'] button").await;
    browser
        .find(&format!("a[href='/console/pairings/{pairing}/end']"))
        .await;
    // ... and ends it with an evaluation: the request is closed.
    browser
        .click(&format!("a[href='/console/pairings/{pairing}/end']"))
        .await;
    browser.find("#f-client_score").await;
    browser.check_view("walk-pairing-end").await;
    set(&browser, "#f-reason", "goal_reached").await;
    browser.fill("#f-client_score", "5").await;
    browser.fill("#f-buddy_score", "4").await;
    browser.fill("#f-comment", "Helpful talks.").await;
    browser
        .click("form[action$='/end'] button[type=submit]")
        .await;
    browser.wait_for_text("beëindigd").await;
    browser.check_view("walk-pairing-ended").await;
    let closed = app.get(&format!("/v1/buddy-requests/{request}")).await;
    assert_eq!(closed.body["state"], "closed");
    assert_eq!(closed.body["pairing"]["state"], "ended");

    // It shows in the report, which exports as CSV.
    browser.click("nav a[href='/console/reports']").await;
    browser.find("svg").await;
    browser.check_view("walk-reports").await;
    let csv_link = browser
        .find("a[download]")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("the CSV link has an address");
    let (kind, csv) = download(&app, &browser, &csv_link).await;
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(csv.lines().count() > 1, "{csv}");

    // The other lists on the way, as a coordinator finds them.
    for (name, path) in [
        ("walk-requests", "/console/requests"),
        ("walk-buddies", "/console/buddies"),
        ("walk-buddy-new", "/console/buddies/new"),
    ] {
        browser.goto(&format!("{}{path}", app.address)).await;
        browser.check_view(name).await;
    }
    let (kind, csv) = download(&app, &browser, "/console/requests.csv").await;
    assert!(kind.starts_with("text/csv"));
    assert!(csv.contains("CASE-2026-0042"), "{csv}");
}
