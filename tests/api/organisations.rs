//! `/v1/organisations`: registration, reading, lists, the active/inactive lifecycle, history, and
//! every way a request can be wrong (each storing nothing).

use chrono::Duration;
use serde_json::{json, Value};

use crate::access::{Row, ADMIN, STAFF};
use crate::helpers::{
    assert_invalid_fields, assert_problem, create_organisation, id_of, spawn_app, start_time,
    time_of, Method, TestApp, MAX_BODY_BYTES,
};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    ("POST", "/v1/organisations", ADMIN),
    ("GET", "/v1/organisations", STAFF),
    ("GET", "/v1/organisations/{id}", STAFF),
    ("POST", "/v1/organisations/{id}/deactivate", ADMIN),
    ("POST", "/v1/organisations/{id}/reactivate", ADMIN),
    ("GET", "/v1/organisations/{id}/history", STAFF),
];

const UNKNOWN_ID: &str = "0193a5c4-0000-7000-8000-000000000000";

async fn deactivate(app: &TestApp, id: &str, reason: Option<&str>) -> crate::helpers::Response {
    let path = format!("/v1/organisations/{id}/deactivate");
    match reason {
        Some(reason) => app.post_json(&path, &json!({ "reason": reason })).await,
        None => app.post_empty(&path).await,
    }
}

fn names(items: &[Value]) -> Vec<&str> {
    items.iter().map(|o| o["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn create_answers_201_with_location_and_the_organisation() {
    let app = spawn_app().await;
    let before = app.table_counts();
    let response = app
        .post_json(
            "/v1/organisations",
            &json!({ "name": "  Jeugdbescherming Testregio Noord  " }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let body = &response.body;
    let id = id_of(body);
    let uuid = uuid::Uuid::parse_str(&id).expect("the id is a UUID");
    assert_eq!(uuid.get_version_num(), 7, "ids are UUIDv7");
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/organisations/{id}").as_str())
    );
    assert_eq!(body["name"], "Jeugdbescherming Testregio Noord", "trimmed");
    assert_eq!(body["state"], "active");
    assert_eq!(time_of(body, "created_at"), start_time());
    assert_eq!(time_of(body, "updated_at"), start_time());
    let mut members: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    members.sort();
    assert_eq!(members, ["created_at", "id", "name", "state", "updated_at"]);

    let mut expected = before.clone();
    *expected.get_mut("organisations").unwrap() += 1;
    *expected.get_mut("history").unwrap() += 1;
    assert_eq!(app.table_counts(), expected);

    let fetched = app.get(&format!("/v1/organisations/{id}")).await;
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert_eq!(&fetched.body, body);
}

#[tokio::test]
async fn create_accepts_json_with_charset_and_a_name_of_200_characters() {
    let app = spawn_app().await;
    let name = "Ä".repeat(200); // characters, not bytes
    let response = app
        .request(
            Method::POST,
            "/v1/organisations",
            Some("application/json; charset=utf-8"),
            serde_json::to_vec(&json!({ "name": name })).unwrap(),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    assert_eq!(response.body["name"], name);
}

#[tokio::test]
async fn duplicate_name_is_a_409_and_stores_nothing() {
    let app = spawn_app().await;
    create_organisation(&app, "Stichting Voorbeeldzorg").await;
    let before = app.table_counts();
    for name in ["Stichting Voorbeeldzorg", " Stichting Voorbeeldzorg "] {
        let response = app
            .post_json("/v1/organisations", &json!({ "name": name }))
            .await;
        assert_problem(&response, 409, "duplicate");
        assert_eq!(app.table_counts(), before);
    }
}

#[tokio::test]
async fn list_pages_with_a_cursor_oldest_first() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 1..=5 {
        created.push(create_organisation(&app, &format!("Testorganisatie {i}")).await);
        app.clock.advance(Duration::minutes(1));
    }

    let first = app.get("/v1/organisations?limit=2").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let items = first.body["items"].as_array().unwrap();
    assert_eq!(names(items), ["Testorganisatie 1", "Testorganisatie 2"]);
    assert_eq!(&items[0], &created[0], "list items equal the resources");
    let cursor = first.body["next_cursor"].as_str().expect("a next page");

    let second = app
        .get(&format!("/v1/organisations?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let items = second.body["items"].as_array().unwrap();
    assert_eq!(names(items), ["Testorganisatie 3", "Testorganisatie 4"]);
    let cursor = second.body["next_cursor"].as_str().expect("a next page");

    let third = app
        .get(&format!("/v1/organisations?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(third.status, 200, "{}", third.text);
    let items = third.body["items"].as_array().unwrap();
    assert_eq!(names(items), ["Testorganisatie 5"]);
    assert!(
        third.body.get("next_cursor").is_none(),
        "the last page has no cursor: {}",
        third.text
    );
    assert_eq!(
        time_of(&items[0], "created_at"),
        start_time() + Duration::minutes(4)
    );

    // Exactly `limit` rows left: the page is full and still the last one.
    let all = app.get("/v1/organisations?limit=5").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 5);
    assert!(all.body.get("next_cursor").is_none(), "{}", all.text);

    // The default page holds everything here.
    let default = app.get("/v1/organisations").await;
    assert_eq!(default.body["items"].as_array().unwrap().len(), 5);
    assert!(default.body.get("next_cursor").is_none());
}

#[tokio::test]
async fn list_filters_by_state() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["Org Alfa", "Org Bravo", "Org Charlie", "Org Delta"] {
        ids.push(id_of(&create_organisation(&app, name).await));
    }
    for id in [&ids[1], &ids[3]] {
        assert_eq!(deactivate(&app, id, None).await.status, 200);
    }

    let inactive = app
        .collect_pages("/v1/organisations?state=inactive&limit=1")
        .await;
    assert_eq!(names(&inactive), ["Org Bravo", "Org Delta"]);
    let active = app
        .collect_pages("/v1/organisations?state=active&limit=1")
        .await;
    assert_eq!(names(&active), ["Org Alfa", "Org Charlie"]);
    assert!(active.iter().all(|o| o["state"] == "active"));
    let all = app.collect_pages("/v1/organisations?limit=3").await;
    assert_eq!(all.len(), 4);

    // A cursor keeps working with the filter it was made under.
    let page = app.get("/v1/organisations?state=inactive&limit=1").await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = app
        .get(&format!(
            "/v1/organisations?state=inactive&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(names(next.body["items"].as_array().unwrap()), ["Org Delta"]);
}

#[tokio::test]
async fn deactivate_and_reactivate_move_the_state_and_are_recorded() {
    let app = spawn_app().await;
    let org = create_organisation(&app, "Jeugdzorg Proefstad").await;
    let id = id_of(&org);

    app.clock.advance(Duration::days(3));
    let response = deactivate(&app, &id, Some("  Left the programme  ")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["state"], "inactive");
    assert_eq!(time_of(&response.body, "created_at"), start_time());
    assert_eq!(
        time_of(&response.body, "updated_at"),
        start_time() + Duration::days(3)
    );
    assert_eq!(
        app.get(&format!("/v1/organisations/{id}")).await.body["state"],
        "inactive"
    );

    app.clock.advance(Duration::hours(2));
    let response = app
        .post_empty(&format!("/v1/organisations/{id}/reactivate"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["state"], "active");
    assert_eq!(
        time_of(&response.body, "updated_at"),
        start_time() + Duration::days(3) + Duration::hours(2)
    );

    let history = app.get(&format!("/v1/organisations/{id}/history")).await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert!(history.body.get("next_cursor").is_none());
    let entries = history.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{}", history.text);

    let create = &entries[0];
    assert_eq!(create["action"], "create");
    assert!(create.get("from_state").is_none(), "{create}");
    assert_eq!(create["to_state"], "active");
    let me = app.get("/v1/auth/me").await.body;
    assert_eq!(create["actor"], json!({ "type": "staff", "id": me["id"] }));
    assert!(create.get("reason").is_none(), "{create}");
    assert_eq!(time_of(create, "at"), start_time());

    let deactivated = &entries[1];
    assert_eq!(deactivated["action"], "deactivate");
    assert_eq!(deactivated["from_state"], "active");
    assert_eq!(deactivated["to_state"], "inactive");
    assert_eq!(deactivated["reason"], "Left the programme", "trimmed");
    assert_eq!(
        deactivated["actor"],
        json!({ "type": "staff", "id": me["id"] })
    );
    assert_eq!(time_of(deactivated, "at"), start_time() + Duration::days(3));

    let reactivated = &entries[2];
    assert_eq!(reactivated["action"], "reactivate");
    assert_eq!(reactivated["from_state"], "inactive");
    assert_eq!(reactivated["to_state"], "active");
    assert!(reactivated.get("reason").is_none(), "{reactivated}");

    for entry in entries {
        uuid::Uuid::parse_str(entry["id"].as_str().unwrap()).expect("history ids are UUIDs");
    }

    // History pages like every list.
    let paged = app
        .collect_pages(&format!("/v1/organisations/{id}/history?limit=1"))
        .await;
    assert_eq!(&paged, entries);
}

#[tokio::test]
async fn an_empty_json_object_or_empty_body_is_an_action_without_reason() {
    let app = spawn_app().await;
    let id = id_of(&create_organisation(&app, "Org Zonder Reden").await);
    let response = app
        .post_json(&format!("/v1/organisations/{id}/deactivate"), &json!({}))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    // An empty body with a JSON content type is no body at all.
    let response = app
        .request(
            Method::POST,
            &format!("/v1/organisations/{id}/reactivate"),
            Some("application/json"),
            Vec::new(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let history = app.history(&format!("/v1/organisations/{id}")).await;
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|e| e.get("reason").is_none()));
}

#[tokio::test]
async fn illegal_transitions_are_409_naming_state_and_action_and_store_nothing() {
    let app = spawn_app().await;
    let id = id_of(&create_organisation(&app, "Org Overgang").await);

    // Active organisations cannot be reactivated.
    let before = app.table_counts();
    let response = app
        .post_empty(&format!("/v1/organisations/{id}/reactivate"))
        .await;
    assert_problem(&response, 409, "illegal-transition");
    assert_eq!(response.body["current_state"], "active");
    assert_eq!(response.body["attempted_action"], "reactivate");
    assert_eq!(app.table_counts(), before);

    // Inactive organisations cannot be deactivated again, reason or not.
    assert_eq!(deactivate(&app, &id, None).await.status, 200);
    let before = app.table_counts();
    for reason in [None, Some("Twice")] {
        let response = deactivate(&app, &id, reason).await;
        assert_problem(&response, 409, "illegal-transition");
        assert_eq!(response.body["current_state"], "inactive");
        assert_eq!(response.body["attempted_action"], "deactivate");
        assert_eq!(app.table_counts(), before);
    }
    let org = app.get(&format!("/v1/organisations/{id}")).await;
    assert_eq!(org.body["state"], "inactive");
    assert_eq!(time_of(&org.body, "updated_at"), start_time());
}

#[tokio::test]
async fn malformed_bodies_are_400_and_store_nothing() {
    let app = spawn_app().await;
    create_organisation(&app, "Bestaande Organisatie").await;
    let before = app.table_counts();
    let cases: Vec<(&str, &[u8], &[&str])> = vec![
        ("malformed JSON", br#"{"name":"#, &[""]),
        ("trailing garbage", br#"{"name":"Org X"} x"#, &[""]),
        ("an array", br#"[{"name":"Org X"}]"#, &[""]),
        ("a string", br#""Org X""#, &[""]),
        ("null", b"null", &[""]),
        ("wrong type", br#"{"name":5}"#, &["name"]),
        ("null name", br#"{"name":null}"#, &["name"]),
        ("missing name", br#"{}"#, &["name"]),
        (
            "unknown fields",
            br#"{"name":"Org X","colour":"blue","size":3}"#,
            &["colour", "size"],
        ),
        (
            "wrong type and unknown field",
            br#"{"name":["Org X"],"kvk":"12345678"}"#,
            &["name", "kvk"],
        ),
        ("empty name", br#"{"name":""}"#, &["name"]),
        ("blank name", br#"{"name":"   "}"#, &["name"]),
        ("control characters", br#"{"name":"Org\u0007X"}"#, &["name"]),
        ("newline", br#"{"name":"Org\nX"}"#, &["name"]),
    ];
    for (what, body, fields) in cases {
        let response = app
            .request(
                Method::POST,
                "/v1/organisations",
                Some("application/json"),
                body.to_vec(),
            )
            .await;
        assert_eq!(response.status, 400, "{what}: {}", response.text);
        assert_invalid_fields(&response, fields);
        assert_eq!(app.table_counts(), before, "{what}");
    }

    let long = "x".repeat(201);
    let response = app
        .post_json("/v1/organisations", &json!({ "name": long }))
        .await;
    assert_invalid_fields(&response, &["name"]);
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("200"),
        "{}",
        response.text
    );
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn a_missing_body_is_400() {
    let app = spawn_app().await;
    let before = app.table_counts();
    for content_type in [None, Some("application/json")] {
        let response = app
            .request(Method::POST, "/v1/organisations", content_type, Vec::new())
            .await;
        assert_invalid_fields(&response, &[""]);
    }
    let response = app
        .request(
            Method::POST,
            "/v1/organisations",
            Some("application/json"),
            b"  \n ".to_vec(),
        )
        .await;
    assert_invalid_fields(&response, &[""]);
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let id = id_of(&create_organisation(&app, "Org Mediatype").await);
    let before = app.table_counts();
    let body = br#"{"name":"Org Y"}"#.to_vec();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonp"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let response = app
            .request(
                Method::POST,
                "/v1/organisations",
                content_type,
                body.clone(),
            )
            .await;
        assert_problem(&response, 415, "unsupported-media-type");
        assert_eq!(app.table_counts(), before, "{content_type:?}");
    }
    // Action endpoints too, when they get a body.
    let response = app
        .request(
            Method::POST,
            &format!("/v1/organisations/{id}/deactivate"),
            Some("text/plain"),
            br#"{"reason":"x"}"#.to_vec(),
        )
        .await;
    assert_problem(&response, 415, "unsupported-media-type");
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app().await;
    assert_eq!(app.settings.server.max_body_bytes, MAX_BODY_BYTES);
    let id = id_of(&create_organisation(&app, "Org Groot").await);
    let before = app.table_counts();
    let name = "y".repeat(70 * 1024);
    let response = app
        .post_json("/v1/organisations", &json!({ "name": name }))
        .await;
    assert_problem(&response, 413, "payload-too-large");
    let response = app
        .post_json(
            &format!("/v1/organisations/{id}/deactivate"),
            &json!({ "reason": name }),
        )
        .await;
    assert_problem(&response, 413, "payload-too-large");
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        app.get(&format!("/v1/organisations/{id}")).await.body["state"],
        "active"
    );
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let app = crate::helpers::spawn_app_with(&[("MAATJE__SERVER__MAX_BODY_BYTES", "1024")]).await;
    let before = app.table_counts();
    // 1025 bytes of body in all.
    let name = "z".repeat(1025 - r#"{"name":""}"#.len());
    let response = app
        .post_json("/v1/organisations", &json!({ "name": name }))
        .await;
    assert_problem(&response, 413, "payload-too-large");
    assert_eq!(app.table_counts(), before);
    // Exactly at the limit the body is read (and then refused for the name's length).
    let name = "z".repeat(1024 - r#"{"name":""}"#.len());
    let response = app
        .post_json("/v1/organisations", &json!({ "name": name }))
        .await;
    assert_invalid_fields(&response, &["name"]);
}

#[tokio::test]
async fn a_malformed_id_is_400_naming_id() {
    let app = spawn_app().await;
    let before = app.table_counts();
    for id in ["not-a-uuid", "1234", "0193a5c4-0000-7000-8000-00000000000g"] {
        for (method, path) in [
            (Method::GET, format!("/v1/organisations/{id}")),
            (Method::GET, format!("/v1/organisations/{id}/history")),
            (Method::POST, format!("/v1/organisations/{id}/deactivate")),
            (Method::POST, format!("/v1/organisations/{id}/reactivate")),
        ] {
            let response = app.request(method, &path, None, Vec::new()).await;
            assert_invalid_fields(&response, &["id"]);
        }
    }
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn an_unknown_id_is_404() {
    let app = spawn_app().await;
    create_organisation(&app, "Org Bekend").await;
    let before = app.table_counts();
    for (method, path) in [
        (Method::GET, format!("/v1/organisations/{UNKNOWN_ID}")),
        (
            Method::GET,
            format!("/v1/organisations/{UNKNOWN_ID}/history"),
        ),
        (
            Method::POST,
            format!("/v1/organisations/{UNKNOWN_ID}/deactivate"),
        ),
        (
            Method::POST,
            format!("/v1/organisations/{UNKNOWN_ID}/reactivate"),
        ),
    ] {
        let response = app.request(method, &path, None, Vec::new()).await;
        assert_problem(&response, 404, "not-found");
    }
    assert_eq!(app.table_counts(), before);
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_them() {
    let app = spawn_app().await;
    let id = id_of(&create_organisation(&app, "Org Query").await);
    let before = app.table_counts();
    // A cursor of another list is not a cursor of this one.
    let history_cursor = {
        deactivate(&app, &id, None).await;
        let page = app
            .get(&format!("/v1/organisations/{id}/history?limit=1"))
            .await;
        page.body["next_cursor"].as_str().unwrap().to_owned()
    };
    let before_history = app.table_counts();
    assert_eq!(before_history["history"], before["history"] + 1);
    let cases: Vec<(String, &[&str])> = vec![
        ("limit=0".into(), &["limit"]),
        ("limit=201".into(), &["limit"]),
        ("limit=-1".into(), &["limit"]),
        ("limit=abc".into(), &["limit"]),
        ("limit=".into(), &["limit"]),
        ("cursor=garbage".into(), &["cursor"]),
        ("cursor=".into(), &["cursor"]),
        (format!("cursor={history_cursor}"), &["cursor"]),
        ("stat=active".into(), &["stat"]),
        ("state=bogus".into(), &["state"]),
        ("state=ACTIVE".into(), &["state"]),
    ];
    for (query, fields) in &cases {
        let response = app.get(&format!("/v1/organisations?{query}")).await;
        assert_eq!(response.status, 400, "?{query}: {}", response.text);
        assert_invalid_fields(&response, fields);
    }
    for query in ["limit=0", "limit=abc", "cursor=garbage", "state=active"] {
        let response = app
            .get(&format!("/v1/organisations/{id}/history?{query}"))
            .await;
        assert_eq!(response.status, 400, "history ?{query}: {}", response.text);
        let field = query.split('=').next().unwrap();
        assert_invalid_fields(&response, &[field]);
    }
    // The boundaries themselves are fine.
    for query in ["limit=1", "limit=200"] {
        let response = app.get(&format!("/v1/organisations?{query}")).await;
        assert_eq!(response.status, 200, "?{query}: {}", response.text);
    }
    assert_eq!(app.table_counts(), before_history);
}

#[tokio::test]
async fn bad_action_bodies_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let id = id_of(&create_organisation(&app, "Org Actie").await);
    let path = format!("/v1/organisations/{id}/deactivate");
    let before = app.table_counts();
    let long_reason = "r".repeat(501);
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({ "reason": long_reason }), &["reason"]),
        (json!({ "reason": "" }), &["reason"]),
        (json!({ "reason": 7 }), &["reason"]),
        (json!({ "why": "x" }), &["why"]),
        (json!({ "reason": "x", "state": "inactive" }), &["state"]),
        (json!(["x"]), &[""]),
    ];
    for (body, fields) in &cases {
        let response = app.post_json(&path, body).await;
        assert_eq!(response.status, 400, "{body}: {}", response.text);
        assert_invalid_fields(&response, fields);
        assert_eq!(app.table_counts(), before, "{body}");
    }
    let response = app
        .request(
            Method::POST,
            &path,
            Some("application/json"),
            b"{reason".to_vec(),
        )
        .await;
    assert_invalid_fields(&response, &[""]);
    assert_eq!(app.table_counts(), before);
    assert_eq!(
        app.get(&format!("/v1/organisations/{id}")).await.body["state"],
        "active"
    );
    // 500 characters are allowed.
    let response = deactivate(&app, &id, Some(&"r".repeat(500))).await;
    assert_eq!(response.status, 200, "{}", response.text);
}

/// A repeated query parameter is refused, naming the parameter.
#[tokio::test]
async fn a_repeated_query_parameter_is_400_naming_it() {
    let app = spawn_app().await;
    let response = app.get("/v1/organisations?limit=2&limit=3").await;
    assert_invalid_fields(&response, &["limit"]);
    let response = app
        .get("/v1/organisations?state=active&state=inactive")
        .await;
    assert_invalid_fields(&response, &["state"]);
}
