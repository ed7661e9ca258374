//! The cache of verified credentials (`auth::cache`): a change that makes a credential invalid
//! takes effect at once on the instance that made it, and within a second on another instance
//! on the same database; a cached key's use is still noted.

use std::time::{Duration, Instant};

use chrono::Duration as Span;
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::helpers::{
    assert_problem, spawn_app, spawn_app_sharing, start_time, time_of, Method, Response, TestApp,
};
use maatje::auth::StaffRole;

/// How long another instance may take, measured, to honour a change (the design's second
/// plus scheduling slack on a loaded test machine).
const ELSEWHERE: Duration = Duration::from_millis(1500);

async fn send_as(app: &TestApp, method: Method, token: &str, path: &str) -> Response {
    app.request_with_headers(
        method,
        path,
        None,
        Vec::new(),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> Response {
    send_as(app, Method::GET, token, "/v1/auth/me").await
}

#[track_caller]
fn assert_unauthorized(response: &Response) {
    assert_problem(response, 401, "unauthorized");
}

/// Asks `GET /v1/auth/me` with `token` until the answer is `status`, and returns how long that
/// took; panics if it takes more than twice [`ELSEWHERE`].
async fn until_status(app: &TestApp, token: &str, status: u16) -> Duration {
    let started = Instant::now();
    loop {
        let response = me(app, token).await;
        if response.status == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < ELSEWHERE * 2,
            "still {} after {:?}: {}",
            response.status,
            started.elapsed(),
            response.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn changes_to_a_cached_credential_take_effect_at_once_on_the_same_instance() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;

    // A revoked key.
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    for _ in 0..2 {
        assert_eq!(me(&app, &key).await.status, 200);
    }
    let keys = app.get(&format!("/v1/api-clients/{client}")).await.body;
    let key_id = keys["keys"][0]["id"].as_str().unwrap().to_owned();
    let response = app
        .post_empty(&format!("/v1/api-clients/{client}/keys/{key_id}/revoke"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_unauthorized(&me(&app, &key).await);

    // A revoked client.
    let (client, key) = app.create_case_system(&org, "Ander zaaksysteem").await;
    assert_eq!(me(&app, &key).await.status, 200);
    let response = app
        .post_empty(&format!("/v1/api-clients/{client}/revoke"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_unauthorized(&me(&app, &key).await);

    // An organisation deactivated, then reactivated.
    let (_, key) = app.create_case_system(&org, "Derde zaaksysteem").await;
    assert_eq!(me(&app, &key).await.status, 200);
    let response = app
        .post_empty(&format!("/v1/organisations/{org}/deactivate"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_problem(&me(&app, &key).await, 403, "organisation-inactive");
    let response = app
        .post_empty(&format!("/v1/organisations/{org}/reactivate"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(me(&app, &key).await.status, 200);

    // A role change, both ways.
    let (staff, session) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let staff_path = format!("/v1/staff/{staff}");
    assert_problem(
        &send_as(&app, Method::GET, &session, "/v1/staff").await,
        403,
        "forbidden",
    );
    let response = app
        .patch_json(&staff_path, &json!({ "role": "admin" }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(
        send_as(&app, Method::GET, &session, "/v1/staff")
            .await
            .status,
        200
    );
    let response = app
        .patch_json(&staff_path, &json!({ "role": "coordinator" }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_problem(
        &send_as(&app, Method::GET, &session, "/v1/staff").await,
        403,
        "forbidden",
    );

    // A deactivated account.
    assert_eq!(me(&app, &session).await.status, 200);
    let response = app
        .patch_json(&staff_path, &json!({ "active": false }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_unauthorized(&me(&app, &session).await);

    // A new password ends the sessions.
    let (staff, session) = app
        .create_staff(StaffRole::Coordinator, "second@example.org")
        .await;
    assert_eq!(me(&app, &session).await.status, 200);
    let response = app
        .patch_json(
            &format!("/v1/staff/{staff}"),
            &json!({ "password": "another correct horse battery staple" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_unauthorized(&me(&app, &session).await);

    // A logout.
    let (_, session) = app
        .create_staff(StaffRole::Coordinator, "third@example.org")
        .await;
    assert_eq!(me(&app, &session).await.status, 200);
    let response = send_as(&app, Method::POST, &session, "/v1/auth/logout").await;
    assert_eq!(response.status, 204, "{}", response.text);
    assert_unauthorized(&me(&app, &session).await);

    // The admin's own session was emptied from the cache with the rest, and still works.
    assert_eq!(me(&app, &app.admin_token).await.status, 200);
}

#[tokio::test]
async fn a_cached_key_still_expires_with_the_clock() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let expires = start_time() + Span::minutes(5);
    let response = app
        .post_json(
            "/v1/api-clients",
            &json!({ "organisation_id": org, "name": "Zaaksysteem", "key_expires_at": expires }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let key = response.body["key"]["token"].as_str().unwrap().to_owned();
    assert_eq!(me(&app, &key).await.status, 200);
    app.clock.advance(Span::seconds(299));
    assert_eq!(me(&app, &key).await.status, 200);
    app.clock.advance(Span::seconds(1));
    assert_unauthorized(&me(&app, &key).await);
}

#[tokio::test]
async fn another_instance_honours_a_change_within_a_second() {
    let first = spawn_app().await;
    let second = spawn_app_sharing(&first, &[]).await;
    let org = crate::fixtures::organisation(&first).await;
    let (client, key) = first.create_case_system(&org, "Zaaksysteem").await;
    let (staff, session) = first
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    for _ in 0..2 {
        assert_eq!(me(&second, &key).await.status, 200);
        assert_eq!(me(&second, &session).await.status, 200);
    }

    let response = first
        .post_empty(&format!("/v1/api-clients/{client}/revoke"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_unauthorized(&me(&first, &key).await);
    let took = until_status(&second, &key, 401).await;
    eprintln!("the other instance refused the revoked key after {took:?}");
    assert!(took < ELSEWHERE, "{took:?}");

    let response = first
        .patch_json(&format!("/v1/staff/{staff}"), &json!({ "active": false }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_unauthorized(&me(&first, &session).await);
    let took = until_status(&second, &session, 401).await;
    eprintln!("the other instance refused the deactivated account's session after {took:?}");
    assert!(took < ELSEWHERE, "{took:?}");

    // An organisation deactivated on the second instance, seen by the first.
    let (_, key) = first.create_case_system(&org, "Ander zaaksysteem").await;
    assert_eq!(me(&first, &key).await.status, 200);
    let response = second
        .post_empty(&format!("/v1/organisations/{org}/deactivate"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let took = until_status(&first, &key, 403).await;
    assert!(took < ELSEWHERE, "{took:?}");
}

/// The cache is what answers (a key revoked behind the service's back, without moving the
/// counter, still works), and the counter is what empties it.
#[tokio::test]
async fn the_cache_answers_until_the_counter_moves() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    assert_eq!(me(&app, &key).await.status, 200);
    app.with_connection(|conn| {
        conn.batch_execute(&format!(
            "UPDATE api_keys SET revoked_at = created_at WHERE client_id = '{client}'"
        ))
        .unwrap();
    });
    assert_eq!(me(&app, &key).await.status, 200, "answered from the cache");
    app.with_connection(|conn| {
        conn.batch_execute("UPDATE credential_version SET version = version + 1 WHERE id = 1")
            .unwrap();
    });
    let took = until_status(&app, &key, 401).await;
    assert!(took < ELSEWHERE, "{took:?}");
}

/// A cached key's use is still noted, at most once a minute, and the key still answers from
/// the cache after the noting.
#[tokio::test]
async fn a_cached_keys_use_is_still_noted() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let path = format!("/v1/api-clients/{client}");
    assert_eq!(me(&app, &key).await.status, 200);
    let noted = |body: &serde_json::Value| time_of(&body["keys"][0], "last_used_at");
    assert_eq!(noted(&app.get(&path).await.body), start_time());
    for minutes in 1..=3 {
        app.clock.advance(Span::minutes(1));
        for _ in 0..3 {
            assert_eq!(me(&app, &key).await.status, 200);
        }
        assert_eq!(
            noted(&app.get(&path).await.body),
            start_time() + Span::minutes(minutes)
        );
    }
}
