//! The buddy response pages (`/respond/{token}`) in a real browser, in Dutch and in English:
//! every view passes axe-core (WCAG 2.1 AA) and reads at 320 px wide, accepting takes the
//! keyboard alone, declining with a reason takes clicks, and a used, unknown or expired link
//! shows its page. Skipped unless the browser tests are configured (see `helpers/browser.rs`).

use maatje::respond::links::TOKEN_LEN;

use crate::fixtures::organisation;
use crate::helpers::{spawn_app, Browser, Key, TestApp};
use crate::respond::{pairing_body, prefers_english, proposal, proposal_links};

/// What a language's pages say, for the checks that the right page is shown.
struct Words {
    lang: &'static str,
    accept: &'static str,
    decline: &'static str,
    reason: &'static str,
    accepted: &'static str,
    declined: &'static str,
    used: &'static str,
    invalid: &'static str,
    expired: &'static str,
}

const DUTCH: Words = Words {
    lang: "nl",
    accept: "Ja, ik word maatje",
    decline: "Nee, deze keer niet",
    reason: "Reden (niet verplicht)",
    accepted: "Dank je wel: je bent maatje!",
    declined: "We vragen een ander maatje",
    used: "Deze link is al gebruikt",
    invalid: "Deze link is niet geldig",
    expired: "Dit voorstel is verlopen",
};

const ENGLISH: Words = Words {
    lang: "en",
    accept: "Yes, I will be the buddy",
    decline: "No, not this time",
    reason: "Reason (optional)",
    accepted: "Thank you: you are the buddy!",
    declined: "We will ask another buddy",
    used: "This link has been used",
    invalid: "This link is not valid",
    expired: "This proposal has expired",
};

/// A proposal to buddy 1 in `words`' language; returns the app, the pairing and the accept and
/// decline links (absolute, on the test server).
async fn proposed(words: &Words) -> (TestApp, String, String, String) {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, buddy) = proposal(&app, &org, 1).await;
    if words.lang == "en" {
        prefers_english(&app, &buddy).await;
    }
    let (accept, decline) = proposal_links(&app, &pairing);
    let (accept, decline) = (
        format!("{}{accept}", app.address),
        format!("{}{decline}", app.address),
    );
    (app, pairing, accept, decline)
}

async fn assert_language(browser: &Browser, words: &Words) {
    let lang = browser
        .script("return document.documentElement.lang", vec![])
        .await;
    assert_eq!(lang, words.lang, "{}", browser.context().await);
}

async fn accepting_takes_the_keyboard_alone(words: &Words) {
    let Some(browser) = Browser::start_in(words.lang).await else {
        return;
    };
    let (app, pairing, accept, _) = proposed(words).await;
    browser.goto(&accept).await;
    let text = browser.text().await;
    assert!(
        text.contains("Buddy Voorbeeld 1") && text.contains(words.accept),
        "{text}"
    );
    assert_language(&browser, words).await;
    browser
        .check_view(&format!("respond-proposal-{}", words.lang))
        .await;
    // The accept button is the first stop of the keyboard, and Enter presses it.
    let path = browser.tab_to("button.primary", 10).await;
    assert_eq!(path.len(), 1, "the focus went {path:?}");
    browser.press_key(Key::Enter).await;
    browser.wait_for_text(words.accepted).await;
    assert_language(&browser, words).await;
    browser
        .check_view(&format!("respond-accepted-{}", words.lang))
        .await;
    assert_eq!(pairing_body(&app, &pairing).await["state"], "accepted");
    // The link again: it has been used.
    browser.goto(&accept).await;
    browser.wait_for_text(words.used).await;
    browser
        .check_view(&format!("respond-used-{}", words.lang))
        .await;
}

async fn declining_with_a_reason_takes_clicks(words: &Words) {
    let Some(browser) = Browser::start_in(words.lang).await else {
        return;
    };
    let (app, pairing, _, decline) = proposed(words).await;
    // The decline link: the same page with the decline form marked as the one offered.
    browser.goto(&decline).await;
    assert!(browser.exists("form.chosen textarea").await);
    browser
        .check_view(&format!("respond-proposal-decline-{}", words.lang))
        .await;
    browser
        .fill_field(words.reason, "Te druk met werk, sorry")
        .await;
    browser.click_button(words.decline).await;
    browser.wait_for_text(words.declined).await;
    browser
        .check_view(&format!("respond-declined-{}", words.lang))
        .await;
    let row = pairing_body(&app, &pairing).await;
    assert_eq!(row["state"], "declined", "{row}");
    assert_eq!(row["decline_reason"], "Te druk met werk, sorry", "{row}");
}

#[tokio::test]
async fn accepting_in_dutch_takes_the_keyboard_alone() {
    accepting_takes_the_keyboard_alone(&DUTCH).await;
}

#[tokio::test]
async fn accepting_in_english_takes_the_keyboard_alone() {
    accepting_takes_the_keyboard_alone(&ENGLISH).await;
}

#[tokio::test]
async fn declining_in_dutch_with_a_reason_takes_clicks() {
    declining_with_a_reason_takes_clicks(&DUTCH).await;
}

#[tokio::test]
async fn declining_in_english_with_a_reason_takes_clicks() {
    declining_with_a_reason_takes_clicks(&ENGLISH).await;
}

/// An unknown link names no buddy: its page is in the browser's language.
#[tokio::test]
async fn an_unknown_link_shows_its_page_in_the_browsers_language() {
    for words in [&DUTCH, &ENGLISH] {
        let Some(browser) = Browser::start_in(words.lang).await else {
            return;
        };
        let app = spawn_app().await;
        let unknown = "x".repeat(TOKEN_LEN);
        browser
            .goto(&format!("{}/respond/{unknown}?answer=accept", app.address))
            .await;
        browser.wait_for_text(words.invalid).await;
        assert_language(&browser, words).await;
        browser
            .check_view(&format!("respond-invalid-{}", words.lang))
            .await;
    }
}

/// An expired proposal's page is in the buddy's language, whatever the browser's.
#[tokio::test]
async fn an_expired_link_shows_its_page_in_the_buddys_language() {
    let Some(browser) = Browser::start_in("nl").await else {
        return;
    };
    for words in [&DUTCH, &ENGLISH] {
        let (app, _, accept, _) = proposed(words).await;
        app.clock.advance(chrono::Duration::hours(72));
        browser.goto(&accept).await;
        browser.wait_for_text(words.expired).await;
        assert_language(&browser, words).await;
        browser
            .check_view(&format!("respond-expired-{}", words.lang))
            .await;
    }
}
