//! Staff login, lockout, sessions and logout; who the caller is; staff accounts and API clients
//! with their keys, as the administrators manage them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use diesel::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::access::{Row, ADMIN, ANY, PUBLIC, STAFF};
use crate::helpers::{
    assert_invalid_fields, assert_problem, create_organisation, id_of, spawn_app, spawn_app_with,
    start_time, time_of, Method, Response, TestApp, STAFF_PASSWORD,
};
use maatje::auth::StaffRole;

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    ("POST", "/v1/auth/login", PUBLIC),
    ("POST", "/v1/auth/logout", STAFF),
    ("GET", "/v1/auth/me", ANY),
    ("POST", "/v1/staff", ADMIN),
    ("GET", "/v1/staff", ADMIN),
    ("GET", "/v1/staff/{id}", ADMIN),
    ("PATCH", "/v1/staff/{id}", ADMIN),
    ("POST", "/v1/api-clients", ADMIN),
    ("GET", "/v1/api-clients", ADMIN),
    ("GET", "/v1/api-clients/{id}", ADMIN),
    ("POST", "/v1/api-clients/{id}/revoke", ADMIN),
    ("POST", "/v1/api-clients/{id}/keys", ADMIN),
    ("POST", "/v1/api-clients/{id}/keys/{key_id}/revoke", ADMIN),
];

const TTL: &str = "MAATJE__AUTH__SESSION_TTL_MINUTES";
const MAX_FAILURES: &str = "MAATJE__AUTH__MAX_FAILED_LOGINS";
const LOCKOUT: &str = "MAATJE__AUTH__LOCKOUT_SECONDS";
/// Logins are rate limited per address; these tests log in more often than the default allows.
const LOGIN_LIMIT: (&str, &str) = ("MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE", "10000");

const COORDINATOR: &str = "coordinator@example.org";

/// A login without any `Authorization` header.
async fn login(app: &TestApp, email: &str, password: &str) -> Response {
    app.request_with_headers(
        Method::POST,
        "/v1/auth/login",
        Some("application/json"),
        serde_json::to_vec(&json!({ "email": email, "password": password })).unwrap(),
        &[("authorization", "")],
    )
    .await
}

/// A login sent from `source`, another loopback address than the one of the other helpers
/// (Linux routes all of 127.0.0.0/8 to the loopback interface, so a client socket bound to
/// 127.0.0.2 reaches the server, which sees 127.0.0.2 as the peer). Checked as the helpers
/// check every answer.
async fn login_from(app: &TestApp, source: &str, email: &str, password: &str) -> Response {
    let source: std::net::IpAddr = source.parse().expect("an address");
    let client = reqwest::Client::builder()
        .local_address(source)
        .no_proxy()
        .build()
        .expect("a client bound to the source address");
    let answer = client
        .post(format!("{}/v1/auth/login", app.address))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("an answer");
    let (status, headers) = (answer.status().as_u16(), answer.headers().clone());
    let bytes = answer.bytes().await.expect("a body");
    let response = Response {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    };
    crate::helpers::check_response(&Method::POST, "/v1/auth/login", &response);
    response
}

/// A login that must succeed; returns its token.
async fn token_of(app: &TestApp, email: &str, password: &str) -> String {
    let response = login(app, email, password).await;
    assert_eq!(response.status, 200, "login {email}: {}", response.text);
    response.body["token"].as_str().unwrap().to_owned()
}

/// GET `path` with `token` (empty: no credentials), whatever the app's own token is.
async fn get_as(app: &TestApp, token: &str, path: &str) -> Response {
    let authorization = if token.is_empty() {
        String::new()
    } else {
        format!("Bearer {token}")
    };
    app.request_with_headers(
        Method::GET,
        path,
        None,
        Vec::new(),
        &[("authorization", &authorization)],
    )
    .await
}

async fn post_as(app: &TestApp, token: &str, path: &str) -> Response {
    app.request_with_headers(
        Method::POST,
        path,
        None,
        Vec::new(),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

/// The status `GET /v1/auth/me` answers `token` with.
async fn me_status(app: &TestApp, token: &str) -> u16 {
    get_as(app, token, "/v1/auth/me").await.status
}

/// A 401 with the bearer challenge.
#[track_caller]
fn assert_unauthorized(response: &Response) {
    assert_problem(response, 401, "unauthorized");
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer"),
        "{:?}",
        response.headers
    );
}

/// What a client can tell apart in an answer: everything but the request id.
fn observable(response: &Response) -> (u16, Option<String>, Value) {
    let mut body = response.body.clone();
    body.as_object_mut().map(|b| b.remove("request_id"));
    (
        response.status,
        response.header("www-authenticate").map(str::to_owned),
        body,
    )
}

async fn staff_account(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("/v1/staff/{id}")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

#[tokio::test]
async fn a_login_returns_a_token_that_works_until_the_session_ttl_has_passed() {
    let app = spawn_app_with(&[(TTL, "30")]).await;
    let (id, _) = app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    app.clock.advance(Duration::minutes(5));
    let now = start_time() + Duration::minutes(5);

    let response = login(&app, COORDINATOR, STAFF_PASSWORD).await;
    assert_eq!(response.status, 200, "{}", response.text);
    let token = response.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("mtj_st_"), "{token}");
    assert_eq!(
        time_of(&response.body, "expires_at"),
        now + Duration::minutes(30)
    );
    assert_eq!(response.body["staff"]["id"], id.as_str());
    assert_eq!(response.body["staff"]["email"], COORDINATOR);
    assert_eq!(response.body["staff"]["role"], "coordinator");
    for secret in ["password", "$argon2", STAFF_PASSWORD] {
        assert!(!response.text.contains(secret), "{}", response.text);
    }
    // Only a hash of the token is stored.
    let secret = token.rsplit_once('_').unwrap().1.to_owned();
    assert!(!dump(&app, "staff_sessions").contains(&secret));

    let me = get_as(&app, &token, "/v1/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body, json!({ "role": "coordinator", "id": id }));
    assert_eq!(get_as(&app, &token, "/v1/buddies").await.status, 200);

    // Each login is a session of its own.
    let other = token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
    assert_ne!(other, token);

    app.clock
        .advance(Duration::minutes(30) - Duration::seconds(1));
    assert_eq!(me_status(&app, &token).await, 200);
    app.clock.advance(Duration::seconds(1));
    assert_unauthorized(&get_as(&app, &token, "/v1/auth/me").await);
    assert_unauthorized(&get_as(&app, &token, "/v1/buddies").await);
}

/// Every row of `table` as text, to check what is (not) stored.
fn dump(app: &TestApp, table: &str) -> String {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let columns = match table {
        "staff_sessions" => "id || ' ' || staff_id || ' ' || token_hash",
        "api_keys" => "id || ' ' || client_id || ' ' || secret_hash",
        other => panic!("no dump for {other}"),
    };
    app.with_connection(|conn| {
        diesel::sql_query(format!("SELECT {columns} AS row FROM {table}"))
            .load::<Row>(conn)
            .expect("readable")
            .into_iter()
            .map(|r| r.row)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[tokio::test]
async fn a_refused_login_never_says_why() {
    let app = spawn_app_with(&[LOGIN_LIMIT, (MAX_FAILURES, "2")]).await;
    let (_, _) = app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    let (inactive, _) = app
        .create_staff(StaffRole::Coordinator, "inactive@example.org")
        .await;
    let response = app
        .patch_json(
            &format!("/v1/staff/{inactive}"),
            &json!({ "active": false }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    app.create_staff(StaffRole::Coordinator, "locked@example.org")
        .await;
    for _ in 0..2 {
        assert_unauthorized(&login(&app, "locked@example.org", "wrong password!").await);
    }

    let wrong_password = login(&app, COORDINATOR, "not the password").await;
    assert_unauthorized(&wrong_password);
    let counts = app.table_counts();
    let answers = [
        login(&app, "nobody@example.org", STAFF_PASSWORD).await,
        login(&app, "inactive@example.org", STAFF_PASSWORD).await,
        login(&app, "locked@example.org", STAFF_PASSWORD).await,
        login(&app, "", STAFF_PASSWORD).await,
        login(&app, COORDINATOR, "").await,
    ];
    for answer in &answers {
        assert_eq!(observable(answer), observable(&wrong_password));
    }
    assert_eq!(app.table_counts(), counts, "no session was opened");
}

#[tokio::test]
async fn login_bodies_are_validated() {
    let app = spawn_app_with(&[LOGIN_LIMIT]).await;
    app.use_token(None);
    let response = app.post_json("/v1/auth/login", &json!({})).await;
    assert_invalid_fields(&response, &["email", "password"]);
    let response = app
        .post_json(
            "/v1/auth/login",
            &json!({ "email": 5, "password": STAFF_PASSWORD, "role": "admin" }),
        )
        .await;
    assert_invalid_fields(&response, &["email", "role"]);
    let response = app
        .post_json(
            "/v1/auth/login",
            &json!({ "email": format!("{}@example.org", "a".repeat(300)), "password": "x" }),
        )
        .await;
    assert_invalid_fields(&response, &["email"]);
    let response = app
        .request(
            Method::POST,
            "/v1/auth/login",
            Some("text/plain"),
            b"email=a".to_vec(),
        )
        .await;
    assert_problem(&response, 415, "unsupported-media-type");
}

#[tokio::test]
async fn an_address_is_matched_as_accounts_store_it() {
    let app = spawn_app_with(&[LOGIN_LIMIT]).await;
    let response = app
        .post_json(
            "/v1/staff",
            &json!({
                "email": "Anna.de.Vries@Example.ORG",
                "name": "Anna de Vries",
                "role": "coordinator",
                "password": STAFF_PASSWORD,
            }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    // Domains are case-insensitive and stored in lower case; the local part is kept.
    assert_eq!(response.body["email"], "Anna.de.Vries@example.org");
    for typed in [
        "Anna.de.Vries@Example.ORG",
        "Anna.de.Vries@example.org",
        " Anna.de.Vries@example.org ",
    ] {
        assert_eq!(
            login(&app, typed, STAFF_PASSWORD).await.status,
            200,
            "{typed:?}"
        );
    }
    assert_unauthorized(&login(&app, "anna.de.vries@example.org", STAFF_PASSWORD).await);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_against_the_right_password() {
    let app = spawn_app_with(&[LOGIN_LIMIT, (MAX_FAILURES, "3"), (LOCKOUT, "60")]).await;
    let (id, session) = app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    let refused = login(&app, COORDINATOR, "wrong").await;
    assert_unauthorized(&refused);
    assert!(staff_account(&app, &id).await.get("locked_until").is_none());
    for _ in 0..2 {
        assert_unauthorized(&login(&app, COORDINATOR, "wrong").await);
    }
    let locked_until = start_time() + Duration::seconds(60);
    assert_eq!(
        time_of(&staff_account(&app, &id).await, "locked_until"),
        locked_until
    );

    // Locked: the right password gets the same answer as a wrong one, and the lock does not
    // move while it lasts.
    let response = login(&app, COORDINATOR, STAFF_PASSWORD).await;
    assert_eq!(observable(&response), observable(&refused));
    assert_unauthorized(&login(&app, COORDINATOR, "wrong").await);
    assert_eq!(
        time_of(&staff_account(&app, &id).await, "locked_until"),
        locked_until
    );
    // A lock is about logging in: open sessions go on.
    assert_eq!(me_status(&app, &session).await, 200);

    app.clock.advance(Duration::seconds(59));
    assert_unauthorized(&login(&app, COORDINATOR, STAFF_PASSWORD).await);
    app.clock.advance(Duration::seconds(1));
    token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
    assert!(staff_account(&app, &id).await.get("locked_until").is_none());

    // The success reset the count: two failures lock nothing.
    for _ in 0..2 {
        assert_unauthorized(&login(&app, COORDINATOR, "wrong").await);
    }
    token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
}

#[tokio::test]
async fn each_further_failure_doubles_the_lock_up_to_an_hour() {
    let app = spawn_app_with(&[LOGIN_LIMIT, (MAX_FAILURES, "2"), (LOCKOUT, "900")]).await;
    let (id, _) = app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    for _ in 0..2 {
        assert_unauthorized(&login(&app, COORDINATOR, "wrong").await);
    }
    let mut now = start_time();
    for minutes in [15, 30, 60, 60] {
        let locked_until = time_of(&staff_account(&app, &id).await, "locked_until");
        assert_eq!(locked_until, now + Duration::minutes(minutes));
        // Still locked a second before the end, whatever the password.
        let wait = locked_until - now;
        app.clock.advance(wait - Duration::seconds(1));
        assert_unauthorized(&login(&app, COORDINATOR, STAFF_PASSWORD).await);
        app.clock.advance(Duration::seconds(1));
        now = locked_until;
        // The lock is over, but the next failure locks again, for longer.
        assert_unauthorized(&login(&app, COORDINATOR, "wrong").await);
    }
}

/// Someone who knows an account's address cannot keep its owner out: the lockout holds the
/// attacker's source address, not the account (OWASP: throttle per account and source, with a
/// progressive delay).
#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_owner_out_from_another() {
    let app = spawn_app_with(&[LOGIN_LIMIT, (MAX_FAILURES, "3"), (LOCKOUT, "60")]).await;
    let (id, _) = app.create_staff(StaffRole::Admin, COORDINATOR).await;
    const ATTACKER: &str = "127.0.0.2";
    const OWNER: &str = "127.0.0.1";
    let refused = login_from(&app, ATTACKER, COORDINATOR, "guess 0").await;
    assert_unauthorized(&refused);
    for n in 1..20 {
        let response = login_from(&app, ATTACKER, COORDINATOR, &format!("guess {n}")).await;
        assert_eq!(observable(&response), observable(&refused));
    }
    // The attacker's address is locked, even against the right password ...
    let response = login_from(&app, ATTACKER, COORDINATOR, STAFF_PASSWORD).await;
    assert_eq!(observable(&response), observable(&refused));
    // ... and the administrators see that a lock is in place ...
    let locked_until = start_time() + Duration::seconds(60);
    assert_eq!(
        time_of(&staff_account(&app, &id).await, "locked_until"),
        locked_until
    );
    // ... but the owner logs in from their own address, again and again.
    for _ in 0..3 {
        token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
        let response = login_from(&app, OWNER, COORDINATOR, STAFF_PASSWORD).await;
        assert_eq!(response.status, 200, "{}", response.text);
    }
    // The owner's own typing errors count for the owner's address alone.
    for _ in 0..2 {
        assert_unauthorized(&login(&app, COORDINATOR, "typo").await);
    }
    token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
    // The owner's logins did not lift the attacker's lock; the attempts made while it lasted
    // did not lengthen it.
    app.clock.advance(Duration::seconds(59));
    let response = login_from(&app, ATTACKER, COORDINATOR, STAFF_PASSWORD).await;
    assert_eq!(observable(&response), observable(&refused));
    // After the lock the attacker's next failure locks that address again, for twice as long.
    app.clock.advance(Duration::seconds(1));
    assert_unauthorized(&login_from(&app, ATTACKER, COORDINATOR, "guess 20").await);
    assert_eq!(
        time_of(&staff_account(&app, &id).await, "locked_until"),
        locked_until + Duration::seconds(120)
    );
    token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
}

/// Password checks are bounded: with room for one at a time and no waiting, logins that arrive
/// while another one is being checked are answered 503 with `Retry-After`, and open no session.
#[tokio::test]
async fn concurrent_password_checks_are_bounded() {
    let app = spawn_app_with(&[
        LOGIN_LIMIT,
        ("MAATJE__AUTH__MAX_CONCURRENT_VERIFICATIONS", "1"),
        ("MAATJE__AUTH__VERIFICATION_WAIT_MS", "0"),
    ])
    .await;
    app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    let sessions = app.table_counts()["staff_sessions"];
    let logins = (0..12).map(|_| login(&app, COORDINATOR, STAFF_PASSWORD));
    let answers = futures_util::future::join_all(logins).await;
    let mut admitted = 0;
    for answer in &answers {
        match answer.status {
            200 => admitted += 1,
            _ => {
                assert_problem(answer, 503, "unavailable");
                assert_eq!(
                    answer.header("retry-after"),
                    Some("1"),
                    "{:?}",
                    answer.headers
                );
            }
        }
    }
    assert!(
        (1..answers.len()).contains(&admitted),
        "{admitted} of {} logins admitted",
        answers.len()
    );
    assert_eq!(
        app.table_counts()["staff_sessions"],
        sessions + admitted as i64
    );
    // Once the checks are done, there is room again.
    token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
}

#[tokio::test]
async fn an_admin_can_lift_a_lock() {
    let app = spawn_app_with(&[LOGIN_LIMIT, (MAX_FAILURES, "2"), (LOCKOUT, "600")]).await;
    let (id, _) = app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    for _ in 0..2 {
        assert_unauthorized(&login(&app, COORDINATOR, "wrong").await);
    }
    assert_unauthorized(&login(&app, COORDINATOR, STAFF_PASSWORD).await);
    let response = app
        .patch_json(&format!("/v1/staff/{id}"), &json!({ "unlock": true }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(
        response.body.get("locked_until").is_none(),
        "{}",
        response.text
    );
    token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
    // The count starts afresh after an unlock.
    assert_unauthorized(&login(&app, COORDINATOR, "wrong").await);
    token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
}

#[tokio::test]
async fn logging_out_ends_that_session_only() {
    let app = spawn_app_with(&[LOGIN_LIMIT]).await;
    app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    let first = token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
    let second = token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
    let response = post_as(&app, &first, "/v1/auth/logout").await;
    assert_eq!(response.status, 204, "{}", response.text);
    assert!(response.text.is_empty());
    assert_unauthorized(&get_as(&app, &first, "/v1/auth/me").await);
    assert_unauthorized(&post_as(&app, &first, "/v1/auth/logout").await);
    assert_eq!(me_status(&app, &second).await, 200);
    assert_eq!(me_status(&app, &app.admin_token).await, 200);

    // A case system has no session to end.
    let org = crate::fixtures::organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let response = post_as(&app, &key, "/v1/auth/logout").await;
    assert_problem(&response, 403, "forbidden");
    assert_eq!(me_status(&app, &key).await, 200);

    app.use_token(None);
    assert_unauthorized(&app.post_empty("/v1/auth/logout").await);
}

#[tokio::test]
async fn who_am_i_for_each_kind_of_caller() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let (coordinator_id, coordinator) = app.create_staff(StaffRole::Coordinator, COORDINATOR).await;

    let me = get_as(&app, &app.admin_token, "/v1/auth/me").await;
    assert_eq!(me.body["role"], "admin");
    let admin = me.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        staff_account(&app, &admin).await["email"],
        "admin@example.org"
    );
    assert_eq!(me.body, json!({ "role": "admin", "id": admin }));

    let me = get_as(&app, &coordinator, "/v1/auth/me").await;
    assert_eq!(
        me.body,
        json!({ "role": "coordinator", "id": coordinator_id })
    );

    let me = get_as(&app, &key, "/v1/auth/me").await;
    assert_eq!(
        me.body,
        json!({ "role": "case_system", "id": client, "organisation_id": org })
    );

    assert_unauthorized(&get_as(&app, "", "/v1/auth/me").await);
}

fn new_staff(email: &str) -> Value {
    json!({
        "email": email,
        "name": "Nieuwe Collega",
        "role": "coordinator",
        "password": "a long enough password",
    })
}

#[tokio::test]
async fn admins_create_staff_accounts_with_valid_unique_details() {
    let app = spawn_app_with(&[LOGIN_LIMIT]).await;
    let response = app
        .post_json("/v1/staff", &new_staff("nieuw@example.org"))
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let id = id_of(&response.body);
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/staff/{id}").as_str())
    );
    assert_eq!(response.body["email"], "nieuw@example.org");
    assert_eq!(response.body["name"], "Nieuwe Collega");
    assert_eq!(response.body["role"], "coordinator");
    assert_eq!(response.body["active"], true);
    assert_eq!(time_of(&response.body, "created_at"), start_time());
    for secret in ["password", "a long enough password", "$argon2"] {
        assert!(!response.text.contains(secret), "{}", response.text);
    }
    assert_eq!(staff_account(&app, &id).await, response.body);
    token_of(&app, "nieuw@example.org", "a long enough password").await;

    let counts = app.table_counts();
    let response = app
        .post_json(
            "/v1/staff",
            &json!({ "email": "geen adres", "name": " ", "role": "coordinator", "password": "kort" }),
        )
        .await;
    assert_invalid_fields(&response, &["email", "name", "password"]);
    let mut body = new_staff("ander@example.org");
    body["role"] = json!("superuser");
    assert_invalid_fields(&app.post_json("/v1/staff", &body).await, &["role"]);
    let response = app.post_json("/v1/staff", &json!({})).await;
    assert_invalid_fields(&response, &["email", "name", "role", "password"]);
    let response = app.post_json("/v1/staff", &json!({ "role": "root" })).await;
    assert_invalid_fields(&response, &["email", "name", "role", "password"]);
    let mut body = new_staff("ander@example.org");
    body["password"] = json!("x".repeat(257));
    assert_invalid_fields(&app.post_json("/v1/staff", &body).await, &["password"]);
    for taken in [
        "nieuw@example.org",
        "nieuw@EXAMPLE.org",
        " nieuw@example.org",
    ] {
        let response = app.post_json("/v1/staff", &new_staff(taken)).await;
        assert_problem(&response, 409, "duplicate");
    }
    assert_eq!(app.table_counts(), counts, "nothing stored");
}

#[tokio::test]
async fn staff_accounts_are_listed_page_by_page_and_read_one_by_one() {
    let app = spawn_app().await;
    let mut ids = vec![id_of(
        &get_as(&app, &app.admin_token, "/v1/auth/me").await.body,
    )];
    for n in 0..4 {
        let (id, _) = app
            .create_staff(StaffRole::Coordinator, &format!("staff{n}@example.org"))
            .await;
        ids.push(id);
    }
    let items = app.collect_pages("/v1/staff?limit=2").await;
    let listed: Vec<String> = items.iter().map(id_of).collect();
    assert_eq!(listed, ids, "all of them, oldest first");
    let first = app.get("/v1/staff?limit=2").await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert!(first.body["next_cursor"].is_string());
    for item in &items {
        assert!(item.get("password_hash").is_none(), "{item}");
        assert_eq!(&staff_account(&app, &id_of(item)).await, item);
    }

    assert_invalid_fields(&app.get("/v1/staff?limit=0").await, &["limit"]);
    assert_invalid_fields(&app.get("/v1/staff?cursor=nonsense").await, &["cursor"]);
    assert_invalid_fields(&app.get("/v1/staff?role=admin").await, &["role"]);
    let unknown = Uuid::now_v7();
    assert_problem(
        &app.get(&format!("/v1/staff/{unknown}")).await,
        404,
        "not-found",
    );
    assert_invalid_fields(&app.get("/v1/staff/not-an-id").await, &["id"]);
}

#[tokio::test]
async fn admins_change_names_roles_passwords_and_activity() {
    let app = spawn_app_with(&[LOGIN_LIMIT]).await;
    let (id, session) = app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    let path = format!("/v1/staff/{id}");

    app.clock.advance(Duration::minutes(1));
    let response = app
        .patch_json(&path, &json!({ "name": "Andere Naam" }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["name"], "Andere Naam");
    assert_eq!(
        time_of(&response.body, "updated_at"),
        start_time() + Duration::minutes(1)
    );

    // Roles count from the next request on.
    assert_eq!(get_as(&app, &session, "/v1/staff").await.status, 403);
    let response = app.patch_json(&path, &json!({ "role": "admin" })).await;
    assert_eq!(response.body["role"], "admin", "{}", response.text);
    assert_eq!(get_as(&app, &session, "/v1/staff").await.status, 200);
    let response = app
        .patch_json(&path, &json!({ "role": "coordinator" }))
        .await;
    assert_eq!(response.body["role"], "coordinator", "{}", response.text);
    assert_eq!(get_as(&app, &session, "/v1/staff").await.status, 403);

    // A new password ends every session of the account, and only it opens new ones.
    let other = token_of(&app, COORDINATOR, STAFF_PASSWORD).await;
    let response = app
        .patch_json(&path, &json!({ "password": "a brand new passphrase" }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(!response.text.contains("passphrase"), "{}", response.text);
    assert_unauthorized(&get_as(&app, &session, "/v1/auth/me").await);
    assert_unauthorized(&get_as(&app, &other, "/v1/auth/me").await);
    assert_unauthorized(&login(&app, COORDINATOR, STAFF_PASSWORD).await);
    let fresh = token_of(&app, COORDINATOR, "a brand new passphrase").await;

    // Deactivation ends the sessions and refuses logins; reactivation allows logins again but
    // does not revive the old sessions.
    let response = app.patch_json(&path, &json!({ "active": false })).await;
    assert_eq!(response.body["active"], false, "{}", response.text);
    assert_unauthorized(&get_as(&app, &fresh, "/v1/auth/me").await);
    assert_unauthorized(&login(&app, COORDINATOR, "a brand new passphrase").await);
    let response = app.patch_json(&path, &json!({ "active": true })).await;
    assert_eq!(response.body["active"], true, "{}", response.text);
    assert_unauthorized(&get_as(&app, &fresh, "/v1/auth/me").await);
    token_of(&app, COORDINATOR, "a brand new passphrase").await;

    // Bad changes change nothing.
    let before = staff_account(&app, &id).await;
    let counts = app.table_counts();
    assert_invalid_fields(&app.patch_json(&path, &json!({})).await, &[""]);
    assert_invalid_fields(
        &app.patch_json(&path, &json!({ "password": "kort", "name": "" }))
            .await,
        &["password", "name"],
    );
    assert_invalid_fields(
        &app.patch_json(&path, &json!({ "role": "root", "email": "x@example.org" }))
            .await,
        &["role", "email"],
    );
    assert_eq!(staff_account(&app, &id).await, before);
    assert_eq!(app.table_counts(), counts);
    let unknown = format!("/v1/staff/{}", Uuid::now_v7());
    assert_problem(
        &app.patch_json(&unknown, &json!({ "name": "X" })).await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = spawn_app().await;
    let admin = id_of(&get_as(&app, &app.admin_token, "/v1/auth/me").await.body);
    let me = format!("/v1/staff/{admin}");
    for change in [json!({ "role": "coordinator" }), json!({ "active": false })] {
        let response = app.patch_json(&me, &change).await;
        assert_problem(&response, 409, "last-admin");
    }
    assert_eq!(staff_account(&app, &admin).await["role"], "admin");

    // With a second admin either may go, but not both.
    let (second, _) = app
        .create_staff(StaffRole::Admin, "tweede@example.org")
        .await;
    let response = app
        .patch_json(
            &format!("/v1/staff/{second}"),
            &json!({ "role": "coordinator" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_problem(
        &app.patch_json(&me, &json!({ "role": "coordinator" })).await,
        409,
        "last-admin",
    );
    // An inactive admin does not count.
    let response = app
        .patch_json(
            &format!("/v1/staff/{second}"),
            &json!({ "role": "admin", "active": false }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_problem(
        &app.patch_json(&me, &json!({ "active": false })).await,
        409,
        "last-admin",
    );
    // Once the other is back, this one may step down.
    let response = app
        .patch_json(&format!("/v1/staff/{second}"), &json!({ "active": true }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let response = app.patch_json(&me, &json!({ "role": "coordinator" })).await;
    assert_eq!(response.status, 200, "{}", response.text);
}

/// Two administrators deactivated at the same moment, each counting the other as remaining,
/// must not leave the service without one. PostgreSQL only: SQLite runs write transactions one at
/// a time. The interleaving is forced, not hoped for: the test holds a lock on the two accounts'
/// sessions, which the server revokes after its check, so both requests wait inside their
/// transactions (or the second waits for the first at its check) until the test lets go.
#[tokio::test]
async fn two_admins_deactivated_at_once_leave_one_active() {
    let app = spawn_app().await;
    if !app.is_postgres() {
        eprintln!("skipped: needs {}", crate::helpers::POSTGRES_ENV);
        return;
    }
    let first_admin = id_of(&get_as(&app, &app.admin_token, "/v1/auth/me").await.body);
    let (x, x_session) = app.create_staff(StaffRole::Admin, "x@example.org").await;
    let (y, _) = app.create_staff(StaffRole::Admin, "y@example.org").await;
    let response = app
        .patch_json(
            &format!("/v1/staff/{first_admin}"),
            &json!({ "role": "coordinator" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    app.use_token(Some(&x_session));

    let holder = Holder::lock(
        &app,
        &format!("SELECT id FROM staff_sessions WHERE staff_id IN ('{x}', '{y}') FOR UPDATE"),
    );
    let (path_x, path_y) = (format!("/v1/staff/{x}"), format!("/v1/staff/{y}"));
    let deactivate = json!({ "active": false });
    let (rx, ry, ()) = tokio::join!(
        app.patch_json(&path_x, &deactivate),
        app.patch_json(&path_y, &deactivate),
        holder.release_when_waiting(&app, 2)
    );
    let mut statuses = [rx.status, ry.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{}\n{}", rx.text, ry.text);
    let refused = if rx.status == 409 { &rx } else { &ry };
    assert_problem(refused, 409, "last-admin");
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let admins: Count = app.with_connection(|conn| {
        diesel::sql_query("SELECT COUNT(*) AS n FROM staff WHERE role = 'admin' AND active")
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(admins.n, 1);
}

/// Holds row locks in a transaction of its own until [`Holder::release_when_waiting`] lets go.
struct Holder(diesel::PgConnection);

impl Holder {
    /// Locks the rows `select` (a `SELECT ... FOR UPDATE`) finds, in the app's database.
    fn lock(app: &TestApp, select: &str) -> Self {
        let mut conn = diesel::PgConnection::establish(&app.settings.database.url)
            .expect("a connection of the test's own");
        diesel::connection::SimpleConnection::batch_execute(&mut conn, "BEGIN").unwrap();
        let locked = diesel::sql_query(select).execute(&mut conn).unwrap();
        assert!(locked > 0, "{select} locked nothing");
        Holder(conn)
    }

    /// Ends the transaction as soon as `n` other sessions wait for a lock.
    async fn release_when_waiting(mut self, app: &TestApp, n: i64) {
        #[derive(QueryableByName)]
        struct Waiting {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        // Not a timeout: a bound on a loop that ends as soon as the requests wait.
        for _ in 0..100_000 {
            // Asked on another connection: inside the holder's transaction the activity view
            // would be a snapshot taken once.
            let waiting: Waiting = app.with_connection(|conn| {
                diesel::sql_query(
                    "SELECT COUNT(*) AS n FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .get_result(conn)
                .unwrap()
            });
            if waiting.n >= n {
                diesel::connection::SimpleConnection::batch_execute(&mut self.0, "COMMIT").unwrap();
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the requests never all waited for a lock");
    }
}

/// Failed logins made at the same moment all count. PostgreSQL only (SQLite runs write
/// transactions one at a time). The test holds the account's row, so the logins queue up behind
/// it and then run as close together as they can.
#[tokio::test]
async fn simultaneous_failed_logins_all_count() {
    let app = spawn_app_with(&[LOGIN_LIMIT, (MAX_FAILURES, "3"), (LOCKOUT, "600")]).await;
    if !app.is_postgres() {
        eprintln!("skipped: needs {}", crate::helpers::POSTGRES_ENV);
        return;
    }
    let (id, _) = app.create_staff(StaffRole::Coordinator, COORDINATOR).await;
    app.clock.advance(Duration::minutes(1));
    let holder = Holder::lock(
        &app,
        &format!("SELECT id FROM staff WHERE id = '{id}' FOR UPDATE"),
    );
    let (a, b, c, ()) = tokio::join!(
        login(&app, COORDINATOR, "guess one"),
        login(&app, COORDINATOR, "guess two"),
        login(&app, COORDINATOR, "guess three"),
        holder.release_when_waiting(&app, 3)
    );
    for response in [&a, &b, &c] {
        assert_unauthorized(response);
    }
    // Three failures: locked, even against the right password.
    assert!(
        staff_account(&app, &id).await.get("locked_until").is_some(),
        "not locked after three failures"
    );
    assert_unauthorized(&login(&app, COORDINATOR, STAFF_PASSWORD).await);
}

async fn new_client(app: &TestApp, org: &str, name: &str) -> Response {
    app.post_json(
        "/v1/api-clients",
        &json!({ "organisation_id": org, "name": name }),
    )
    .await
}

/// Issues another key for `client`; returns (key id, token).
async fn issue_key(app: &TestApp, client: &str, body: Option<Value>) -> (String, String) {
    let path = format!("/v1/api-clients/{client}/keys");
    let response = match body {
        Some(body) => app.post_json(&path, &body).await,
        None => app.post_empty(&path).await,
    };
    assert_eq!(response.status, 201, "{}", response.text);
    assert!(response.body["key"].get("revoked_at").is_none());
    (
        id_of(&response.body["key"]),
        response.body["token"].as_str().unwrap().to_owned(),
    )
}

/// Checks the shape of an API key token and returns its secret part.
#[track_caller]
fn secret_of(token: &str, key_id: &str) -> String {
    let rest = token
        .strip_prefix("mtj_ak_")
        .unwrap_or_else(|| panic!("an API key starts with mtj_ak_: {token}"));
    let (id, secret) = rest.split_at(32);
    assert_eq!(Uuid::parse_str(id).unwrap().to_string(), key_id);
    let secret = secret
        .strip_prefix('_')
        .expect("id and secret are separated by _");
    let bytes = URL_SAFE_NO_PAD
        .decode(secret)
        .unwrap_or_else(|e| panic!("the secret is base64url: {e}"));
    assert!(
        bytes.len() >= 16,
        "{} bytes: fewer than 128 bits",
        bytes.len()
    );
    secret.to_owned()
}

#[tokio::test]
async fn a_new_api_client_gets_a_key_that_is_shown_once_and_stored_only_hashed() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let response = new_client(&app, &org, "Zaaksysteem").await;
    assert_eq!(response.status, 201, "{}", response.text);
    let client = id_of(&response.body["client"]);
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/api-clients/{client}").as_str())
    );
    assert_eq!(response.body["client"]["organisation_id"], org.as_str());
    assert_eq!(response.body["client"]["name"], "Zaaksysteem");
    let token = response.body["key"]["token"].as_str().unwrap().to_owned();
    let key_id = id_of(&response.body["key"]["key"]);
    assert_eq!(response.body["client"]["keys"][0]["id"], key_id.as_str());
    assert!(response.body["client"]["keys"][0].get("token").is_none());
    let secret = secret_of(&token, &key_id);

    let me = get_as(&app, &token, "/v1/auth/me").await;
    assert_eq!(me.body["role"], "case_system", "{}", me.text);

    let stored = dump(&app, "api_keys");
    assert!(!stored.contains(&secret), "the secret is stored: {stored}");
    let hash = stored.rsplit(' ').next().unwrap().to_owned();
    for shown in [
        app.get(&format!("/v1/api-clients/{client}")).await,
        app.get("/v1/api-clients").await,
    ] {
        assert_eq!(shown.status, 200, "{}", shown.text);
        for hidden in [&secret, &token, &hash] {
            assert!(!shown.text.contains(hidden.as_str()), "{}", shown.text);
        }
        assert!(!shown.text.contains("hash"), "{}", shown.text);
    }
    // Keys issued later are as strong, and unique.
    let (second_id, second) = issue_key(&app, &client, None).await;
    assert_ne!(secret_of(&second, &second_id), secret);
}

#[tokio::test]
async fn keys_rotate_without_downtime() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, old) = app.create_case_system(&org, "Zaaksysteem").await;
    let old_id = id_of(&app.get(&format!("/v1/api-clients/{client}")).await.body["keys"][0]);
    let (new_id, new) = issue_key(&app, &client, Some(json!({}))).await;
    assert_eq!(me_status(&app, &old).await, 200);
    assert_eq!(me_status(&app, &new).await, 200);
    let listed = app.get(&format!("/v1/api-clients/{client}")).await.body;
    assert_eq!(listed["keys"].as_array().unwrap().len(), 2);

    app.clock.advance(Duration::minutes(3));
    let revoke_old = format!("/v1/api-clients/{client}/keys/{old_id}/revoke");
    let response = app.post_empty(&revoke_old).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(
        time_of(&response.body, "revoked_at"),
        start_time() + Duration::minutes(3)
    );
    assert_unauthorized(&get_as(&app, &old, "/v1/auth/me").await);
    assert_eq!(me_status(&app, &new).await, 200);

    let counts = app.table_counts();
    assert_problem(&app.post_empty(&revoke_old).await, 409, "already-revoked");
    // A key is revoked through its own client only.
    let (other_client, _) = app.create_case_system(&org, "Ander systeem").await;
    let counts_after = app.table_counts();
    let response = app
        .post_empty(&format!(
            "/v1/api-clients/{other_client}/keys/{new_id}/revoke"
        ))
        .await;
    assert_problem(&response, 404, "not-found");
    let response = app
        .post_empty(&format!(
            "/v1/api-clients/{client}/keys/{}/revoke",
            Uuid::now_v7()
        ))
        .await;
    assert_problem(&response, 404, "not-found");
    assert_eq!(me_status(&app, &new).await, 200);
    assert_eq!(counts_after["api_keys"], counts["api_keys"] + 1);
}

#[tokio::test]
async fn revoking_a_client_ends_all_its_keys() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, first) = app.create_case_system(&org, "Zaaksysteem").await;
    let (_, second) = issue_key(&app, &client, None).await;
    let (other_client, other) = app.create_case_system(&org, "Ander systeem").await;

    let response = app
        .post_empty(&format!("/v1/api-clients/{client}/revoke"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(time_of(&response.body, "revoked_at"), start_time());
    for key in response.body["keys"].as_array().unwrap() {
        assert_eq!(time_of(key, "revoked_at"), start_time());
    }
    for token in [&first, &second] {
        assert_unauthorized(&get_as(&app, token, "/v1/auth/me").await);
        assert_unauthorized(&get_as(&app, token, "/v1/buddy-requests").await);
    }
    assert_eq!(
        me_status(&app, &other).await,
        200,
        "{other_client} lives on"
    );

    let counts = app.table_counts();
    assert_problem(
        &app.post_empty(&format!("/v1/api-clients/{client}/revoke"))
            .await,
        409,
        "already-revoked",
    );
    let response = app
        .post_empty(&format!("/v1/api-clients/{client}/keys"))
        .await;
    assert_problem(&response, 409, "api-client-revoked");
    assert_eq!(app.table_counts(), counts);
    let unknown = Uuid::now_v7();
    assert_problem(
        &app.post_empty(&format!("/v1/api-clients/{unknown}/revoke"))
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &app.post_empty(&format!("/v1/api-clients/{unknown}/keys"))
            .await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn a_keys_last_use_is_noted() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let path = format!("/v1/api-clients/{client}");
    let last_used = |body: &Value| body["keys"][0].get("last_used_at").cloned();
    assert_eq!(last_used(&app.get(&path).await.body), None);

    app.clock.advance(Duration::minutes(10));
    let first_use = start_time() + Duration::minutes(10);
    assert_eq!(me_status(&app, &key).await, 200);
    let shown = app.get(&path).await.body;
    assert_eq!(time_of(&shown["keys"][0], "last_used_at"), first_use);

    // Noted at most once a minute.
    app.clock.advance(Duration::seconds(30));
    assert_eq!(me_status(&app, &key).await, 200);
    let shown = app.get(&path).await.body;
    assert_eq!(time_of(&shown["keys"][0], "last_used_at"), first_use);
    app.clock.advance(Duration::seconds(30));
    assert_eq!(me_status(&app, &key).await, 200);
    let shown = app.get(&path).await.body;
    assert_eq!(
        time_of(&shown["keys"][0], "last_used_at"),
        first_use + Duration::minutes(1)
    );
    // A failed attempt is not a use.
    app.clock.advance(Duration::hours(1));
    let wrong = format!(
        "{}{}",
        &key[..key.len() - 1],
        if key.ends_with('A') { 'B' } else { 'A' }
    );
    assert_unauthorized(&get_as(&app, &wrong, "/v1/auth/me").await);
    let shown = app.get(&path).await.body;
    assert_eq!(
        time_of(&shown["keys"][0], "last_used_at"),
        first_use + Duration::minutes(1)
    );
}

#[tokio::test]
async fn keys_expire_when_asked_and_not_in_the_past() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, _) = app.create_case_system(&org, "Zaaksysteem").await;
    let counts = app.table_counts();
    let now = start_time().to_rfc3339();
    let past = (start_time() - Duration::seconds(1)).to_rfc3339();
    for at in [&now, &past] {
        let response = app
            .post_json(
                &format!("/v1/api-clients/{client}/keys"),
                &json!({ "expires_at": at }),
            )
            .await;
        assert_invalid_fields(&response, &["expires_at"]);
        let response = app
            .post_json(
                "/v1/api-clients",
                &json!({ "organisation_id": org, "name": "Nieuw", "key_expires_at": at }),
            )
            .await;
        assert_invalid_fields(&response, &["key_expires_at"]);
    }
    let response = app
        .post_json(
            &format!("/v1/api-clients/{client}/keys"),
            &json!({ "expires_at": "tomorrow" }),
        )
        .await;
    assert_invalid_fields(&response, &["expires_at"]);
    assert_eq!(app.table_counts(), counts, "nothing stored");

    let in_a_day = start_time() + Duration::days(1);
    let response = app
        .post_json(
            "/v1/api-clients",
            &json!({ "organisation_id": org, "name": "Tijdelijk", "key_expires_at": in_a_day.to_rfc3339() }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    assert_eq!(
        time_of(&response.body["key"]["key"], "expires_at"),
        in_a_day
    );
    let temporary = response.body["key"]["token"].as_str().unwrap().to_owned();
    let (_, rotated) = issue_key(
        &app,
        &client,
        Some(json!({ "expires_at": in_a_day.to_rfc3339() })),
    )
    .await;
    app.clock.advance(Duration::days(1) - Duration::seconds(1));
    assert_eq!(me_status(&app, &temporary).await, 200);
    assert_eq!(me_status(&app, &rotated).await, 200);
    app.clock.advance(Duration::seconds(1));
    assert_unauthorized(&get_as(&app, &temporary, "/v1/auth/me").await);
    assert_unauthorized(&get_as(&app, &rotated, "/v1/auth/me").await);
}

#[tokio::test]
async fn api_clients_need_a_known_active_organisation_and_a_unique_name() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let other = id_of(&create_organisation(&app, "Andere instelling").await);
    let gone = id_of(&create_organisation(&app, "Vertrokken instelling").await);
    let response = app
        .post_empty(&format!("/v1/organisations/{gone}/deactivate"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(new_client(&app, &org, "Zaaksysteem").await.status, 201);

    let counts = app.table_counts();
    let unknown = Uuid::now_v7().to_string();
    assert_problem(&new_client(&app, &unknown, "X").await, 404, "not-found");
    assert_problem(
        &new_client(&app, &gone, "X").await,
        409,
        "organisation-inactive",
    );
    assert_problem(
        &new_client(&app, &org, "Zaaksysteem").await,
        409,
        "duplicate",
    );
    assert_invalid_fields(
        &app.post_json("/v1/api-clients", &json!({})).await,
        &["organisation_id", "name"],
    );
    assert_invalid_fields(&new_client(&app, &org, " ").await, &["name"]);
    assert_invalid_fields(
        &new_client(&app, "not-an-id", "X").await,
        &["organisation_id"],
    );
    assert_eq!(app.table_counts(), counts, "nothing stored");
    // Names are unique per organisation only.
    assert_eq!(new_client(&app, &other, "Zaaksysteem").await.status, 201);
}

#[tokio::test]
async fn api_clients_are_listed_by_organisation_page_by_page() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let other = id_of(&create_organisation(&app, "Andere instelling").await);
    let mut ours = Vec::new();
    for n in 0..3 {
        ours.push(
            app.create_case_system(&org, &format!("Systeem {n}"))
                .await
                .0,
        );
    }
    let (theirs, _) = app.create_case_system(&other, "Systeem").await;
    let all: Vec<String> = app
        .collect_pages("/v1/api-clients?limit=2")
        .await
        .iter()
        .map(id_of)
        .collect();
    let mut want = ours.clone();
    want.push(theirs);
    assert_eq!(all, want);
    let filtered: Vec<String> = app
        .collect_pages(&format!("/v1/api-clients?organisation_id={org}&limit=1"))
        .await
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(filtered, ours);
    assert_invalid_fields(&app.get("/v1/api-clients?limit=500").await, &["limit"]);
    assert_problem(
        &app.get(&format!("/v1/api-clients/{}", Uuid::now_v7()))
            .await,
        404,
        "not-found",
    );
}
