//! Privacy: retention of client contact data, legal holds, erasure of clients and buddies,
//! exports, and no personal data in the logs.

use chrono::Duration;
use maatje::auth::StaffRole;
use serde_json::{json, Value};

use crate::access::{Row, ADMIN};
use crate::fixtures::{
    act, active_buddy, open_request, organisation, pairing_in, profile, propose, request_body,
    SIGNED_ON, TRAINED_ON, VOG_ISSUED_ON,
};
use crate::helpers::{
    assert_invalid_fields, assert_problem, capture_logs, create_organisation, id_of, spawn_app,
    spawn_app_with, time_of, Method, TestApp,
};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    ("POST", "/v1/privacy/retention/run", ADMIN),
    ("POST", "/v1/buddy-requests/{id}/legal-hold", ADMIN),
    ("POST", "/v1/privacy/clients/erase", ADMIN),
    ("GET", "/v1/privacy/clients/export", ADMIN),
    ("POST", "/v1/buddies/{id}/erase", ADMIN),
    ("GET", "/v1/buddies/{id}/export", ADMIN),
];

const RETENTION_RUN: &str = "/v1/privacy/retention/run";
const CLIENT_ERASE: &str = "/v1/privacy/clients/erase";
const CLIENT_EXPORT: &str = "/v1/privacy/clients/export";
const UNKNOWN: &str = "0193a5c4-0000-7000-8000-000000000000";

/// A request that went the whole way: one buddy declined it (with a reason), the next accepted
/// (with a note), met the client, and the pairing ended with a note and an evaluation.
struct Closed {
    request: String,
    declined: String,
    ended: String,
    buddy: String,
}

async fn closed_request(app: &TestApp, org: &str, client_ref: &str, n: u32) -> Closed {
    let first = active_buddy(app, org, n, 1).await;
    let buddy = active_buddy(app, org, n + 1, 1).await;
    let request = open_request(app, org, client_ref).await;
    let declined = propose(app, &request, &first).await;
    let r = app
        .post_json(
            &format!("/v1/pairings/{declined}/decline"),
            &json!({ "reason": "Knows the family of Client" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ended = propose(app, &request, &buddy).await;
    let r = app
        .post_json(
            &format!("/v1/pairings/{ended}/accept"),
            &json!({ "reason": "Happy to meet Client" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    act(app, &format!("/v1/pairings/{ended}/activate")).await;
    end_with_evaluation(
        app,
        &ended,
        "Client found work",
        "Helpful talks with Client",
    )
    .await;
    Closed {
        request,
        declined,
        ended,
        buddy,
    }
}

async fn end_with_evaluation(app: &TestApp, pairing: &str, note: &str, comment: &str) {
    let r = app
        .post_json(
            &format!("/v1/pairings/{pairing}/end"),
            &json!({
                "reason": "goal_reached",
                "note": note,
                "evaluation": { "client_score": 5, "buddy_score": 4, "comment": comment },
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// An open request withdrawn with a reason.
async fn withdrawn_request(app: &TestApp, org: &str, client_ref: &str) -> String {
    let id = open_request(app, org, client_ref).await;
    let r = app
        .post_json(
            &format!("/v1/buddy-requests/{id}/withdraw"),
            &json!({ "reason": "Client moved away" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

/// Runs the retention job through the API and returns how many requests it anonymised.
async fn run_retention(app: &TestApp) -> u64 {
    let r = app.post_empty(RETENTION_RUN).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["anonymised"].as_u64().expect("a count")
}

async fn get_ok(app: &TestApp, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.text);
    r.body
}

async fn hold(app: &TestApp, request: &str, hold: bool, reason: Option<&str>) -> Value {
    let mut body = json!({ "hold": hold });
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    let r = app
        .post_json(&format!("/v1/buddy-requests/{request}/legal-hold"), &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn actions(history: &[Value]) -> Vec<&str> {
    history
        .iter()
        .map(|e| e["action"].as_str().expect("an action"))
        .collect()
}

fn entry<'a>(history: &'a [Value], action: &str) -> &'a Value {
    history
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {history:?}"))
}

fn client_export_path(org: &str, client_ref: &str) -> String {
    format!("{CLIENT_EXPORT}?organisation_id={org}&client_ref={client_ref}")
}

/// Records a `yes` at an exit interview; returns (exit interview, buddy).
async fn recruited(app: &TestApp, org: &str, candidate: Value) -> (String, String) {
    let r = app
        .post_json(
            "/v1/exit-interviews",
            &json!({
                "organisation_id": org,
                "held_on": "2026-11-21",
                "answer": "yes",
                "candidate": candidate,
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (id_of(&r.body["exit_interview"]), id_of(&r.body["buddy"]))
}

/// Screens and activates a candidate.
async fn activate(app: &TestApp, buddy: &str) {
    act(app, &format!("/v1/buddies/{buddy}/start-screening")).await;
    let r = app
        .patch_json(
            &format!("/v1/buddies/{buddy}"),
            &json!({
                "vog_issued_on": VOG_ISSUED_ON,
                "training_completed_on": TRAINED_ON,
                "agreement_signed_on": SIGNED_ON,
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    act(app, &format!("/v1/buddies/{buddy}/activate")).await;
}

// Retention.

#[tokio::test]
async fn retention_anonymises_requests_closed_longer_ago_than_the_period() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let closed = closed_request(&app, &org, "CASE-R1", 1).await;
    let withdrawn = withdrawn_request(&app, &org, "CASE-R2").await;
    let open = open_request(&app, &org, "CASE-R3").await;
    let request_path = format!("/v1/buddy-requests/{}", closed.request);
    let before = get_ok(&app, &request_path).await;

    // Not old enough: untouched.
    app.clock.advance(Duration::days(364));
    let r = app.post_empty(RETENTION_RUN).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["anonymised"], 0);
    assert_eq!(r.body["retention_days"], 365);
    assert_eq!(
        time_of(&r.body, "closed_before"),
        app.clock.now() - Duration::days(365)
    );
    assert_eq!(get_ok(&app, &request_path).await, before);

    // Old enough: the closed and the withdrawn request, not the open one.
    app.clock.advance(Duration::days(2));
    assert_eq!(run_retention(&app).await, 2);
    let after = get_ok(&app, &request_path).await;
    assert_eq!(after["client"]["first_name"], "[anonymised]");
    for gone in ["phone", "email"] {
        assert!(after["client"].get(gone).is_none(), "{after}");
    }
    for gone in ["trigger_note", "preferences"] {
        assert!(after.get(gone).is_none(), "{after}");
    }
    assert_eq!(time_of(&after, "anonymised_at"), app.clock.now());
    assert_eq!(after["legal_hold"], false);
    // What is not contact data stays.
    for kept in [
        "client_ref",
        "organisation_id",
        "trigger",
        "region",
        "state",
        "closed_at",
        "consent_recorded_at",
        "created_at",
    ] {
        assert_eq!(after[kept], before[kept], "{kept}");
    }
    assert_eq!(
        after["client"]["preferred_channel"],
        before["client"]["preferred_channel"]
    );
    assert_eq!(after["client"]["languages"], before["client"]["languages"]);

    // The pairings keep states, reason codes and scores, not the free text.
    let declined = get_ok(&app, &format!("/v1/pairings/{}", closed.declined)).await;
    assert_eq!(declined["state"], "declined");
    assert!(declined.get("decline_reason").is_none(), "{declined}");
    let ended = get_ok(&app, &format!("/v1/pairings/{}", closed.ended)).await;
    assert_eq!(ended["end_reason"], "goal_reached");
    assert!(ended.get("end_note").is_none(), "{ended}");
    assert_eq!(
        ended["evaluation"],
        json!({ "client_score": 5, "buddy_score": 4 })
    );
    assert_eq!(ended["buddy_id"], json!(closed.buddy));

    // The history records the anonymisation and keeps no typed-in reason.
    let history = app.history(&request_path).await;
    let last = history.last().unwrap();
    assert_eq!(last["action"], "anonymise");
    assert_eq!(last["actor"], json!({ "type": "system" }));
    assert!(last.get("reason").is_none());
    let history = app
        .history(&format!("/v1/pairings/{}", closed.declined))
        .await;
    assert!(entry(&history, "decline").get("reason").is_none());
    let history = app.history(&format!("/v1/pairings/{}", closed.ended)).await;
    assert!(entry(&history, "accept").get("reason").is_none());
    assert_eq!(entry(&history, "end")["reason"], "goal_reached");
    let withdrawn_path = format!("/v1/buddy-requests/{withdrawn}");
    let history = app.history(&withdrawn_path).await;
    assert_eq!(actions(&history), ["create", "withdraw", "anonymise"]);
    assert!(entry(&history, "withdraw").get("reason").is_none());
    assert_eq!(
        get_ok(&app, &withdrawn_path).await["client"]["first_name"],
        "[anonymised]"
    );

    // An open request is never due, however old.
    let open = get_ok(&app, &format!("/v1/buddy-requests/{open}")).await;
    assert_eq!(open["client"]["first_name"], "Client");
    assert!(open.get("anonymised_at").is_none());

    // A second run finds nothing and records nothing.
    let counts = app.table_counts();
    assert_eq!(run_retention(&app).await, 0);
    assert_eq!(app.table_counts(), counts);
    assert_eq!(get_ok(&app, &request_path).await, after);
}

#[tokio::test]
async fn retention_leaves_requests_on_legal_hold_alone_until_released() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = withdrawn_request(&app, &org, "CASE-H1").await;
    let path = format!("/v1/buddy-requests/{request}");
    hold(&app, &request, true, Some("Complaint procedure pending")).await;
    app.clock.advance(Duration::days(400));
    assert_eq!(run_retention(&app).await, 0);
    let held = get_ok(&app, &path).await;
    assert_eq!(held["legal_hold"], true);
    assert_eq!(held["client"]["first_name"], "Client");
    assert!(held.get("anonymised_at").is_none());

    hold(&app, &request, false, None).await;
    assert_eq!(run_retention(&app).await, 1);
    let released = get_ok(&app, &path).await;
    assert_eq!(released["client"]["first_name"], "[anonymised]");
    assert_eq!(
        actions(&app.history(&path).await),
        [
            "create",
            "withdraw",
            "legal-hold",
            "release-legal-hold",
            "anonymise"
        ]
    );
}

#[tokio::test]
async fn the_background_job_anonymises_by_itself() {
    let app = spawn_app_with(&[
        ("MAATJE__PRIVACY__RETENTION_ENABLED", "true"),
        ("MAATJE__PRIVACY__RETENTION_CHECK_INTERVAL_SECONDS", "1"),
    ])
    .await;
    let org = organisation(&app).await;
    let request = withdrawn_request(&app, &org, "CASE-B1").await;
    let path = format!("/v1/buddy-requests/{request}");
    app.clock.advance(Duration::days(366));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let current = get_ok(&app, &path).await;
        if current.get("anonymised_at").is_some() {
            assert_eq!(current["client"]["first_name"], "[anonymised]");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the background job did not anonymise the request: {current}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let history = app.history(&path).await;
    assert_eq!(actions(&history), ["create", "withdraw", "anonymise"]);
    assert_eq!(entry(&history, "anonymise")["actor"]["type"], "system");
}

#[tokio::test]
async fn two_instances_running_retention_at_once_anonymise_each_request_once() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let mut requests = Vec::new();
    for n in 0..6 {
        requests.push(withdrawn_request(&app, &org, &format!("CASE-C{n}")).await);
    }
    app.clock.advance(Duration::days(366));
    let now = app.clock.now_naive();
    let retention = maatje::domain::privacy::Retention::days(365);
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let db = app.db.clone();
                scope.spawn(move || {
                    let mut conn = db.blocking().expect("a connection");
                    maatje::store::privacy::run_retention(&mut conn, now, &retention)
                        .expect("the run succeeds")
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(counts.iter().sum::<u64>(), 6, "{counts:?}");
    for request in &requests {
        let history = app.history(&format!("/v1/buddy-requests/{request}")).await;
        assert_eq!(
            actions(&history),
            ["create", "withdraw", "anonymise"],
            "{request}"
        );
    }
}

#[tokio::test]
async fn a_retention_run_takes_no_body_but_an_empty_one() {
    let app = spawn_app().await;
    let before = app.table_counts();
    let r = app.post_json(RETENTION_RUN, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_invalid_fields(
        &app.post_json(RETENTION_RUN, &json!({ "days": 1 })).await,
        &["days"],
    );
    assert_invalid_fields(
        &app.request(
            Method::POST,
            RETENTION_RUN,
            Some("application/json"),
            b"{\"days\":".to_vec(),
        )
        .await,
        &[""],
    );
    assert_invalid_fields(&app.post_json(RETENTION_RUN, &json!([1])).await, &[""]);
    assert_problem(
        &app.request(
            Method::POST,
            RETENTION_RUN,
            Some("text/plain"),
            b"run".to_vec(),
        )
        .await,
        415,
        "unsupported-media-type",
    );
    assert_eq!(app.table_counts(), before);
}

// Legal hold.

#[tokio::test]
async fn a_legal_hold_is_placed_released_and_recorded() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = open_request(&app, &org, "CASE-L1").await;
    let path = format!("/v1/buddy-requests/{request}");
    assert_eq!(get_ok(&app, &path).await["legal_hold"], false);

    let held = hold(&app, &request, true, Some("  Court case 2026/17  ")).await;
    assert_eq!(held["legal_hold"], true);
    assert_eq!(held["state"], "open");
    assert_eq!(held, get_ok(&app, &path).await);

    let hold_path = format!("{path}/legal-hold");
    let counts = app.table_counts();
    let again = app
        .post_json(&hold_path, &json!({ "hold": true, "reason": "again" }))
        .await;
    assert_problem(&again, 409, "legal-hold-unchanged");
    assert_eq!(app.table_counts(), counts);

    let released = hold(&app, &request, false, None).await;
    assert_eq!(released["legal_hold"], false);
    assert_problem(
        &app.post_json(&hold_path, &json!({ "hold": false })).await,
        409,
        "legal-hold-unchanged",
    );

    let history = app.history(&path).await;
    assert_eq!(
        actions(&history),
        ["create", "legal-hold", "release-legal-hold"]
    );
    let placed = entry(&history, "legal-hold");
    assert_eq!(placed["reason"], "Court case 2026/17");
    assert_eq!(placed["actor"]["type"], "staff");
    assert!(entry(&history, "release-legal-hold")
        .get("reason")
        .is_none());

    // The case system sees the hold on its request.
    let (_, key) = app.create_case_system(&org, "CMS").await;
    app.use_token(Some(&key));
    assert_eq!(get_ok(&app, &path).await["legal_hold"], false);
}

#[tokio::test]
async fn an_anonymised_request_cannot_be_held() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = withdrawn_request(&app, &org, "CASE-L2").await;
    app.clock.advance(Duration::days(366));
    assert_eq!(run_retention(&app).await, 1);
    let counts = app.table_counts();
    let r = app
        .post_json(
            &format!("/v1/buddy-requests/{request}/legal-hold"),
            &json!({ "hold": true, "reason": "Too late" }),
        )
        .await;
    assert_problem(&r, 409, "already-anonymised");
    assert_eq!(app.table_counts(), counts);
}

#[tokio::test]
async fn bad_legal_hold_requests_change_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = open_request(&app, &org, "CASE-L3").await;
    let path = format!("/v1/buddy-requests/{request}");
    let hold_path = format!("{path}/legal-hold");
    let before = get_ok(&app, &path).await;
    let counts = app.table_counts();
    for (body, fields) in [
        (json!({}), vec!["hold"]),
        (json!({ "hold": "yes", "reason": "x" }), vec!["hold"]),
        (json!({ "hold": true }), vec!["reason"]),
        (json!({ "hold": true, "reason": "   " }), vec!["reason"]),
        (
            json!({ "hold": true, "reason": "r".repeat(501) }),
            vec!["reason"],
        ),
        (json!({ "hold": true, "reason": 7 }), vec!["reason"]),
        (
            json!({ "hold": true, "reason": "ok", "until": "2027-01-01" }),
            vec!["until"],
        ),
        (json!({ "hold": 1, "why": "x" }), vec!["hold", "why"]),
    ] {
        assert_invalid_fields(&app.post_json(&hold_path, &body).await, &fields);
    }
    assert_invalid_fields(
        &app.request(
            Method::POST,
            &hold_path,
            Some("application/json"),
            b"{\"hold\": tr".to_vec(),
        )
        .await,
        &[""],
    );
    assert_invalid_fields(&app.post_empty(&hold_path).await, &[""]);
    assert_problem(
        &app.request(
            Method::POST,
            &hold_path,
            Some("text/plain"),
            b"hold".to_vec(),
        )
        .await,
        415,
        "unsupported-media-type",
    );
    let body = json!({ "hold": true, "reason": "ok" });
    assert_invalid_fields(
        &app.post_json("/v1/buddy-requests/not-a-uuid/legal-hold", &body)
            .await,
        &["id"],
    );
    assert_problem(
        &app.post_json(&format!("/v1/buddy-requests/{UNKNOWN}/legal-hold"), &body)
            .await,
        404,
        "not-found",
    );
    assert_eq!(app.table_counts(), counts);
    assert_eq!(get_ok(&app, &path).await, before);
}

// Who may.

#[tokio::test]
async fn privacy_operations_are_for_admins_only() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = withdrawn_request(&app, &org, "CASE-A1").await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let (_, coordinator) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let (_, case_system) = app.create_case_system(&org, "CMS").await;
    let counts = app.table_counts();
    let erase = json!({ "organisation_id": org, "client_ref": "CASE-A1", "reason": "asked" });
    for token in [&coordinator, &case_system] {
        app.use_token(Some(token));
        for r in [
            app.post_empty(RETENTION_RUN).await,
            app.post_json(
                &format!("/v1/buddy-requests/{request}/legal-hold"),
                &json!({ "hold": true, "reason": "x" }),
            )
            .await,
            app.post_json(CLIENT_ERASE, &erase).await,
            app.get(&client_export_path(&org, "CASE-A1")).await,
            app.post_empty(&format!("/v1/buddies/{buddy}/erase")).await,
            app.get(&format!("/v1/buddies/{buddy}/export")).await,
        ] {
            assert_problem(&r, 403, "forbidden");
        }
    }
    app.use_admin();
    assert_eq!(app.table_counts(), counts);
    let request = get_ok(&app, &format!("/v1/buddy-requests/{request}")).await;
    assert_eq!(request["legal_hold"], false);
    assert_eq!(request["client"]["first_name"], "Client");
    assert!(get_ok(&app, &format!("/v1/buddies/{buddy}"))
        .await
        .get("erased_at")
        .is_none());
}

// Erasing a buddy.

#[tokio::test]
async fn erasing_a_buddy_removes_identity_and_keeps_the_records() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (interview, buddy) = recruited(&app, &org, profile(1)).await;
    activate(&app, &buddy).await;
    let request = open_request(&app, &org, "CASE-E1").await;
    let pairing = propose(&app, &request, &buddy).await;
    let erase_path = format!("/v1/buddies/{buddy}/erase");
    let buddy_path = format!("/v1/buddies/{buddy}");

    // Live pairings (proposed, then accepted) block erasure.
    for step in ["proposed", "accepted"] {
        let counts = app.table_counts();
        let before = get_ok(&app, &buddy_path).await;
        let r = app.post_empty(&erase_path).await;
        assert_problem(&r, 409, "buddy-has-live-pairings");
        assert_eq!(app.table_counts(), counts, "{step}");
        assert_eq!(get_ok(&app, &buddy_path).await, before, "{step}");
        if step == "proposed" {
            act(&app, &format!("/v1/pairings/{pairing}/accept")).await;
        }
    }
    act(&app, &format!("/v1/pairings/{pairing}/activate")).await;
    end_with_evaluation(&app, &pairing, "Buddy Voorbeeld 1 moved", "Thanks to Buddy").await;

    let r = app
        .post_json(&erase_path, &json!({ "reason": "Asked to be forgotten" }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let erased = &r.body;
    assert_eq!(erased["id"], json!(buddy));
    assert_eq!(erased["state"], "retired");
    assert_eq!(erased["name"], "[erased]");
    assert_eq!(erased["email"], format!("erased-{buddy}@invalid"));
    assert!(erased.get("phone").is_none(), "{erased}");
    assert_eq!(erased["topics"], json!([]));
    assert_eq!(erased["region"], "[erased]");
    assert_eq!(time_of(erased, "erased_at"), app.clock.now());
    assert_eq!(erased["organisation_id"], json!(org));
    assert_eq!(&get_ok(&app, &buddy_path).await, erased);

    // History and pairings stay, without identity.
    let history = app.history(&buddy_path).await;
    assert_eq!(
        actions(&history),
        [
            "create",
            "start-screening",
            "update",
            "activate",
            "retire",
            "erase"
        ]
    );
    let last = entry(&history, "erase");
    assert_eq!(last["reason"], "Asked to be forgotten");
    assert_eq!(last["actor"]["type"], "staff");
    assert_eq!(entry(&history, "retire")["reason"], "retired to be erased");
    let kept = get_ok(&app, &format!("/v1/pairings/{pairing}")).await;
    assert_eq!(kept["buddy_id"], json!(buddy));
    assert_eq!(kept["state"], "ended");
    assert!(kept.get("end_note").is_none(), "{kept}");
    assert_eq!(
        kept["evaluation"],
        json!({ "client_score": 5, "buddy_score": 4 })
    );
    assert_eq!(
        actions(&app.history(&format!("/v1/pairings/{pairing}")).await),
        ["propose", "accept", "activate", "end"]
    );
    // The exit interview still points at the buddy.
    let interview = get_ok(&app, &format!("/v1/exit-interviews/{interview}")).await;
    assert_eq!(interview["buddy_id"], json!(buddy));

    // Once is enough, and the profile cannot be filled in again.
    let counts = app.table_counts();
    assert_problem(&app.post_empty(&erase_path).await, 409, "buddy-erased");
    assert_problem(
        &app.patch_json(&buddy_path, &json!({ "name": "Back Again" }))
            .await,
        409,
        "buddy-erased",
    );
    assert_eq!(app.table_counts(), counts);
    assert_eq!(&get_ok(&app, &buddy_path).await, erased);
}

#[tokio::test]
async fn a_retired_buddy_is_erased_without_retiring_again() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = crate::fixtures::candidate(&app, &org, 1).await;
    let r = app
        .post_json(
            &format!("/v1/buddies/{buddy}/retire"),
            &json!({ "reason": "Buddy Voorbeeld 1 stopped" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.post_empty(&format!("/v1/buddies/{buddy}/erase")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "[erased]");
    let history = app.history(&format!("/v1/buddies/{buddy}")).await;
    assert_eq!(actions(&history), ["create", "retire", "erase"]);
    // The typed-in reason may have named the buddy: it goes.
    assert!(entry(&history, "retire").get("reason").is_none());
    assert!(entry(&history, "erase").get("reason").is_none());
}

#[tokio::test]
async fn bad_buddy_erasures_change_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = crate::fixtures::candidate(&app, &org, 1).await;
    let erase_path = format!("/v1/buddies/{buddy}/erase");
    let before = get_ok(&app, &format!("/v1/buddies/{buddy}")).await;
    let counts = app.table_counts();
    for (body, fields) in [
        (json!({ "reason": 5 }), vec!["reason"]),
        (json!({ "reason": "r".repeat(501) }), vec!["reason"]),
        (json!({ "reason": "" }), vec!["reason"]),
        (json!({ "why": "x" }), vec!["why"]),
        (
            json!({ "reason": "ok", "erase_history": true }),
            vec!["erase_history"],
        ),
    ] {
        assert_invalid_fields(&app.post_json(&erase_path, &body).await, &fields);
    }
    assert_invalid_fields(
        &app.request(
            Method::POST,
            &erase_path,
            Some("application/json"),
            b"{\"reason\"".to_vec(),
        )
        .await,
        &[""],
    );
    assert_problem(
        &app.request(
            Method::POST,
            &erase_path,
            Some("text/plain"),
            b"now".to_vec(),
        )
        .await,
        415,
        "unsupported-media-type",
    );
    assert_invalid_fields(
        &app.post_empty("/v1/buddies/not-a-uuid/erase").await,
        &["id"],
    );
    assert_problem(
        &app.post_empty(&format!("/v1/buddies/{UNKNOWN}/erase"))
            .await,
        404,
        "not-found",
    );
    assert_eq!(app.table_counts(), counts);
    assert_eq!(get_ok(&app, &format!("/v1/buddies/{buddy}")).await, before);
}

// Erasing a client.

#[tokio::test]
async fn erasing_a_client_anonymises_their_requests() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other = id_of(&create_organisation(&app, "Andere Instelling").await);
    let request = open_request(&app, &org, "CASE-K1").await;
    let path = format!("/v1/buddy-requests/{request}");
    let erase = |client_ref: &str, org: &str| json!({ "organisation_id": org, "client_ref": client_ref, "reason": "Erasure request of 2026-11-20" });

    // While the request is live, nothing happens.
    let counts = app.table_counts();
    let before = get_ok(&app, &path).await;
    assert_problem(
        &app.post_json(CLIENT_ERASE, &erase("CASE-K1", &org)).await,
        409,
        "client-has-live-requests",
    );
    // Unknown clients, and another organisation's, are not found.
    for (client_ref, org) in [
        ("CASE-NONE", org.as_str()),
        ("CASE-K1", other.as_str()),
        ("CASE-K1", UNKNOWN),
    ] {
        assert_problem(
            &app.post_json(CLIENT_ERASE, &erase(client_ref, org)).await,
            404,
            "not-found",
        );
    }
    assert_eq!(app.table_counts(), counts);
    assert_eq!(get_ok(&app, &path).await, before);

    // Withdrawn but held: refused until released.
    act(&app, &format!("{path}/withdraw")).await;
    hold(&app, &request, true, Some("Complaint pending")).await;
    let counts = app.table_counts();
    assert_problem(
        &app.post_json(CLIENT_ERASE, &erase("CASE-K1", &org)).await,
        409,
        "legal-hold",
    );
    assert_eq!(app.table_counts(), counts);
    hold(&app, &request, false, None).await;

    let r = app.post_json(CLIENT_ERASE, &erase("CASE-K1", &org)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["organisation_id"], json!(org));
    assert_eq!(r.body["client_ref"], "CASE-K1");
    assert_eq!(r.body["anonymised"], 1);
    let erased = &r.body["requests"][0];
    assert_eq!(erased["id"], json!(request));
    assert_eq!(erased["client"]["first_name"], "[anonymised]");
    assert!(erased["client"].get("email").is_none());
    assert!(erased.get("trigger_note").is_none());
    assert_eq!(time_of(erased, "anonymised_at"), app.clock.now());
    let now = get_ok(&app, &path).await;
    assert_eq!(now["client"], erased["client"]);
    assert_eq!(now["anonymised_at"], erased["anonymised_at"]);

    let history = app.history(&path).await;
    assert_eq!(
        actions(&history),
        [
            "create",
            "withdraw",
            "legal-hold",
            "release-legal-hold",
            "erase"
        ]
    );
    let last = entry(&history, "erase");
    assert_eq!(last["reason"], "Erasure request of 2026-11-20");
    assert_eq!(last["actor"]["type"], "staff");

    // A second erasure has nothing left to do, nor has retention.
    let counts = app.table_counts();
    assert_problem(
        &app.post_json(CLIENT_ERASE, &erase("CASE-K1", &org)).await,
        409,
        "already-anonymised",
    );
    app.clock.advance(Duration::days(400));
    assert_eq!(run_retention(&app).await, 0);
    assert_eq!(app.table_counts(), counts);
}

#[tokio::test]
async fn a_matched_client_cannot_be_erased() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, request, _) = pairing_in(&app, &org, "accepted", 1).await;
    let before = get_ok(&app, &format!("/v1/buddy-requests/{request}")).await;
    assert_eq!(before["state"], "matched");
    let counts = app.table_counts();
    let r = app
        .post_json(
            CLIENT_ERASE,
            &json!({ "organisation_id": org, "client_ref": "CASE-1", "reason": "asked" }),
        )
        .await;
    assert_problem(&r, 409, "client-has-live-requests");
    assert_eq!(app.table_counts(), counts);
    assert_eq!(
        get_ok(&app, &format!("/v1/buddy-requests/{request}")).await,
        before
    );
}

#[tokio::test]
async fn bad_client_erasures_change_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = withdrawn_request(&app, &org, "CASE-X1").await;
    let before = get_ok(&app, &format!("/v1/buddy-requests/{request}")).await;
    let counts = app.table_counts();
    let ok = json!({ "organisation_id": org, "client_ref": "CASE-X1", "reason": "asked" });
    let with = |key: &str, value: Value| {
        let mut body = ok.clone();
        body[key] = value;
        body
    };
    for (body, fields) in [
        // Every missing field is named.
        (json!({}), vec!["organisation_id", "client_ref", "reason"]),
        (
            with("organisation_id", json!("not-a-uuid")),
            vec!["organisation_id"],
        ),
        (with("organisation_id", json!(5)), vec!["organisation_id"]),
        (with("client_ref", json!(["CASE-X1"])), vec!["client_ref"]),
        (
            with("client_ref", json!("C".repeat(65))),
            vec!["client_ref"],
        ),
        (with("client_ref", json!("123456782")), vec!["client_ref"]),
        (with("client_ref", json!("")), vec!["client_ref"]),
        (with("reason", json!("")), vec!["reason"]),
        (with("reason", json!("r".repeat(501))), vec!["reason"]),
        (with("reason", json!(null)), vec!["reason"]),
        (with("everything", json!(true)), vec!["everything"]),
    ] {
        assert_invalid_fields(&app.post_json(CLIENT_ERASE, &body).await, &fields);
    }
    assert_invalid_fields(
        &app.request(
            Method::POST,
            CLIENT_ERASE,
            Some("application/json"),
            b"{\"organisation_id\":".to_vec(),
        )
        .await,
        &[""],
    );
    assert_invalid_fields(&app.post_empty(CLIENT_ERASE).await, &[""]);
    assert_problem(
        &app.request(
            Method::POST,
            CLIENT_ERASE,
            Some("text/plain"),
            b"CASE-X1".to_vec(),
        )
        .await,
        415,
        "unsupported-media-type",
    );
    assert_eq!(app.table_counts(), counts);
    assert_eq!(
        get_ok(&app, &format!("/v1/buddy-requests/{request}")).await,
        before
    );
}

// Exports.

#[tokio::test]
async fn a_client_export_holds_everything_about_the_client() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let closed = closed_request(&app, &org, "CASE-X1", 1).await;
    open_request(&app, &org, "CASE-OTHER").await;
    hold(&app, &closed.request, true, Some("Complaint pending")).await;
    let path = format!("/v1/buddy-requests/{}", closed.request);

    let r = app.get(&client_export_path(&org, "CASE-X1")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let export = &r.body;
    assert_eq!(time_of(export, "exported_at"), app.clock.now());
    assert_eq!(export["organisation_id"], json!(org));
    assert_eq!(export["client_ref"], "CASE-X1");
    let requests = export["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "only this client's requests: {export}");
    let exported = &requests[0];
    // The request with the full contact data, state, times and legal hold, as the API shows it.
    assert_eq!(exported["request"], get_ok(&app, &path).await);
    assert_eq!(
        exported["request"]["client"]["email"],
        "client1@example.org"
    );
    assert_eq!(exported["request"]["client"]["phone"], "06-87654321");
    assert_eq!(
        exported["request"]["trigger_note"],
        "Wants someone who has been through it."
    );
    assert_eq!(exported["request"]["legal_hold"], true);
    assert_eq!(exported["history"], json!(app.history(&path).await));
    // Every pairing, with its evaluation and history.
    let pairings = exported["pairings"].as_array().unwrap();
    assert_eq!(pairings.len(), 2);
    for (exported, id) in pairings.iter().zip([&closed.declined, &closed.ended]) {
        let pairing_path = format!("/v1/pairings/{id}");
        assert_eq!(exported["pairing"], get_ok(&app, &pairing_path).await);
        assert_eq!(exported["history"], json!(app.history(&pairing_path).await));
    }
    assert_eq!(
        pairings[1]["pairing"]["evaluation"]["comment"],
        "Helpful talks with Client"
    );
    assert_eq!(
        pairings[0]["pairing"]["decline_reason"],
        "Knows the family of Client"
    );

    // Another organisation's client, or an unknown one, is not found.
    let other = id_of(&create_organisation(&app, "Andere Instelling").await);
    for path in [
        client_export_path(&other, "CASE-X1"),
        client_export_path(&org, "CASE-NONE"),
        client_export_path(UNKNOWN, "CASE-X1"),
    ] {
        assert_problem(&app.get(&path).await, 404, "not-found");
    }
}

#[tokio::test]
async fn an_anonymised_client_exports_what_is_left() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = withdrawn_request(&app, &org, "CASE-X2").await;
    app.clock.advance(Duration::days(366));
    assert_eq!(run_retention(&app).await, 1);
    let export = get_ok(&app, &client_export_path(&org, "CASE-X2")).await;
    let exported = &export["requests"][0]["request"];
    assert_eq!(exported["id"], json!(request));
    assert_eq!(exported["client"]["first_name"], "[anonymised]");
    assert!(exported.get("anonymised_at").is_some());
    assert_eq!(
        actions(export["requests"][0]["history"].as_array().unwrap()),
        ["create", "withdraw", "anonymise"]
    );
}

#[tokio::test]
async fn bad_client_export_queries_are_400() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for (query, fields) in [
        (String::new(), vec!["organisation_id"]),
        (format!("?organisation_id={org}"), vec!["client_ref"]),
        ("?client_ref=CASE-1".to_owned(), vec!["organisation_id"]),
        (
            "?organisation_id=not-a-uuid&client_ref=CASE-1".to_owned(),
            vec!["organisation_id"],
        ),
        (
            format!("?organisation_id={org}&client_ref={}", "C".repeat(65)),
            vec!["client_ref"],
        ),
        (
            format!("?organisation_id={org}&client_ref=123456782"),
            vec!["client_ref"],
        ),
        (
            format!("?organisation_id={org}&client_ref=CASE-1&format=csv"),
            vec!["format"],
        ),
    ] {
        assert_invalid_fields(&app.get(&format!("{CLIENT_EXPORT}{query}")).await, &fields);
    }
}

#[tokio::test]
async fn a_buddy_export_holds_profile_recruitment_pairings_and_history() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (interview, buddy) = recruited(&app, &org, profile(7)).await;
    activate(&app, &buddy).await;
    let first = open_request(&app, &org, "CASE-B1").await;
    let declined = propose(&app, &first, &buddy).await;
    act(&app, &format!("/v1/pairings/{declined}/decline")).await;
    let second = open_request(&app, &org, "CASE-B2").await;
    let live = propose(&app, &second, &buddy).await;
    let buddy_path = format!("/v1/buddies/{buddy}");

    let r = app.get(&format!("{buddy_path}/export")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let export = &r.body;
    assert_eq!(time_of(export, "exported_at"), app.clock.now());
    assert_eq!(export["buddy"], get_ok(&app, &buddy_path).await);
    assert_eq!(export["buddy"]["vog_issued_on"], VOG_ISSUED_ON);
    assert_eq!(export["buddy"]["live_pairings"], 1);
    assert_eq!(
        export["exit_interview"],
        get_ok(&app, &format!("/v1/exit-interviews/{interview}")).await
    );
    assert_eq!(export["history"], json!(app.history(&buddy_path).await));
    let pairings = export["pairings"].as_array().unwrap();
    assert_eq!(pairings.len(), 2);
    for (exported, id) in pairings.iter().zip([&declined, &live]) {
        let pairing_path = format!("/v1/pairings/{id}");
        assert_eq!(exported["pairing"], get_ok(&app, &pairing_path).await);
        assert_eq!(exported["history"], json!(app.history(&pairing_path).await));
    }
    // No client data in a buddy's export.
    assert!(!r.text.contains("client1@example.org"), "{}", r.text);

    // A buddy registered directly has no exit interview.
    let direct = crate::fixtures::candidate(&app, &org, 8).await;
    let export = get_ok(&app, &format!("/v1/buddies/{direct}/export")).await;
    assert!(export.get("exit_interview").is_none(), "{export}");
    assert_eq!(export["pairings"], json!([]));
    assert_eq!(actions(export["history"].as_array().unwrap()), ["create"]);

    assert_problem(
        &app.get(&format!("/v1/buddies/{UNKNOWN}/export")).await,
        404,
        "not-found",
    );
    assert_invalid_fields(&app.get("/v1/buddies/not-a-uuid/export").await, &["id"]);
}

// Logs.

const BUDDY_NAME: &str = "Zephyrine Quackenbush";
const BUDDY_EMAIL: &str = "zq-unique-4711@example.org";
const BUDDY_PHONE: &str = "+31 6 4711 0815";
const CLIENT_NAME: &str = "Bartholomeus-Uniek";
const CLIENT_EMAIL: &str = "bartholomeus-uniek-0815@example.org";
const CLIENT_PHONE: &str = "06-4711-9080";
const TRIGGER_NOTE: &str = "Klaagt-Uniek-Over-Voogdij-4711";
const PREFERENCES: &str = "Voorkeur-Uniek-Moeder-0815";
const DECLINE_REASON: &str = "Kent-Familie-Uniek-4711";
const END_NOTE: &str = "Eindnotitie-Uniek-0815";
const COMMENT: &str = "Evaluatie-Uniek-Zephyrine-Bartholomeus";

#[tokio::test]
async fn no_personal_data_reaches_the_logs() {
    let logs = capture_logs();
    let app = spawn_app().await;
    let org = organisation(&app).await;

    // Recruited at an exit interview, screened and activated.
    let mut candidate = profile(0);
    candidate["name"] = json!(BUDDY_NAME);
    candidate["email"] = json!(BUDDY_EMAIL);
    candidate["phone"] = json!(BUDDY_PHONE);
    let (_, buddy) = recruited(&app, &org, candidate.clone()).await;
    activate(&app, &buddy).await;
    let other = active_buddy(&app, &org, 1, 1).await;

    // A request, declined once, then accepted, met and ended with an evaluation.
    let mut body = request_body(&org, "CASE-LOG-1");
    body["client"]["first_name"] = json!(CLIENT_NAME);
    body["client"]["email"] = json!(CLIENT_EMAIL);
    body["client"]["phone"] = json!(CLIENT_PHONE);
    body["trigger_note"] = json!(TRIGGER_NOTE);
    body["preferences"] = json!(PREFERENCES);
    let r = app.post_json("/v1/buddy-requests", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let request = id_of(&r.body);
    // Mistakes that echo personal data back to the caller must not log it.
    assert_problem(
        &app.post_json("/v1/buddy-requests", &body).await,
        409,
        "duplicate-client-ref",
    );
    let mut bad = body.clone();
    bad["client"]["first_name"] = json!([CLIENT_NAME]);
    bad["client"]["email"] = json!(format!("{CLIENT_EMAIL} {BUDDY_EMAIL}"));
    bad["client"]["phone"] = json!(BUDDY_NAME);
    assert_eq!(app.post_json("/v1/buddy-requests", &bad).await.status, 400);
    let mut bad = candidate.clone();
    bad["capacity"] = json!(BUDDY_NAME);
    bad["organisation_id"] = json!(org);
    assert_eq!(app.post_json("/v1/buddies", &bad).await.status, 400);

    let declined = propose(&app, &request, &other).await;
    let r = app
        .post_json(
            &format!("/v1/pairings/{declined}/decline"),
            &json!({ "reason": DECLINE_REASON }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let pairing = propose(&app, &request, &buddy).await;
    act(&app, &format!("/v1/pairings/{pairing}/accept")).await;
    act(&app, &format!("/v1/pairings/{pairing}/activate")).await;
    end_with_evaluation(&app, &pairing, END_NOTE, COMMENT).await;

    // Export both, then erase both.
    let export = app.get(&client_export_path(&org, "CASE-LOG-1")).await;
    assert_eq!(export.status, 200, "{}", export.text);
    assert!(export.text.contains(CLIENT_NAME) && export.text.contains(COMMENT));
    let export = app.get(&format!("/v1/buddies/{buddy}/export")).await;
    assert_eq!(export.status, 200, "{}", export.text);
    assert!(export.text.contains(BUDDY_NAME));
    let r = app
        .post_json(
            CLIENT_ERASE,
            &json!({ "organisation_id": org, "client_ref": "CASE-LOG-1", "reason": "asked" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let erased = app.post_empty(&format!("/v1/buddies/{buddy}/erase")).await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    // And something that is only logged at debug level.
    let refused = app
        .request(
            Method::DELETE,
            &format!("/v1/buddies/{buddy}"),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(refused.status, 405);

    let text = logs.text();
    // The capture works: this server's requests, and debug lines, are in it.
    assert!(
        text.contains(erased.request_id()),
        "the erasure's request id is not in the captured logs:\n{text}"
    );
    assert!(
        text.contains("no access rule"),
        "no debug lines captured:\n{text}"
    );
    for secret in [
        BUDDY_NAME,
        "Zephyrine",
        "Quackenbush",
        BUDDY_EMAIL,
        "zq-unique-4711",
        BUDDY_PHONE,
        "4711 0815",
        CLIENT_NAME,
        CLIENT_EMAIL,
        CLIENT_PHONE,
        TRIGGER_NOTE,
        PREFERENCES,
        DECLINE_REASON,
        END_NOTE,
        COMMENT,
    ] {
        assert!(
            !text.contains(secret),
            "personal data `{secret}` was logged:\n{}",
            text.lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test]
async fn client_exports_and_erasures_are_audited_with_the_client_ref() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    closed_request(&app, &org, "CASE-AUD", 1).await;
    assert_eq!(
        app.get(&client_export_path(&org, "CASE-AUD")).await.status,
        200
    );
    let erase = json!({ "organisation_id": org, "client_ref": "CASE-AUD", "reason": "Asked by the client" });
    assert_eq!(
        app.post_json("/v1/privacy/clients/erase", &erase)
            .await
            .status,
        200
    );
    let records = app.audit_records_where("client_ref=CASE-AUD").await;
    let actions: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["route"].as_str().unwrap_or("").contains("/v1/privacy/"))
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("export", "allowed"), ("delete", "allowed")],
        "{records:?}"
    );
}

#[tokio::test]
async fn erasing_a_buddy_removes_staff_reasons_for_excluding_them_from_request_histories() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = crate::fixtures::active_buddy(&app, &org, 1, 1).await;
    let other = crate::fixtures::active_buddy(&app, &org, 2, 1).await;
    let request = open_request(&app, &org, "CASE-X1").await;
    for (who, reason) in [
        (&buddy, "Kent de familie Jansen"),
        (&other, "Woont in dezelfde straat"),
    ] {
        let r = app
            .post_json(
                &format!("/v1/buddy-requests/{request}/exclusions"),
                &json!({ "buddy_id": who, "reason": reason }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = app.post_empty(&format!("/v1/buddies/{buddy}/erase")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let reasons: Vec<Value> = app
        .history(&format!("/v1/buddy-requests/{request}"))
        .await
        .into_iter()
        .filter(|e| e["action"] == "exclude-buddy")
        .map(|e| e["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            json!(format!("buddy {buddy}")),
            json!(format!("buddy {other}: Woont in dezelfde straat")),
        ],
        "only the erased buddy's reason goes"
    );
}

#[tokio::test]
async fn an_on_demand_retention_run_commits_with_its_audit_record_or_not_at_all() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let first = withdrawn_request(&app, &org, "CASE-R1").await;
    let second = withdrawn_request(&app, &org, "CASE-R2").await;
    app.clock.advance(Duration::days(400));
    // A trigger of someone's own refuses every new audit record.
    let (sabotage, repair) = if app.is_postgres() {
        (
            "CREATE FUNCTION sabotage() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'sabotage'; \
             END; $$ LANGUAGE plpgsql; CREATE TRIGGER sabotage BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION sabotage();",
            "DROP TRIGGER sabotage ON audit_log",
        )
    } else {
        (
            "CREATE TRIGGER sabotage BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'sabotage'); END;",
            "DROP TRIGGER sabotage",
        )
    };
    let sql = |statements: &str| {
        app.with_connection(|conn| {
            diesel::connection::SimpleConnection::batch_execute(conn, statements)
        })
        .expect("the statements run")
    };
    sql(sabotage);
    let r = app.post_empty(RETENTION_RUN).await;
    assert_problem(&r, 500, "internal");
    // Told it failed, the run stored nothing: both requests still carry the client's name.
    sql(repair);
    for request in [&first, &second] {
        let body = get_ok(&app, &format!("/v1/buddy-requests/{request}")).await;
        assert_eq!(body["client"]["first_name"], "Client", "{request}");
    }
    // Run again, it anonymises both, with its record.
    assert_eq!(run_retention(&app).await, 2);
    let records = app.audit_records().await;
    let record = records
        .iter()
        .rev()
        .find(|r| r["route"] == "POST /v1/privacy/retention/run")
        .expect("the run's record");
    assert_eq!(
        (&record["outcome"], &record["status"]),
        (&json!("allowed"), &json!(200))
    );
}
