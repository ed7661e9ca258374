//! The check-in page (`/check-in/{token}`) and the console's view of contact moments in a real
//! browser: every view passes axe-core (WCAG 2.1 AA) and reads at 320 px wide, the answer takes
//! one click, and a used or unknown link shows its page. Skipped unless the browser tests are
//! configured (see `helpers/browser.rs`).

use chrono::Duration as Span;
use maatje::auth::StaffRole;
use maatje::domain::contact::ContactKind;

use crate::browser_console::sign_in;
use crate::contacts::record;
use crate::fixtures::{organisation, pairing_in};
use crate::helpers::{spawn_app, Browser, TestApp};
use crate::mail::mails;
use crate::workflow::scheduler;

/// An active pairing whose check-in went out; returns the app, the pairing and its two links
/// (absolute, on the test server): (fine, needs help).
async fn checked_in() -> (TestApp, String, String, String) {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = pairing_in(&app, &org, "active", 1).await;
    app.clock.advance(Span::days(91));
    assert_eq!(scheduler(&app).run_once().await.unwrap().checked_in, 1);
    let row = mails(&app, "buddy_check_in").remove(0);
    let links = maatje::respond::links::Links::new(
        crate::helpers::TEST_LINK_SECRET,
        crate::helpers::PUBLIC_BASE_URL,
    );
    let text = links.expand(&row.body_text);
    let link = |answer: &str| {
        let url = text
            .split_whitespace()
            .find(|w| w.contains("/check-in/") && w.ends_with(&format!("?answer={answer}")))
            .unwrap_or_else(|| panic!("no {answer} link in {text}"));
        format!(
            "{}{}",
            app.address,
            &url[crate::helpers::PUBLIC_BASE_URL.len()..]
        )
    };
    let (fine, help) = (link("fine"), link("needs_help"));
    (app, pairing, fine, help)
}

#[tokio::test]
async fn asking_for_help_takes_one_click_and_the_link_then_says_it_was_used() {
    let Some(browser) = Browser::start_in("nl").await else {
        return;
    };
    let (app, pairing, _, help) = checked_in().await;
    browser.goto(&help).await;
    browser.wait_for_text("Hoe gaat het").await;
    assert!(
        browser.exists("form.chosen").await,
        "the offered answer is marked"
    );
    browser.check_view("check-in-nl").await;
    browser.click_button("Ik kan wel wat hulp gebruiken").await;
    browser.wait_for_text("we nemen contact met je op").await;
    browser.check_view("checked-in-help-nl").await;
    let body = app.get(&format!("/v1/pairings/{pairing}")).await.body;
    assert_eq!(body["check_in"]["answer"], "needs_help", "{body}");
    browser.goto(&help).await;
    browser.wait_for_text("Deze link is al gebruikt").await;
    browser.check_view("check-in-used-nl").await;
}

#[tokio::test]
async fn the_fine_answer_in_english_and_an_unknown_link() {
    let Some(browser) = Browser::start_in("en").await else {
        return;
    };
    let (app, pairing, fine, _) = checked_in().await;
    let buddy = app.get(&format!("/v1/pairings/{pairing}")).await.body["buddy_id"]
        .as_str()
        .unwrap()
        .to_owned();
    crate::respond::prefers_english(&app, &buddy).await;
    browser.goto(&fine).await;
    browser.wait_for_text("How is it going").await;
    browser.check_view("check-in-en").await;
    browser.click_button("It is going well").await;
    browser.wait_for_text("Thank you for your answer").await;
    browser.check_view("checked-in-fine-en").await;
    browser
        .goto(&format!("{}/check-in/{}", app.address, "A".repeat(43)))
        .await;
    browser.wait_for_text("This link is not valid").await;
    browser.check_view("check-in-unknown-en").await;
}

#[tokio::test]
async fn the_console_shows_contacts_the_flag_and_the_check_in_answer() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (met, _, buddy) = pairing_in(&app, &org, "active", 1).await;
    let (_quiet, _, _) = pairing_in(&app, &org, "active", 2).await;
    let start = app.clock.now_naive().date();
    record(
        &app,
        &buddy,
        &met,
        start,
        ContactKind::Meeting,
        Some("privé"),
    )
    .unwrap();
    app.clock.advance(Span::days(29));
    let run = scheduler(&app).run_once().await.unwrap();
    assert_eq!(run.contact_missing, 2, "{run:?}");
    sign_in(&browser, &app, StaffRole::Coordinator).await;
    browser
        .goto(&format!("{}/console/pairings", app.address))
        .await;
    browser.wait_for_text("Geen recent contact").await;
    browser.check_view("console-pairings-contact-overdue").await;
    browser
        .goto(&format!("{}/console/pairings/{met}", app.address))
        .await;
    browser.wait_for_text("Afspraak").await;
    assert!(
        !browser.text().await.contains("privé"),
        "the note is the buddy's"
    );
    browser.check_view("console-pairing-contacts").await;
}

#[tokio::test]
async fn the_buddy_records_a_contact_in_the_portal_by_keyboard_and_clicks() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, buddy) = pairing_in(&app, &org, "active", 1).await;
    app.clock.advance(Span::days(2));
    browser.goto(&format!("{}/buddy/login", app.address)).await;
    browser.fill("#f-email", "buddy1@example.org").await;
    browser.click_button("Stuur mij een link").await;
    browser.wait_for_text("Kijk in je mail").await;
    let link = crate::portal::sign_in_links(&app, &buddy)
        .pop()
        .expect("a link was mailed");
    browser.goto(&format!("{}{link}", app.address)).await;
    browser.click_button("Inloggen").await;
    browser.wait_for_text("Hallo Buddy Voorbeeld 1").await;

    browser
        .goto(&format!("{}/buddy/pairings/{pairing}", app.address))
        .await;
    browser.wait_for_text("Contactmomenten").await;
    browser.check_view("portal-pairing-contacts-empty").await;
    // No kind chosen: the form comes back with the error, the date kept.
    browser.click_button("Contactmoment noteren").await;
    browser.wait_for_text("Contactmomenten").await;
    if browser.exists("#e-kind").await {
        browser.check_view("portal-pairing-contact-invalid").await;
    }
    browser.fill("#f-note", "Samen naar school geweest").await;
    browser
        .script(
            "document.getElementById('f-kind').value = 'accompanied_appointment'",
            vec![],
        )
        .await;
    browser.click_button("Contactmoment noteren").await;
    browser
        .wait_for_text("Je contactmoment is genoteerd.")
        .await;
    browser.wait_for_text("Samen naar school geweest").await;
    browser.check_view("portal-pairing-contacts").await;
    let api = app.get(&format!("/v1/pairings/{pairing}")).await.body;
    assert_eq!(
        api["last_contact_on"],
        app.clock.now_naive().date().to_string(),
        "{api}"
    );
}
