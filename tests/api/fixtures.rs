//! Records of the programme in known states, built through the API as a user would.
//! All names and addresses are invented.

#![allow(dead_code)] // Not every test module uses every fixture.

use serde_json::{json, Value};

use crate::helpers::{create_organisation, id_of, TestApp};

/// Screening dates that satisfy activation on the test clock's first day (2026-11-22).
pub const VOG_ISSUED_ON: &str = "2026-10-01";
pub const TRAINED_ON: &str = "2026-11-10";
pub const SIGNED_ON: &str = "2026-11-12";

/// A buddy profile as sent in `POST /v1/buddies` (with `organisation_id`) or as an exit
/// interview's `candidate` (without).
pub fn profile(n: u32) -> Value {
    json!({
        "name": format!("Buddy Voorbeeld {n}"),
        "email": format!("buddy{n}@example.org"),
        "phone": "+31 6 1234 5678",
        "languages": ["nl", "en"],
        "region": "Utrecht",
        "experience": ["supervision_order"],
        "topics": ["school"],
    })
}

/// A new request's body for organisation `org` and `client_ref`.
pub fn request_body(org: &str, client_ref: &str) -> Value {
    json!({
        "organisation_id": org,
        "client_ref": client_ref,
        "trigger": "discontent",
        "trigger_note": "Wants someone who has been through it.",
        "client": {
            "first_name": "Client",
            "email": "client1@example.org",
            "phone": "06-87654321",
            "preferred_channel": "email",
            "languages": ["nl"],
        },
        "region": "Utrecht",
        "preferences": "A parent, if possible.",
        "consent_to_share_contact": true,
    })
}

pub async fn organisation(app: &TestApp) -> String {
    id_of(&create_organisation(app, "Gecertificeerde Instelling Test").await)
}

/// A buddy in state `candidate`, registered directly.
pub async fn candidate(app: &TestApp, org: &str, n: u32) -> String {
    let mut body = profile(n);
    body["organisation_id"] = json!(org);
    let response = app.post_json("/v1/buddies", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    id_of(&response.body)
}

/// Runs an action on a resource and asserts it succeeded.
pub async fn act(app: &TestApp, path: &str) -> Value {
    let response = app.post_empty(path).await;
    assert_eq!(response.status, 200, "POST {path}: {}", response.text);
    response.body
}

/// A buddy in state `active` with the given capacity.
pub async fn active_buddy(app: &TestApp, org: &str, n: u32, capacity: u32) -> String {
    let id = candidate(app, org, n).await;
    act(app, &format!("/v1/buddies/{id}/start-screening")).await;
    let response = app
        .patch_json(
            &format!("/v1/buddies/{id}"),
            &json!({
                "vog_issued_on": VOG_ISSUED_ON,
                "training_completed_on": TRAINED_ON,
                "agreement_signed_on": SIGNED_ON,
                "capacity": capacity,
            }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    act(app, &format!("/v1/buddies/{id}/activate")).await;
    id
}

/// An open request.
pub async fn open_request(app: &TestApp, org: &str, client_ref: &str) -> String {
    let response = app
        .post_json("/v1/buddy-requests", &request_body(org, client_ref))
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    id_of(&response.body)
}

/// Proposes `buddy` for `request`; returns the pairing id.
pub async fn propose(app: &TestApp, request: &str, buddy: &str) -> String {
    let response = app
        .post_json(
            "/v1/pairings",
            &json!({ "request_id": request, "buddy_id": buddy }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    id_of(&response.body)
}

/// The state of the resource at `path`.
pub async fn state_of(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status, 200, "GET {path}: {}", response.text);
    response.body["state"].as_str().expect("a state").to_owned()
}

/// The `action` of every history entry of the resource at `path`.
pub async fn history_actions(app: &TestApp, path: &str) -> Vec<String> {
    app.collect_pages(&format!("{path}/history"))
        .await
        .iter()
        .map(|e| e["action"].as_str().expect("an action").to_owned())
        .collect()
}

/// Ends a running pairing (reason `goal_reached`) and asserts it ended.
pub async fn end_pairing(app: &TestApp, pairing: &str) {
    let response = app
        .post_json(
            &format!("/v1/pairings/{pairing}/end"),
            &json!({ "reason": "goal_reached" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
}

/// A pairing driven into `state` (proposed, accepted, active, ended, declined, cancelled),
/// with a fresh request and buddy. Returns (pairing, request, buddy).
pub async fn pairing_in(app: &TestApp, org: &str, state: &str, n: u32) -> (String, String, String) {
    let buddy = active_buddy(app, org, n, 1).await;
    let request = open_request(app, org, &format!("CASE-{n}")).await;
    let pairing = propose(app, &request, &buddy).await;
    let steps: &[&str] = match state {
        "proposed" => &[],
        "accepted" => &["accept"],
        "active" => &["accept", "activate"],
        "declined" => &["decline"],
        "ended" => &["accept", "activate", "end"],
        "cancelled" => &[],
        other => panic!("no fixture for pairing state {other}"),
    };
    for step in steps {
        if *step == "end" {
            end_pairing(app, &pairing).await;
        } else {
            act(app, &format!("/v1/pairings/{pairing}/{step}")).await;
        }
    }
    if state == "cancelled" {
        act(app, &format!("/v1/buddy-requests/{request}/withdraw")).await;
    }
    assert_eq!(
        state_of(app, &format!("/v1/pairings/{pairing}")).await,
        state
    );
    (pairing, request, buddy)
}
