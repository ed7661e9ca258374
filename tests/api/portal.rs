//! The buddy portal (`/buddy`): asking for an e-mailed sign-in link (the same answer for every
//! address), signing in with it once, the session cookie and its end, and every page and form
//! a buddy has: their state and pairings (only what the mails told them), settings, a pause
//! until a date, their data as JSON, and asking to stop, which the bureau confirms in the
//! console. Each through the real server, as a browser would (cookies, CSRF tokens), with the
//! stored data checked after every refusal and the audit trail naming the buddy.

use std::time::{Duration, Instant};

use maatje::auth::StaffRole;
use maatje::domain::ids::BuddyId;
use maatje::respond::links::Links;
use maatje::store::buddies::BuddyRow;
use serde_json::Value;

use crate::fixtures::{active_buddy, candidate, organisation, pairing_in, state_of};
use crate::helpers::{
    spawn_app, spawn_app_with, Console, Page, TestApp, PUBLIC_BASE_URL, TEST_LINK_SECRET,
};
use crate::mail::{mails, spawn_app_with_sink, SmtpSink};
use crate::respond::mime_parts;

const COOKIE: &str = "maatje_buddy";

/// The sign-in links mailed to buddy `buddy` so far (outbox, expanded as the worker does), as
/// paths on the test server, oldest first.
pub(crate) fn sign_in_links(app: &TestApp, buddy: &str) -> Vec<String> {
    let links = Links::new(TEST_LINK_SECRET, PUBLIC_BASE_URL);
    mails(app, "buddy_sign_in")
        .into_iter()
        .filter(|r| r.related_id.as_deref() == Some(buddy))
        .map(|r| link_in(&links.expand(&r.body_text)))
        .collect()
}

/// The sign-in link in a mail's text, as a path.
fn link_in(text: &str) -> String {
    let prefix = format!("{PUBLIC_BASE_URL}/buddy/sign-in/");
    text.split_whitespace()
        .find(|w| w.starts_with(&prefix))
        .map(|w| w[PUBLIC_BASE_URL.len()..].to_owned())
        .unwrap_or_else(|| panic!("no sign-in link in {text}"))
}

fn buddy_row(app: &TestApp, id: &str) -> BuddyRow {
    app.with_connection(|conn| maatje::store::buddies::find(conn, &BuddyId::from(id)))
        .expect("the buddy exists")
}

/// A visitor of the portal who opened the login form (its CSRF token in hand).
async fn visitor(app: &TestApp) -> Console<'_> {
    let client = app.console_anonymous();
    let form = client.get("/buddy/login").await;
    assert_eq!(form.status, 200, "{}", form.plain());
    *client.csrf.lock().unwrap() = form.csrf();
    client
}

/// Asks for a link for `email` as a fresh visitor; returns the answer.
async fn ask(app: &TestApp, email: &str) -> Page {
    visitor(app)
        .await
        .post("/buddy/login", &[("email", email)])
        .await
}

/// Opens the sign-in page of `link` and presses its button; returns the answer to the press.
async fn use_link<'a>(client: &Console<'a>, link: &str) -> Page {
    let page = client.get(link).await;
    assert_eq!(page.status, 200, "{}", page.plain());
    *client.csrf.lock().unwrap() = page.csrf();
    client.post(link, &[]).await
}

/// Buddy `buddy` (e-mail `email`) signed in through a fresh link; the client holds the session
/// and the CSRF token of its pages.
pub(crate) async fn signed_in<'a>(app: &'a TestApp, buddy: &str, email: &str) -> Console<'a> {
    let client = visitor(app).await;
    let sent = client.post("/buddy/login", &[("email", email)]).await;
    assert_eq!(sent.status, 200, "{}", sent.plain());
    let link = sign_in_links(app, buddy).pop().expect("a link was mailed");
    let done = use_link(&client, &link).await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(done.location(), "/buddy");
    let home = client.get("/buddy").await;
    assert_eq!(home.status, 200, "{}", home.plain());
    *client.csrf.lock().unwrap() = home.csrf();
    client
}

pub(crate) async fn audit_by_buddy(app: &TestApp, buddy: &str) -> Vec<Value> {
    app.audit_records()
        .await
        .into_iter()
        .filter(|r| r["actor"]["type"] == "buddy" && r["actor"]["id"] == buddy)
        .collect()
}

#[tokio::test]
async fn asking_for_a_link_answers_the_same_whether_the_address_is_known_or_not() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let retired = candidate(&app, &org, 2).await;
    crate::fixtures::act(&app, &format!("/v1/buddies/{retired}/retire")).await;

    let known = ask(&app, "buddy1@example.org").await;
    let unknown = ask(&app, "nobody@example.org").await;
    let stopped = ask(&app, "buddy2@example.org").await;
    for page in [&known, &unknown, &stopped] {
        assert_eq!(page.status, 200, "{}", page.plain());
        page.assert_shows("Als dit adres bij een maatje hoort, is er een link onderweg");
    }
    assert_eq!(
        known.plain(),
        unknown.plain(),
        "the same page for every address"
    );
    assert_eq!(known.plain(), stopped.plain());

    let sent = mails(&app, "buddy_sign_in");
    assert_eq!(sent.len(), 1, "only the known, active buddy gets a mail");
    assert_eq!(sent[0].related_id.as_deref(), Some(buddy.as_str()));
    assert_eq!(sent[0].recipient, "buddy1@example.org");
    assert!(
        !sent[0].body_text.contains("/buddy/sign-in/"),
        "the outbox holds a marker, never a usable link"
    );
    // The address is matched as the service stores it (the domain's case and spaces do not matter).
    assert_eq!(ask(&app, "  buddy1@Example.ORG ").await.status, 200);
    assert_eq!(sign_in_links(&app, &buddy).len(), 2);
}

#[tokio::test]
async fn a_malformed_address_or_a_missing_csrf_token_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    active_buddy(&app, &org, 1, 1).await;
    let before = app.table_counts();
    let client = visitor(&app).await;
    for (email, error) in [
        ("", "vul dit veld in"),
        ("geen-adres", "e-mailadres"),
        (&format!("{}@example.org", "a".repeat(300)), "e-mailadres"),
    ] {
        let page = client.post("/buddy/login", &[("email", email)]).await;
        assert_eq!(page.status, 422, "{email}: {}", page.plain());
        let shown = page.field_error("email").unwrap_or_default();
        assert!(shown.to_lowercase().contains(error), "{email}: {shown}");
    }
    let page = client
        .post_raw("/buddy/login", &[("email", "buddy1@example.org")])
        .await;
    assert_eq!(page.status, 403, "{}", page.plain());
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn a_link_signs_in_once_with_a_strict_cookie_and_the_session_ends_on_logout() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let client = visitor(&app).await;
    client
        .post("/buddy/login", &[("email", "buddy1@example.org")])
        .await;
    let link = sign_in_links(&app, &buddy).pop().unwrap();

    // Opening the link changes nothing (mail scanners open links): twice, still usable.
    let counts = app.table_counts();
    for _ in 0..2 {
        let page = client.get(&link).await;
        assert_eq!(page.status, 200);
        page.assert_shows("Klik op de knop om in te loggen");
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    }
    assert_eq!(app.table_counts(), counts);

    let done = use_link(&client, &link).await;
    assert_eq!(done.status, 303, "{}", done.plain());
    let cookie = done
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{COOKIE}=")))
        .expect("a session cookie");
    assert!(cookie.starts_with(&format!("{COOKIE}=mtj_bs_")), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/buddy", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let secret = client.cookie(COOKIE).unwrap();
    let stored: Vec<String> = app.with_connection(|conn| {
        use diesel::prelude::*;
        use maatje::db::schema::buddy_sessions::dsl;
        dsl::buddy_sessions
            .select(dsl::token_hash)
            .load(conn)
            .unwrap()
    });
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0].contains(secret.rsplit('_').next().unwrap()),
        "the session's secret is stored hashed"
    );

    let home = client.get("/buddy").await;
    assert_eq!(home.status, 200);
    home.assert_shows("Hallo Buddy Voorbeeld 1");
    *client.csrf.lock().unwrap() = home.csrf();

    // The link is used up: a clear page, from any browser.
    let again = app.console_anonymous().get(&link).await;
    assert_eq!(again.status, 410);
    again.assert_shows("Deze link is al gebruikt");
    let again = visitor(&app).await.post(&link, &[]).await;
    assert_eq!(again.status, 410, "{}", again.plain());
    let unknown = app
        .console_anonymous()
        .get("/buddy/sign-in/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(unknown.status, 404);
    unknown.assert_shows("Deze link kennen we niet");

    // The session is no API token, and the console's cookie no portal session.
    let api = app
        .request_with_headers(
            crate::helpers::Method::GET,
            &format!("/v1/buddies/{buddy}"),
            None,
            Vec::new(),
            &[("authorization", &format!("Bearer {secret}"))],
        )
        .await;
    assert_eq!(api.status, 401);
    let staff = app.console(StaffRole::Admin).await;
    let refused = staff.get("/buddy").await;
    assert_eq!(refused.status, 303, "{}", refused.plain());
    assert!(refused.location().starts_with("/buddy/login"));

    let out = client.post("/buddy/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/buddy/login?bye=1");
    assert!(client.cookie(COOKIE).is_none(), "the cookie is cleared");
    client.set_cookie(COOKIE, &secret);
    let after = client.get("/buddy").await;
    assert_eq!(after.status, 303, "a signed-out session does not work");
    assert!(after.location().starts_with("/buddy/login"));
}

#[tokio::test]
async fn an_expired_link_and_an_idle_session_are_refused_with_a_page() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    ask(&app, "buddy1@example.org").await;
    let link = sign_in_links(&app, &buddy).pop().unwrap();
    app.clock.advance(chrono::Duration::minutes(16));
    let counts = app.table_counts();
    let client = app.console_anonymous();
    let page = client.get(&link).await;
    assert_eq!(page.status, 410);
    page.assert_shows("Deze link is verlopen");
    page.assert_shows("Vraag een nieuwe link aan");
    assert_eq!(app.table_counts(), counts, "nothing changes");

    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    app.clock.advance(chrono::Duration::minutes(20));
    assert_eq!(client.get("/buddy").await.status, 200, "use keeps it alive");
    app.clock.advance(chrono::Duration::minutes(31));
    let gone = client.get("/buddy").await;
    assert_eq!(gone.status, 303);
    assert_eq!(gone.location(), "/buddy/login?expired=1");
    let login = client.get("/buddy/login?expired=1").await;
    login.assert_shows("bent daarom uitgelogd");
}

#[tokio::test]
async fn links_are_rate_limited_per_buddy_and_per_source_address() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let first = ask(&app, "buddy1@example.org").await;
    for _ in 0..4 {
        let page = ask(&app, "buddy1@example.org").await;
        assert_eq!(page.status, 200);
        assert_eq!(
            page.plain(),
            first.plain(),
            "beyond the limit the page says the same"
        );
    }
    assert_eq!(
        sign_in_links(&app, &buddy).len(),
        3,
        "portal.links_per_hour"
    );
    app.clock.advance(chrono::Duration::minutes(61));
    ask(&app, "buddy1@example.org").await;
    assert_eq!(
        sign_in_links(&app, &buddy).len(),
        4,
        "an hour later, one more"
    );

    let app = spawn_app_with(&[("MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE", "2")]).await;
    let client = visitor(&app).await;
    for _ in 0..2 {
        let page = client
            .post("/buddy/login", &[("email", "someone@example.org")])
            .await;
        assert_eq!(page.status, 200);
    }
    let counts = app.table_counts();
    let page = client
        .post("/buddy/login", &[("email", "someone@example.org")])
        .await;
    assert_eq!(page.status, 429, "{}", page.plain());
    assert!(page.header("retry-after").is_some());
    page.assert_shows("te veel links gevraagd");
    assert_eq!(app.table_counts(), counts);
}

#[tokio::test]
async fn the_overview_shows_only_what_the_mails_told_the_buddy() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (proposed, _, buddy) = pairing_in(&app, &org, "proposed", 1).await;
    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    let home = client.get("/buddy").await;
    home.assert_shows("Je bent actief");
    home.assert_shows("Uit het voorstel");
    home.assert_shows("Utrecht");
    for secret in [
        "client1@example.org",
        "06-87654321",
        "CASE-1",
        "Wants someone",
    ] {
        assert!(
            !home.text.contains(secret),
            "{secret} is not shown before a yes"
        );
    }
    let page = client.get(&format!("/buddy/pairings/{proposed}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("client1@example.org"));

    // Once accepted, what the confirmation mail gave: first name and contact.
    crate::fixtures::act(&app, &format!("/v1/pairings/{proposed}/accept")).await;
    let page = client.get(&format!("/buddy/pairings/{proposed}")).await;
    assert_eq!(page.status, 200);
    page.assert_shows("client1@example.org");
    assert!(!page.text.contains("CASE-1") && !page.text.contains("Wants someone"));

    // Another buddy's pairing, or no pairing at all: 404, nothing changes.
    let (foreign, _, _) = pairing_in(&app, &org, "proposed", 2).await;
    let counts = app.table_counts();
    for path in [
        format!("/buddy/pairings/{foreign}"),
        "/buddy/pairings/0190aaaa-0000-7000-8000-000000000999".to_owned(),
        "/buddy/pairings/not-an-id".to_owned(),
    ] {
        let page = client.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.plain());
        assert!(!page.text.contains("client1@example.org"));
    }
    assert_eq!(app.table_counts(), counts);

    let records = audit_by_buddy(&app, &buddy).await;
    assert!(
        records.iter().any(|r| r["action"] == "read"
            && r["object_type"] == "pairing"
            && r["object_id"] == proposed.as_str()),
        "{records:?}"
    );
    assert!(records
        .iter()
        .any(|r| r["object_type"] == "pairing" && r["status"] == 404));
}

#[tokio::test]
async fn settings_are_saved_through_the_profile_operation_and_bad_input_is_shown() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    let form = client.get("/buddy/settings").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.input_value("capacity").as_deref(), Some("1"));

    let before = buddy_row(&app, &buddy);
    let counts = app.table_counts();
    let long = "x".repeat(501);
    for (fields, field) in [
        (
            vec![("mail_language", "nl"), ("capacity", "drie")],
            "capacity",
        ),
        (vec![("mail_language", "nl"), ("capacity", "0")], "capacity"),
        (
            vec![("mail_language", "nl"), ("capacity", "11")],
            "capacity",
        ),
        (vec![("mail_language", "nl"), ("capacity", "")], "capacity"),
        (
            vec![("mail_language", "fr"), ("capacity", "2")],
            "mail_language",
        ),
        (
            vec![
                ("mail_language", "nl"),
                ("capacity", "2"),
                ("availability_notes", long.as_str()),
            ],
            "availability_notes",
        ),
    ] {
        let page = client.post("/buddy/settings", &fields).await;
        assert_eq!(page.status, 422, "{fields:?}: {}", page.plain());
        assert!(
            page.field_error(field).is_some(),
            "{field}: {}",
            page.plain()
        );
        let (name, value) = fields.iter().find(|(k, _)| *k == field).unwrap();
        if *name == "capacity" {
            assert_eq!(page.input_value("capacity").as_deref(), Some(*value));
        }
    }
    assert_eq!(app.table_counts(), counts);
    assert_eq!(buddy_row(&app, &buddy).updated_at, before.updated_at);

    let done = client
        .post(
            "/buddy/settings",
            &[
                ("mail_language", "en"),
                ("capacity", "3"),
                ("availability_notes", "Weekdays after 4 pm"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(done.location(), "/buddy/settings?done=settings");
    let row = buddy_row(&app, &buddy);
    assert_eq!(row.capacity, 3);
    assert_eq!(row.mail_language.as_str(), "en");
    assert_eq!(
        row.availability_notes.as_deref(),
        Some("Weekdays after 4 pm")
    );
    let api = app.get(&format!("/v1/buddies/{buddy}")).await;
    assert_eq!(api.body["capacity"], 3);
    assert_eq!(api.body["mail_language"], "en");
    let history = app.history(&format!("/v1/buddies/{buddy}")).await;
    let last = history.last().unwrap();
    assert_eq!(last["actor"]["type"], "buddy", "{last}");
    let staff = app.console(StaffRole::Coordinator).await;
    staff
        .get(&format!("/console/buddies/{buddy}"))
        .await
        .assert_shows("Weekdays after 4 pm");
    let records = audit_by_buddy(&app, &buddy).await;
    assert!(records
        .iter()
        .any(|r| r["action"] == "update" && r["object_id"] == buddy.as_str()));
}

#[tokio::test]
async fn a_pause_runs_until_a_future_date_and_can_be_ended() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    let counts = app.table_counts();
    // The test clock's day is 2026-11-22.
    for until in ["2026-11-21", "2026-11-22", "morgen", "", "2028-01-01"] {
        let page = client.post("/buddy/pause", &[("until", until)]).await;
        assert_eq!(page.status, 422, "{until}: {}", page.plain());
        assert!(
            page.field_error("until").is_some(),
            "{until}: {}",
            page.plain()
        );
    }
    let refused = client.post("/buddy/resume", &[]).await;
    assert_eq!(
        refused.status,
        409,
        "resuming while active: {}",
        refused.plain()
    );
    assert_eq!(app.table_counts(), counts);
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "active"
    );

    let done = client
        .post("/buddy/pause", &[("until", "2026-12-15")])
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(done.location(), "/buddy?done=paused");
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "paused"
    );
    assert_eq!(
        buddy_row(&app, &buddy).paused_until,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 15)
    );
    let home = client.get("/buddy?done=paused").await;
    home.assert_shows("Je pauze is ingegaan");
    home.assert_shows("Je pauze loopt tot");
    assert!(
        !home.text.contains("action=\"/buddy/pause\""),
        "no second pause offered"
    );

    let done = client.post("/buddy/resume", &[]).await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "active"
    );
    assert_eq!(buddy_row(&app, &buddy).paused_until, None);
    let actions = crate::fixtures::history_actions(&app, &format!("/v1/buddies/{buddy}")).await;
    assert!(
        actions.ends_with(&["pause".to_owned(), "resume".to_owned()]),
        "{actions:?}"
    );
}

#[tokio::test]
async fn the_buddy_downloads_their_own_data_as_json() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    active_buddy(&app, &org, 2, 1).await;
    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    let download = client.get("/buddy/export.json").await;
    assert_eq!(download.status, 200);
    assert!(download
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(download
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    let body: Value = serde_json::from_str(&download.text).expect("JSON");
    assert!(download.text.contains("buddy1@example.org"));
    assert!(
        !download.text.contains("buddy2@example.org"),
        "only their own"
    );
    assert!(body.is_object());
    let records = audit_by_buddy(&app, &buddy).await;
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "export" && r["object_id"] == buddy.as_str()),
        "{records:?}"
    );
}

#[tokio::test]
async fn asking_to_stop_is_confirmed_by_the_bureau_in_the_console() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    let page = client.get("/buddy/stop").await;
    page.assert_shows("Wil je stoppen?");
    let done = client.post("/buddy/stop", &[]).await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(done.location(), "/buddy?done=stop");
    assert!(buddy_row(&app, &buddy).retirement_requested_at.is_some());
    assert_eq!(mails(&app, "bureau_retirement_requested").len(), 1);

    let counts = app.table_counts();
    let twice = client.post("/buddy/stop", &[]).await;
    assert_eq!(twice.status, 409, "{}", twice.plain());
    assert_eq!(app.table_counts(), counts);
    client
        .get("/buddy/stop")
        .await
        .assert_shows("Je hebt al gevraagd om te stoppen");

    let staff = app.console(StaffRole::Coordinator).await;
    let page = staff.get(&format!("/console/buddies/{buddy}")).await;
    page.assert_shows("Het maatje wil stoppen");
    page.assert_shows("Stoppen bevestigen");
    let confirmed = staff
        .post(
            &format!("/console/buddies/{buddy}/retire"),
            &[("reason", "Op eigen verzoek (maatjespagina)")],
        )
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.plain());
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "retired"
    );
    let page = staff.get(&format!("/console/buddies/{buddy}")).await;
    assert!(!page.plain().contains("Het maatje wil stoppen"));

    // A retired buddy's session ends, and no new link is sent.
    let gone = client.get("/buddy").await;
    assert_eq!(gone.status, 303);
    ask(&app, "buddy1@example.org").await;
    assert_eq!(sign_in_links(&app, &buddy).len(), 1);
    let actions = crate::fixtures::history_actions(&app, &format!("/v1/buddies/{buddy}")).await;
    assert!(
        actions.contains(&"request-retirement".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn every_form_needs_its_csrf_token() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    let counts = app.table_counts();
    let before = buddy_row(&app, &buddy);
    for (path, fields) in [
        (
            "/buddy/settings",
            vec![("mail_language", "en"), ("capacity", "2")],
        ),
        ("/buddy/pause", vec![("until", "2026-12-15")]),
        ("/buddy/stop", vec![]),
        ("/buddy/logout", vec![]),
    ] {
        let page = client.post_raw(path, &fields).await;
        assert_eq!(page.status, 403, "{path}: {}", page.plain());
    }
    assert_eq!(app.table_counts(), counts);
    assert_eq!(buddy_row(&app, &buddy).updated_at, before.updated_at);
    assert_eq!(client.get("/buddy").await.status, 200, "still signed in");
}

#[tokio::test]
async fn the_sign_in_mail_arrives_over_smtp_and_its_link_signs_in() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, &[]).await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    ask(&app, "buddy1@example.org").await;
    ask(&app, "nobody@example.org").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let received = loop {
        let received = sink.received();
        if let Some(m) = received
            .iter()
            .find(|m| m.starts_with("X-Sink-Rcpt: buddy1@example.org"))
        {
            break m.clone();
        }
        assert!(Instant::now() < deadline, "no sign-in mail: {received:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let parts = mime_parts(&received);
    let link = link_in(&parts["text/plain"]);
    assert!(
        parts["text/html"].contains(&link),
        "both parts carry the link"
    );
    let client = app.console_anonymous();
    let done = use_link(&client, &link).await;
    assert_eq!(done.status, 303, "{}", done.plain());
    let home = client.get("/buddy").await;
    assert_eq!(home.status, 200);
    home.assert_shows("Hallo Buddy Voorbeeld 1");
    assert!(
        !sink
            .received()
            .iter()
            .any(|m| m.contains("nobody@example.org")),
        "nothing to an unknown address"
    );
    let signed = audit_by_buddy(&app, &buddy).await;
    assert!(signed.iter().any(|r| r["action"] == "update"
        && r["route"].as_str().unwrap_or("").contains("sign-in")
        && r["status"] == 303));
}

/// The portal's pages, before and after signing in, show the client bureau's details as every
/// other page for buddies does.
#[tokio::test]
async fn every_portal_page_shows_the_bureau() {
    let app = crate::helpers::spawn_app_with(crate::mail::BUREAU).await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let login = visitor(&app).await.get("/buddy/login").await;
    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    for page in [
        login,
        client.get("/buddy").await,
        client.get("/buddy/settings").await,
        client.get("/buddy/stop").await,
    ] {
        for detail in [
            "Bureau Maatjes Utrecht",
            "Oudegracht 1, 3511 AA Utrecht",
            "030 123 4567",
            "vragen@bureau-utrecht.nl",
        ] {
            page.assert_shows(detail);
        }
    }
}

/// A pause set in the portal ends on its date: the scheduler resumes the buddy once, with the
/// system as actor, and a second run finds nothing.
#[tokio::test]
async fn the_scheduler_ends_a_pause_on_its_date() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let client = signed_in(&app, &buddy, "buddy1@example.org").await;
    // The test clock's day is 2026-11-22.
    let done = client
        .post("/buddy/pause", &[("until", "2026-11-25")])
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    let scheduler = crate::workflow::scheduler(&app);
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(scheduler.run_once().await.unwrap().resumed, 0, "not yet");
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "paused"
    );
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(scheduler.run_once().await.unwrap().resumed, 1);
    assert_eq!(scheduler.run_once().await.unwrap().resumed, 0, "once");
    assert_eq!(
        state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "active"
    );
    assert_eq!(buddy_row(&app, &buddy).paused_until, None);
    let history = app.history(&format!("/v1/buddies/{buddy}")).await;
    let last = history.last().unwrap();
    assert_eq!(last["action"], "resume", "{last}");
    assert_eq!(last["actor"]["type"], "system", "{last}");
}
