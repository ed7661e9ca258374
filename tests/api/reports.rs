//! `/v1/reports/summary`: a scenario seeded through the API on the manual clock, and the report
//! compared with figures worked out by hand.

use std::collections::BTreeMap;

use chrono::Duration;
use serde_json::{json, Value};

use maatje::auth::StaffRole;

use crate::access::{Row, STAFF};
use crate::fixtures::{
    act, active_buddy, profile, propose, request_body, SIGNED_ON, TRAINED_ON, VOG_ISSUED_ON,
};
use crate::helpers::{
    assert_invalid_fields, assert_problem, create_organisation, id_of, spawn_app, Method, TestApp,
};

/// Who may call this module's operations (collected by `access.rs`'s matrix).
pub(crate) const ACCESS: &[Row] = &[
    // Reports: staff only; case systems see nothing beyond their own requests.
    ("GET", "/v1/reports/summary", STAFF),
];

/// Organisation A's name holds a comma and quotes, so the CSV form must quote it.
const NAME_A: &str = "GI Noord, team \"Oost\"";
const NAME_B: &str = "GI Zuid";

/// The ids the scenario creates.
struct Scenario {
    org_a: String,
    org_b: String,
    b1: String,
    b2: String,
    b3: String,
    c1: String,
}

async fn new_request(app: &TestApp, org: &str, client_ref: &str, trigger: &str) -> String {
    let mut body = request_body(org, client_ref);
    body["trigger"] = json!(trigger);
    let response = app.post_json("/v1/buddy-requests", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    id_of(&response.body)
}

async fn exit_interview(
    app: &TestApp,
    org: &str,
    held_on: &str,
    answer: &str,
    n: u32,
) -> Option<String> {
    let mut body = json!({ "organisation_id": org, "held_on": held_on, "answer": answer });
    if answer == "yes" {
        body["candidate"] = profile(n);
    }
    let response = app.post_json("/v1/exit-interviews", &body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    response.body["buddy"]["id"].as_str().map(str::to_owned)
}

async fn end(app: &TestApp, pairing: &str, reason: &str, evaluation: Value) {
    let response = app
        .post_json(
            &format!("/v1/pairings/{pairing}/end"),
            &json!({ "reason": reason, "evaluation": evaluation }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
}

/// The scenario, with T0 = 2026-11-22 09:00 UTC (the clock's start):
///
/// ```text
/// requests   org trigger      created            end state
///   r1        A  first_talks  T0                 closed
///   r2        A  discontent   T0                 closed
///   r3        B  complaint    T0                 matched
///   r6        B  complaint    T0                 open (never proposed)
///   r4        B  questions    T3 = 11-23 00:00   withdrawn
///   r5        A  first_talks  T5 = 11-24 09:00   open
///   r7        A  discontent   T5                 proposed
/// pairings   request buddy proposed  then
///   p1        r1      b1    T1=+2h    accepted T2=+5h, active T3, ended T4=+33h goal_reached (5, 2)
///   p2        r2      b2    T1        declined T2
///   p3        r3      b3    T2        expired T3=+15h
///   p4        r2      b1    T3        accepted T4, ended T5=+48h client_stopped (client 2)
///   p5        r3      b2    T4        accepted T5, active
///   p6        r4      b1    T5        cancelled T5 (r4 withdrawn)
///   p7        r7      b3    T5        pending
/// exit interviews (held on): 11-22 A yes→c1 (screening, active), A yes→c2 (screening),
///   B yes→c3 (candidate), A no, B later; 11-21 A no.
/// buddies: b1 (A, capacity 2), b2 (A, 1), b3 (B, 1) registered directly; c1 activated with 3.
/// ```
async fn seed(app: &TestApp) -> Scenario {
    let org_a = id_of(&create_organisation(app, NAME_A).await);
    let org_b = id_of(&create_organisation(app, NAME_B).await);
    let b1 = active_buddy(app, &org_a, 1, 2).await;
    let b2 = active_buddy(app, &org_a, 2, 1).await;
    let b3 = active_buddy(app, &org_b, 3, 1).await;

    let c1 = exit_interview(app, &org_a, "2026-11-22", "yes", 11)
        .await
        .unwrap();
    let c2 = exit_interview(app, &org_a, "2026-11-22", "yes", 12)
        .await
        .unwrap();
    exit_interview(app, &org_b, "2026-11-22", "yes", 13)
        .await
        .unwrap();
    exit_interview(app, &org_a, "2026-11-22", "no", 0).await;
    exit_interview(app, &org_b, "2026-11-22", "later", 0).await;
    exit_interview(app, &org_a, "2026-11-21", "no", 0).await;
    act(app, &format!("/v1/buddies/{c1}/start-screening")).await;
    let response = app
        .patch_json(
            &format!("/v1/buddies/{c1}"),
            &json!({
                "vog_issued_on": VOG_ISSUED_ON,
                "training_completed_on": TRAINED_ON,
                "agreement_signed_on": SIGNED_ON,
                "capacity": 3,
            }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    act(app, &format!("/v1/buddies/{c1}/activate")).await;
    act(app, &format!("/v1/buddies/{c2}/start-screening")).await;

    // T0
    let r1 = new_request(app, &org_a, "CASE-1", "first_talks").await;
    let r2 = new_request(app, &org_a, "CASE-2", "discontent").await;
    let r3 = new_request(app, &org_b, "CASE-3", "complaint").await;
    new_request(app, &org_b, "CASE-6", "complaint").await;
    // T1 = T0 + 2h
    app.clock.advance(Duration::hours(2));
    let p1 = propose(app, &r1, &b1).await;
    let p2 = propose(app, &r2, &b2).await;
    // T2 = T0 + 5h
    app.clock.advance(Duration::hours(3));
    act(app, &format!("/v1/pairings/{p1}/accept")).await;
    act(app, &format!("/v1/pairings/{p2}/decline")).await;
    let p3 = propose(app, &r3, &b3).await;
    // T3 = T0 + 15h = 2026-11-23 00:00, exactly the start of the second day.
    app.clock.advance(Duration::hours(10));
    let r4 = new_request(app, &org_b, "CASE-4", "questions").await;
    let p4 = propose(app, &r2, &b1).await;
    app.expire_pairing(&p3);
    act(app, &format!("/v1/pairings/{p1}/activate")).await;
    // T4 = T0 + 33h
    app.clock.advance(Duration::hours(18));
    act(app, &format!("/v1/pairings/{p4}/accept")).await;
    end(
        app,
        &p1,
        "goal_reached",
        json!({ "client_score": 5, "buddy_score": 2 }),
    )
    .await;
    let p5 = propose(app, &r3, &b2).await;
    // T5 = T0 + 48h
    app.clock.advance(Duration::hours(15));
    new_request(app, &org_a, "CASE-5", "first_talks").await;
    let r7 = new_request(app, &org_a, "CASE-7", "discontent").await;
    end(app, &p4, "client_stopped", json!({ "client_score": 2 })).await;
    act(app, &format!("/v1/pairings/{p5}/accept")).await;
    act(app, &format!("/v1/pairings/{p5}/activate")).await;
    propose(app, &r4, &b1).await;
    act(app, &format!("/v1/buddy-requests/{r4}/withdraw")).await;
    propose(app, &r7, &b3).await;
    // The report is taken at T0 + 6 days = 2026-11-28 09:00.
    app.clock.advance(Duration::days(4));
    Scenario {
        org_a,
        org_b,
        b1,
        b2,
        b3,
        c1,
    }
}

async fn report(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/v1/reports/summary{query}")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.content_type(), "application/json");
    response.body
}

/// `{ key_member: count_member }` of a list of objects, e.g. the counts by trigger.
fn counts(list: &Value, key: &str, count: &str) -> BTreeMap<String, u64> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| {
            (
                item[key].as_str().expect("a key").to_owned(),
                item[count].as_u64().expect("a count"),
            )
        })
        .collect()
}

fn map<const N: usize>(entries: [(&str, u64); N]) -> BTreeMap<String, u64> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// (live pairings, capacity) per buddy id.
fn loads(report: &Value) -> BTreeMap<String, (u64, u64)> {
    report["pairings"]["load"]
        .as_array()
        .expect("a load list")
        .iter()
        .map(|l| {
            (
                l["buddy_id"].as_str().unwrap().to_owned(),
                (
                    l["live_pairings"].as_u64().unwrap(),
                    l["capacity"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_summary_matches_the_scenario_worked_out_by_hand() {
    let app = spawn_app().await;
    let s = seed(&app).await;
    let r = report(&app, "?from=2026-11-22&to=2026-11-29").await;

    assert_eq!(
        r["window"],
        json!({ "from": "2026-11-22", "to": "2026-11-29" })
    );
    assert_eq!(r["organisation_id"], Value::Null);
    assert_eq!(r["generated_at"], "2026-11-28T09:00:00Z");

    // Requests: all seven were created in the window; r1 r5 | r2 r7 | r3 r6 | r4.
    assert_eq!(r["requests"]["total"], 7);
    assert_eq!(
        counts(&r["requests"]["by_trigger"], "trigger", "requests"),
        map([
            ("first_talks", 2),
            ("discontent", 2),
            ("complaint", 2),
            ("questions", 1)
        ])
    );
    // A: r1 r2 r5 r7 = 4; B: r3 r4 r6 = 3; by name, "GI Noord…" before "GI Zuid".
    assert_eq!(
        r["requests"]["by_organisation"],
        json!([
            { "organisation_id": s.org_a, "name": NAME_A, "requests": 4 },
            { "organisation_id": s.org_b, "name": NAME_B, "requests": 3 },
        ])
    );

    // Proposals: p1..p7 all proposed in the window. Accepted p1 p4 p5 = 3, declined p2 = 1,
    // expired p3 = 1, cancelled p6 = 1, pending p7 = 1; decided = 3 + 1 + 1 = 5.
    let p = &r["proposals"];
    assert_eq!(p["proposed"], 7);
    assert_eq!(p["accepted"], 3);
    assert_eq!(p["declined"], 1);
    assert_eq!(p["expired"], 1);
    assert_eq!(p["cancelled"], 1);
    assert_eq!(p["pending"], 1);
    assert_eq!(p["decided"], 5);
    assert_eq!(p["acceptance_rate"].as_f64(), Some(0.6)); // 3 / 5
    assert_eq!(p["decline_rate"].as_f64(), Some(0.2)); // 1 / 5
    assert_eq!(p["expiry_rate"].as_f64(), Some(0.2)); // 1 / 5

    // Time to first proposal: r1 2h (p1), r2 2h (p2), r3 5h (p3), r4 33h (created T3 = +15h,
    // p6 at +48h), r7 0h; r5 and r6 have none. Sorted 0, 2, 2, 5, 33: median at rank
    // ceil(0.5 × 5) = 3 → 2h, p90 at rank ceil(0.9 × 5) = 5 → 33h.
    assert_eq!(
        r["time_to_first_proposal"],
        json!({ "count": 5, "median_hours": 2.0, "p90_hours": 33.0 })
    );
    // Time to match: r1 5h (p1 accepted at +5h), r2 33h (p4 at +33h), r3 48h (p5 at +48h).
    // Sorted 5, 33, 48: median rank ceil(1.5) = 2 → 33h, p90 rank ceil(2.7) = 3 → 48h.
    assert_eq!(
        r["time_to_match"],
        json!({ "count": 3, "median_hours": 33.0, "p90_hours": 48.0 })
    );

    // Now: p5 is the only active pairing. Active buddies b1 b2 b3 c1 (c2 is in screening, c3 a
    // candidate); live: b1 none (p1 p4 ended, p6 cancelled), b2 p5, b3 p7, c1 none.
    assert_eq!(r["pairings"]["active"], 1);
    let expected_loads: BTreeMap<String, (u64, u64)> = [
        (s.b1.clone(), (0, 2)),
        (s.b2.clone(), (1, 1)),
        (s.b3.clone(), (1, 1)),
        (s.c1.clone(), (0, 3)),
    ]
    .into_iter()
    .collect();
    assert_eq!(loads(&r), expected_loads);

    // Outcomes: p1 (goal_reached; client 5, buddy 2) and p4 (client_stopped; client 2) ended.
    // Client mean (5 + 2) / 2 = 3.5 over 2 scores; buddy mean 2 / 1 = 2.0 over 1.
    let o = &r["outcomes"];
    assert_eq!(o["ended"], 2);
    assert_eq!(
        counts(&o["by_end_reason"], "reason", "pairings"),
        map([
            ("goal_reached", 1),
            ("client_stopped", 1),
            ("buddy_stopped", 0),
            ("case_closed", 0),
            ("other", 0)
        ])
    );
    assert_eq!(o["client_scores"], 2);
    assert_eq!(o["average_client_score"].as_f64(), Some(3.5));
    assert_eq!(o["buddy_scores"], 1);
    assert_eq!(o["average_buddy_score"].as_f64(), Some(2.0));

    // Recruitment: five interviews on 11-22 (the one on 11-21 is outside): yes c1 c2 c3, one no,
    // one later; c1 and c2 entered screening, c1 became active. Buddies registered directly
    // (b1 b2 b3) are not from interviews and do not count.
    assert_eq!(
        r["recruitment"],
        json!({ "asked": 5, "yes": 3, "no": 1, "later": 1, "reached_screening": 2, "reached_active": 1 })
    );

    // Overdue now (T0 + 6 days): r6 (open since T0, 6 ≥ 5 days); r5 is open 4 days only.
    assert_eq!(r["overdue"], 1);

    // A day later r5 is 5 days open as well.
    app.clock.advance(Duration::days(1));
    let later = report(&app, "?from=2026-11-22&to=2026-11-29").await;
    assert_eq!(later["overdue"], 2);
    assert_eq!(later["generated_at"], "2026-11-29T09:00:00Z");
    assert_eq!(
        later["requests"], r["requests"],
        "the window's counts do not move with the clock"
    );
}

#[tokio::test]
async fn one_organisation_and_window_boundaries() {
    let app = spawn_app().await;
    let s = seed(&app).await;

    // Organisation A: requests r1 r2 r5 r7.
    let a = report(
        &app,
        &format!("?from=2026-11-22&to=2026-11-29&organisation={}", s.org_a),
    )
    .await;
    assert_eq!(a["organisation_id"], s.org_a.as_str());
    assert_eq!(a["requests"]["total"], 4);
    assert_eq!(
        counts(&a["requests"]["by_trigger"], "trigger", "requests"),
        map([
            ("first_talks", 2),
            ("discontent", 2),
            ("complaint", 0),
            ("questions", 0)
        ])
    );
    assert_eq!(
        a["requests"]["by_organisation"],
        json!([{ "organisation_id": s.org_a, "name": NAME_A, "requests": 4 }])
    );
    // Proposals for A's requests: p1 p4 accepted, p2 declined, p7 pending; decided 3.
    let p = &a["proposals"];
    assert_eq!(
        (
            p["proposed"].as_u64(),
            p["accepted"].as_u64(),
            p["declined"].as_u64()
        ),
        (Some(4), Some(2), Some(1))
    );
    assert_eq!(
        (
            p["expired"].as_u64(),
            p["cancelled"].as_u64(),
            p["pending"].as_u64()
        ),
        (Some(0), Some(0), Some(1))
    );
    assert_eq!(p["acceptance_rate"].as_f64(), Some(2.0 / 3.0));
    assert_eq!(p["decline_rate"].as_f64(), Some(1.0 / 3.0));
    assert_eq!(p["expiry_rate"].as_f64(), Some(0.0));
    // First proposal: r1 2h, r2 2h, r7 0h → sorted 0, 2, 2: median rank 2 → 2h, p90 rank 3 → 2h.
    assert_eq!(
        a["time_to_first_proposal"],
        json!({ "count": 3, "median_hours": 2.0, "p90_hours": 2.0 })
    );
    // Match: r1 5h, r2 33h: median rank ceil(1.0) = 1 → 5h, p90 rank ceil(1.8) = 2 → 33h.
    assert_eq!(
        a["time_to_match"],
        json!({ "count": 2, "median_hours": 5.0, "p90_hours": 33.0 })
    );
    // The active pairing p5 is B's request; A's active buddies b1 b2 c1 (b2 busy with p5).
    assert_eq!(a["pairings"]["active"], 0);
    let expected_loads: BTreeMap<String, (u64, u64)> = [
        (s.b1.clone(), (0, 2)),
        (s.b2.clone(), (1, 1)),
        (s.c1.clone(), (0, 3)),
    ]
    .into_iter()
    .collect();
    assert_eq!(loads(&a), expected_loads);
    assert_eq!(a["outcomes"]["ended"], 2);
    // A's interviews on 11-22: yes c1, yes c2, no.
    assert_eq!(
        a["recruitment"],
        json!({ "asked": 3, "yes": 2, "no": 1, "later": 0, "reached_screening": 2, "reached_active": 1 })
    );
    // r5 is A's only open request, 4 days old.
    assert_eq!(a["overdue"], 0);

    // The first day [11-22, 11-23): r1 r2 r3 r6; r4 was created at 11-23 00:00 exactly, the
    // first instant after the window.
    let day1 = report(&app, "?from=2026-11-22&to=2026-11-23").await;
    assert_eq!(day1["requests"]["total"], 4);
    assert_eq!(
        counts(&day1["requests"]["by_trigger"], "trigger", "requests"),
        map([
            ("first_talks", 1),
            ("discontent", 1),
            ("complaint", 2),
            ("questions", 0)
        ])
    );
    // p1 (accepted), p2 (declined), p3 (expired) were proposed that day: 1/3 each.
    let p = &day1["proposals"];
    assert_eq!(p["proposed"], 3);
    assert_eq!(p["decided"], 3);
    assert_eq!(p["acceptance_rate"].as_f64(), Some(1.0 / 3.0));
    assert_eq!(p["expiry_rate"].as_f64(), Some(1.0 / 3.0));
    // First proposals r1 2h, r2 2h, r3 5h; matches r1 5h, r2 33h, r3 48h (whenever they came).
    assert_eq!(
        day1["time_to_first_proposal"],
        json!({ "count": 3, "median_hours": 2.0, "p90_hours": 5.0 })
    );
    assert_eq!(
        day1["time_to_match"],
        json!({ "count": 3, "median_hours": 33.0, "p90_hours": 48.0 })
    );
    // Nothing ended on the first day.
    assert_eq!(day1["outcomes"]["ended"], 0);
    assert_eq!(day1["outcomes"]["average_client_score"], Value::Null);
    assert_eq!(day1["outcomes"]["average_buddy_score"], Value::Null);
    assert_eq!(day1["recruitment"]["asked"], 5);

    // The second day [11-23, 11-24): r4 (at its first instant); p4 and p5 proposed, both
    // accepted since; p1 ended (5, 2); no interviews; r4's first proposal took 33h, no match.
    let day2 = report(&app, "?from=2026-11-23&to=2026-11-24").await;
    assert_eq!(day2["requests"]["total"], 1);
    assert_eq!(
        counts(&day2["requests"]["by_trigger"], "trigger", "requests")["questions"],
        1
    );
    assert_eq!(day2["proposals"]["proposed"], 2);
    assert_eq!(day2["proposals"]["acceptance_rate"].as_f64(), Some(1.0));
    assert_eq!(day2["proposals"]["decline_rate"].as_f64(), Some(0.0));
    assert_eq!(day2["outcomes"]["ended"], 1);
    assert_eq!(day2["outcomes"]["average_client_score"].as_f64(), Some(5.0));
    assert_eq!(day2["outcomes"]["average_buddy_score"].as_f64(), Some(2.0));
    assert_eq!(
        day2["time_to_first_proposal"],
        json!({ "count": 1, "median_hours": 33.0, "p90_hours": 33.0 })
    );
    assert_eq!(
        day2["time_to_match"],
        json!({ "count": 0, "median_hours": null, "p90_hours": null })
    );
    assert_eq!(day2["recruitment"]["asked"], 0);

    // The day before: only the interview of 11-21; no requests, no proposals, rates null.
    let before = report(&app, "?from=2026-11-21&to=2026-11-22").await;
    assert_eq!(before["requests"]["total"], 0);
    assert_eq!(before["requests"]["by_organisation"], json!([]));
    assert_eq!(before["proposals"]["proposed"], 0);
    assert_eq!(before["proposals"]["acceptance_rate"], Value::Null);
    assert_eq!(
        before["time_to_first_proposal"]["median_hours"],
        Value::Null
    );
    assert_eq!(
        before["recruitment"],
        json!({ "asked": 1, "yes": 0, "no": 1, "later": 0, "reached_screening": 0, "reached_active": 0 })
    );
    // What describes the moment does not depend on the window.
    assert_eq!(before["pairings"]["active"], 1);
    assert_eq!(before["overdue"], 1);

    // The default window is the 30 days up to and including today (2026-11-28).
    let default = report(&app, "").await;
    assert_eq!(
        default["window"],
        json!({ "from": "2026-10-30", "to": "2026-11-29" })
    );
    assert_eq!(default["requests"]["total"], 7);
}

/// A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF line ends.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "a bare CR in {text}"),
            (false, '\n') => panic!("a bare LF in {text}"),
            (false, c) => field.push(c),
        }
        if !quoted && c == '\r' {
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "an unterminated last line in {text}"
    );
    rows
}

#[tokio::test]
async fn the_same_report_as_csv() {
    let app = spawn_app().await;
    let s = seed(&app).await;
    let path = "/v1/reports/summary?from=2026-11-22&to=2026-11-29";
    let response = app
        .request_with_headers(
            Method::GET,
            path,
            None,
            Vec::new(),
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(
        response.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(response.header("vary"), Some("Accept"));
    // The organisation's name, with its comma and quotes, is one quoted field.
    assert!(
        response.text.contains(&format!(
            "organisation_name,{},\"GI Noord, team \"\"Oost\"\"\"\r\n",
            s.org_a
        )),
        "{}",
        response.text
    );
    let rows = parse_csv(&response.text);
    assert_eq!(rows[0], ["section", "key", "value"]);
    assert!(rows.iter().all(|r| r.len() == 3), "{rows:?}");
    let value = |section: &str, key: &str| -> String {
        let matching: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| r[0] == section && r[1] == key)
            .collect();
        assert_eq!(matching.len(), 1, "{section},{key} in {rows:?}");
        matching[0][2].clone()
    };
    // The same figures as the JSON form (see the scenario test for the arithmetic).
    assert_eq!(value("window", "from"), "2026-11-22");
    assert_eq!(value("window", "organisation_id"), "");
    assert_eq!(value("requests", "total"), "7");
    assert_eq!(value("requests_by_trigger", "questions"), "1");
    assert_eq!(value("requests_by_organisation", &s.org_a), "4");
    assert_eq!(value("organisation_name", &s.org_a), NAME_A);
    assert_eq!(value("organisation_name", &s.org_b), NAME_B);
    assert_eq!(value("proposals", "acceptance_rate"), "0.6");
    assert_eq!(value("time_to_first_proposal", "p90_hours"), "33");
    assert_eq!(value("time_to_match", "median_hours"), "33");
    assert_eq!(value("buddy_live_pairings", &s.b2), "1");
    assert_eq!(value("buddy_capacity", &s.c1), "3");
    assert_eq!(value("outcomes_by_end_reason", "goal_reached"), "1");
    assert_eq!(value("outcomes", "average_client_score"), "3.5");
    assert_eq!(value("recruitment", "reached_screening"), "2");
    assert_eq!(value("overdue", "now"), "1");
    // No data: an empty value, where JSON has null.
    let response = app
        .request_with_headers(
            Method::GET,
            "/v1/reports/summary?from=2026-11-21&to=2026-11-22",
            None,
            Vec::new(),
            &[("accept", "text/csv;q=0.9, application/json;q=0.1")],
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let rows = parse_csv(&response.text);
    assert!(rows.contains(&vec![
        "proposals".into(),
        "acceptance_rate".into(),
        String::new()
    ]));

    // JSON wins a tie and is the default.
    for accept in [
        "application/json",
        "*/*",
        "text/csv, application/json",
        "application/*",
    ] {
        let response = app
            .request_with_headers(Method::GET, path, None, Vec::new(), &[("accept", accept)])
            .await;
        assert_eq!(response.status, 200, "{accept}: {}", response.text);
        assert_eq!(response.content_type(), "application/json", "{accept}");
    }
    for accept in [
        "text/html",
        "application/xml, image/*",
        "text/csv;q=0, application/json;q=0",
    ] {
        let response = app
            .request_with_headers(Method::GET, path, None, Vec::new(), &[("accept", accept)])
            .await;
        assert_problem(&response, 406, "not-acceptable");
    }
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let app = spawn_app().await;
    let response = app
        .get("/v1/reports/summary?from=2026-13-01&to=soon&organisation=nobody")
        .await;
    assert_invalid_fields(&response, &["from", "to", "organisation"]);
    // The window must run forward, and for at most five years.
    for query in [
        "from=2026-11-22&to=2026-11-22",
        "from=2026-11-23&to=2026-11-22",
        "from=2021-11-22&to=2026-11-23",
        "from=2026-12-01",
    ] {
        let response = app.get(&format!("/v1/reports/summary?{query}")).await;
        assert_invalid_fields(&response, &["to"]);
    }
    let response = app
        .get("/v1/reports/summary?from=2021-11-22&to=2026-11-22")
        .await;
    assert_eq!(
        response.status, 200,
        "five years exactly: {}",
        response.text
    );
    let response = app.get("/v1/reports/summary?period=month").await;
    assert_invalid_fields(&response, &["period"]);
    // A well-formed but unknown organisation.
    let response = app
        .get(&format!(
            "/v1/reports/summary?organisation={}",
            uuid::Uuid::now_v7()
        ))
        .await;
    assert_problem(&response, 404, "not-found");
}

#[tokio::test]
async fn only_staff_see_reports() {
    let app = spawn_app().await;
    let org = id_of(&create_organisation(&app, NAME_B).await);
    let (_, coordinator) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    app.use_token(Some(&coordinator));
    let response = app.get("/v1/reports/summary").await;
    assert_eq!(response.status, 200, "{}", response.text);
    let (_, key) = app.create_case_system(&org, "Case system").await;
    app.use_token(Some(&key));
    for query in ["", &format!("?organisation={org}")] {
        let response = app.get(&format!("/v1/reports/summary{query}")).await;
        assert_problem(&response, 403, "forbidden");
    }
}

#[tokio::test]
async fn an_empty_programme_reports_zeros_and_nulls() {
    let app = spawn_app().await;
    let r = report(&app, "").await;
    assert_eq!(r["requests"]["total"], 0);
    assert_eq!(
        counts(&r["requests"]["by_trigger"], "trigger", "requests"),
        map([
            ("first_talks", 0),
            ("discontent", 0),
            ("complaint", 0),
            ("questions", 0)
        ])
    );
    assert_eq!(r["proposals"]["expiry_rate"], Value::Null);
    assert_eq!(
        r["time_to_match"],
        json!({ "count": 0, "median_hours": null, "p90_hours": null })
    );
    assert_eq!(r["pairings"], json!({ "active": 0, "load": [] }));
    assert_eq!(r["outcomes"]["average_client_score"], Value::Null);
    assert_eq!(r["overdue"], 0);
}

/// How a spreadsheet with `separator` as its list separator cuts a CSV line into cells: a quote
/// is a text qualifier only at the start of a cell; anywhere else it is just a character.
fn spreadsheet_cells(line: &str, separator: char) -> Vec<String> {
    let mut cells = Vec::new();
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut cell = String::new();
            let mut chars = quoted.char_indices().peekable();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' if chars.peek().map(|p| p.1) == Some('"') => {
                        chars.next();
                        cell.push('"');
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => cell.push(c),
                }
            }
            cells.push(cell);
            rest = &quoted[end..];
            match rest.strip_prefix(separator) {
                Some(next) => rest = next,
                None => {
                    // Text after the closing quote joins the cell, up to the next separator.
                    match rest.find(separator) {
                        Some(at) => {
                            cells.last_mut().unwrap().push_str(&rest[..at]);
                            rest = &rest[at + separator.len_utf8()..];
                        }
                        None => {
                            cells.last_mut().unwrap().push_str(rest);
                            return cells;
                        }
                    }
                }
            }
        } else {
            match rest.find(separator) {
                Some(at) => {
                    cells.push(rest[..at].to_owned());
                    rest = &rest[at + separator.len_utf8()..];
                }
                None => {
                    cells.push(rest.to_owned());
                    return cells;
                }
            }
        }
    }
}

/// Organisation names are typed by staff and end up in the report's CSV, which bureau staff
/// open in a spreadsheet, often with a Dutch locale that splits on `;`. No cell of it may start
/// like a formula, however it is split; and read as the RFC 4180 file it is, each name is one
/// field that shows the name behind a leading `'` where a cell could start a formula.
#[tokio::test]
async fn hostile_organisation_names_cannot_smuggle_formulas_into_the_csv() {
    let app = spawn_app().await;
    let names = [
        "Zorg;=HYPERLINK(\"https://evil.example\";\"klik\")",
        "@SUM(1+1);-2+3,+4",
        "Jeugdzorg; =1+1",
        "-2+3",
    ];
    let mut ids = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let org = id_of(&create_organisation(&app, name).await);
        new_request(&app, &org, &format!("CASE-CSV-{n}"), "questions").await;
        ids.push(org);
    }
    let response = app
        .request_with_headers(
            Method::GET,
            "/v1/reports/summary",
            None,
            Vec::new(),
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    for separator in [',', ';', '\t'] {
        for line in response.text.split("\r\n") {
            for cell in spreadsheet_cells(line, separator) {
                let start = cell.trim_start_matches(' ');
                assert!(
                    !start.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "split on {separator:?}, a cell starts a formula: {cell:?} in {line:?}"
                );
            }
        }
    }
    let rows = parse_csv(&response.text);
    assert!(rows.iter().all(|r| r.len() == 3), "{rows:?}");
    let name_of = |id: &str| -> String {
        rows.iter()
            .find(|r| r[0] == "organisation_name" && r[1] == id)
            .unwrap_or_else(|| panic!("no name of {id} in {rows:?}"))[2]
            .clone()
    };
    assert_eq!(
        name_of(&ids[0]),
        "Zorg;'=HYPERLINK(\"https://evil.example\";\"klik\")"
    );
    assert_eq!(name_of(&ids[1]), "'@SUM(1+1);'-2+3,'+4");
    assert_eq!(name_of(&ids[2]), "Jeugdzorg; '=1+1");
    assert_eq!(name_of(&ids[3]), "'-2+3");
}
