//! The staff console in a real browser: signing in by the form, every page checked with
//! axe-core (WCAG 2.1 AA, 0 serious or critical findings), at 320 px wide, by keyboard, and
//! kept as a screenshot. Skipped unless the browser tests are configured (see
//! `helpers/browser.rs`). The walk-through by clicks is in `browser_walkthrough`.

use maatje::auth::StaffRole;

use crate::fixtures::{active_buddy, open_request, organisation};
use crate::helpers::{spawn_app, Browser, Key, TestApp, STAFF_PASSWORD};

/// Signs in through the login form, by clicks and typing.
pub async fn sign_in(browser: &Browser, app: &TestApp, role: StaffRole) -> String {
    let email = format!("{}@example.org", uuid::Uuid::now_v7().simple());
    app.create_staff(role, &email).await;
    browser.goto(&format!("{}/console", app.address)).await;
    assert!(
        browser.path().await.starts_with("/console/login"),
        "{}",
        browser.context().await
    );
    browser.fill_field("E-mailadres", &email).await;
    browser.fill_field("Wachtwoord", STAFF_PASSWORD).await;
    browser.click_button("Inloggen").await;
    browser.wait_for_text("Werkvoorraad").await;
    email
}

#[tokio::test]
async fn the_login_page_and_the_work_queue_pass_axe_at_any_width_in_both_languages() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    browser
        .goto(&format!("{}/console/login", app.address))
        .await;
    browser.check_view("console-login-nl").await;
    // A failed login: the form again, with its message, still accessible.
    browser
        .fill_field("E-mailadres", "nobody@example.org")
        .await;
    browser.fill_field("Wachtwoord", "wrong password").await;
    browser.click_button("Inloggen").await;
    browser.wait_for_text("horen niet bij elkaar").await;
    browser.check_view("console-login-refused-nl").await;

    let org = organisation(&app).await;
    open_request(&app, &org, "CASE-2026-0042").await;
    active_buddy(&app, &org, 1, 1).await;
    sign_in(&browser, &app, StaffRole::Admin).await;
    browser.check_view("console-dashboard-nl").await;
    assert!(browser.text().await.contains("CASE-2026-0042"));
    browser.click("a[hreflang=en]").await;
    browser.wait_for_text("Work queue").await;
    browser.check_view("console-dashboard-en").await;
}

#[tokio::test]
async fn the_console_is_usable_by_keyboard() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    sign_in(&browser, &app, StaffRole::Coordinator).await;
    // The first Tab reaches the skip link, which jumps to the content.
    browser.press_key(Key::Tab).await;
    let focused = browser.focused().await.unwrap_or_default();
    assert!(focused.contains("Naar de inhoud"), "first stop: {focused}");
    browser.press_key(Key::Enter).await;
    // The menu is reachable by Tab, and Enter follows a link.
    browser.goto(&format!("{}/console", app.address)).await;
    browser.tab_to("nav a[href='/console']", 12).await;
    // Logging out is a button, reachable and pressed by keyboard.
    browser.goto(&format!("{}/console", app.address)).await;
    browser
        .tab_to("form[action='/console/logout'] button", 12)
        .await;
    browser.press_key(Key::Enter).await;
    browser.wait_for_text("U bent uitgelogd").await;
}

#[tokio::test]
async fn every_administration_page_passes_axe_and_reads_at_320_px() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = open_request(&app, &org, "CASE-7").await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    app.create_case_system(&org, "Casus-systeem").await;
    sign_in(&browser, &app, StaffRole::Admin).await;
    let (staff_id, _) = app
        .create_staff(StaffRole::Coordinator, "c@example.org")
        .await;
    let clients = app.get("/v1/api-clients").await;
    let client = clients.body["items"][0]["id"].as_str().unwrap().to_owned();
    let pages = [
        ("admin", "/console/admin".to_owned()),
        ("admin-staff", "/console/admin/staff".to_owned()),
        (
            "admin-staff-edit",
            format!("/console/admin/staff/{staff_id}"),
        ),
        (
            "admin-organisations",
            "/console/admin/organisations".to_owned(),
        ),
        ("admin-api-clients", "/console/admin/api-clients".to_owned()),
        (
            "admin-api-client",
            format!("/console/admin/api-clients/{client}"),
        ),
        ("admin-audit", "/console/admin/audit".to_owned()),
        (
            "admin-audit-verify",
            "/console/admin/audit/verify".to_owned(),
        ),
        ("admin-privacy", "/console/admin/privacy".to_owned()),
        (
            "admin-privacy-request",
            format!("/console/admin/privacy/requests/{request}"),
        ),
        (
            "admin-privacy-buddy",
            format!("/console/admin/privacy/buddies/{buddy}"),
        ),
        ("admin-mails", "/console/admin/mails?state=all".to_owned()),
    ];
    for (name, path) in &pages {
        browser.goto(&format!("{}{path}", app.address)).await;
        browser.check_view(&format!("console-{name}-nl")).await;
    }
    // A form shown again with its errors is accessible too.
    browser
        .goto(&format!("{}/console/admin/staff", app.address))
        .await;
    browser.fill_field("Naam (verplicht)", "Nieuw").await;
    browser
        .fill_field("E-mailadres (verplicht)", "not-an-address@x")
        .await;
    browser.fill_field("Wachtwoord (verplicht)", "short").await;
    browser.click_button("Aanmaken").await;
    browser
        .wait_for_text("Het formulier is niet opgeslagen")
        .await;
    browser.check_view("console-admin-staff-invalid-nl").await;
}

#[tokio::test]
async fn a_coordinator_is_shown_a_clear_refusal_of_an_admin_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    sign_in(&browser, &app, StaffRole::Coordinator).await;
    browser
        .goto(&format!("{}/console/admin/staff", app.address))
        .await;
    browser.wait_for_text("alleen voor beheerders").await;
    browser.check_view("console-refused-nl").await;
}

#[tokio::test]
async fn a_form_posted_without_its_csrf_token_is_refused_with_a_page_that_says_so() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    sign_in(&browser, &app, StaffRole::Admin).await;
    browser
        .goto(&format!("{}/console/admin/organisations", app.address))
        .await;
    // A page of another site, or a stale one, posts without the token: take it out.
    browser
        .script(
            "document.querySelectorAll('input[name=_csrf]').forEach(e => e.remove());",
            vec![],
        )
        .await;
    let before = app.table_counts();
    browser
        .fill_field("Naam (verplicht)", "GI Zonder Token")
        .await;
    browser.click_button("Aanmaken").await;
    browser.wait_for_text("Er is niets gewijzigd").await;
    browser.check_view("console-csrf-refused-nl").await;
    let mut after = app.table_counts();
    after.remove("audit_log");
    let mut before = before;
    before.remove("audit_log");
    assert_eq!(after, before, "nothing stored");
}

#[tokio::test]
async fn an_idle_session_ends_and_the_login_says_why_then_returns_to_the_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let email = sign_in(&browser, &app, StaffRole::Admin).await;
    let idle = i64::from(app.settings.console.idle_minutes);
    app.clock.advance(chrono::Duration::minutes(idle + 1));
    browser
        .goto(&format!("{}/console/admin/audit", app.address))
        .await;
    browser.wait_for_text("niet actief").await;
    assert!(browser.path().await.starts_with("/console/login"));
    browser.check_view("console-login-expired-nl").await;
    browser.fill_field("E-mailadres", &email).await;
    browser.fill_field("Wachtwoord", STAFF_PASSWORD).await;
    browser.click_button("Inloggen").await;
    browser.wait_for_text("Audittrail").await;
    assert_eq!(browser.path().await, "/console/admin/audit");
}

/// The casework pages in English, with records in several states: each passes axe at 1280 and
/// 320 px, with `lang="en"` and English texts.
#[tokio::test]
async fn the_casework_pages_in_english_pass_axe_at_any_width() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (active, request, buddy) = crate::fixtures::pairing_in(&app, &org, "active", 1).await;
    let (proposed, _, _) = crate::fixtures::pairing_in(&app, &org, "proposed", 2).await;
    open_request(&app, &org, "CASE-OPEN").await;
    let interview = app
        .post_json(
            "/v1/exit-interviews",
            &serde_json::json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "no" }),
        )
        .await;
    assert_eq!(interview.status, 201, "{}", interview.text);
    sign_in(&browser, &app, StaffRole::Coordinator).await;
    browser.click("a[hreflang=en]").await;
    browser.wait_for_text("Work queue").await;
    let pages = [
        ("requests", "/console/requests".to_owned()),
        ("request-matched", format!("/console/requests/{request}")),
        ("buddies", "/console/buddies".to_owned()),
        ("buddy-active", format!("/console/buddies/{buddy}")),
        ("pairings", "/console/pairings".to_owned()),
        ("pairing-active", format!("/console/pairings/{active}")),
        ("pairing-proposed", format!("/console/pairings/{proposed}")),
        ("pairing-end", format!("/console/pairings/{active}/end")),
        ("exit-interviews", "/console/exit-interviews".to_owned()),
        (
            "exit-interview-new",
            "/console/exit-interviews/new".to_owned(),
        ),
        ("reports", "/console/reports".to_owned()),
    ];
    for (name, path) in &pages {
        browser.goto(&format!("{}{path}", app.address)).await;
        assert_eq!(
            browser
                .script("return document.documentElement.lang;", vec![])
                .await,
            "en",
            "{path}"
        );
        browser.check_view(&format!("console-{name}-en")).await;
    }
}
