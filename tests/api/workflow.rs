//! Time in the workflow: proposal expiry, the buddy's reminder and overdue requests, kept by the
//! scheduler ([`maatje::jobs::scheduler`]) with a moved clock. Two instances on one database
//! handle each item once.

use std::time::{Duration, Instant};

use chrono::Duration as Span;
use maatje::jobs::scheduler::{RunReport, Scheduler};
use maatje::respond::links::Links;

use crate::fixtures::{
    active_buddy, history_actions, open_request, organisation, propose, state_of,
};
use crate::helpers::{spawn_app, spawn_app_sharing, spawn_app_with, Method, TestApp};
use crate::mail::mails;

/// The scheduler as `Application::build` makes it for `app`.
pub fn scheduler(app: &TestApp) -> Scheduler {
    Scheduler::new(
        app.db.clone(),
        app.clock.clone(),
        app.reactions(),
        &app.settings.workflow,
    )
}

async fn proposal(app: &TestApp, org: &str, n: u32) -> (String, String) {
    let buddy = active_buddy(app, org, n, 1).await;
    let request = open_request(app, org, &format!("CASE-W{n}")).await;
    (propose(app, &request, &buddy).await, request)
}

#[tokio::test]
async fn an_unanswered_proposal_expires_after_72_hours_and_the_request_reopens() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request) = proposal(&app, &org, 1).await;
    let scheduler = scheduler(&app);
    app.clock.advance(Span::hours(72) - Span::seconds(1));
    let early = scheduler.run_once().await.unwrap();
    assert_eq!(early.expired, 0, "not yet");
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{pairing}")).await,
        "proposed"
    );
    app.clock.advance(Span::seconds(1));
    assert_eq!(scheduler.run_once().await.unwrap().expired, 1);
    assert_eq!(
        state_of(&app, &format!("/v1/pairings/{pairing}")).await,
        "expired"
    );
    assert_eq!(
        state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
        "open"
    );
    let history = app.history(&format!("/v1/pairings/{pairing}")).await;
    let last = history.last().unwrap();
    assert_eq!(last["action"], "expire");
    assert_eq!(last["actor"]["type"], "system");
    assert_eq!(last["reason"], "no answer within 72 hours");
    assert_eq!(
        history_actions(&app, &format!("/v1/buddy-requests/{request}")).await,
        ["create", "propose", "proposal-expired"]
    );
    let notes = mails(&app, "bureau_expired");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].recipient, "bureau@example.org");
    assert!(notes[0].body_text.contains(&pairing));
    // Idempotent: the next runs find nothing.
    let before = app.table_counts();
    assert_eq!(scheduler.run_once().await.unwrap(), RunReport::default());
    assert_eq!(app.table_counts(), before);
    // The buddy's link now says the proposal expired.
    let proposal_mail = mails(&app, "buddy_proposal").pop().unwrap();
    let links = Links::from_settings(&app.settings.mail).unwrap();
    let text = links.expand(&proposal_mail.body_text);
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/respond/"))
        .unwrap();
    let path = &link[link.find("/respond/").unwrap()..];
    let page = app
        .request_with_headers(
            Method::GET,
            path,
            None,
            Vec::new(),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(page.status, 410);
    assert!(page.text.contains("Dit voorstel is verlopen"));
}

#[tokio::test]
async fn the_buddy_is_reminded_once_with_the_same_links() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _) = proposal(&app, &org, 1).await;
    let (answered, _) = proposal(&app, &org, 2).await;
    assert_eq!(
        app.post_empty(&format!("/v1/pairings/{answered}/accept"))
            .await
            .status,
        200
    );
    let scheduler = scheduler(&app);
    app.clock.advance(Span::hours(47));
    assert_eq!(scheduler.run_once().await.unwrap().reminded, 0);
    app.clock.advance(Span::hours(1));
    assert_eq!(scheduler.run_once().await.unwrap().reminded, 1);
    assert_eq!(scheduler.run_once().await.unwrap().reminded, 0, "once");
    let reminders = mails(&app, "buddy_reminder");
    assert_eq!(reminders.len(), 1, "none for the answered proposal");
    let reminder = &reminders[0];
    assert_eq!(reminder.recipient, "buddy1@example.org");
    assert_eq!(reminder.related_id.as_deref(), Some(pairing.as_str()));
    assert_eq!(
        reminder.subject,
        "Herinnering: wil je maatje zijn voor een nieuwe cliënt?"
    );
    let links = Links::from_settings(&app.settings.mail).unwrap();
    let proposal_mail = mails(&app, "buddy_proposal")
        .into_iter()
        .find(|m| m.related_id.as_deref() == Some(pairing.as_str()))
        .unwrap();
    let link_lines = |text: &str| -> Vec<String> {
        links
            .expand(text)
            .lines()
            .filter(|l| l.contains("/respond/"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        link_lines(&reminder.body_text),
        link_lines(&proposal_mail.body_text),
        "the reminder repeats the proposal's links"
    );
    // At 72 hours the proposal expires; no second reminder.
    app.clock.advance(Span::hours(24));
    let report = scheduler.run_once().await.unwrap();
    assert_eq!((report.expired, report.reminded), (1, 0));
}

#[tokio::test]
async fn an_overdue_request_is_reported_to_the_bureau_once() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let waiting = open_request(&app, &org, "CASE-LATE").await;
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let proposed = open_request(&app, &org, "CASE-PROPOSED").await;
    let scheduler = scheduler(&app);
    app.clock.advance(Span::days(4));
    propose(&app, &proposed, &buddy).await;
    app.clock.advance(Span::days(1) - Span::seconds(1));
    assert_eq!(scheduler.run_once().await.unwrap().overdue, 0);
    app.clock.advance(Span::seconds(1));
    assert_eq!(
        scheduler.run_once().await.unwrap().overdue,
        1,
        "only the open one"
    );
    assert_eq!(scheduler.run_once().await.unwrap().overdue, 0);
    let notes = mails(&app, "bureau_overdue");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].related_id.as_deref(), Some(waiting.as_str()));
    assert!(notes[0].subject.contains("wacht te lang"));
    assert!(
        !notes[0].body_text.contains("CASE-LATE"),
        "no client reference in mail"
    );
    // The other request comes back open once its proposal expires, and is overdue then too:
    // reported once; the first is never reported again.
    app.clock.advance(Span::days(30));
    let report = scheduler.run_once().await.unwrap();
    assert_eq!((report.expired, report.overdue), (1, 1));
    assert_eq!(scheduler.run_once().await.unwrap(), RunReport::default());
    assert_eq!(mails(&app, "bureau_overdue").len(), 2);
}

#[tokio::test]
async fn two_schedulers_racing_over_one_database_handle_each_item_once() {
    let app = spawn_app().await;
    let other = spawn_app_sharing(&app, &[]).await;
    let org = organisation(&app).await;
    let mut pairings = Vec::new();
    for n in 1..=8 {
        pairings.push(proposal(&app, &org, n).await.0);
    }
    for n in 0..4 {
        open_request(&app, &org, &format!("CASE-OPEN-{n}")).await;
    }
    let (first, second) = (scheduler(&app), scheduler(&other));
    // Reminders first, then expiry and overdue, each time both instances at once.
    for (clock_step, expect) in [
        (
            Span::hours(48),
            RunReport {
                expired: 0,
                reminded: 8,
                overdue: 0,
                resumed: 0,
            },
        ),
        (
            Span::days(5),
            RunReport {
                expired: 8,
                reminded: 0,
                overdue: 12,
                resumed: 0,
            },
        ),
    ] {
        app.clock.advance(clock_step);
        other.clock.advance(clock_step);
        let (a, b) = tokio::join!(first.run_once(), second.run_once());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            RunReport {
                expired: a.expired + b.expired,
                reminded: a.reminded + b.reminded,
                overdue: a.overdue + b.overdue,
                resumed: a.resumed + b.resumed,
            },
            expect,
            "{a:?} + {b:?}"
        );
    }
    assert_eq!(mails(&app, "buddy_reminder").len(), 8);
    assert_eq!(mails(&app, "bureau_expired").len(), 8);
    assert_eq!(mails(&app, "bureau_overdue").len(), 12);
    for pairing in &pairings {
        let actions = history_actions(&app, &format!("/v1/pairings/{pairing}")).await;
        assert_eq!(actions, ["propose", "expire"], "{pairing}");
    }
}

#[tokio::test]
async fn two_running_instances_expire_a_proposal_once() {
    let fast = [
        ("MAATJE__WORKFLOW__SCHEDULER_ENABLED", "true"),
        ("MAATJE__WORKFLOW__SCHEDULER_INTERVAL_SECONDS", "1"),
    ];
    let app = spawn_app_with(&fast).await;
    let other = spawn_app_sharing(&app, &fast).await;
    let org = organisation(&app).await;
    let (pairing, request) = proposal(&app, &org, 1).await;
    app.clock.advance(Span::hours(73));
    other.clock.advance(Span::hours(73));
    let deadline = Instant::now() + Duration::from_secs(30);
    while state_of(&app, &format!("/v1/pairings/{pairing}")).await != "expired" {
        assert!(Instant::now() < deadline, "the proposal never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let both instances run a few more times.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        history_actions(&app, &format!("/v1/pairings/{pairing}")).await,
        ["propose", "expire"]
    );
    assert_eq!(
        history_actions(&app, &format!("/v1/buddy-requests/{request}")).await,
        ["create", "propose", "proposal-expired"]
    );
    assert_eq!(mails(&app, "bureau_expired").len(), 1);
    assert!(
        mails(&app, "buddy_reminder").len() <= 1,
        "a reminder at most once"
    );
}
