//! The NEN 7513 audit trail: every route that touches personal data is recorded, allowed or
//! not; the records are hash-chained and `maatje audit verify` checks the chain; `GET /v1/audit`
//! lets administrators read them.

use std::process::{Output, Stdio};
use std::time::Duration;

use chrono::Duration as Span;
use diesel::connection::SimpleConnection;
use maatje::auth::policy;
use maatje::auth::StaffRole;
use maatje::startup::Application;
use reqwest::Method;
use serde_json::{json, Value};

use crate::access::{Row, ADMIN};
use crate::fixtures::{
    act, active_buddy, candidate, open_request, organisation, pairing_in, profile, propose,
    request_body,
};
use crate::helpers::{
    assert_invalid_fields, assert_problem, check_exchange, create_organisation, id_of, spawn_app,
    spec_paths, start_time, time_of, with_query, Response, Sent, TestApp,
};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    // The audit trail, retention, legal holds, erasure and export: administrators only.
    ("GET", "/v1/audit", ADMIN),
];

/// The one record `response`'s request wrote, found by the service's own request id.
async fn record_of(app: &TestApp, response: &Response) -> Value {
    let id = server_request_id(response);
    let all = app.audit_records().await;
    let mine: Vec<&Value> = all
        .iter()
        .filter(|r| r["request_id"].as_str() == Some(id))
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "expected one audit record for request {id}: {mine:?}"
    );
    mine[0].clone()
}

/// The service's own id of the request (`X-Server-Request-Id`); `X-Request-Id` echoes the
/// caller's when it sent one.
fn server_request_id(response: &Response) -> &str {
    response
        .header("x-server-request-id")
        .unwrap_or_else(|| panic!("no X-Server-Request-Id header: {:?}", response.headers))
}

/// Runs `maatje audit verify` against the app's database in a clean environment.
pub(crate) async fn verify(app: &TestApp) -> (Option<i32>, String) {
    let (code, stdout, stderr) = audit_command(app, &["verify"]).await;
    (code, format!("{stdout}{stderr}"))
}

/// Runs `maatje audit <args>` against the app's database in a clean environment; returns the
/// exit code, standard output and standard error.
async fn audit_command(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_maatje"))
        .arg("audit")
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("MAATJE__DATABASE__URL", &app.settings.database.url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("maatje starts");
    let output: Output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("maatje audit exits")
        .expect("maatje runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs SQL on the app's database behind the service's back.
fn sql(app: &TestApp, statements: &str) -> Result<(), String> {
    app.with_connection(|conn| conn.batch_execute(statements).map_err(|e| e.to_string()))
}

/// Lifts the append-only triggers, as someone with direct database access could.
fn drop_append_only_guard(app: &TestApp) {
    let statements = if app.is_postgres() {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"
    } else {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete"
    };
    sql(app, statements).expect("triggers lifted");
}

fn without_organisation(mut body: Value) -> Value {
    body.as_object_mut().unwrap().remove("organisation_id");
    body
}

/// True when a route touches personal data by its path alone: anything about buddies, buddy
/// requests or pairings, and recording an exit interview (a yes carries the buddy's profile).
/// Add routes here when they are added to the service.
fn is_personal(method: &str, path: &str) -> bool {
    const PREFIXES: &[&str] = &["/v1/buddies", "/v1/buddy-requests", "/v1/pairings"];
    PREFIXES
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
        || (method == "POST" && path == "/v1/exit-interviews")
}

/// Every (method, path template) of the contract.
fn operations() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in spec_paths() {
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_some() {
                out.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_route_that_touches_personal_data_has_an_audit_rule() {
    let mut personal = 0;
    let policy = maatje::startup::policy();
    for (method, path) in operations() {
        if is_personal(&method, &path) {
            personal += 1;
            let rule = policy
                .find(&method, &path)
                .unwrap_or_else(|| panic!("no access rule for {method} {path}"));
            assert!(
                rule.audit.is_some(),
                "{method} {path} touches personal data but its policy rule has no `audit`"
            );
        }
    }
    assert!(personal >= 20, "only {personal} personal routes found");
}

#[tokio::test]
async fn every_audited_route_writes_a_record_with_its_action_and_object() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    // One object per kind, each used by the routes of its kind only, so that an action taken
    // on one (retiring a buddy, withdrawing a request) does not spoil another route's request.
    let buddy = active_buddy(&app, &org, 1, 5).await;
    let other_buddy = candidate(&app, &org, 2).await;
    let request = open_request(&app, &org, "CASE-AUDIT-1").await;
    let spare_request = open_request(&app, &org, "CASE-AUDIT-2").await;
    let paired_request = open_request(&app, &org, "CASE-AUDIT-3").await;
    let pairing = propose(&app, &paired_request, &buddy).await;
    let exit_interview = json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "no" });

    let mut audited = 0;
    let policy = maatje::startup::policy();
    for (method, template) in operations() {
        let rule = policy
            .find(&method, &template)
            .expect("every operation has a rule");
        let Some(expected) = rule.audit else {
            continue;
        };
        audited += 1;
        let id = if template.starts_with("/v1/buddies/") {
            Some(other_buddy.as_str())
        } else if template.starts_with("/v1/buddy-requests/") {
            Some(request.as_str())
        } else if template.starts_with("/v1/pairings/") {
            Some(pairing.as_str())
        } else if template.starts_with("/v1/client-feedback/") {
            // No answer exists: the 404 is audited with the id of the path all the same.
            Some("0192f0c4-0000-4000-8000-0000000000fb")
        } else {
            None
        };
        assert_eq!(
            id.is_some(),
            template.contains("{id}"),
            "no fixture for {method} {template}: add one to this test"
        );
        let path = template.replace("{id}", id.unwrap_or_default());
        let body = match (method.as_str(), template.as_str()) {
            ("POST", "/v1/exit-interviews") => Some(exit_interview.clone()),
            ("POST", "/v1/buddies") => {
                let mut body = profile(3);
                body["organisation_id"] = json!(org);
                Some(body)
            }
            ("PATCH", "/v1/buddies/{id}") => Some(json!({ "capacity": 2 })),
            ("POST", "/v1/buddy-requests") => Some(request_body(&org, "CASE-AUDIT-4")),
            ("POST", "/v1/pairings") => {
                Some(json!({ "request_id": spare_request, "buddy_id": buddy }))
            }
            ("POST", "/v1/pairings/{id}/end") => Some(json!({ "reason": "goal_reached" })),
            (_, _) => None,
        };
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let response = match &body {
            Some(body) => {
                app.request(
                    method.clone(),
                    &path,
                    Some("application/json"),
                    serde_json::to_vec(body).unwrap(),
                )
                .await
            }
            None => app.request(method.clone(), &path, None, Vec::new()).await,
        };
        let what = format!("{method} {path} -> {}: {}", response.status, response.text);
        assert!(response.status < 500, "{what}");
        let expected_object = match expected.action {
            policy::AuditAction::Create => {
                assert_eq!(
                    response.status, 201,
                    "{what}: a create needs a valid body here"
                );
                // An exit interview answers with the outcome and the candidate it created.
                let created = response
                    .body
                    .get("exit_interview")
                    .unwrap_or(&response.body);
                Some(id_of(created))
            }
            policy::AuditAction::Search => None,
            _ => id.map(str::to_owned),
        };
        let record = record_of(&app, &response).await;
        assert_eq!(record["action"], expected.action.as_str(), "{what}");
        assert_eq!(record["object_type"], expected.object_type, "{what}");
        assert_eq!(
            record["object_id"].as_str(),
            expected_object.as_deref(),
            "{what}: {record}"
        );
        assert_eq!(record["route"], format!("{method} {template}"), "{what}");
        assert_eq!(record["status"], response.status, "{what}");
        assert_eq!(record["actor"]["type"], "staff", "{what}");
    }
    assert!(audited >= 20, "only {audited} audited routes");
}

#[tokio::test]
async fn routes_without_personal_data_write_no_record() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let before = app.audit_records().await.len();
    assert_eq!(app.get("/v1/organisations").await.status, 200);
    assert_eq!(
        app.get(&format!("/v1/organisations/{org}")).await.status,
        200
    );
    assert_eq!(app.get("/v1/exit-interviews").await.status, 200);
    assert_eq!(app.get("/v1/health/live").await.status, 200);
    app.use_token(None);
    assert_eq!(app.get("/v1/organisations").await.status, 401);
    assert_eq!(app.audit_records().await.len(), before);
}

#[tokio::test]
async fn a_case_system_reading_its_own_request_is_recorded_with_whom_it_acts_for() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem A").await;
    app.use_token(Some(&key));
    let created = app
        .post_json(
            "/v1/buddy-requests",
            &without_organisation(request_body(&org, "CASE-CS-1")),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = id_of(&created.body);
    let on_behalf = [("x-on-behalf-of", "medewerker-0042")];
    let response = app
        .request_with_headers(
            Method::GET,
            &format!("/v1/buddy-requests/{id}"),
            None,
            Vec::new(),
            &on_behalf,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);

    let record = record_of(&app, &response).await;
    assert_eq!(
        record["actor"],
        json!({ "type": "api_client", "id": client })
    );
    assert_eq!(record["on_behalf_of"], "medewerker-0042");
    assert_eq!(record["action"], "read");
    assert_eq!(record["object_type"], "buddy_request");
    assert_eq!(record["object_id"], id.as_str());
    assert_eq!(record["client_ref"], "CASE-CS-1");
    assert_eq!(record["outcome"], "allowed");
    assert_eq!(record["status"], 200);
    assert_eq!(record["source_address"], "127.0.0.1");
    assert_eq!(record["route"], "GET /v1/buddy-requests/{id}");
    assert_eq!(record["at"], json!(start_time()));

    // The create, without X-On-Behalf-Of, names the new request and its client.
    let record = record_of(&app, &created).await;
    assert_eq!(record["actor"]["id"], client.as_str());
    assert!(record.get("on_behalf_of").is_none(), "{record}");
    assert_eq!(
        (
            &record["action"],
            &record["object_id"],
            &record["client_ref"]
        ),
        (&json!("create"), &json!(id), &json!("CASE-CS-1"))
    );

    // The client reference of a history read, a withdrawal and a search is noted too.
    for response in [
        app.get(&format!("/v1/buddy-requests/{id}/history")).await,
        app.get("/v1/buddy-requests?client_ref=CASE-CS-1").await,
        app.post_empty(&format!("/v1/buddy-requests/{id}/withdraw"))
            .await,
    ] {
        assert_eq!(response.status, 200, "{}", response.text);
        let record = record_of(&app, &response).await;
        assert_eq!(record["client_ref"], "CASE-CS-1", "{record}");
    }
    // A search without the filter concerns no one client.
    let response = app.get("/v1/buddy-requests").await;
    let record = record_of(&app, &response).await;
    assert_eq!(record["action"], "search");
    assert!(record.get("client_ref").is_none(), "{record}");
    assert!(record.get("object_id").is_none(), "{record}");
}

/// A caller's `X-Request-Id` is echoed for its own correlation, but the record's request id is
/// the service's own: a caller cannot make its request look like another one in the trail.
#[tokio::test]
async fn the_record_keeps_the_services_request_id_and_the_callers_beside_it() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = candidate(&app, &org, 1).await;
    let path = format!("/v1/buddies/{buddy}");
    let plain = app.get(&path).await;
    let victim = plain.request_id().to_owned();
    assert_eq!(server_request_id(&plain), victim);
    let record = record_of(&app, &plain).await;
    assert_eq!(record["request_id"], victim.as_str());
    assert!(record.get("caller_request_id").is_none(), "{record}");

    // Two requests reusing the first one's id, and one with an id of its own.
    let mut ids = vec![victim.clone()];
    for caller_id in [victim.as_str(), victim.as_str(), "case-system-7781"] {
        let response = app
            .request_with_headers(
                Method::GET,
                &path,
                None,
                Vec::new(),
                &[("x-request-id", caller_id)],
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
        assert_eq!(response.request_id(), caller_id, "echoed for correlation");
        let own = server_request_id(&response).to_owned();
        let parsed = uuid::Uuid::parse_str(&own).expect("the service's id is a UUID");
        assert_eq!(parsed.get_version_num(), 7);
        let record = record_of(&app, &response).await;
        assert_eq!(record["request_id"], own.as_str(), "{record}");
        assert_eq!(record["caller_request_id"], caller_id, "{record}");
        ids.push(own);
    }
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    let records = app.audit_records().await;
    assert_eq!(
        records
            .iter()
            .filter(|r| r["request_id"] == victim.as_str())
            .count(),
        1
    );
    // The caller's id is part of the hashed record: changing it breaks the chain.
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(0), "{output}");
    drop_append_only_guard(&app);
    let seq = records.last().unwrap()["seq"].as_i64().unwrap();
    sql(
        &app,
        &format!("UPDATE audit_log SET caller_request_id = 'other' WHERE seq = {seq}"),
    )
    .expect("record changed");
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(2), "{output}");
    assert!(
        output.contains(&format!("record seq {seq} (id ")),
        "{output}"
    );
}

#[tokio::test]
async fn pairings_name_the_client_of_their_request() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = pairing_in(&app, &org, "accepted", 1).await;
    let response = app.get(&format!("/v1/pairings/{pairing}")).await;
    let record = record_of(&app, &response).await;
    assert_eq!(record["client_ref"], "CASE-1");
    assert_eq!(record["object_id"], pairing.as_str());
}

#[tokio::test]
async fn refused_requests_on_audited_routes_are_recorded_as_denied() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other_org = id_of(&create_organisation(&app, "Andere Instelling").await);
    let buddy = candidate(&app, &org, 1).await;
    let request = open_request(&app, &org, "CASE-D-1").await;
    let (foreign_client, foreign_key) = app.create_case_system(&other_org, "Zaaksysteem B").await;
    let path = format!("/v1/buddy-requests/{request}");

    // Another organisation's request: 404, as if it did not exist.
    app.use_token(Some(&foreign_key));
    let response = app
        .request_with_headers(
            Method::GET,
            &path,
            None,
            Vec::new(),
            &[("x-on-behalf-of", "medewerker-7")],
        )
        .await;
    assert_problem(&response, 404, "not-found");
    let record = record_of(&app, &response).await;
    assert_eq!(record["outcome"], "denied");
    assert_eq!(record["status"], 404);
    assert_eq!(
        record["actor"],
        json!({ "type": "api_client", "id": foreign_client })
    );
    assert_eq!(record["on_behalf_of"], "medewerker-7");
    assert_eq!(record["object_id"], request.as_str());
    assert!(
        record.get("client_ref").is_none(),
        "a refused caller learns nothing, and the record names nothing of another \
         organisation's client: {record}"
    );

    // A route the role may not use: 403, refused by the access policy before any handler.
    let response = app.get(&format!("/v1/buddies/{buddy}")).await;
    assert_problem(&response, 403, "forbidden");
    let record = record_of(&app, &response).await;
    assert_eq!(record["outcome"], "denied");
    assert_eq!(record["status"], 403);
    assert_eq!(record["actor"]["id"], foreign_client.as_str());
    assert_eq!(record["object_type"], "buddy");
    assert_eq!(record["object_id"], buddy.as_str());
    assert_eq!(record["route"], "GET /v1/buddies/{id}");

    // No credentials, or unknown ones: 401.
    app.use_token(None);
    let response = app.get(&path).await;
    assert_problem(&response, 401, "unauthorized");
    let record = record_of(&app, &response).await;
    assert_eq!(record["outcome"], "denied");
    assert_eq!(record["status"], 401);
    assert_eq!(record["actor"], json!({ "type": "unauthenticated" }));
    assert_eq!(record["object_id"], request.as_str());
    app.use_token(Some("mtj_st_not-a-real-token"));
    let response = app.post_empty("/v1/pairings").await;
    assert_eq!(response.status, 401);
    let record = record_of(&app, &response).await;
    assert_eq!(
        (
            &record["outcome"],
            &record["action"],
            &record["object_type"]
        ),
        (&json!("denied"), &json!("create"), &json!("pairing"))
    );

    // A path id that is no UUID is not copied into the trail.
    app.use_admin();
    let response = app.get("/v1/buddies/not-an-id").await;
    assert_eq!(response.status, 400);
    let record = record_of(&app, &response).await;
    assert_eq!(record["outcome"], "failed");
    assert!(record.get("object_id").is_none(), "{record}");
}

#[tokio::test]
async fn failed_requests_are_recorded_as_failed() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = candidate(&app, &org, 1).await;
    // 400: an invalid body stores nothing, but the attempt is recorded.
    let before = app.table_counts();
    let response = app.post_json("/v1/buddies", &json!({ "name": 5 })).await;
    assert_eq!(response.status, 400);
    assert_eq!(app.table_counts(), before);
    let record = record_of(&app, &response).await;
    assert_eq!(
        (&record["outcome"], &record["status"], &record["action"]),
        (&json!("failed"), &json!(400), &json!("create"))
    );
    assert!(record.get("object_id").is_none(), "{record}");
    // 409: an illegal transition.
    let response = app
        .post_empty(&format!("/v1/buddies/{buddy}/activate"))
        .await;
    assert_eq!(response.status, 409, "{}", response.text);
    let record = record_of(&app, &response).await;
    assert_eq!(
        (&record["outcome"], &record["status"], &record["object_id"]),
        (&json!("failed"), &json!(409), &json!(buddy))
    );
}

#[tokio::test]
async fn when_no_record_can_be_written_the_answer_is_a_500_and_nothing_changes() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = candidate(&app, &org, 1).await;
    // A trigger of someone's own refuses every new record.
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
    sql(&app, sabotage).expect("records refused");
    let response = app.get(&format!("/v1/buddies/{buddy}")).await;
    assert_problem(&response, 500, "internal");
    // Refusals fail closed too.
    app.use_token(None);
    let response = app.get(&format!("/v1/buddies/{buddy}")).await;
    assert_problem(&response, 500, "internal");
    // Routes without personal data are not affected.
    app.use_admin();
    assert_eq!(app.get("/v1/organisations").await.status, 200);
    // A change is written with its record in one transaction: without its record it is not
    // stored at all, so the 500 means "not done" and a retry is safe.
    let before = app.table_counts();
    let response = app
        .patch_json(&format!("/v1/buddies/{buddy}"), &json!({ "capacity": 3 }))
        .await;
    assert_problem(&response, 500, "internal");
    assert_eq!(app.table_counts(), before);
    sql(&app, repair).expect("records accepted again");
    let response = app.get(&format!("/v1/buddies/{buddy}")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body["capacity"], 1);
    let response = app
        .patch_json(&format!("/v1/buddies/{buddy}"), &json!({ "capacity": 3 }))
        .await;
    assert_eq!(
        (response.status, &response.body["capacity"]),
        (200, &json!(3))
    );
    assert_eq!(verify(&app).await.0, Some(0));
}

#[tokio::test]
async fn verify_accepts_an_intact_chain_and_names_an_altered_record() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    pairing_in(&app, &org, "ended", 1).await;
    pairing_in(&app, &org, "declined", 2).await;
    app.use_token(None);
    assert_eq!(app.get("/v1/buddies").await.status, 401);
    app.use_admin();
    let records = app.audit_records().await;
    assert!(records.len() > 10, "{}", records.len());
    let seqs: Vec<i64> = records.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=records.len() as i64).collect::<Vec<_>>());

    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(0), "{output}");
    assert!(
        output.contains(&format!("audit chain intact: {} records", records.len())),
        "{output}"
    );
    assert!(
        output.contains(records.last().unwrap()["hash"].as_str().unwrap()),
        "{output}"
    );

    drop_append_only_guard(&app);
    sql(&app, "UPDATE audit_log SET object_id = 'x' WHERE seq = 2").expect("record changed");
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(2), "{output}");
    let id = records[1]["id"].as_str().unwrap();
    assert!(
        output.contains(&format!("record seq 2 (id {id})")) && output.contains("altered"),
        "{output}"
    );
}

#[tokio::test]
async fn verify_detects_a_deleted_record() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    pairing_in(&app, &org, "active", 1).await;
    assert_eq!(verify(&app).await.0, Some(0));
    drop_append_only_guard(&app);
    sql(&app, "DELETE FROM audit_log WHERE seq = 2").expect("record deleted");
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(2), "{output}");
    assert!(output.contains("record seq 2: missing"), "{output}");
}

#[tokio::test]
async fn verify_detects_records_cut_off_the_end() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    candidate(&app, &org, 1).await;
    let last = app.audit_records().await.len();
    drop_append_only_guard(&app);
    sql(&app, &format!("DELETE FROM audit_log WHERE seq = {last}")).expect("deleted");
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(2), "{output}");
    assert!(
        output.contains(&format!("record seq {last}: missing")),
        "{output}"
    );
}

#[tokio::test]
async fn the_trail_is_append_only() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    candidate(&app, &org, 1).await;
    let update = sql(&app, "UPDATE audit_log SET object_id = 'x' WHERE seq = 1");
    assert!(
        update.as_ref().is_err_and(|e| e.contains("append-only")),
        "{update:?}"
    );
    let delete = sql(&app, "DELETE FROM audit_log WHERE seq = 1");
    assert!(
        delete.as_ref().is_err_and(|e| e.contains("append-only")),
        "{delete:?}"
    );
    assert_eq!(verify(&app).await.0, Some(0));
}

/// What a database-level actor without the tables' ownership tries, to reset or bend the chain:
/// each statement is refused on both backends, the chain stays intact and the service goes on
/// appending to it.
#[tokio::test]
async fn the_chain_cannot_be_reset_cut_or_bent_from_the_database() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    candidate(&app, &org, 1).await;
    let before = app.audit_records().await;
    let last = before.last().expect("records");
    let (seq, hash) = (
        last["seq"].as_i64().unwrap(),
        last["hash"].as_str().unwrap(),
    );
    let genesis = maatje::audit::chain::GENESIS;
    let fake = "f".repeat(64);
    let columns = "seq, id, at, actor_type, action, object_type, outcome, status, route, \
                   prev_hash, hash";
    let record = |seq: i64, prev: &str| {
        format!(
            "INSERT INTO audit_log ({columns}) VALUES ({seq}, '{}', '2026-11-22 09:00:00', \
             'system', 'read', 'buddy', 'allowed', 200, 'GET /v1/buddies', '{prev}', '{fake}')",
            uuid::Uuid::now_v7()
        )
    };
    let mut attempts = vec![
        // Emptying or shortening the trail.
        "DELETE FROM audit_log".to_owned(),
        format!("DELETE FROM audit_log WHERE seq = {seq}"),
        "UPDATE audit_log SET hash = prev_hash".to_owned(),
        // Resetting, removing, adding or moving the head.
        "DELETE FROM audit_head".to_owned(),
        format!("INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, '{genesis}')"),
        format!("UPDATE audit_head SET seq = 0, hash = '{genesis}'"),
        "UPDATE audit_head SET seq = seq - 1".to_owned(),
        format!("UPDATE audit_head SET seq = seq + 1, hash = '{fake}'"),
        "UPDATE audit_head SET id = 2".to_owned(),
        // Records that do not extend the chain at its head.
        record(seq + 5, hash),
        record(seq + 1, genesis),
    ];
    if app.is_postgres() {
        for table in ["audit_log", "audit_head", "audit_log, audit_head"] {
            attempts.push(format!("TRUNCATE {table}"));
        }
    }
    for statement in &attempts {
        let result = sql(&app, statement);
        assert!(
            result
                .as_ref()
                .is_err_and(|e| e.contains("append-only") || e.contains("only moves forward")),
            "{statement}: {result:?}"
        );
    }
    assert_eq!(app.audit_records().await, before);
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(0), "{output}");
    // The service's own appends still move the head.
    candidate(&app, &org, 2).await;
    assert!(app.audit_records().await.len() > before.len());
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(0), "{output}");
}

/// `maatje audit head` prints the head to keep outside the database; `verify --expect-head`
/// then proves that nothing up to it was cut, even by someone who lifted the triggers, emptied
/// both tables and let the chain start afresh (which `verify` alone cannot tell).
#[tokio::test]
async fn an_anchored_head_exposes_a_trail_that_was_emptied_and_restarted() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    candidate(&app, &org, 1).await;
    let records = app.audit_records().await;
    let last = records.last().expect("records");
    let (code, head, errors) = audit_command(&app, &["head"]).await;
    assert_eq!(code, Some(0), "{errors}");
    let anchor = format!("{}:{}", last["seq"], last["hash"].as_str().unwrap());
    assert_eq!(head.trim(), anchor);

    let expect = ["verify", "--expect-head", anchor.as_str()];
    let (code, out, errors) = audit_command(&app, &expect).await;
    assert_eq!(code, Some(0), "{out}{errors}");
    assert!(
        out.contains(&format!("expected head {anchor} is in the chain")),
        "{out}"
    );
    assert!(out.contains(&format!("head: {anchor}")), "{out}");
    // The chain goes on; the anchor stays in it.
    candidate(&app, &org, 2).await;
    let (code, out, errors) = audit_command(&app, &expect).await;
    assert_eq!(code, Some(0), "{out}{errors}");

    // The tables' owner lifts the guards and empties both tables.
    let genesis = maatje::audit::chain::GENESIS;
    if app.is_postgres() {
        sql(
            &app,
            &format!(
                "ALTER TABLE audit_log DISABLE TRIGGER USER; \
                 ALTER TABLE audit_head DISABLE TRIGGER USER; \
                 TRUNCATE audit_log; UPDATE audit_head SET seq = 0, hash = '{genesis}'; \
                 ALTER TABLE audit_log ENABLE TRIGGER USER; \
                 ALTER TABLE audit_head ENABLE TRIGGER USER;"
            ),
        )
    } else {
        sql(
            &app,
            &format!(
                "DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_head_forward_only; \
                 DELETE FROM audit_log; UPDATE audit_head SET seq = 0, hash = '{genesis}';"
            ),
        )
    }
    .expect("trail emptied");
    let (code, out, _) = audit_command(&app, &["verify"]).await;
    assert_eq!(code, Some(0), "an empty trail is a consistent one: {out}");
    let (code, out, errors) = audit_command(&app, &expect).await;
    assert_eq!(code, Some(2), "{out}{errors}");
    let seq = last["seq"].as_i64().unwrap();
    assert!(
        errors.contains("record seq 1: missing: the chain ends at seq 0"),
        "{errors}"
    );
    assert!(errors.contains("records were cut"), "{errors}");

    // The service starts a new chain; once it is as long, the anchor's place holds another record.
    while app.audit_records().await.len() < seq as usize {
        assert_eq!(app.get("/v1/buddies").await.status, 200);
    }
    let (code, out, _) = audit_command(&app, &["verify"]).await;
    assert_eq!(code, Some(0), "{out}");
    let (code, out, errors) = audit_command(&app, &expect).await;
    assert_eq!(code, Some(2), "{out}{errors}");
    assert!(
        errors.contains(&format!("record seq {seq} (id ")) && errors.contains("expected head"),
        "{errors}"
    );

    // A head that is not one is refused as such.
    for wrong in ["42", "x:y", "3:ABC"] {
        let (code, _, errors) = audit_command(&app, &["verify", "--expect-head", wrong]).await;
        assert_eq!(code, Some(1), "{wrong}: {errors}");
        assert!(errors.contains("--expect-head"), "{errors}");
    }
}

#[tokio::test]
async fn concurrent_writers_in_two_instances_do_not_fork_the_chain() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = candidate(&app, &org, 1).await;
    // A second service instance on the same database.
    let second = Application::build(&app.settings, app.clock.clone()).expect("a second instance");
    let second_address = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    let before = app.audit_records().await.len();

    let path = format!("/v1/buddies/{buddy}");
    let requests = (0..20).map(|n| {
        let address = if n % 2 == 0 {
            app.address.clone()
        } else {
            second_address.clone()
        };
        let request = app
            .client
            .get(format!("{address}{path}"))
            .bearer_auth(&app.admin_token)
            .send();
        let path = path.clone();
        // Sent directly (the helpers know one address only), checked as the helpers would.
        async move {
            let answer = request.await.expect("an answer");
            let (status, headers) = (answer.status().as_u16(), answer.headers().clone());
            let bytes = answer.bytes().await.expect("a body");
            let response = Response {
                status,
                headers,
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            };
            check_exchange(&Method::GET, &path, Sent::NOTHING, &response);
            response
        }
    });
    let responses = futures_util::future::join_all(requests).await;
    for response in &responses {
        assert_eq!(response.status, 200, "{}", response.text);
    }

    let records = app.audit_records().await;
    assert_eq!(records.len(), before + 20);
    let mut previous = maatje::audit::chain::GENESIS.to_owned();
    for (n, record) in records.iter().enumerate() {
        assert_eq!(record["seq"], n as i64 + 1);
        assert_eq!(record["prev_hash"], previous.as_str(), "{record}");
        previous = record["hash"].as_str().unwrap().to_owned();
    }
    for response in &responses {
        record_of(&app, response).await;
    }
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(0), "{output}");
}

/// `n` records of reads of a buddy, as the group commit gets them: the `i`th has the request id
/// `{prefix}-{i}`, and every other one is on behalf of "a coordinator".
fn read_records(app: &TestApp, prefix: &str, n: usize) -> Vec<maatje::store::audit::NewRecord> {
    let at = app.clock.now_naive();
    (0..n)
        .map(|i| maatje::store::audit::NewRecord {
            at,
            actor_type: "system".into(),
            actor_id: None,
            on_behalf_of: i.is_multiple_of(2).then(|| "a coordinator".into()),
            action: "read".into(),
            object_type: "buddy".into(),
            object_id: Some(uuid::Uuid::now_v7().to_string()),
            client_ref: None,
            outcome: "allowed".into(),
            status: 200,
            source_address: Some("127.0.0.1".into()),
            request_id: Some(format!("{prefix}-{i}")),
            caller_request_id: None,
            route: "GET /v1/buddies/{id}".into(),
        })
        .collect()
}

/// Appends `records` in one write transaction, as the group commit does.
fn append_in_one_transaction(
    conn: &mut maatje::db::DbConnection,
    records: Vec<maatje::store::audit::NewRecord>,
) -> Vec<maatje::store::audit::AuditRow> {
    maatje::db::write_transaction(conn, |conn| {
        maatje::store::audit::append_all(conn, records, maatje::audit::chain::hash)
            .map_err(maatje::domain::error::DomainError::from)
    })
    .expect("the records are stored")
}

/// The group commit appends many records in one transaction: the head is read and moved once,
/// the records go (on PostgreSQL) in multi-row inserts, here more than one insert's worth, and the chain the
/// triggers check row by row is the chain `verify` accepts.
#[tokio::test]
async fn a_batch_of_records_extends_the_chain_in_one_transaction() {
    use maatje::store::audit as store;
    let app = spawn_app().await;
    let records = read_records(&app, "batch", 300);
    let (head_before, rows, head_after) = app.with_connection(|conn| {
        let before = store::head(conn).unwrap();
        let rows = append_in_one_transaction(conn, records);
        (before, rows, store::head(conn).unwrap())
    });
    assert_eq!(rows.len(), 300);
    assert_eq!(rows[0].seq, head_before.0 + 1);
    assert_eq!(rows[0].prev_hash, head_before.1);
    for pair in rows.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let last = rows.last().unwrap();
    assert_eq!(head_after, (last.seq, last.hash.clone()));
    let stored = app.audit_records().await;
    let kept = stored
        .iter()
        .find(|r| r["request_id"] == "batch-298")
        .expect("the batch's records are in the trail");
    assert_eq!(kept["seq"], last.seq - 1);
    assert_eq!(kept["on_behalf_of"], "a coordinator");
    assert_eq!(kept["actor_id"], Value::Null);
    let (code, output) = verify(&app).await;
    assert_eq!(code, Some(0), "{output}");
    // Jumping the head over records that are not there, or past the last one, is refused.
    for statement in [
        format!(
            "UPDATE audit_head SET seq = {}, hash = '{}'",
            last.seq + 1,
            last.hash
        ),
        format!(
            "UPDATE audit_head SET seq = {}, hash = '{}'",
            last.seq - 1,
            rows[298].hash
        ),
    ] {
        let result = sql(&app, &statement);
        assert!(
            result
                .as_ref()
                .is_err_and(|e| e.contains("only moves forward")),
            "{statement}: {result:?}"
        );
    }
}

/// On SQLite a commit goes to the write-ahead log; the database's own thread copies it into the
/// database file (a passive checkpoint every 200 ms), so no commit waits for that copy. Without
/// the thread the file would not grow until the log reached 10,000 pages.
#[tokio::test]
async fn the_write_ahead_log_is_checkpointed_by_a_thread_of_its_own() {
    let app = spawn_app().await;
    let Some(path) = app.settings.database.url.strip_prefix("sqlite://") else {
        return; // PostgreSQL checkpoints for itself.
    };
    let size = || std::fs::metadata(path).expect("the database file").len();
    let before = size();
    let records = read_records(&app, "wal", 300);
    app.with_connection(|conn| append_in_one_transaction(conn, records));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while size() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file is still {before} bytes: nothing checkpointed the log"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A small trail with records of several actors, outcomes, clients and times.
struct Trail {
    app: TestApp,
    buddy: String,
    request: String,
    coordinator: String,
    client: String,
}

async fn trail() -> Trail {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other_org = id_of(&create_organisation(&app, "Andere Instelling").await);
    let buddy = candidate(&app, &org, 1).await;
    let (coordinator, coordinator_token) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem A").await;
    let (_, other_key) = app.create_case_system(&other_org, "Zaaksysteem B").await;
    app.clock.advance(Span::hours(1));
    app.use_token(Some(&coordinator_token));
    assert_eq!(app.get(&format!("/v1/buddies/{buddy}")).await.status, 200);
    app.use_token(Some(&key));
    let created = app
        .post_json(
            "/v1/buddy-requests",
            &without_organisation(request_body(&org, "CASE-F-1")),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let request = id_of(&created.body);
    app.clock.advance(Span::hours(1));
    app.use_token(Some(&other_key));
    assert_eq!(
        app.get(&format!("/v1/buddy-requests/{request}"))
            .await
            .status,
        404
    );
    app.use_token(None);
    assert_eq!(app.get(&format!("/v1/buddies/{buddy}")).await.status, 401);
    app.use_admin();
    act(&app, &format!("/v1/buddies/{buddy}/start-screening")).await;
    Trail {
        app,
        buddy,
        request,
        coordinator,
        client,
    }
}

#[tokio::test]
async fn the_trail_can_be_filtered() {
    let Trail {
        app,
        buddy,
        request,
        coordinator,
        client,
    } = trail().await;
    let all = app.audit_records().await;
    let at = |hours: i64| (start_time() + Span::hours(hours)).to_rfc3339();
    let hour_of = |r: &Value| (time_of(r, "at") - start_time()).num_hours();
    type Keep<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let filters: Vec<(String, Keep)> = vec![
        (
            format!("actor_id={coordinator}"),
            Box::new(|r: &Value| r["actor"]["id"] == coordinator.as_str()),
        ),
        (
            "actor_type=api_client".into(),
            Box::new(|r: &Value| r["actor"]["type"] == "api_client"),
        ),
        (
            "actor_type=unauthenticated".into(),
            Box::new(|r: &Value| r["actor"]["type"] == "unauthenticated"),
        ),
        (
            "client_ref=CASE-F-1".into(),
            Box::new(|r: &Value| r["client_ref"] == "CASE-F-1"),
        ),
        (
            "object_type=buddy_request".into(),
            Box::new(|r: &Value| r["object_type"] == "buddy_request"),
        ),
        (
            format!("object_id={buddy}"),
            Box::new(|r: &Value| r["object_id"] == buddy.as_str()),
        ),
        (
            format!("object_type=buddy&object_id={buddy}&outcome=allowed"),
            Box::new(|r: &Value| {
                r["object_id"] == buddy.as_str()
                    && r["object_type"] == "buddy"
                    && r["outcome"] == "allowed"
            }),
        ),
        (
            "outcome=denied".into(),
            Box::new(|r: &Value| r["outcome"] == "denied"),
        ),
        (
            with_query("", "from", &at(1))
                .trim_start_matches('?')
                .into(),
            Box::new(|r: &Value| hour_of(r) >= 1),
        ),
        (
            with_query("", "to", &at(1)).trim_start_matches('?').into(),
            Box::new(|r: &Value| hour_of(r) < 1),
        ),
        (
            format!(
                "{}&{}",
                with_query("", "from", &at(1)).trim_start_matches('?'),
                with_query("", "to", &at(2)).trim_start_matches('?')
            ),
            Box::new(|r: &Value| hour_of(r) == 1),
        ),
    ];
    for (query, keep) in &filters {
        let got = app.audit_records_where(query).await;
        let want: Vec<Value> = all.iter().filter(|r| keep(r)).cloned().collect();
        assert!(!want.is_empty(), "{query}: the trail has no such record");
        assert!(want.len() < all.len(), "{query}: filters nothing");
        assert_eq!(got, want, "{query}");
    }
    // Sanity of the fixtures the filters rely on.
    let denied = app.audit_records_where("outcome=denied").await;
    assert_eq!(denied.len(), 2);
    let by_client = app.audit_records_where(&format!("actor_id={client}")).await;
    assert_eq!(by_client.len(), 1);
    assert_eq!(by_client[0]["object_id"], request.as_str());
}

#[tokio::test]
async fn the_trail_is_paged_in_chain_order() {
    let Trail { app, .. } = trail().await;
    let all = app.audit_records().await;
    let mut seen = Vec::new();
    let mut path = "/v1/audit?limit=2".to_owned();
    loop {
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().cloned());
        match page.body.get("next_cursor").and_then(Value::as_str) {
            Some(cursor) => path = with_query("/v1/audit?limit=2", "cursor", cursor),
            None => break,
        }
    }
    assert_eq!(seen, all);
    // A cursor of another list is refused.
    let buddies = app.get("/v1/buddies?limit=1").await;
    let foreign = buddies.body["next_cursor"].as_str();
    if let Some(foreign) = foreign {
        let response = app.get(&with_query("/v1/audit", "cursor", foreign)).await;
        assert_invalid_fields(&response, &["cursor"]);
    }
}

#[tokio::test]
async fn only_administrators_read_the_trail() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, coordinator) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let (_, key) = app.create_case_system(&org, "Zaaksysteem A").await;
    for token in [coordinator, key] {
        app.use_token(Some(&token));
        assert_problem(&app.get("/v1/audit").await, 403, "forbidden");
    }
    app.use_token(None);
    assert_problem(&app.get("/v1/audit").await, 401, "unauthorized");
    app.use_admin();
    assert_eq!(app.get("/v1/audit").await.status, 200);
}

#[tokio::test]
async fn bad_filters_are_refused() {
    let app = spawn_app().await;
    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-11-23T00:00:00Z&to=2026-11-22T00:00:00Z", "to"),
        ("actor_id=nope", "actor_id"),
        ("actor_type=robot", "actor_type"),
        ("client_ref=has%20space", "client_ref"),
        ("client_ref=123456789", "client_ref"),
        ("object_type=person", "object_type"),
        ("object_id=42", "object_id"),
        ("outcome=maybe", "outcome"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=garbage", "cursor"),
        ("colour=blue", "colour"),
    ] {
        let response = app.get(&format!("/v1/audit?{query}")).await;
        assert_invalid_fields(&response, &[field]);
    }
}

/// The router decodes percent-escapes, so `/v1/buddi%65s/{id}` reads the buddy: the trail must
/// record it exactly as the plain path, or an encoded path would read personal data unrecorded.
#[tokio::test]
async fn percent_encoded_paths_are_recorded_like_plain_ones() {
    let app = spawn_app().await;
    let org = crate::fixtures::organisation(&app).await;
    let buddy = crate::fixtures::candidate(&app, &org, 1).await;
    let before = app
        .audit_records_where(&format!("object_id={buddy}"))
        .await
        .len();
    let response = app.get(&format!("/v1/buddi%65s/{buddy}")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    let records = app.audit_records_where(&format!("object_id={buddy}")).await;
    assert_eq!(records.len(), before + 1, "{records:?}");
    let last = records.last().unwrap();
    assert_eq!(last["route"], "GET /v1/buddies/{id}");
    assert_eq!(last["action"], "read");
    assert_eq!(last["outcome"], "allowed");
}
