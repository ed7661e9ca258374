//! The client feedback page (`/feedback/{token}`) in a real browser, in Dutch and in English:
//! the form, the form shown again with an error, the thanks, a used and an unknown link; every
//! view passes axe-core (WCAG 2.1 AA) at 1280 px and reads at 320 px wide, and the form works
//! without JavaScript of its own (the page has none). Skipped unless the browser tests are
//! configured (see `helpers/browser.rs`).

use crate::feedback::{ended_speaking, mailed_links};
use crate::fixtures::organisation;
use crate::helpers::{spawn_app, Browser};

struct Words {
    lang: &'static str,
    title: &'static str,
    helped: &'static str,
    send: &'static str,
    not_sent: &'static str,
    thanks: &'static str,
    used: &'static str,
    invalid: &'static str,
}

const DUTCH: Words = Words {
    lang: "nl",
    title: "Hoe was het maatjescontact?",
    helped: "Wat hielp je? (mag leeg blijven)",
    send: "Versturen",
    not_sent: "Je antwoord is nog niet verstuurd",
    thanks: "Dank je wel",
    used: "Deze link is al gebruikt",
    invalid: "Deze link is niet geldig",
};

const ENGLISH: Words = Words {
    lang: "en",
    title: "How did the buddy contact go?",
    helped: "What helped you? (optional)",
    send: "Send",
    not_sent: "Your answer has not been sent yet",
    thanks: "Thank you",
    used: "This link has been used",
    invalid: "This link is not valid",
};

async fn answering_the_form(words: &Words) {
    let Some(browser) = Browser::start_in("nl").await else {
        return;
    };
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let speaks: &[&str] = if words.lang == "en" { &["en"] } else { &["nl"] };
    ended_speaking(&app, &org, 1, "email", speaks).await;
    let link = format!("{}{}", app.address, mailed_links(&app).remove(0));
    let lang = || async {
        browser
            .script("return document.documentElement.lang", vec![])
            .await
    };

    browser.goto(&link).await;
    browser.wait_for_text(words.title).await;
    assert_eq!(lang().await, words.lang, "{}", browser.context().await);
    browser
        .check_view(&format!("feedback-form-{}", words.lang))
        .await;

    // A text over the limit (set by script: the textarea's maxlength stops typing) is refused
    // by the server, and the form comes back with the error tied to the field.
    browser.click("#score-4").await;
    browser
        .script(
            "document.getElementById('helped').value = 'x'.repeat(1001)",
            vec![],
        )
        .await;
    browser.click_button(words.send).await;
    browser.wait_for_text(words.not_sent).await;
    let described = browser
        .script(
            "return document.getElementById('helped').getAttribute('aria-describedby')",
            vec![],
        )
        .await;
    assert_eq!(described, "helped-error");
    browser
        .check_view(&format!("feedback-form-error-{}", words.lang))
        .await;

    // Fixed: sent.
    browser.click("#score-5").await;
    browser
        .script("document.getElementById('helped').value = ''", vec![])
        .await;
    browser
        .fill_field(words.helped, "Iemand die luisterde")
        .await;
    browser.click_button(words.send).await;
    browser.wait_for_text(words.thanks).await;
    browser
        .check_view(&format!("feedback-thanks-{}", words.lang))
        .await;
    assert_eq!(app.table_counts()["client_feedback"], 1);

    // Used.
    browser.goto(&link).await;
    browser.wait_for_text(words.used).await;
    browser
        .check_view(&format!("feedback-used-{}", words.lang))
        .await;

    // Unknown: in the language asked for.
    browser
        .goto(&format!(
            "{}/feedback/{}?lang={}",
            app.address,
            "x".repeat(43),
            words.lang
        ))
        .await;
    browser.wait_for_text(words.invalid).await;
    browser
        .check_view(&format!("feedback-invalid-{}", words.lang))
        .await;
}

#[tokio::test]
async fn the_feedback_form_in_dutch() {
    answering_the_form(&DUTCH).await;
}

#[tokio::test]
async fn the_feedback_form_in_english() {
    answering_the_form(&ENGLISH).await;
}

/// The admin's page of feedback texts, with answers and with a bad quarter, passes axe at 1280
/// and 320 px.
#[tokio::test]
async fn the_admins_feedback_texts_page_in_the_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let org = organisation(&app).await;
    crate::feedback::answers(&app, &org, 1, 5).await;
    let quarter = crate::feedback::quarter_now(&app);
    crate::browser_console::sign_in(&browser, &app, maatje::auth::StaffRole::Admin).await;
    browser
        .goto(&format!(
            "{}/console/admin/feedback?organisation={org}&quarter={quarter}",
            app.address
        ))
        .await;
    browser.wait_for_text("Vaker bellen").await;
    browser.check_view("console-admin-feedback").await;
    browser
        .goto(&format!(
            "{}/console/admin/feedback?quarter=2026-Q9",
            app.address
        ))
        .await;
    browser.check_view("console-admin-feedback-invalid").await;
}
