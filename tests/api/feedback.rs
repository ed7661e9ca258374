//! Client feedback at organisation level (README, "Client feedback"): the invitation when a
//! pairing ends (mailed over real SMTP to a client who chose e-mail; a link through the API for
//! the case system otherwise), the page `/feedback/{token}`, the figures per organisation and
//! quarter with groups under 5 suppressed, the free texts for administrators only, retention
//! and erasure.

use std::time::{Duration, Instant};

use maatje::auth::StaffRole;
use maatje::respond::links::Links;
use serde_json::{json, Value};

use crate::fixtures::{active_buddy, organisation, pairing_in, propose, request_body};
use crate::helpers::{
    assert_problem, id_of, spawn_app, Method, Response, TestApp, PUBLIC_BASE_URL, TEST_LINK_SECRET,
};
use crate::mail::{mails, spawn_app_with_sink, SmtpSink};

/// Who may call this module's operations (collected by `access.rs`'s matrix): a case system
/// asks for its client's link; the figures are for staff, the texts and their erasure for
/// administrators.
pub(crate) const ACCESS: &[crate::access::Row] = &[
    (
        "POST",
        "/v1/buddy-requests/{id}/feedback-invitation",
        crate::access::ANY,
    ),
    ("GET", "/v1/reports/feedback", crate::access::STAFF),
    ("GET", "/v1/reports/feedback/texts", crate::access::ADMIN),
    (
        "POST",
        "/v1/client-feedback/{id}/erase-text",
        crate::access::ADMIN,
    ),
];

/// The feedback links of every invitation mail, oldest first, as paths on the test server.
pub(crate) fn mailed_links(app: &TestApp) -> Vec<String> {
    let links = Links::new(TEST_LINK_SECRET, PUBLIC_BASE_URL);
    mails(app, "client_feedback_invitation")
        .iter()
        .map(|row| link_in(&links.expand(&row.body_text)))
        .collect()
}

/// The first feedback link in a text, as a path.
fn link_in(text: &str) -> String {
    let prefix = format!("{PUBLIC_BASE_URL}/feedback/");
    text.split_whitespace()
        .find(|w| w.starts_with(&prefix))
        .map(|w| w[PUBLIC_BASE_URL.len()..].to_owned())
        .unwrap_or_else(|| panic!("no feedback link in {text}"))
}

async fn open(app: &TestApp, path: &str) -> Response {
    app.request_with_headers(
        Method::GET,
        path,
        None,
        Vec::new(),
        &[("authorization", "")],
    )
    .await
}

async fn answer(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Response {
    let body = serde_urlencoded::to_string(form).unwrap();
    app.request_with_headers(
        Method::POST,
        path,
        Some("application/x-www-form-urlencoded"),
        body.into_bytes(),
        &[("authorization", "")],
    )
    .await
}

/// An ended pairing whose client chose `channel`; returns the request id.
async fn ended(app: &TestApp, org: &str, n: u32, channel: &str) -> String {
    ended_speaking(app, org, n, channel, &["nl"]).await
}

/// As [`ended`], for a client who speaks `languages`.
pub(crate) async fn ended_speaking(
    app: &TestApp,
    org: &str,
    n: u32,
    channel: &str,
    languages: &[&str],
) -> String {
    let buddy = active_buddy(app, org, n, 1).await;
    let mut body = request_body(org, &format!("CASE-F{n}"));
    body["client"]["preferred_channel"] = json!(channel);
    body["client"]["languages"] = json!(languages);
    let response = app.post_json("/v1/buddy-requests", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    let request = id_of(&response.body);
    let pairing = propose(app, &request, &buddy).await;
    for step in ["accept", "activate"] {
        let r = app
            .post_empty(&format!("/v1/pairings/{pairing}/{step}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = app
        .post_json(
            &format!("/v1/pairings/{pairing}/end"),
            &json!({ "reason": "goal_reached" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    request
}

/// Asks for the feedback link of `request` through the API.
async fn invite(app: &TestApp, request: &str) -> Response {
    app.post_empty(&format!("/v1/buddy-requests/{request}/feedback-invitation"))
        .await
}

async fn as_role(app: &TestApp, role: StaffRole, email: &str) -> String {
    app.create_staff(role, email).await.1
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> Response {
    app.request_with_headers(
        Method::GET,
        path,
        None,
        Vec::new(),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

pub(crate) fn quarter_now(app: &TestApp) -> String {
    let day = app.clock.now_naive().date();
    use chrono::Datelike;
    format!("{}-Q{}", day.year(), day.month0() / 3 + 1)
}

/// The feedback group of `org` in the figures.
fn group<'a>(figures: &'a Value, org: &str) -> &'a Value {
    figures["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["organisation_id"] == org)
        .unwrap_or_else(|| panic!("no group of {org} in {figures}"))
}

#[tokio::test]
async fn a_client_who_chose_email_is_mailed_a_link_over_smtp_and_answers_once() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, &[]).await;
    let org = organisation(&app).await;
    let request = ended(&app, &org, 1, "email").await;
    let rows = mails(&app, "client_feedback_invitation");
    assert_eq!(rows.len(), 1, "one invitation");
    let mail = &rows[0];
    assert_eq!(mail.recipient, "client1@example.org");
    assert_eq!(mail.language, "nl");
    // The outbox does not tie the invitation to the case.
    assert_eq!(mail.related_id, None);
    assert_eq!(mail.related_type, None);
    for body in [&mail.body_text, &mail.body_html] {
        for secret in ["CASE-F1", "Buddy Voorbeeld", &request, "Wants someone"] {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
        assert!(body.contains("@@feedback:"), "a marker, not a link");
    }
    // It arrives over real SMTP with the link in it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let received = loop {
        if let Some(m) = sink.received().into_iter().find(|m| {
            m.starts_with("X-Sink-Rcpt: client1@example.org") && m.contains("maatjescontact")
        }) {
            break m;
        }
        assert!(Instant::now() < deadline, "no invitation arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let parts = crate::respond::mime_parts(&received);
    let text = parts.get("text/plain").expect("a plain-text part");
    let html = parts.get("text/html").expect("an HTML part");
    let link = link_in(text);
    assert!(html.contains(&format!("{PUBLIC_BASE_URL}{link}")), "{html}");
    // Once sent, the outbox keeps no text of it.
    // Invited once: the case system cannot get a second link.
    assert_problem(
        &invite(&app, &request).await,
        409,
        "feedback-already-invited",
    );

    // The page shows the form and changes nothing.
    let before = app.table_counts();
    let page = open(&app, &link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Hoe was het maatjescontact?"));
    assert!(!page.text.contains("<script"));
    assert_eq!(app.table_counts(), before);
    let english = open(&app, &format!("{link}?lang=en")).await;
    assert_eq!(english.status, 200);
    assert!(english.text.contains("lang=\"en\""), "{}", english.text);

    let thanks = answer(
        &app,
        &link,
        &[("score", "4"), ("helped", "Ze luisterde."), ("better", "")],
    )
    .await;
    assert_eq!(thanks.status, 200, "{}", thanks.text);
    let after = app.table_counts();
    assert_eq!(after["client_feedback"], before["client_feedback"] + 1);
    // Stored with the organisation and quarter only.
    let stored = app.with_connection(|conn| {
        use diesel::prelude::*;
        use maatje::db::schema::client_feedback::dsl;
        dsl::client_feedback
            .select((dsl::organisation_id, dsl::quarter, dsl::score, dsl::helped))
            .load::<(String, String, i32, Option<String>)>(conn)
            .unwrap()
    });
    assert_eq!(
        stored,
        [(
            org.clone(),
            quarter_now(&app),
            4,
            Some("Ze luisterde.".into())
        )]
    );
    // The audit record of the answer names no object and no client.
    let records = app.audit_records().await;
    let record = records
        .iter()
        .find(|r| r["object_type"] == "client_feedback" && r["action"] == "create")
        .expect("an audit record of the answer");
    assert!(record["object_id"].is_null(), "{record}");
    assert!(!record.to_string().contains("CASE-F1"));
    assert!(!record.to_string().contains(&request));

    // Reused: 410 with a page, nothing changes.
    for reused in [
        open(&app, &link).await,
        answer(&app, &link, &[("score", "1")]).await,
    ] {
        assert_eq!(reused.status, 410, "{}", reused.text);
        assert!(
            reused.text.contains("Deze link is al gebruikt"),
            "{}",
            reused.text
        );
    }
    assert_eq!(app.table_counts(), after);
}

#[tokio::test]
async fn another_channel_gets_the_link_through_the_api_once_and_no_mail() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = ended(&app, &org, 1, "phone").await;
    assert!(mails(&app, "client_feedback_invitation").is_empty());
    // Only a closed request.
    let buddy = active_buddy(&app, &org, 2, 1).await;
    let open_one = {
        let mut body = request_body(&org, "CASE-OPEN");
        body["client"]["preferred_channel"] = json!("phone");
        id_of(&app.post_json("/v1/buddy-requests", &body).await.body)
    };
    propose(&app, &open_one, &buddy).await;
    let before = app.table_counts();
    assert_problem(&invite(&app, &open_one).await, 409, "feedback-not-due");
    let unknown = invite(&app, "0192f0c4-0000-7000-8000-000000000001").await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    let malformed = invite(&app, "not-a-uuid").await;
    assert_eq!(malformed.status, 400, "{}", malformed.text);
    let with_fields = app
        .post_json(
            &format!("/v1/buddy-requests/{request}/feedback-invitation"),
            &json!({ "email": "x@example.org" }),
        )
        .await;
    assert_eq!(with_fields.status, 400, "{}", with_fields.text);
    assert_eq!(app.table_counts(), before);

    // The case system of the organisation asks for it.
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    app.use_token(Some(&key));
    let issued = invite(&app, &request).await;
    assert_eq!(issued.status, 200, "{}", issued.text);
    let link = issued.body["link"].as_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{PUBLIC_BASE_URL}/feedback/")),
        "{link}"
    );
    assert_eq!(issued.body["language"], "nl");
    assert_eq!(issued.body["expires_at"], "2026-12-23T00:00:00Z");
    // Once.
    assert_problem(
        &invite(&app, &request).await,
        409,
        "feedback-already-invited",
    );
    // An Idempotency-Key is refused: the answer carries the link.
    let keyed = app
        .request_with_headers(
            Method::POST,
            &format!("/v1/buddy-requests/{open_one}/feedback-invitation"),
            None,
            Vec::new(),
            &[("idempotency-key", "k-1")],
        )
        .await;
    assert_eq!(keyed.status, 400, "{}", keyed.text);
    // The case system reads nothing of the feedback.
    let figures = app.get("/v1/reports/feedback").await;
    assert_eq!(figures.status, 403, "{}", figures.text);
    app.use_admin();
    // The token is in no event, webhook delivery, history entry, audit record or outbox row.
    let token = link.rsplit('/').next().unwrap().to_owned();
    let leaked = app.with_connection(|conn| {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Hit {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut hits = 0;
        for (table, column) in [
            ("events", "payload"),
            ("webhook_deliveries", "payload"),
            ("outbox", "body_text"),
            ("history", "reason"),
        ] {
            let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} LIKE '%{token}%'");
            let rows = diesel::sql_query(sql).load::<Hit>(conn).unwrap();
            hits += rows[0].n;
        }
        hits
    });
    assert_eq!(leaked, 0);
    let audit = app.audit_records().await;
    assert!(!audit.iter().any(|r| r.to_string().contains(&token)));
    // The link works once.
    let path = &link[PUBLIC_BASE_URL.len()..];
    assert_eq!(open(&app, path).await.status, 200);
    assert_eq!(answer(&app, path, &[("score", "5")]).await.status, 200);
    assert_eq!(answer(&app, path, &[("score", "5")]).await.status, 410);
}

#[tokio::test]
async fn bad_answers_are_shown_again_and_change_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    ended(&app, &org, 1, "email").await;
    let link = mailed_links(&app).remove(0);
    let before = app.table_counts();
    let long = "x".repeat(1001);
    for (form, field) in [
        (vec![("score", "0")], "score"),
        (vec![("score", "6")], "score"),
        (vec![("score", "vier")], "score"),
        (vec![("helped", "fijn")], "score"),
        (vec![("score", "3"), ("better", long.as_str())], "better"),
        (vec![("score", "3"), ("helped", long.as_str())], "helped"),
    ] {
        let page = answer(&app, &link, &form).await;
        assert_eq!(page.status, 422, "{form:?}: {}", page.text);
        assert!(
            page.text.contains(&format!("id=\"{field}-error\"")),
            "{form:?}: {}",
            page.text
        );
        assert_eq!(app.table_counts(), before, "{form:?}");
    }
    // The entered text is shown again.
    let page = answer(&app, &link, &[("score", "9"), ("helped", "Goed & fijn")]).await;
    assert!(page.text.contains("Goed &amp; fijn"), "{}", page.text);
    // Unreadable forms: another field, a field twice, not a form.
    for body in ["score=3&client_ref=X", "score=3&score=4"] {
        let r = app
            .request_with_headers(
                Method::POST,
                &link,
                Some("application/x-www-form-urlencoded"),
                body.as_bytes().to_vec(),
                &[("authorization", "")],
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let json = app
        .request_with_headers(
            Method::POST,
            &link,
            Some("application/json"),
            br#"{"score":3}"#.to_vec(),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(json.status, 400);
    assert_eq!(app.table_counts(), before);
    // The link still works.
    assert_eq!(answer(&app, &link, &[("score", "3")]).await.status, 200);
}

#[tokio::test]
async fn unknown_and_expired_links_get_a_page_and_change_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    ended(&app, &org, 1, "email").await;
    let link = mailed_links(&app).remove(0);
    let before = app.table_counts();
    for path in [
        "/feedback/short",
        "/feedback/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        // A response-link token of the same shape opens no feedback page.
        "/feedback/0000000000000000000000000000000000000000000",
    ] {
        let page = open(&app, path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(
            page.text.contains("Deze link is niet geldig"),
            "{}",
            page.text
        );
        assert_eq!(answer(&app, path, &[("score", "3")]).await.status, 404);
    }
    // 30 days (to the end of the day) later it has expired.
    app.clock.advance(chrono::Duration::days(30));
    assert_eq!(open(&app, &link).await.status, 200);
    app.clock.advance(chrono::Duration::days(1));
    for page in [
        open(&app, &link).await,
        answer(&app, &link, &[("score", "3")]).await,
    ] {
        assert_eq!(page.status, 410, "{}", page.text);
        assert!(page.text.contains("verlopen"), "{}", page.text);
    }
    assert_eq!(app.table_counts(), before);
}

/// `n` answers for `org`, each through its own ended pairing and mailed link (buddies from
/// `first`), with texts.
pub(crate) async fn answers(app: &TestApp, org: &str, first: u32, n: u32) {
    let already = mails(app, "client_feedback_invitation").len();
    for i in 0..n {
        ended(app, org, first + i, "email").await;
    }
    let links = mailed_links(app);
    for (i, link) in links[already..].iter().enumerate() {
        let score = ((first as usize - 1 + i) % 5 + 1).to_string();
        let helped = format!("Geholpen {}", first + i as u32);
        let r = answer(
            app,
            link,
            &[
                ("score", &score),
                ("helped", &helped),
                ("better", "Vaker bellen"),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

#[tokio::test]
async fn groups_under_five_are_suppressed_and_shown_at_five_and_only_admins_read_texts() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other =
        crate::helpers::id_of(&crate::helpers::create_organisation(&app, "Andere GI").await);
    let quarter = quarter_now(&app);
    answers(&app, &org, 1, 4).await;
    let coordinator = as_role(&app, StaffRole::Coordinator, "coordinator@example.org").await;

    let figures = get_as(&app, &coordinator, "/v1/reports/feedback").await;
    assert_eq!(figures.status, 200, "{}", figures.text);
    assert_eq!(figures.body["minimum_group_size"], 5);
    let g = group(&figures.body, &org);
    assert_eq!(g["quarter"], quarter.as_str());
    assert_eq!(g["suppressed"], true);
    assert!(g["figures"].is_null(), "not even the count: {g}");
    assert_eq!(group(&figures.body, &other)["suppressed"], true);
    let texts_path = format!("/v1/reports/feedback/texts?organisation_id={org}&quarter={quarter}");
    let texts = app.get(&texts_path).await;
    assert_eq!(texts.status, 200, "{}", texts.text);
    assert_eq!(texts.body["suppressed"], true);
    assert_eq!(texts.body["answers"], json!([]));
    // The summary and its CSV say the same.
    let window = "?from=2026-11-01&to=2026-12-31";
    let summary = app.get(&format!("/v1/reports/summary{window}")).await;
    assert_eq!(summary.status, 200, "{}", summary.text);
    assert_eq!(
        group(&summary.body["client_feedback"], &org)["suppressed"],
        true
    );

    // The fifth answer: shown.
    answers(&app, &org, 5, 1).await;
    let figures = get_as(&app, &coordinator, "/v1/reports/feedback").await;
    let g = group(&figures.body, &org);
    assert_eq!(g["suppressed"], false);
    assert_eq!(g["figures"]["answers"], 5);
    assert_eq!(g["figures"]["distribution"], json!([1, 1, 1, 1, 1]));
    assert_eq!(g["figures"]["mean_score"], 3.0);
    assert!(
        !figures.text.contains("Geholpen"),
        "no free text in figures"
    );
    let only = get_as(
        &app,
        &coordinator,
        &format!("/v1/reports/feedback?organisation_id={org}&quarter={quarter}"),
    )
    .await;
    assert_eq!(only.body["groups"].as_array().unwrap().len(), 1);
    let summary = app.get(&format!("/v1/reports/summary{window}")).await;
    assert_eq!(
        group(&summary.body["client_feedback"], &org)["figures"]["answers"],
        5
    );
    let csv = app
        .request_with_headers(
            Method::GET,
            &format!("/v1/reports/summary{window}"),
            None,
            Vec::new(),
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.text
            .contains(&format!("client_feedback_answers,{org} {quarter},5")),
        "{}",
        csv.text
    );
    assert!(csv.text.contains(&format!(
        "client_feedback_answers,{other} {quarter},fewer than 5 answers"
    )));
    assert!(!csv.text.contains("Geholpen"));

    // Texts: administrators only.
    let texts = app.get(&texts_path).await;
    assert_eq!(texts.body["suppressed"], false);
    assert_eq!(texts.body["answers"].as_array().unwrap().len(), 5);
    assert!(texts.text.contains("Geholpen 3"));
    let refused = get_as(&app, &coordinator, &texts_path).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    // Bad queries.
    for bad in [
        "/v1/reports/feedback?quarter=2026-Q5",
        "/v1/reports/feedback?organisation_id=nope",
        "/v1/reports/feedback?colour=red",
        "/v1/reports/feedback/texts?quarter=2026-Q4",
    ] {
        assert_eq!(app.get(bad).await.status, 400, "{bad}");
    }
    let unknown = app
        .get("/v1/reports/feedback?organisation_id=0192f0c4-0000-7000-8000-000000000001")
        .await;
    assert_eq!(unknown.status, 404);
    // Nothing about feedback in the request a case system or coordinator reads.
    let requests = get_as(&app, &coordinator, "/v1/buddy-requests").await;
    assert!(!requests.text.contains("feedback"), "{}", requests.text);

    // The console: the reports page shows the figures to a coordinator, not the texts.
    let console = app.console(StaffRole::Coordinator).await;
    let page = console
        .get("/console/reports?from=2026-11-01&to=2026-12-31")
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.assert_shows("Cliëntfeedback per organisatie en kwartaal");
    page.assert_shows("minder dan 5 antwoorden");
    assert!(!page.text.contains("Geholpen"));
    let admin_page = format!("/console/admin/feedback?organisation={org}&quarter={quarter}");
    assert_eq!(console.get(&admin_page).await.status, 403);
    let admin = app.console(StaffRole::Admin).await;
    let shown = admin.get(&admin_page).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    shown.assert_shows("Geholpen 2");
    shown.assert_shows("Vaker bellen");
    let bad = admin.get("/console/admin/feedback?quarter=2026-Q9").await;
    assert_eq!(bad.status, 422, "{}", bad.text);
}

#[tokio::test]
async fn retention_removes_the_texts_and_keeps_the_scores() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let quarter = quarter_now(&app);
    answers(&app, &org, 1, 5).await;
    let texts_path = format!("/v1/reports/feedback/texts?organisation_id={org}&quarter={quarter}");
    // 2026-Q4 ends on 2027-01-01; the tests keep texts 365 days after that: 2028-01-01 is
    // 405 days after the start (2026-11-22).
    app.clock.advance(chrono::Duration::days(405));
    let run = app.post_empty("/v1/privacy/retention/run").await;
    assert_eq!(run.status, 200, "{}", run.text);
    let texts = app.get(&texts_path).await;
    assert_eq!(
        texts.body["answers"].as_array().unwrap().len(),
        5,
        "{}",
        texts.text
    );
    assert!(!texts.text.contains("Geholpen"));
    assert!(!texts.text.contains("Vaker bellen"));
    for a in texts.body["answers"].as_array().unwrap() {
        assert_eq!(a["text_removed"], true);
        assert!(a["helped"].is_null() && a["better"].is_null());
    }
    let figures = app
        .get(&format!(
            "/v1/reports/feedback?organisation_id={org}&quarter={quarter}"
        ))
        .await;
    assert_eq!(figures.body["groups"][0]["figures"]["answers"], 5);
}

#[tokio::test]
async fn texts_stay_until_their_quarter_is_a_retention_period_old() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let quarter = quarter_now(&app);
    answers(&app, &org, 1, 5).await;
    // 2027-12-31: 364 days after the quarter ended.
    app.clock.advance(chrono::Duration::days(404));
    assert_eq!(
        app.post_empty("/v1/privacy/retention/run").await.status,
        200
    );
    let texts = app
        .get(&format!(
            "/v1/reports/feedback/texts?organisation_id={org}&quarter={quarter}"
        ))
        .await;
    assert!(texts.text.contains("Geholpen 1"), "{}", texts.text);
}

#[tokio::test]
async fn an_admin_erases_one_answers_text_and_the_score_stays() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let quarter = quarter_now(&app);
    answers(&app, &org, 1, 5).await;
    let texts_path = format!("/v1/reports/feedback/texts?organisation_id={org}&quarter={quarter}");
    let texts = app.get(&texts_path).await;
    let target = texts.body["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["helped"] == "Geholpen 2")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let erase = format!("/v1/client-feedback/{target}/erase-text");
    // A coordinator may not.
    let coordinator = as_role(&app, StaffRole::Coordinator, "coordinator@example.org").await;
    let before = app.table_counts();
    let refused = app
        .request_with_headers(
            Method::POST,
            &erase,
            None,
            Vec::new(),
            &[("authorization", &format!("Bearer {coordinator}"))],
        )
        .await;
    assert_eq!(refused.status, 403);
    let unknown = app
        .post_empty("/v1/client-feedback/0192f0c4-0000-4000-8000-000000000001/erase-text")
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    assert_eq!(
        app.post_empty("/v1/client-feedback/nope/erase-text")
            .await
            .status,
        400
    );
    assert_eq!(app.table_counts(), before);

    let erased = app.post_empty(&erase).await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert_eq!(erased.body["text_removed"], true);
    assert!(erased.body["helped"].is_null());
    assert_problem(&app.post_empty(&erase).await, 409, "feedback-text-removed");
    let texts = app.get(&texts_path).await;
    assert!(!texts.text.contains("Geholpen 2"));
    assert!(texts.text.contains("Geholpen 1"));
    // Audited as a delete of that answer.
    let records = app.audit_records().await;
    assert!(records.iter().any(|r| r["object_type"] == "client_feedback"
        && r["action"] == "delete"
        && r["object_id"] == target.as_str()));

    // Through the console, the same operation.
    let admin = app.console(StaffRole::Admin).await;
    let page = admin
        .get(&format!(
            "/console/admin/feedback?organisation={org}&quarter={quarter}"
        ))
        .await;
    let other = texts.body["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["helped"] == "Geholpen 3")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(page.text.contains(&other));
    let path = format!("/console/admin/feedback/{other}/erase-text");
    let before = app.table_counts();
    assert_eq!(admin.post_raw(&path, &[]).await.status, 403, "no CSRF");
    let done = admin
        .post(
            &path,
            &[("back", &format!("organisation={org}&quarter={quarter}"))],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.text);
    let shown = admin.get(done.location()).await;
    shown.assert_shows("De tekst is verwijderd.");
    assert!(!shown.text.contains("Geholpen 3"));
    assert_eq!(app.table_counts(), before);
    // Erasing a client's requests leaves the answers alone: they are not linked to them.
    let erase_client = app
        .post_json(
            "/v1/privacy/clients/erase",
            &json!({ "organisation_id": org, "client_ref": "CASE-F1", "reason": "AVG art. 17" }),
        )
        .await;
    assert_eq!(erase_client.status, 200, "{}", erase_client.text);
    let figures = app
        .get(&format!(
            "/v1/reports/feedback?organisation_id={org}&quarter={quarter}"
        ))
        .await;
    assert_eq!(figures.body["groups"][0]["figures"]["answers"], 5);
}

#[tokio::test]
async fn a_request_whose_pairing_has_not_ended_gets_no_link() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (_, request, _) = pairing_in(&app, &org, "active", 1).await;
    assert_problem(&invite(&app, &request).await, 409, "feedback-not-due");
    assert!(mails(&app, "client_feedback_invitation").is_empty());
}
