//! Contact moments of running pairings: what the buddy records, the reminder to the buddy and the
//! note to the client bureau when contact stops, the flag on the pairing (API filter and field),
//! the staff's list of contacts, and the one check-in mail with its page
//! (`GET`/`POST /check-in/{token}`). Time is moved with the manual clock and the scheduler runs
//! by hand, as in `workflow.rs`.
//!
//! Contacts are recorded here through the use-case operation with the buddy as actor, as the
//! buddy portal does (its own tests post the portal's form).

use chrono::{Duration as Span, NaiveDate};
use maatje::domain::actor::Actor;
use maatje::domain::contact::{ContactKind, MAX_CONTACT_NOTE};
use maatje::domain::error::DomainError;
use maatje::domain::ids::PairingId;
use maatje::ops::contacts::NewContact;
use maatje::ops::Ctx;
use maatje::respond::links::Links;
use serde_json::Value;

use crate::access::{Row, STAFF};
use crate::fixtures::{end_pairing, history_actions, organisation, pairing_in};
use crate::helpers::{
    assert_invalid_fields, assert_problem, spawn_app, spawn_app_with, Method, TestApp,
    PUBLIC_BASE_URL, TEST_LINK_SECRET,
};
use crate::mail::mails;
use crate::respond::{open_link, post_form};
use crate::workflow::scheduler;

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[("GET", "/v1/pairings/{id}/contacts", STAFF)];

/// Records a contact moment as the buddy of `pairing`, through the operation the portal calls.
pub(crate) fn record(
    app: &TestApp,
    buddy: &str,
    pairing: &str,
    contact_on: NaiveDate,
    kind: ContactKind,
    note: Option<&str>,
) -> Result<(), DomainError> {
    let reactions = app.reactions();
    let now = app.clock.now_naive();
    app.with_connection(|conn| {
        maatje::ops::change_on(
            conn,
            &reactions,
            Ctx::new(Actor::Buddy(buddy.to_owned()), None, now),
            |tx| {
                maatje::ops::contacts::record(
                    tx,
                    &PairingId::from(pairing),
                    NewContact {
                        contact_on,
                        kind,
                        note: note.map(str::to_owned),
                    },
                )
            },
        )
    })
    .map(|_| ())
}

fn today(app: &TestApp) -> NaiveDate {
    app.clock.now_naive().date()
}

async fn pairing(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("/v1/pairings/{id}")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

async fn overdue_ids(app: &TestApp, flag: bool) -> Vec<String> {
    app.collect_pages(&format!("/v1/pairings?contact_overdue={flag}"))
        .await
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_quiet_pairing_reminds_the_buddy_once_then_tells_the_bureau_and_is_flagged() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (quiet, _, _) = pairing_in(&app, &org, "active", 1).await;
    let (busy, _, busy_buddy) = pairing_in(&app, &org, "active", 2).await;
    let scheduler = scheduler(&app);
    let fresh = pairing(&app, &quiet).await;
    assert_eq!(fresh["contact_overdue"], false);
    assert!(fresh.get("last_contact_on").is_none());
    assert!(fresh.get("check_in").is_none());

    // Day 13 and a bit: nothing yet; the busy pair met on day 10.
    app.clock.advance(Span::days(10));
    record(
        &app,
        &busy_buddy,
        &busy,
        today(&app),
        ContactKind::Meeting,
        None,
    )
    .unwrap();
    app.clock.advance(Span::days(4) - Span::seconds(1));
    assert_eq!(scheduler.run_once().await.unwrap().contact_reminded, 0);
    // Day 14: the quiet pair's buddy gets one reminder.
    app.clock.advance(Span::seconds(1));
    let run = scheduler.run_once().await.unwrap();
    assert_eq!((run.contact_reminded, run.contact_missing), (1, 0));
    assert_eq!(
        scheduler.run_once().await.unwrap().contact_reminded,
        0,
        "once"
    );
    let reminders = mails(&app, "buddy_contact_reminder");
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].recipient, "buddy1@example.org");
    assert_eq!(reminders[0].related_id.as_deref(), Some(quiet.as_str()));
    assert!(
        !reminders[0].body_text.contains("CASE-"),
        "no client reference in a buddy's mail"
    );
    assert_eq!(pairing(&app, &quiet).await["contact_overdue"], false);

    // Day 28: twice the period, the bureau is told and the pairing is flagged.
    app.clock.advance(Span::days(14));
    let run = scheduler.run_once().await.unwrap();
    assert_eq!(run.contact_missing, 1, "{run:?}");
    assert_eq!(run.contact_reminded, 1, "the busy pair, quiet since day 10");
    assert_eq!(
        scheduler.run_once().await.unwrap().contact_missing,
        0,
        "once"
    );
    let notes = mails(&app, "bureau_contact_missing");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].recipient, "bureau@example.org");
    assert!(notes[0].body_text.contains(&quiet));
    let flagged = pairing(&app, &quiet).await;
    assert_eq!(flagged["contact_overdue"], true);
    assert_eq!(overdue_ids(&app, true).await, vec![quiet.clone()]);
    assert_eq!(overdue_ids(&app, false).await, vec![busy.clone()]);
    let history = history_actions(&app, &format!("/v1/pairings/{quiet}")).await;
    assert!(
        history.iter().all(|a| a != "record-contact"),
        "the scheduler's notes are no pairing history: {history:?}"
    );

    // A contact ends the quiet period: the flag goes, the reminders start over.
    let quiet_buddy = flagged["buddy_id"].as_str().unwrap().to_owned();
    record(
        &app,
        &quiet_buddy,
        &quiet,
        today(&app),
        ContactKind::Call,
        Some("Samen naar de zitting geweest."),
    )
    .unwrap();
    let after = pairing(&app, &quiet).await;
    assert_eq!(after["contact_overdue"], false);
    assert_eq!(after["last_contact_on"], today(&app).to_string());
    assert!(overdue_ids(&app, true).await.is_empty());
    app.clock.advance(Span::days(14));
    let run = scheduler.run_once().await.unwrap();
    assert_eq!(
        run.contact_reminded, 1,
        "a new quiet period, a new reminder"
    );
    assert_eq!(mails(&app, "buddy_contact_reminder").len(), 3);
}

#[tokio::test]
async fn staff_see_the_kind_and_date_of_contacts_never_the_note() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (id, _, buddy) = pairing_in(&app, &org, "active", 1).await;
    let start = today(&app);
    app.clock.advance(Span::days(3));
    record(
        &app,
        &buddy,
        &id,
        start,
        ContactKind::Meeting,
        Some("Geheim"),
    )
    .unwrap();
    record(
        &app,
        &buddy,
        &id,
        today(&app),
        ContactKind::AccompaniedAppointment,
        None,
    )
    .unwrap();
    let list = app
        .collect_pages(&format!("/v1/pairings/{id}/contacts"))
        .await;
    assert_eq!(list.len(), 2);
    // In the order they were recorded, whatever day they name.
    assert_eq!(list[0]["kind"], "meeting");
    assert_eq!(list[0]["contact_on"], start.to_string());
    assert_eq!(list[1]["kind"], "accompanied_appointment");
    assert_eq!(list[1]["contact_on"], today(&app).to_string());
    let raw = app
        .get(&format!("/v1/pairings/{id}/contacts?limit=1"))
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body["items"].as_array().unwrap().len(), 1);
    assert!(!raw.text.contains("Geheim"), "the note is the buddy's own");
    assert!(!pairing(&app, &id).await.to_string().contains("Geheim"));

    // Unknown pairing, malformed id, bad paging: problems.
    let unknown = app
        .get("/v1/pairings/0193a5c4-7d10-7000-8000-00000000ffff/contacts")
        .await;
    assert_problem(&unknown, 404, "not-found");
    assert_invalid_fields(&app.get("/v1/pairings/not-an-id/contacts").await, &["id"]);
    assert_problem(
        &app.get(&format!("/v1/pairings/{id}/contacts?limit=0"))
            .await,
        400,
        "validation",
    );
    assert_problem(
        &app.get(&format!("/v1/pairings/{id}/contacts?cursor=%%%"))
            .await,
        400,
        "validation",
    );
    // A case system does not read contacts; the read is audited.
    let (_, token) = app.create_case_system(&org, "Zaaksysteem").await;
    app.use_token(Some(&token));
    assert_problem(
        &app.get(&format!("/v1/pairings/{id}/contacts")).await,
        403,
        "forbidden",
    );
    app.use_admin();
    let reads = || async {
        app.audit_records_where(&format!("object_id={id}"))
            .await
            .iter()
            .filter(|r| r["action"] == "read")
            .count()
    };
    let earlier = reads().await;
    assert_eq!(
        app.get(&format!("/v1/pairings/{id}/contacts")).await.status,
        200
    );
    assert_eq!(reads().await, earlier + 1, "reading contacts is audited");
}

#[tokio::test]
async fn a_contact_must_be_for_a_running_own_pairing_dated_between_start_and_today() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (id, _, buddy) = pairing_in(&app, &org, "active", 1).await;
    let (other, _, other_buddy) = pairing_in(&app, &org, "active", 2).await;
    let (ended, _, ended_buddy) = pairing_in(&app, &org, "ended", 3).await;
    let (proposed, _, proposed_buddy) = pairing_in(&app, &org, "proposed", 4).await;
    let start = today(&app);
    app.clock.advance(Span::days(2));
    let before = app.table_counts();
    let field = |e: DomainError| match e {
        DomainError::Invalid(fields) => fields[0].field.clone(),
        other => panic!("expected invalid fields, got {other:?}"),
    };
    let tomorrow = today(&app) + Span::days(1);
    assert_eq!(
        field(record(&app, &buddy, &id, tomorrow, ContactKind::Call, None).unwrap_err()),
        "contact_on"
    );
    let before_start = start - Span::days(1);
    assert_eq!(
        field(record(&app, &buddy, &id, before_start, ContactKind::Call, None).unwrap_err()),
        "contact_on"
    );
    let long = "x".repeat(MAX_CONTACT_NOTE + 1);
    assert_eq!(
        field(record(&app, &buddy, &id, start, ContactKind::Call, Some(&long)).unwrap_err()),
        "note"
    );
    assert!(matches!(
        record(&app, &other_buddy, &id, start, ContactKind::Call, None).unwrap_err(),
        DomainError::NotFound { .. }
    ));
    assert!(matches!(
        record(&app, &buddy, &other, start, ContactKind::Call, None).unwrap_err(),
        DomainError::NotFound { .. }
    ));
    for (pairing, who) in [(&ended, &ended_buddy), (&proposed, &proposed_buddy)] {
        assert!(matches!(
            record(&app, who, pairing, start, ContactKind::Call, None).unwrap_err(),
            DomainError::IllegalTransition { .. }
        ));
    }
    assert_eq!(
        app.table_counts(),
        before,
        "a refused contact stores nothing"
    );
    // The limits themselves are fine: the start day, today, a note of the maximum length.
    let longest = "x".repeat(MAX_CONTACT_NOTE);
    record(
        &app,
        &buddy,
        &id,
        start,
        ContactKind::Message,
        Some(&longest),
    )
    .unwrap();
    record(&app, &buddy, &id, today(&app), ContactKind::Call, None).unwrap();
    assert_eq!(
        app.table_counts()["contact_moments"],
        before["contact_moments"] + 2
    );
}

/// The check-in links of the `buddy_check_in` mail of `pairing`, as paths.
fn check_in_links(app: &TestApp, pairing: &str) -> Vec<String> {
    let row = mails(app, "buddy_check_in")
        .into_iter()
        .find(|r| r.related_id.as_deref() == Some(pairing))
        .unwrap_or_else(|| panic!("no check-in mail for pairing {pairing}"));
    let links = Links::new(TEST_LINK_SECRET, PUBLIC_BASE_URL);
    let prefix = format!("{PUBLIC_BASE_URL}/check-in/");
    let text = links.expand(&row.body_text);
    let found: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.starts_with(&prefix))
        .map(|w| w[PUBLIC_BASE_URL.len()..].to_owned())
        .collect();
    assert!(!found.is_empty(), "check-in links in {text}");
    found
}

#[tokio::test]
async fn after_three_months_the_buddy_is_asked_once_how_it_goes_and_needs_help_alerts_the_bureau() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (id, _, _) = pairing_in(&app, &org, "active", 1).await;
    let scheduler = scheduler(&app);
    app.clock.advance(Span::days(91) - Span::seconds(1));
    assert_eq!(scheduler.run_once().await.unwrap().checked_in, 0);
    app.clock.advance(Span::seconds(1));
    assert_eq!(scheduler.run_once().await.unwrap().checked_in, 1);
    assert_eq!(scheduler.run_once().await.unwrap().checked_in, 0, "once");
    let sent = pairing(&app, &id).await;
    assert!(sent["check_in"]["sent_at"].is_string());
    assert!(sent["check_in"].get("answer").is_none());
    let links = check_in_links(&app, &id);
    let help = links
        .iter()
        .find(|l| l.ends_with("?answer=needs_help"))
        .expect("a needs-help link");
    assert!(links.iter().any(|l| l.ends_with("?answer=fine")));
    let mail = &mails(&app, "buddy_check_in")[0];
    assert!(!mail.body_text.contains("CASE-"), "no client reference");

    // Opening the link (a mail scanner does) changes nothing.
    let before = app.table_counts();
    let page = open_link(&app, help).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.content_type().starts_with("text/html"));
    assert_eq!(app.table_counts(), before);
    assert!(pairing(&app, &id).await["check_in"].get("answer").is_none());

    // A form without an answer, or with another one, is refused with a page.
    for bad in [
        "",
        "answer=accept",
        "answer=maybe",
        "answer=fine&answer=needs_help",
    ] {
        let refused = post_form(&app, help, bad).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.text);
        assert!(refused.content_type().starts_with("text/html"));
    }
    assert_eq!(app.table_counts(), before);

    let done = post_form(&app, help, "answer=needs_help").await;
    assert_eq!(done.status, 200, "{}", done.text);
    let answered = pairing(&app, &id).await;
    assert_eq!(answered["check_in"]["answer"], "needs_help");
    assert!(answered["check_in"]["answered_at"].is_string());
    let alerts = mails(&app, "bureau_check_in_help");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].recipient, "bureau@example.org");
    assert!(alerts[0].body_text.contains(&id));
    let audit = app
        .audit_records_where(&format!("object_id={id}&actor_type=buddy"))
        .await;
    assert!(!audit.is_empty(), "the answer is audited as the buddy's");

    // The link is used up: 410 with a page; the other link too; nothing changes.
    let after = app.table_counts();
    for link in &links {
        let again = post_form(&app, link, "answer=fine").await;
        assert_eq!(again.status, 410, "{link}: {}", again.text);
        assert!(again.content_type().starts_with("text/html"));
        assert_eq!(open_link(&app, link).await.status, 410);
    }
    assert_eq!(app.table_counts(), after);
    assert_eq!(pairing(&app, &id).await["check_in"]["answer"], "needs_help");
    assert_eq!(mails(&app, "bureau_check_in_help").len(), 1);

    // Unknown tokens: 404 with a page.
    for unknown in [
        "/check-in/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/check-in/x",
    ] {
        let response = open_link(&app, unknown).await;
        assert_eq!(response.status, 404, "{unknown}");
        assert!(response.content_type().starts_with("text/html"));
        assert_eq!(post_form(&app, unknown, "answer=fine").await.status, 404);
    }
    assert_eq!(app.table_counts(), after);
}

#[tokio::test]
async fn a_fine_answer_tells_nobody_and_an_old_or_closed_link_is_gone() {
    let app = spawn_app_with(&[("MAATJE__WORKFLOW__CHECK_IN_AFTER_DAYS", "10")]).await;
    let org = organisation(&app).await;
    let (fine, _, _) = pairing_in(&app, &org, "active", 1).await;
    let (late, _, _) = pairing_in(&app, &org, "active", 2).await;
    let (ending, _, _) = pairing_in(&app, &org, "active", 3).await;
    let scheduler = scheduler(&app);
    app.clock.advance(Span::days(10));
    assert_eq!(scheduler.run_once().await.unwrap().checked_in, 3);

    let link = check_in_links(&app, &fine)
        .into_iter()
        .find(|l| l.ends_with("?answer=fine"))
        .unwrap();
    assert_eq!(post_form(&app, &link, "answer=fine").await.status, 200);
    assert_eq!(pairing(&app, &fine).await["check_in"]["answer"], "fine");
    assert!(mails(&app, "bureau_check_in_help").is_empty());

    // The pairing ends before the buddy answers: its link is closed.
    end_pairing(&app, &ending).await;
    let closed = check_in_links(&app, &ending).remove(0);
    let before = app.table_counts();
    assert_eq!(
        post_form(&app, &closed, "answer=needs_help").await.status,
        410
    );

    // Thirty days later the unanswered link has expired.
    app.clock.advance(Span::days(30));
    let old = check_in_links(&app, &late).remove(0);
    let expired = post_form(&app, &old, "answer=needs_help").await;
    assert_eq!(expired.status, 410, "{}", expired.text);
    assert_eq!(open_link(&app, &old).await.status, 410);
    assert_eq!(app.table_counts(), before);
    assert!(pairing(&app, &late).await["check_in"]
        .get("answer")
        .is_none());
    assert!(mails(&app, "bureau_check_in_help").is_empty());
}

#[tokio::test]
async fn reports_count_contacts_per_pairing_and_pairings_without_recent_contact() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let other_org = crate::helpers::create_organisation(&app, "GI Noord").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (met, _, met_buddy) = pairing_in(&app, &org, "active", 1).await;
    let (_quiet, _, _) = pairing_in(&app, &org, "active", 2).await;
    let (elsewhere, _, elsewhere_buddy) = pairing_in(&app, &other_org, "active", 3).await;
    let start = today(&app);
    // Before the window: not counted.
    record(&app, &met_buddy, &met, start, ContactKind::Call, None).unwrap();
    app.clock.advance(Span::days(7));
    let window_start = today(&app);
    record(
        &app,
        &met_buddy,
        &met,
        window_start,
        ContactKind::Meeting,
        None,
    )
    .unwrap();
    record(
        &app,
        &met_buddy,
        &met,
        window_start,
        ContactKind::Message,
        None,
    )
    .unwrap();
    record(
        &app,
        &elsewhere_buddy,
        &elsewhere,
        window_start,
        ContactKind::AccompaniedAppointment,
        None,
    )
    .unwrap();
    // Day 28: the quiet pairing (no contact ever) is flagged; the others met on day 7.
    app.clock.advance(Span::days(21));
    let run = scheduler(&app).run_once().await.unwrap();
    assert_eq!(run.contact_missing, 1, "{run:?}");
    let window = format!("from={window_start}&to={}", today(&app));

    let all = app.get(&format!("/v1/reports/summary?{window}")).await;
    assert_eq!(all.status, 200, "{}", all.text);
    let c = &all.body["contacts"];
    assert_eq!(c["recorded"], 3);
    assert_eq!(c["pairings_with_contact"], 2);
    assert_eq!(c["average_per_pairing"], 1.5);
    assert_eq!(c["without_recent_contact"], 1);
    let kinds: Vec<(String, u64)> = c["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kind"].as_str().unwrap().to_owned(),
                k["contacts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("call".to_owned(), 0),
            ("meeting".to_owned(), 1),
            ("message".to_owned(), 1),
            ("accompanied_appointment".to_owned(), 1),
        ]
    );

    let one = app
        .get(&format!(
            "/v1/reports/summary?{window}&organisation={other_org}"
        ))
        .await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.body["contacts"]["recorded"], 1);
    assert_eq!(one.body["contacts"]["without_recent_contact"], 0);

    let csv = app
        .request_with_headers(
            Method::GET,
            &format!("/v1/reports/summary?{window}"),
            None,
            Vec::new(),
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.status, 200);
    for line in [
        "contacts,recorded,3\r\n",
        "contacts_by_kind,meeting,1\r\n",
        "contacts,pairings_with_contact,2\r\n",
        "contacts,average_per_pairing,1.5\r\n",
        "contacts,without_recent_contact,1\r\n",
    ] {
        assert!(csv.text.contains(line), "{line:?} in {}", csv.text);
    }

    let console = app.console(maatje::auth::StaffRole::Coordinator).await;
    let page = console.get(&format!("/console/reports?{window}")).await;
    page.assert_shows("Contactmomenten in de periode");
    page.assert_shows("Koppelingen nu zonder recent contact");
    let board = console.get("/console/pairings").await;
    board.assert_shows("Geen recent contact");
    let detail = console.get(&format!("/console/pairings/{met}")).await;
    detail.assert_shows("Telefoongesprek");
    detail.assert_shows("Bericht");
    let csv_board = console.get("/console/pairings.csv").await;
    assert!(
        csv_board.text.contains("contact_overdue"),
        "{}",
        csv_board.text
    );
}

/// The contacts in an export, as (kind, note) pairs.
fn exported_contacts(export: &Value) -> Vec<(String, Option<String>)> {
    let pairings = export
        .get("pairings")
        .map(|p| p.as_array().unwrap().clone())
        .unwrap_or_else(|| {
            export["requests"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["pairings"].as_array().unwrap().clone())
                .collect()
        });
    pairings
        .iter()
        .flat_map(|p| p["contacts"].as_array().unwrap().clone())
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c.get("note").and_then(Value::as_str).map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn contact_notes_are_the_buddys_own_and_go_with_every_erasure() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (first, _, first_buddy) = pairing_in(&app, &org, "active", 1).await;
    let (second, _, second_buddy) = pairing_in(&app, &org, "active", 2).await;
    let day = today(&app);
    let note = "Samen naar de zitting; het ging goed";
    record(
        &app,
        &first_buddy,
        &first,
        day,
        ContactKind::Meeting,
        Some(note),
    )
    .unwrap();
    record(
        &app,
        &second_buddy,
        &second,
        day,
        ContactKind::Call,
        Some(note),
    )
    .unwrap();

    let buddy_export = app.get(&format!("/v1/buddies/{first_buddy}/export")).await;
    assert_eq!(buddy_export.status, 200, "{}", buddy_export.text);
    assert_eq!(
        exported_contacts(&buddy_export.body),
        [("meeting".to_owned(), Some(note.to_owned()))]
    );
    let client = app
        .get(&format!(
            "/v1/privacy/clients/export?organisation_id={org}&client_ref=CASE-1"
        ))
        .await;
    assert_eq!(client.status, 200, "{}", client.text);
    assert_eq!(
        exported_contacts(&client.body),
        [("meeting".to_owned(), None)]
    );
    assert!(
        !client.text.contains(note),
        "the note is the buddy's, not the bureau's"
    );

    // Both pairings end; the client of the first is erased, the buddy of the second too.
    for id in [&first, &second] {
        end_pairing(&app, id).await;
    }
    let erased = app
        .post_json(
            "/v1/privacy/clients/erase",
            &serde_json::json!({
                "organisation_id": org,
                "client_ref": "CASE-1",
                "reason": "Verzoek van de cliënt"
            }),
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    let after = app.get(&format!("/v1/buddies/{first_buddy}/export")).await;
    assert_eq!(
        exported_contacts(&after.body),
        [("meeting".to_owned(), None)]
    );

    let gone = app
        .post_json(
            &format!("/v1/buddies/{second_buddy}/erase"),
            &serde_json::json!({ "reason": "Wil vergeten worden" }),
        )
        .await;
    assert_eq!(gone.status, 200, "{}", gone.text);
    let after = app.get(&format!("/v1/buddies/{second_buddy}/export")).await;
    assert_eq!(exported_contacts(&after.body), [("call".to_owned(), None)]);
    // The date and kind stay for the reports.
    assert_eq!(app.table_counts()["contact_moments"], 2);
}

#[tokio::test]
async fn the_buddy_records_contacts_in_the_portal_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (id, _, buddy) = pairing_in(&app, &org, "active", 1).await;
    let (other, _, _) = pairing_in(&app, &org, "active", 2).await;
    let start = today(&app);
    app.clock.advance(Span::days(3));
    let client = crate::portal::signed_in(&app, &buddy, "buddy1@example.org").await;
    let page = client.get(&format!("/buddy/pairings/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.plain());
    page.assert_shows("Contactmoment noteren");
    assert_eq!(
        page.input_value("contact_on"),
        Some(today(&app).to_string()),
        "today is filled in"
    );
    let path = format!("/buddy/pairings/{id}/contacts");

    let counts = app.table_counts();
    let tomorrow = (today(&app) + Span::days(1)).to_string();
    let before_start = (start - Span::days(1)).to_string();
    let long = "x".repeat(MAX_CONTACT_NOTE + 1);
    let now = today(&app).to_string();
    for (fields, field) in [
        (
            vec![("contact_on", tomorrow.as_str()), ("kind", "call")],
            "contact_on",
        ),
        (
            vec![("contact_on", before_start.as_str()), ("kind", "call")],
            "contact_on",
        ),
        (
            vec![("contact_on", "gisteren"), ("kind", "call")],
            "contact_on",
        ),
        (vec![("contact_on", ""), ("kind", "call")], "contact_on"),
        (
            vec![("contact_on", now.as_str()), ("kind", "visit")],
            "kind",
        ),
        (vec![("contact_on", now.as_str())], "kind"),
        (
            vec![
                ("contact_on", now.as_str()),
                ("kind", "call"),
                ("note", long.as_str()),
            ],
            "note",
        ),
    ] {
        let refused = client.post(&path, &fields).await;
        assert_eq!(refused.status, 422, "{fields:?}: {}", refused.plain());
        assert!(
            refused.field_error(field).is_some(),
            "{field}: {}",
            refused.plain()
        );
    }
    // Another buddy's pairing, an unknown and a malformed id: not found.
    for foreign in [
        other.as_str(),
        "0193a5c4-7d10-7000-8000-00000000ffff",
        "not-an-id",
    ] {
        let refused = client
            .post(
                &format!("/buddy/pairings/{foreign}/contacts"),
                &[("contact_on", now.as_str()), ("kind", "call")],
            )
            .await;
        assert_eq!(refused.status, 404, "{foreign}: {}", refused.plain());
        assert_eq!(
            client
                .get(&format!("/buddy/pairings/{foreign}"))
                .await
                .status,
            404
        );
    }
    // Without the form's CSRF token.
    let forged = client
        .post_raw(&path, &[("contact_on", now.as_str()), ("kind", "call")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        app.table_counts(),
        counts,
        "a refused contact stores nothing"
    );

    let done = client
        .post(
            &path,
            &[
                ("contact_on", now.as_str()),
                ("kind", "meeting"),
                ("note", "Samen koffie"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(
        done.location(),
        format!("/buddy/pairings/{id}?done=contact")
    );
    let shown = client.get(done.location()).await;
    shown.assert_shows("Je contactmoment is genoteerd.");
    shown.assert_shows("Samen koffie");
    shown.assert_shows("Afspraak");
    assert_eq!(pairing(&app, &id).await["last_contact_on"], now);
    let records = crate::portal::audit_by_buddy(&app, &buddy).await;
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "create" && r["object_id"] == id.as_str()),
        "{records:?}"
    );

    // Once the pairing has ended, no contact can be recorded and the form is gone.
    end_pairing(&app, &id).await;
    let counts = app.table_counts();
    let late = client
        .post(&path, &[("contact_on", now.as_str()), ("kind", "call")])
        .await;
    assert_eq!(late.status, 409, "{}", late.plain());
    assert_eq!(app.table_counts(), counts);
    let page = client.get(&format!("/buddy/pairings/{id}")).await;
    assert!(!page.plain().contains("Contactmoment noteren"));
    page.assert_shows("Samen koffie");
}
