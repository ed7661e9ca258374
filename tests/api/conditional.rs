//! Conditional requests: every answer with one resource carries its strong `ETag`; `GET` with
//! `If-None-Match` answers 304 while the caller's copy is current; a `PATCH` or action with an
//! `If-Match` that is not the resource's current tag is a 412 and changes nothing.

use maatje::auth::StaffRole;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixtures::{active_buddy, candidate, open_request, organisation, pairing_in, propose};
use crate::helpers::{
    assert_invalid_fields, assert_problem, create_organisation, id_of, spawn_app, Response, TestApp,
};

/// The `ETag` of an answer, checked to be a strong tag of the documented shape.
#[track_caller]
fn etag(response: &Response) -> String {
    let tag = response
        .header("etag")
        .unwrap_or_else(|| panic!("no ETag on a {}: {}", response.status, response.text))
        .to_owned();
    let opaque = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not a strong tag: {tag}"));
    assert_eq!(opaque.len(), 43, "{tag}");
    assert!(
        opaque
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{tag}"
    );
    tag
}

async fn get_if_none_match(app: &TestApp, path: &str, tags: &str) -> Response {
    app.request_with_headers(
        Method::GET,
        path,
        None,
        Vec::new(),
        &[("if-none-match", tags)],
    )
    .await
}

async fn patch_if_match(app: &TestApp, path: &str, body: &Value, tags: &str) -> Response {
    app.request_with_headers(
        Method::PATCH,
        path,
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
        &[("if-match", tags)],
    )
    .await
}

async fn post_if_match(app: &TestApp, path: &str, body: Option<&Value>, tags: &str) -> Response {
    let (content_type, bytes) = match body {
        Some(body) => (Some("application/json"), serde_json::to_vec(body).unwrap()),
        None => (None, Vec::new()),
    };
    app.request_with_headers(
        Method::POST,
        path,
        content_type,
        bytes,
        &[("if-match", tags)],
    )
    .await
}

/// An action POST with `If-Match` and an `Idempotency-Key`.
async fn keyed_action(app: &TestApp, path: &str, tags: &str, key: &str) -> Response {
    app.request_with_headers(
        Method::POST,
        path,
        None,
        Vec::new(),
        &[("if-match", tags), ("idempotency-key", key)],
    )
    .await
}

/// The resource at `path` and its tag, read with a plain GET.
async fn read(app: &TestApp, path: &str) -> (Value, String) {
    let response = app.get(path).await;
    assert_eq!(response.status, 200, "GET {path}: {}", response.text);
    let tag = etag(&response);
    (response.body, tag)
}

/// Asserts a 412 `precondition-failed` problem that says what to do.
#[track_caller]
fn assert_precondition_failed(response: &Response) {
    assert_problem(response, 412, "precondition-failed");
    assert!(response.header("etag").is_none(), "a 412 carries no ETag");
    let detail = response.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("has changed since") && detail.contains("If-Match"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_resource_is_answered_with_a_stable_strong_etag_that_follows_its_changes() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let mut body = crate::fixtures::profile(1);
    body["organisation_id"] = json!(org);
    let created = app.post_json("/v1/buddies", &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let path = format!("/v1/buddies/{}", id_of(&created.body));

    let (first, tag) = read(&app, &path).await;
    assert_eq!(
        etag(&created),
        tag,
        "the creating POST tags the resource as GET does"
    );
    let (second, again) = read(&app, &path).await;
    assert_eq!(
        (&first, &tag),
        (&second, &again),
        "nothing changed, same tag"
    );

    let patched = app
        .patch_json(&path, &json!({ "region": "Amersfoort" }))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let after_patch = etag(&patched);
    assert_ne!(after_patch, tag, "a change moves the tag");
    assert_eq!(
        read(&app, &path).await.1,
        after_patch,
        "the answer tags the new state"
    );

    let started = app.post_empty(&format!("{path}/start-screening")).await;
    assert_eq!(started.status, 200, "{}", started.text);
    let after_action = etag(&started);
    assert_ne!(after_action, after_patch);
    assert_eq!(read(&app, &path).await.1, after_action);

    // Other resources too: an organisation, a request, a pairing, a staff account, an API
    // client and an exit interview.
    let organisation = create_organisation(&app, "Jeugdbescherming Oost").await;
    let org_path = format!("/v1/organisations/{}", id_of(&organisation));
    let (_, org_tag) = read(&app, &org_path).await;
    let deactivated = app.post_empty(&format!("{org_path}/deactivate")).await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.text);
    assert_ne!(etag(&deactivated), org_tag);
    assert_eq!(read(&app, &org_path).await.1, etag(&deactivated));

    let (pairing, request, _) = pairing_in(&app, &org, "proposed", 2).await;
    for path in [
        format!("/v1/pairings/{pairing}"),
        format!("/v1/buddy-requests/{request}"),
    ] {
        let (_, tag) = read(&app, &path).await;
        assert_eq!(read(&app, &path).await.1, tag, "{path}");
    }
    let (staff, _) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    read(&app, &format!("/v1/staff/{staff}")).await;
    let (client, _) = app.create_case_system(&org, "Zaaksysteem").await;
    read(&app, &format!("/v1/api-clients/{client}")).await;
    let interview = app
        .post_json(
            "/v1/exit-interviews",
            &json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "no" }),
        )
        .await;
    assert_eq!(interview.status, 201, "{}", interview.text);
    let interview = id_of(&interview.body["exit_interview"]);
    read(&app, &format!("/v1/exit-interviews/{interview}")).await;
    // Each creating POST tags the new resource as its GET does.
    let buddy = active_buddy(&app, &org, 5, 1).await;
    let creations = [
        (
            "/v1/organisations",
            json!({ "name": "Jeugdbescherming West" }),
        ),
        (
            "/v1/buddy-requests",
            crate::fixtures::request_body(&org, "CASE-CREATED"),
        ),
        (
            "/v1/staff",
            json!({ "email": "nieuw@example.org", "name": "Nieuwe Collega",
                    "role": "coordinator", "password": "correct horse battery staple 42" }),
        ),
    ];
    let mut created_request = String::new();
    for (path, body) in creations {
        let response = app.post_json(path, &body).await;
        assert_eq!(response.status, 201, "{path}: {}", response.text);
        let location = response.header("location").unwrap().to_owned();
        assert_eq!(read(&app, &location).await.1, etag(&response), "{path}");
        if path == "/v1/buddy-requests" {
            created_request = id_of(&response.body);
        }
    }
    let proposal = app
        .post_json(
            "/v1/pairings",
            &json!({ "request_id": created_request, "buddy_id": buddy }),
        )
        .await;
    assert_eq!(proposal.status, 201, "{}", proposal.text);
    let location = proposal.header("location").unwrap().to_owned();
    assert_eq!(read(&app, &location).await.1, etag(&proposal));
    // Lists are not one resource: no tag.
    let list = app.get("/v1/buddies").await;
    assert!(list.header("etag").is_none());
}

#[tokio::test]
async fn if_none_match_answers_304_while_the_copy_is_current() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let path = format!("/v1/buddies/{}", candidate(&app, &org, 1).await);
    let (_, tag) = read(&app, &path).await;
    let opaque = tag.trim_matches('"');

    for condition in [
        tag.clone(),
        "*".to_owned(),
        format!("\"elsewhere\", {tag}"),
        format!("\"elsewhere\",{tag} , \"more\""),
        // Weak comparison: a weak tag with the same opaque part matches.
        format!("W/\"{opaque}\""),
    ] {
        let response = get_if_none_match(&app, &path, &condition).await;
        assert_eq!(response.status, 304, "If-None-Match: {condition}");
        assert_eq!(response.text, "", "a 304 has no body");
        assert_eq!(etag(&response), tag, "a 304 carries the current tag");
    }
    let head = app
        .request_with_headers(
            Method::HEAD,
            &path,
            None,
            Vec::new(),
            &[("if-none-match", &tag)],
        )
        .await;
    assert_eq!(head.status, 304);

    let other = get_if_none_match(&app, &path, "\"elsewhere\", W/\"another\"").await;
    assert_eq!(other.status, 200, "{}", other.text);
    assert_eq!(etag(&other), tag);
    assert_eq!(other.body["state"], "candidate");

    // Once the buddy changed, the old tag gets the new state.
    let patched = app.patch_json(&path, &json!({ "capacity": 2 })).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let stale = get_if_none_match(&app, &path, &tag).await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body["capacity"], 2);
    assert_eq!(etag(&stale), etag(&patched));

    // A 304 is audited as the read it is.
    let records = app
        .audit_records_where(&format!("object_id={}", path.rsplit('/').next().unwrap()))
        .await;
    assert!(
        records
            .iter()
            .any(|r| r["status"] == 304 && r["action"] == "read" && r["outcome"] == "allowed"),
        "{records:?}"
    );
}

#[tokio::test]
async fn a_patch_goes_through_only_with_the_current_etag() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let path = format!("/v1/buddies/{}", candidate(&app, &org, 1).await);
    let (before, tag) = read(&app, &path).await;
    let history = app.history(&path).await;
    let counts = app.table_counts();

    for refused in [
        "\"bogus\"".to_owned(),
        format!("W/{tag}"), // strong comparison: a weak tag never matches
        "\"bogus\", \"other\"".to_owned(),
    ] {
        let response = patch_if_match(&app, &path, &json!({ "region": "Zwolle" }), &refused).await;
        assert_precondition_failed(&response);
        assert_eq!(read(&app, &path).await, (before.clone(), tag.clone()));
        assert_eq!(app.history(&path).await, history, "no history entry");
        assert_eq!(app.table_counts(), counts, "If-Match: {refused}");
    }
    // The refusals are recorded as failed attempts, not as changes.
    let id = path.rsplit('/').next().unwrap();
    let records = app.audit_records_where(&format!("object_id={id}")).await;
    let refusals: Vec<&Value> = records.iter().filter(|r| r["status"] == 412).collect();
    assert_eq!(refusals.len(), 3, "{records:?}");
    assert!(refusals
        .iter()
        .all(|r| r["outcome"] == "failed" && r["action"] == "update"));

    let ok = patch_if_match(
        &app,
        &path,
        &json!({ "region": "Zwolle" }),
        &format!("\"bogus\", {tag}"),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["region"], "Zwolle");
    let new_tag = etag(&ok);
    assert_eq!(read(&app, &path).await.1, new_tag);

    // The tag it was read with is stale now.
    let stale = patch_if_match(&app, &path, &json!({ "region": "Deventer" }), &tag).await;
    assert_precondition_failed(&stale);
    assert_eq!(read(&app, &path).await.0["region"], "Zwolle");

    // `*` matches whatever the buddy is now.
    let any = patch_if_match(&app, &path, &json!({ "region": "Deventer" }), "*").await;
    assert_eq!(any.status, 200, "{}", any.text);
    assert_eq!(any.body["region"], "Deventer");
}

#[tokio::test]
async fn an_action_with_a_stale_etag_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;

    // A buddy's pause, with the tag from before a change of the profile.
    let buddy = format!("/v1/buddies/{}", active_buddy(&app, &org, 1, 2).await);
    let (_, stale) = read(&app, &buddy).await;
    let patched = app.patch_json(&buddy, &json!({ "region": "Zwolle" })).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let history = app.history(&buddy).await;
    let counts = app.table_counts();
    let response = post_if_match(&app, &format!("{buddy}/pause"), None, &stale).await;
    assert_precondition_failed(&response);
    assert_eq!(read(&app, &buddy).await.0["state"], "active");
    assert_eq!(app.history(&buddy).await, history);
    assert_eq!(app.table_counts(), counts);
    let current = etag(&patched);
    let paused = post_if_match(&app, &format!("{buddy}/pause"), None, &current).await;
    assert_eq!(paused.status, 200, "{}", paused.text);
    assert_eq!(paused.body["state"], "paused");
    assert_eq!(read(&app, &buddy).await.1, etag(&paused));

    // A pairing's acceptance, with the tag the pairing had before its buddy declined it.
    let (pairing, _, _) = pairing_in(&app, &org, "proposed", 2).await;
    let pairing = format!("/v1/pairings/{pairing}");
    let (_, proposed) = read(&app, &pairing).await;
    let declined = app.post_empty(&format!("{pairing}/decline")).await;
    assert_eq!(declined.status, 200, "{}", declined.text);
    let counts = app.table_counts();
    let history = app.history(&pairing).await;
    let response = post_if_match(&app, &format!("{pairing}/accept"), None, &proposed).await;
    // The precondition is checked before the state: a 412, not the 409 of a declined pairing.
    assert_precondition_failed(&response);
    assert_eq!(app.table_counts(), counts);
    assert_eq!(app.history(&pairing).await, history);

    // A request's withdrawal by its case system, with the tag from before a proposal.
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let admin = app.admin_token.clone();
    app.use_token(Some(&key));
    let request = format!(
        "/v1/buddy-requests/{}",
        id_of(
            &app.post_json("/v1/buddy-requests", &{
                let mut body = crate::fixtures::request_body(&org, "CASE-77");
                body.as_object_mut().unwrap().remove("organisation_id");
                body
            })
            .await
            .body
        )
    );
    let (_, open) = read(&app, &request).await;
    app.use_token(Some(&admin));
    let buddy3 = active_buddy(&app, &org, 3, 1).await;
    propose(&app, request.rsplit('/').next().unwrap(), &buddy3).await;
    app.use_token(Some(&key));
    let counts = app.table_counts();
    let response = post_if_match(
        &app,
        &format!("{request}/withdraw"),
        Some(&json!({ "reason": "No longer needed" })),
        &open,
    )
    .await;
    assert_precondition_failed(&response);
    assert_eq!(app.table_counts(), counts);
    let (now, current) = read(&app, &request).await;
    assert_eq!(now["state"], "proposed");
    let withdrawn = post_if_match(&app, &format!("{request}/withdraw"), None, &current).await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text);
    assert_eq!(withdrawn.body["state"], "withdrawn");
    assert_eq!(read(&app, &request).await.1, etag(&withdrawn));
}

#[tokio::test]
async fn every_change_of_a_tagged_resource_checks_if_match() {
    // A change route that did not check its If-Match would answer 2xx (turned into a 500 by the
    // middleware): each must be a 412 with a tag that is not the resource's.
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = candidate(&app, &org, 1).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let (pairing, _, _) = pairing_in(&app, &org, "accepted", 2).await;
    let (staff, _) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let (client, client_key) = app.create_case_system(&org, "Zaaksysteem").await;
    app.use_token(Some(&client_key));
    let subscribed = app
        .post_json(
            "/v1/webhook-endpoints",
            &json!({ "url": "https://hooks.example.org/maatje", "event_types": ["buddy_request.created"] }),
        )
        .await;
    assert_eq!(subscribed.status, 201, "{}", subscribed.text);
    let endpoint = subscribed.body["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.use_admin();
    let changes: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PATCH,
            format!("/v1/webhook-endpoints/{endpoint}"),
            Some(json!({ "enabled": false })),
        ),
        (
            Method::PATCH,
            format!("/v1/buddies/{buddy}"),
            Some(json!({ "capacity": 2 })),
        ),
        (
            Method::POST,
            format!("/v1/buddies/{buddy}/start-screening"),
            None,
        ),
        (Method::POST, format!("/v1/buddies/{buddy}/activate"), None),
        (Method::POST, format!("/v1/buddies/{buddy}/pause"), None),
        (Method::POST, format!("/v1/buddies/{buddy}/resume"), None),
        (Method::POST, format!("/v1/buddies/{buddy}/retire"), None),
        (Method::POST, format!("/v1/buddies/{buddy}/erase"), None),
        (
            Method::POST,
            format!("/v1/buddy-requests/{request}/withdraw"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/buddy-requests/{request}/legal-hold"),
            Some(json!({ "hold": true, "reason": "Complaint pending" })),
        ),
        (
            Method::POST,
            format!("/v1/pairings/{pairing}/activate"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/pairings/{pairing}/end"),
            Some(json!({ "reason": "goal_reached" })),
        ),
        (
            Method::POST,
            format!("/v1/organisations/{org}/deactivate"),
            None,
        ),
        (
            Method::PATCH,
            format!("/v1/staff/{staff}"),
            Some(json!({ "name": "Nieuwe Naam" })),
        ),
        (
            Method::POST,
            format!("/v1/api-clients/{client}/revoke"),
            None,
        ),
    ];
    // Every operation whose contract documents If-Match is here, or in the lifecycle below.
    let template = |path: &str| {
        path.split('/')
            .map(|segment| match segment.len() {
                36 if segment.contains('-') => "{id}",
                _ => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut covered: Vec<(String, String)> = changes
        .iter()
        .map(|(method, path, _)| (method.to_string(), template(path)))
        .collect();
    for (method, path) in [
        ("POST", "/v1/pairings/{id}/accept"),
        ("POST", "/v1/pairings/{id}/decline"),
        ("POST", "/v1/organisations/{id}/reactivate"),
    ] {
        covered.push((method.to_owned(), path.to_owned()));
    }
    covered.sort();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in crate::helpers::spec_paths() {
        for (method, operation) in item.as_object().unwrap() {
            let takes_if_match = operation["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == "If-Match" && p["in"] == "header")
            });
            if takes_if_match {
                documented.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    documented.sort();
    assert_eq!(
        covered, documented,
        "every change that takes If-Match is tried"
    );

    let counts = app.table_counts();
    for (method, path, body) in &changes {
        let (content_type, bytes) = match body {
            Some(body) => (Some("application/json"), serde_json::to_vec(body).unwrap()),
            None => (None, Vec::new()),
        };
        let response = app
            .request_with_headers(
                method.clone(),
                path,
                content_type,
                bytes,
                &[("if-match", "\"bogus\"")],
            )
            .await;
        assert_problem(&response, 412, "precondition-failed");
        assert_eq!(app.table_counts(), counts, "{method} {path}");
    }
    // The rest of the lifecycle, to reach the actions the states above did not allow.
    let pairing_path = format!("/v1/pairings/{pairing}");
    let (_, tag) = read(&app, &pairing_path).await;
    let activated = post_if_match(&app, &format!("{pairing_path}/activate"), None, &tag).await;
    assert_eq!(activated.status, 200, "{}", activated.text);
    let (proposed, _, _) = pairing_in(&app, &org, "proposed", 3).await;
    for action in ["accept", "decline"] {
        let response = post_if_match(
            &app,
            &format!("/v1/pairings/{proposed}/{action}"),
            None,
            "\"x\"",
        )
        .await;
        assert_problem(&response, 412, "precondition-failed");
    }
    let deactivated = create_organisation(&app, "Uitgetreden Instelling").await;
    let path = format!("/v1/organisations/{}", id_of(&deactivated));
    assert_eq!(
        app.post_empty(&format!("{path}/deactivate")).await.status,
        200
    );
    let response = post_if_match(&app, &format!("{path}/reactivate"), None, "\"x\"").await;
    assert_problem(&response, 412, "precondition-failed");
}

#[tokio::test]
async fn if_match_on_an_unknown_or_foreign_resource_is_a_404() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let unknown = "0193a5c4-7d10-7000-8000-00000000ffff";
    for path in [
        format!("/v1/buddies/{unknown}/pause"),
        format!("/v1/pairings/{unknown}/accept"),
        format!("/v1/buddy-requests/{unknown}/withdraw"),
    ] {
        for tags in ["*", "\"bogus\""] {
            let response = post_if_match(&app, &path, None, tags).await;
            assert_problem(&response, 404, "not-found");
        }
    }
    let response = patch_if_match(
        &app,
        &format!("/v1/buddies/{unknown}"),
        &json!({ "capacity": 2 }),
        "*",
    )
    .await;
    assert_problem(&response, 404, "not-found");

    // Another organisation's request is a 404 to a case system, whatever it sends.
    let other = create_organisation(&app, "Andere Instelling").await;
    let theirs = open_request(&app, &id_of(&other), "CASE-9").await;
    let (_, staff_tag) = read(&app, &format!("/v1/buddy-requests/{theirs}")).await;
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    app.use_token(Some(&key));
    let counts = app.table_counts();
    for tags in ["*".to_owned(), staff_tag] {
        let response = post_if_match(
            &app,
            &format!("/v1/buddy-requests/{theirs}/withdraw"),
            None,
            &tags,
        )
        .await;
        assert_problem(&response, 404, "not-found");
    }
    assert_eq!(app.table_counts(), counts);
}

#[tokio::test]
async fn a_case_system_and_staff_each_hold_the_tag_of_their_own_representation() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let admin = app.admin_token.clone();
    let (_, request, _) = pairing_in(&app, &org, "proposed", 1).await;
    let path = format!("/v1/buddy-requests/{request}");
    let (staff_view, staff_tag) = read(&app, &path).await;
    app.use_token(Some(&key));
    let (own_view, own_tag) = read(&app, &path).await;
    assert!(staff_view["pairing"]["buddy_id"].is_string());
    assert!(own_view["pairing"].get("buddy_id").is_none());
    assert_ne!(staff_tag, own_tag, "the views differ, so do their tags");
    assert_eq!(
        get_if_none_match(&app, &path, &own_tag).await.status,
        304,
        "the case system's own tag is current for it"
    );
    assert_eq!(get_if_none_match(&app, &path, &staff_tag).await.status, 200);

    // The staff's tag is not the case system's: its withdrawal with it is refused ...
    let counts = app.table_counts();
    let response = post_if_match(&app, &format!("{path}/withdraw"), None, &staff_tag).await;
    assert_precondition_failed(&response);
    assert_eq!(app.table_counts(), counts);
    // ... and goes through with its own.
    let withdrawn = post_if_match(&app, &format!("{path}/withdraw"), None, &own_tag).await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text);
    assert_eq!(read(&app, &path).await.1, etag(&withdrawn));

    // Staff on their own view of a staff account, and of the request.
    app.use_token(Some(&admin));
    let (staff, _) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let account = format!("/v1/staff/{staff}");
    let (_, tag) = read(&app, &account).await;
    let renamed = patch_if_match(&app, &account, &json!({ "name": "Nieuwe Naam" }), &tag).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let again = patch_if_match(&app, &account, &json!({ "role": "admin" }), &tag).await;
    assert_precondition_failed(&again);
    assert_eq!(read(&app, &account).await.0["role"], "coordinator");
    assert_eq!(get_if_none_match(&app, &path, &staff_tag).await.status, 200);
}

#[tokio::test]
async fn a_malformed_precondition_is_a_400_and_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let path = format!("/v1/buddies/{}", candidate(&app, &org, 1).await);
    let counts = app.table_counts();
    for bad in ["bogus", "\"unterminated", "*, \"a\"", "\"a\" \"b\"", ""] {
        let response = patch_if_match(&app, &path, &json!({ "capacity": 2 }), bad).await;
        assert_invalid_fields(&response, &["If-Match"]);
        let response = post_if_match(&app, &format!("{path}/start-screening"), None, bad).await;
        assert_invalid_fields(&response, &["If-Match"]);
        let response = get_if_none_match(&app, &path, bad).await;
        assert_invalid_fields(&response, &["If-None-Match"]);
    }
    assert_eq!(app.table_counts(), counts);
    assert_eq!(read(&app, &path).await.0["capacity"], 1);

    // The contract states the same syntax: it refuses these values, and allows what the
    // service reads (the 412s and 304s above).
    for (operation, name) in [
        ("/paths/~1buddies~1{id}/patch", "If-Match"),
        ("/paths/~1buddies~1{id}/get", "If-None-Match"),
    ] {
        let parameters = crate::helpers::spec()
            .pointer(&format!("{operation}/parameters"))
            .and_then(Value::as_array)
            .expect("parameters");
        let index = parameters
            .iter()
            .position(|p| p["name"] == name && p["in"] == "header")
            .unwrap_or_else(|| panic!("{operation} documents no {name}"));
        let schema = format!("{operation}/parameters/{index}/schema");
        for bad in ["bogus", "\"unterminated", "*, \"a\"", "\"a\" \"b\"", ""] {
            assert!(
                !crate::contract::validate(&schema, &json!(bad)).is_empty(),
                "{name}: {bad:?} is allowed by the contract"
            );
        }
        for good in ["*", " * ", "\"a\"", "W/\"a\", \"b\"", "\"a\",\"\""] {
            assert!(
                crate::contract::validate(&schema, &json!(good)).is_empty(),
                "{name}: {good:?} is refused by the contract"
            );
        }
    }
}

#[tokio::test]
async fn of_concurrent_changes_with_the_same_etag_exactly_one_goes_through() {
    // The check and the change are one: the others find the tag moved (412) rather than
    // overwriting the first's change. On PostgreSQL this needs the row lock.
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let path = format!("/v1/buddies/{}", candidate(&app, &org, 1).await);
    let (_, tag) = read(&app, &path).await;
    let regions = [
        "Zwolle",
        "Deventer",
        "Almelo",
        "Hengelo",
        "Enschede",
        "Apeldoorn",
        "Kampen",
        "Epe",
    ];
    let bodies: Vec<Value> = regions.iter().map(|r| json!({ "region": r })).collect();
    let answers = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| patch_if_match(&app, &path, body, &tag)),
    )
    .await;
    let won: Vec<&Response> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for answer in answers.iter().filter(|r| r.status != 200) {
        assert_problem(answer, 412, "precondition-failed");
    }
    let (now, current) = read(&app, &path).await;
    assert_eq!(
        now["region"], won[0].body["region"],
        "the winner's change stands"
    );
    assert_eq!(current, etag(won[0]));
    let history = app.history(&path).await;
    let updates = history.iter().filter(|e| e["action"] != "create").count();
    assert_eq!(updates, 1, "{history:?}");
}

#[tokio::test]
async fn a_replayed_answer_carries_the_etag_of_its_body() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let path = format!("/v1/buddies/{}", candidate(&app, &org, 1).await);
    let (_, tag) = read(&app, &path).await;
    let action = format!("{path}/start-screening");
    let send = || keyed_action(&app, &action, &tag, "conditional-retry-1");
    let first = send().await;
    assert_eq!(first.status, 200, "{}", first.text);
    // The retry's If-Match no longer matches, but it is the same request: the first answer.
    let retry = send().await;
    assert_eq!(retry.status, 200, "{}", retry.text);
    assert_eq!(retry.header("idempotency-replayed"), Some("true"));
    assert_eq!(retry.text, first.text);
    assert_eq!(etag(&retry), etag(&first));
    assert_eq!(read(&app, &path).await.1, etag(&first));
}

#[tokio::test]
async fn a_refused_precondition_marks_no_idempotency_key_applied() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let path = format!("/v1/buddies/{}", candidate(&app, &org, 1).await);
    let action = format!("{path}/start-screening");
    let response = keyed_action(&app, &action, "\"bogus\"", "conditional-refused-1").await;
    assert_precondition_failed(&response);
    let states: Vec<String> = app.with_connection(|conn| {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            state: String,
        }
        diesel::sql_query("SELECT state FROM idempotency_keys")
            .load::<Row>(conn)
            .unwrap()
            .into_iter()
            .map(|r| r.state)
            .collect()
    });
    assert_eq!(states, ["done"], "answered, never applied");
    assert_eq!(read(&app, &path).await.0["state"], "candidate");
}

#[tokio::test]
async fn a_browser_client_may_send_the_preconditions_and_read_the_tag() {
    const ORIGIN: &str = "https://case-system.example.org";
    let app =
        crate::helpers::spawn_app_with(&[("MAATJE__API__CORS_ALLOWED_ORIGINS", ORIGIN)]).await;
    let org = organisation(&app).await;
    let path = format!("/v1/buddies/{}", candidate(&app, &org, 1).await);
    let preflight = app
        .request_with_headers(
            Method::OPTIONS,
            &path,
            None,
            Vec::new(),
            &[
                ("origin", ORIGIN),
                ("access-control-request-method", "PATCH"),
                (
                    "access-control-request-headers",
                    "if-match, content-type, idempotency-key",
                ),
                ("authorization", ""),
            ],
        )
        .await;
    assert_eq!(preflight.status, 204, "{}", preflight.text);
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for wanted in ["if-match", "if-none-match", "idempotency-key"] {
        assert!(allowed.split(", ").any(|h| h == wanted), "{allowed}");
    }
    let response = app
        .request_with_headers(Method::GET, &path, None, Vec::new(), &[("origin", ORIGIN)])
        .await;
    let exposed = response.header("access-control-expose-headers").unwrap();
    for wanted in ["ETag", "Idempotency-Replayed"] {
        assert!(exposed.split(", ").any(|h| h == wanted), "{exposed}");
    }
}
