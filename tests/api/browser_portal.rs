//! The buddy portal (`/buddy`) in a real browser: signing in from the mailed link, then every
//! page (overview, a pairing, settings with and without errors, stopping, the used link) passes
//! axe-core (WCAG 2.1 AA) at 1280 px and reads at 320 px, in Dutch and in English. Skipped
//! unless the browser tests are configured (see `helpers/browser.rs`).

use crate::fixtures::{organisation, pairing_in};
use crate::helpers::{spawn_app, Browser};
use crate::portal::sign_in_links;

#[tokio::test]
async fn a_buddy_signs_in_from_the_mail_link_and_every_page_passes_axe() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, buddy) = pairing_in(&app, &org, "accepted", 1).await;

    browser.goto(&format!("{}/buddy/login", app.address)).await;
    browser.check_view("portal-login").await;
    browser.fill("#f-email", "buddy1@example.org").await;
    browser.click_button("Stuur mij een link").await;
    browser.wait_for_text("Kijk in je mail").await;
    browser.check_view("portal-link-sent").await;

    let link = format!(
        "{}{}",
        app.address,
        sign_in_links(&app, &buddy)
            .pop()
            .expect("a link was mailed")
    );
    browser.goto(&link).await;
    browser.check_view("portal-sign-in").await;
    browser.click_button("Inloggen").await;
    browser.wait_for_text("Hallo Buddy Voorbeeld 1").await;
    assert_eq!(browser.path().await, "/buddy");
    browser.check_view("portal-home").await;

    browser
        .goto(&format!("{}/buddy/pairings/{pairing}", app.address))
        .await;
    browser.wait_for_text("client1@example.org").await;
    assert_eq!(browser.path().await, format!("/buddy/pairings/{pairing}"));
    browser.check_view("portal-pairing").await;

    browser.click_button("Instellingen").await;
    browser.wait_for_text("Taal van je e-mail").await;
    browser.check_view("portal-settings").await;
    browser.fill("#f-capacity", "drie").await;
    browser.click_button("Opslaan").await;
    browser.wait_for_text("Fout").await;
    browser.check_view("portal-settings-invalid").await;
    browser.fill("#f-capacity", "2").await;
    browser
        .fill("#f-availability_notes", "Doordeweeks na 16 uur")
        .await;
    browser.click_button("Opslaan").await;
    browser
        .wait_for_text("Je instellingen zijn opgeslagen.")
        .await;

    browser.click_button("Stoppen").await;
    browser.wait_for_text("Wil je stoppen?").await;
    browser.check_view("portal-stop").await;

    // English, by the link in the header.
    browser.click_button("English").await;
    browser.wait_for_text("Stop being a buddy").await;
    browser.check_view("portal-stop-en").await;
    browser.goto(&format!("{}/buddy", app.address)).await;
    browser.wait_for_text("Hello Buddy Voorbeeld 1").await;
    browser.check_view("portal-home-en").await;

    browser.click_button("Sign out").await;
    browser.wait_for_text("You are signed out.").await;
    browser.check_view("portal-signed-out-en").await;
    browser.goto(&link).await;
    browser
        .wait_for_text("This link has been used already")
        .await;
    browser.check_view("portal-link-used-en").await;
}
