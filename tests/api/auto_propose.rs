//! Automatic proposal (`matching.auto_propose`): a new request, or one whose proposal was
//! declined or expired, goes to the best candidate without staff action when the score passes
//! `matching.auto_propose_min_score`; otherwise the request waits and the bureau is told.

use chrono::Duration as Span;
use maatje::respond::links::Links;
use serde_json::{json, Value};

use crate::fixtures::{active_buddy, organisation, request_body};
use crate::helpers::{
    spawn_app, spawn_app_with, Method, TestApp, PUBLIC_BASE_URL, TEST_LINK_SECRET,
};
use crate::mail::mails;

const AUTO: (&str, &str) = ("MAATJE__MATCHING__AUTO_PROPOSE", "true");

/// An active buddy `n` living in `region`.
async fn buddy_in(app: &TestApp, org: &str, n: u32, region: &str) -> String {
    let id = active_buddy(app, org, n, 1).await;
    let response = app
        .patch_json(&format!("/v1/buddies/{id}"), &json!({ "region": region }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    id
}

async fn file_request(app: &TestApp, org: &str, client_ref: &str) -> Value {
    let response = app
        .post_json("/v1/buddy-requests", &request_body(org, client_ref))
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    response.body
}

/// The live pairing of a request: (pairing id, buddy id).
async fn live_pairing(app: &TestApp, request: &str) -> Option<(String, String)> {
    let body = app.get(&format!("/v1/buddy-requests/{request}")).await.body;
    let pairing = body.get("pairing")?;
    let live = ["proposed", "accepted", "active"].contains(&pairing["state"].as_str()?);
    live.then(|| {
        (
            pairing["id"].as_str().unwrap().to_owned(),
            pairing["buddy_id"].as_str().unwrap().to_owned(),
        )
    })
}

#[tokio::test]
async fn a_new_request_reaches_the_best_buddy_without_staff_action() {
    let app = spawn_app_with(&[AUTO]).await;
    let org = organisation(&app).await;
    let _far = buddy_in(&app, &org, 1, "Amsterdam").await;
    let near = buddy_in(&app, &org, 2, "Utrecht").await;
    let request = file_request(&app, &org, "CASE-AUTO").await;
    assert_eq!(request["state"], "proposed", "{request}");
    assert_eq!(request["pairing"]["state"], "proposed", "{request}");
    assert_eq!(
        request["pairing"]["buddy_id"],
        near.as_str(),
        "the one in the client's region"
    );
    let request_id = request["id"].as_str().unwrap();
    let (pairing, _) = live_pairing(&app, request_id).await.unwrap();
    let history = app.history(&format!("/v1/pairings/{pairing}")).await;
    assert_eq!(history[0]["action"], "propose");
    assert_eq!(history[0]["actor"]["type"], "system");
    let proposals = mails(&app, "buddy_proposal");
    assert_eq!(proposals.len(), 1);
    assert_eq!(proposals[0].recipient, "buddy2@example.org");
    assert!(mails(&app, "bureau_no_candidate").is_empty());
    assert_eq!(mails(&app, "bureau_new_request").len(), 1);
}

#[tokio::test]
async fn a_declined_proposal_moves_on_to_the_next_candidate() {
    let app = spawn_app_with(&[AUTO]).await;
    let org = organisation(&app).await;
    let far = buddy_in(&app, &org, 1, "Amsterdam").await;
    let near = buddy_in(&app, &org, 2, "Utrecht").await;
    let request = file_request(&app, &org, "CASE-DECLINE").await;
    let request_id = request["id"].as_str().unwrap().to_owned();
    let (first, buddy) = live_pairing(&app, &request_id).await.unwrap();
    assert_eq!(buddy, near);
    // The buddy declines from the mail's link.
    let mail = mails(&app, "buddy_proposal").pop().unwrap();
    let text = Links::new(TEST_LINK_SECRET, PUBLIC_BASE_URL).expand(&mail.body_text);
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(PUBLIC_BASE_URL) && w.ends_with("answer=decline"))
        .unwrap();
    let path = link[PUBLIC_BASE_URL.len()..]
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let response = app
        .request_with_headers(
            Method::POST,
            &path,
            Some("application/x-www-form-urlencoded"),
            b"answer=decline".to_vec(),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let (second, next) = live_pairing(&app, &request_id).await.unwrap();
    assert_ne!(second, first);
    assert_eq!(next, far, "the next best, the declined one filtered out");
    assert_eq!(
        crate::fixtures::history_actions(&app, &format!("/v1/buddy-requests/{request_id}")).await,
        ["create", "propose", "proposal-declined", "propose"]
    );
    assert_eq!(mails(&app, "bureau_declined").len(), 1);
    let proposals = mails(&app, "buddy_proposal");
    assert_eq!(proposals.len(), 2);
    assert_eq!(proposals[1].recipient, "buddy1@example.org");
}

#[tokio::test]
async fn an_expired_proposal_moves_on_and_then_the_bureau_is_told() {
    let app = spawn_app_with(&[AUTO]).await;
    let org = organisation(&app).await;
    let far = buddy_in(&app, &org, 1, "Amsterdam").await;
    let near = buddy_in(&app, &org, 2, "Utrecht").await;
    let request = file_request(&app, &org, "CASE-EXPIRE").await;
    let request_id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(live_pairing(&app, &request_id).await.unwrap().1, near);
    let scheduler = crate::workflow::scheduler(&app);
    app.clock.advance(Span::hours(72));
    assert_eq!(scheduler.run_once().await.unwrap().expired, 1);
    assert_eq!(live_pairing(&app, &request_id).await.unwrap().1, far);
    app.clock.advance(Span::hours(72));
    assert_eq!(scheduler.run_once().await.unwrap().expired, 1);
    // Both buddies let a proposal for this request expire: nobody is left.
    assert!(live_pairing(&app, &request_id).await.is_none());
    let response = app.get(&format!("/v1/buddy-requests/{request_id}")).await;
    assert_eq!(response.body["state"], "open");
    let told = mails(&app, "bureau_no_candidate");
    assert_eq!(told.len(), 1);
    assert!(
        told[0].body_text.contains("er is geen beschikbaar maatje"),
        "{}",
        told[0].body_text
    );
    assert_eq!(mails(&app, "bureau_expired").len(), 2);
}

#[tokio::test]
async fn below_the_threshold_the_request_waits_for_staff() {
    let app = spawn_app_with(&[AUTO, ("MAATJE__MATCHING__AUTO_PROPOSE_MIN_SCORE", "0.95")]).await;
    let org = organisation(&app).await;
    buddy_in(&app, &org, 1, "Utrecht").await;
    let request = file_request(&app, &org, "CASE-LOW").await;
    assert_eq!(request["state"], "open", "{request}");
    assert!(
        request.get("pairing").is_none() || request["pairing"].is_null(),
        "{request}"
    );
    assert!(mails(&app, "buddy_proposal").is_empty());
    let told = mails(&app, "bureau_no_candidate");
    assert_eq!(told.len(), 1);
    // Language 3 + region 2 + experience 0.5 × 2 (no measure named) + load 1 + rotation 1,
    // out of 9: 8/9.
    assert!(
        told[0]
            .body_text
            .contains("het beste maatje scoort 0.89, onder de drempel van 0.95"),
        "{}",
        told[0].body_text
    );
}

#[tokio::test]
async fn off_by_default_a_new_request_waits_without_a_note() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    buddy_in(&app, &org, 1, "Utrecht").await;
    let request = file_request(&app, &org, "CASE-MANUAL").await;
    assert_eq!(request["state"], "open");
    assert!(mails(&app, "buddy_proposal").is_empty());
    assert!(mails(&app, "bureau_no_candidate").is_empty());
}
