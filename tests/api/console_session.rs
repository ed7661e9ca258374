//! The console's sign-in and session: the login form (same accounts and lockout as the API),
//! the session cookie's attributes, CSRF on every form, the idle and absolute ends of a
//! session, logging out, the language choice, and that API tokens and console sessions are
//! not interchangeable.

use chrono::Duration;
use maatje::auth::StaffRole;

use crate::helpers::*;

#[tokio::test]
async fn staff_log_in_with_a_strict_http_only_cookie_and_land_on_the_work_queue() {
    let app = spawn_app().await;
    let email = "coordinator@example.org";
    app.create_staff(StaffRole::Coordinator, email).await;
    let console = app.console_anonymous();
    let form = console.get("/console/login").await;
    assert_eq!(form.status, 200);
    form.assert_shows("Inloggen");
    let login_cookie = form.header("set-cookie").unwrap().to_owned();
    assert!(login_cookie.starts_with("maatje_login="), "{login_cookie}");
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"));

    let done = console
        .post_raw(
            "/console/login",
            &[
                ("_csrf", &form.csrf()),
                ("email", email),
                ("password", STAFF_PASSWORD),
                ("next", "/console"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(done.location(), "/console");
    let session = done
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("maatje_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Secure"] {
        assert!(
            session.contains(attribute),
            "{attribute} missing: {session}"
        );
    }
    assert!(
        !session.contains("Max-Age"),
        "a session cookie, gone with the browser"
    );
    let home = console.get("/console").await;
    assert_eq!(home.status, 200);
    home.assert_shows("Werkvoorraad");
    home.assert_shows("Ingelogd als coördinator");
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_the_address_and_no_session() {
    let app = spawn_app().await;
    app.create_staff(StaffRole::Coordinator, "c@example.org")
        .await;
    let console = app.console_anonymous();
    let form = console.get("/console/login").await;
    let before = app.table_counts();
    let refused = console
        .post_raw(
            "/console/login",
            &[
                ("_csrf", &form.csrf()),
                ("email", "c@example.org"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(refused.status, 401);
    refused.assert_shows("horen niet bij elkaar");
    assert_eq!(
        refused.input_value("email").as_deref(),
        Some("c@example.org")
    );
    assert!(console.cookie("maatje_session").is_none());
    // The failure is counted (the lockout's table), nothing else is stored.
    let mut after = app.table_counts();
    after.remove("login_throttle");
    let mut before = before;
    before.remove("login_throttle");
    assert_eq!(after, before);
    // And the console is still closed.
    let home = console.get("/console").await;
    assert_eq!(home.status, 303);
    assert!(home
        .location()
        .starts_with("/console/login?next=%2Fconsole"));
}

#[tokio::test]
async fn the_lockout_of_the_api_applies_to_the_console() {
    let app = spawn_app().await;
    app.create_staff(StaffRole::Coordinator, "c@example.org")
        .await;
    let console = app.console_anonymous();
    let form = console.get("/console/login").await;
    let token = form.csrf();
    for _ in 0..app.settings.auth.max_failed_logins {
        let refused = console
            .post_raw(
                "/console/login",
                &[
                    ("_csrf", &token),
                    ("email", "c@example.org"),
                    ("password", "wrong"),
                ],
            )
            .await;
        assert_eq!(refused.status, 401);
    }
    let locked = console
        .post_raw(
            "/console/login",
            &[
                ("_csrf", &token),
                ("email", "c@example.org"),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        locked.status, 401,
        "locked out: the right password is refused too"
    );
    // The API's login is locked for this source as well: one account, one lockout.
    app.use_token(None);
    let api = app
        .post_json(
            "/v1/auth/login",
            &serde_json::json!({ "email": "c@example.org", "password": STAFF_PASSWORD }),
        )
        .await;
    assert_eq!(api.status, 401);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Admin).await;
    let before = app.table_counts();
    for token in ["", "0000", "mtj_not_the_token"] {
        let refused = console
            .post_raw("/console/logout", &[("_csrf", token)])
            .await;
        assert_eq!(refused.status, 403, "{}", refused.plain());
        refused.assert_shows("Er is niets gewijzigd");
    }
    let refused = console.post_raw("/console/logout", &[]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.table_counts(), before, "nothing stored");
    // Still signed in: the logout did not happen.
    assert_eq!(console.get("/console").await.status, 200);
    // The login form's token is bound to its own cookie: another visitor's does not fit.
    let other = app.console_anonymous();
    let form = other.get("/console/login").await;
    let stranger = app.console_anonymous();
    stranger.get("/console/login").await;
    let refused = stranger
        .post_raw(
            "/console/login",
            &[
                ("_csrf", &form.csrf()),
                ("email", "x@example.org"),
                ("password", "y"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn a_session_ends_after_idle_time_but_lasts_while_it_is_used() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Coordinator).await;
    let idle = i64::from(app.settings.console.idle_minutes);
    // Used every idle-minus-five minutes, it goes on.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(idle - 5));
        assert_eq!(console.get("/console").await.status, 200);
    }
    // Left alone longer than the idle time, it has ended.
    app.clock.advance(Duration::minutes(idle + 1));
    let ended = console.get("/console").await;
    assert_eq!(ended.status, 303);
    assert_eq!(
        ended.location(),
        "/console/login?next=%2Fconsole&expired=1",
        "back to the login, saying why, and then back here"
    );
    assert!(
        console.cookie("maatje_session").is_none(),
        "the cookie is cleared"
    );
    let login = console.get(ended.location()).await;
    login.assert_shows("niet actief");
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_latest_end() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Coordinator).await;
    let hours = i64::from(app.settings.console.session_hours);
    let step = i64::from(app.settings.console.idle_minutes) - 5;
    let mut elapsed = 0;
    while elapsed + step < hours * 60 {
        app.clock.advance(Duration::minutes(step));
        elapsed += step;
        assert_eq!(
            console.get("/console").await.status,
            200,
            "after {elapsed} min"
        );
    }
    app.clock.advance(Duration::minutes(step));
    assert_eq!(console.get("/console").await.status, 303);
}

#[tokio::test]
async fn logging_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Coordinator).await;
    let cookie = console.cookie("maatje_session").unwrap();
    let out = console.post("/console/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/console/login?bye=1");
    assert!(console.cookie("maatje_session").is_none());
    // The old cookie, kept by someone, no longer opens the console.
    let thief = app.console_anonymous();
    thief.set_cookie("maatje_session", &cookie);
    assert_eq!(thief.get("/console").await.status, 303);
}

#[tokio::test]
async fn api_tokens_and_console_sessions_are_not_interchangeable() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Admin).await;
    let cookie = console.cookie("maatje_session").unwrap();
    // The console's session as a bearer token: refused by the API.
    app.use_token(Some(&cookie));
    let refused = app.get("/v1/auth/me").await;
    assert_problem(&refused, 401, "unauthorized");
    // An API token (the admin's) as the console's cookie, or as a bearer header: the login.
    let stranger = app.console_anonymous();
    stranger.set_cookie("maatje_session", &app.admin_token);
    assert_eq!(stranger.get("/console").await.status, 303);
    let bearer = app
        .client
        .get(format!("{}/console", app.address))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 303);
    // A made-up console token is just as useless.
    stranger.set_cookie(
        "maatje_session",
        "mtj_cs_00000000000000000000000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    );
    assert_eq!(stranger.get("/console").await.status, 303);
}

#[tokio::test]
async fn the_language_is_dutch_unless_english_is_chosen() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Coordinator).await;
    console.get("/console").await.assert_shows("Werkvoorraad");
    let switched = console.get("/console/language?to=en&back=/console").await;
    assert_eq!(switched.status, 303);
    assert_eq!(switched.location(), "/console");
    let home = console.get("/console").await;
    home.assert_shows("Work queue");
    assert!(home.text.contains("<html lang=\"en\">"));
    // Going back is confined to the console.
    let away = console
        .get("/console/language?to=nl&back=https://evil.example/")
        .await;
    assert_eq!(away.location(), "/console");
    console.get("/console").await.assert_shows("Werkvoorraad");
}

#[tokio::test]
async fn after_signing_in_the_page_asked_for_opens() {
    let app = spawn_app().await;
    app.create_staff(StaffRole::Coordinator, "c@example.org")
        .await;
    let console = app.console_anonymous();
    let asked = console.get("/console").await;
    assert_eq!(asked.status, 303);
    let form = console.get(asked.location()).await;
    assert_eq!(form.input_value("next").as_deref(), Some("/console"));
    for next in ["https://evil.example/", "//evil.example/x", "/v1/buddies"] {
        let form = console.get("/console/login").await;
        let done = console
            .post_raw(
                "/console/login",
                &[
                    ("_csrf", &form.csrf()),
                    ("email", "c@example.org"),
                    ("password", STAFF_PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(done.status, 303);
        assert_eq!(done.location(), "/console", "{next} is not followed");
    }
}

#[tokio::test]
async fn the_work_queue_is_audited_with_the_member_of_staff_as_actor() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Coordinator).await;
    assert_eq!(console.get("/console").await.status, 200);
    let records = app.audit_records_where("object_type=buddy_request").await;
    let record = records
        .iter()
        .find(|r| r["route"] == "GET /console")
        .expect("the work queue's read is recorded");
    assert_eq!(record["actor"]["type"], "staff");
    assert_eq!(record["action"], "search");
    assert_eq!(record["outcome"], "allowed");
}

/// Every console route, with its placeholders filled with a fresh id.
fn console_routes(method: &str) -> Vec<String> {
    maatje::startup::policy()
        .rules()
        .iter()
        .filter(|rule| rule.method == method && maatje::console::is_console(&rule.pattern))
        .map(|rule| {
            let mut path = String::new();
            let mut rest = rule.pattern.as_str();
            while let Some(open) = rest.find('{') {
                path.push_str(&rest[..open]);
                let close = open + rest[open..].find('}').unwrap();
                path.push_str(&uuid::Uuid::now_v7().to_string());
                rest = &rest[close + 1..];
            }
            path.push_str(rest);
            path
        })
        .collect()
}

/// Whatever a view module adds later: every form post of the console is refused without the
/// session's CSRF token (403, before the handler), by a signed-in administrator, and changes
/// nothing but the audit trail's record of the refusal.
#[tokio::test]
async fn every_console_post_is_refused_without_its_csrf_token() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Admin).await;
    let posts = console_routes("POST");
    assert!(posts.len() > 10, "{posts:?}");
    for path in posts {
        let mut before = app.table_counts();
        before.remove("audit_log");
        let refused = console
            .post_raw(&path, &[("reason", "x"), ("name", "x")])
            .await;
        assert_eq!(refused.status, 403, "POST {path}: {}", refused.plain());
        let mut after = app.table_counts();
        after.remove("audit_log");
        assert_eq!(after, before, "POST {path} stored something");
        let wrong = console
            .post_raw(&path, &[("_csrf", "0123456789abcdef")])
            .await;
        assert_eq!(wrong.status, 403, "POST {path} with a wrong token");
    }
}

/// Every console page but the login and the stylesheet needs a session: without one, the
/// browser is sent to the login form (never shown the page, never a problem document).
#[tokio::test]
async fn every_console_page_sends_a_visitor_without_a_session_to_the_login() {
    let app = spawn_app().await;
    let visitor = app.console_anonymous();
    let public = [
        "/console/login",
        "/console/assets/console.css",
        "/console/language",
    ];
    for path in console_routes("GET") {
        if public.contains(&path.as_str()) {
            continue;
        }
        let sent = visitor.get(&path).await;
        assert_eq!(sent.status, 303, "GET {path}: {}", sent.plain());
        assert!(
            sent.location().starts_with("/console/login?next="),
            "GET {path} goes to {}",
            sent.location()
        );
    }
    for path in console_routes("POST") {
        if path == "/console/login" {
            continue;
        }
        let sent = visitor.post_raw(&path, &[]).await;
        assert_eq!(sent.status, 303, "POST {path}");
        assert_eq!(sent.location(), "/console/login?next=%2Fconsole");
    }
}
