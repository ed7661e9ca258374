//! The buddy's answer from the proposal mail: `GET /respond/{token}` (changes nothing) and
//! `POST /respond/{token}` (accepts or declines once), the tokens behind the links, and the
//! mails around them (proposal, confirmation, decline note), through the outbox, the file
//! transport and a real SMTP server on loopback.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use maatje::respond::links::Links;
use serde_json::{json, Value};

use crate::fixtures::{active_buddy, open_request, organisation, propose};
use crate::helpers::{
    spawn_app, spawn_app_with, Method, Response, TestApp, PUBLIC_BASE_URL, TEST_LINK_SECRET,
};
use crate::mail::{all_rows, mails, spawn_app_with_sink, SmtpSink};

/// The accept and decline links of the proposal mail of `pairing`, as the worker sends them,
/// turned into paths on the test server.
pub(crate) fn proposal_links(app: &TestApp, pairing: &str) -> (String, String) {
    let row = mails(app, "buddy_proposal")
        .into_iter()
        .find(|r| r.related_id.as_deref() == Some(pairing))
        .unwrap_or_else(|| panic!("no proposal mail for pairing {pairing}"));
    let links = Links::new(TEST_LINK_SECRET, PUBLIC_BASE_URL);
    links_in(&links.expand(&row.body_text))
}

/// The first accept and decline links in a text, as paths.
pub(crate) fn links_in(text: &str) -> (String, String) {
    let prefix = format!("{PUBLIC_BASE_URL}/respond/");
    let found: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.starts_with(&prefix))
        .map(|w| w[PUBLIC_BASE_URL.len()..].to_owned())
        .collect();
    let pick = |answer: &str| {
        found
            .iter()
            .find(|l| l.ends_with(&format!("?answer={answer}")))
            .unwrap_or_else(|| panic!("no {answer} link in {text}"))
            .clone()
    };
    (pick("accept"), pick("decline"))
}

/// The path without its query.
fn bare(path: &str) -> &str {
    path.split('?').next().unwrap()
}

pub(crate) async fn open_link(app: &TestApp, path: &str) -> Response {
    app.request_with_headers(
        Method::GET,
        path,
        None,
        Vec::new(),
        &[("authorization", "")],
    )
    .await
}

pub(crate) async fn post_form(app: &TestApp, path: &str, form: &str) -> Response {
    app.request_with_headers(
        Method::POST,
        bare(path),
        Some("application/x-www-form-urlencoded"),
        form.as_bytes().to_vec(),
        &[("authorization", "")],
    )
    .await
}

/// A proposed pairing with a fresh buddy `n` and request. Returns (pairing, request, buddy).
pub(crate) async fn proposal(app: &TestApp, org: &str, n: u32) -> (String, String, String) {
    let buddy = active_buddy(app, org, n, 1).await;
    let request = open_request(app, org, &format!("CASE-R{n}")).await;
    let pairing = propose(app, &request, &buddy).await;
    (pairing, request, buddy)
}

/// Switches a buddy's mail and pages to English.
pub(crate) async fn prefers_english(app: &TestApp, buddy: &str) {
    let response = app
        .patch_json(
            &format!("/v1/buddies/{buddy}"),
            &json!({ "mail_language": "en" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
}

pub(crate) async fn pairing_body(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("/v1/pairings/{id}")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

fn assert_page_headers(response: &Response) {
    let csp = response.header("content-security-policy").unwrap_or("");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'nonce-"),
        "{csp}"
    );
    assert!(csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    assert!(
        response
            .text
            .contains(&format!("<style nonce=\"{nonce}\">")),
        "the page's style carries the header's nonce"
    );
    assert_eq!(response.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert!(
        !response.text.contains("<script"),
        "no scripts on the pages"
    );
}

fn token_rows(app: &TestApp) -> Vec<(String, Option<chrono::NaiveDateTime>)> {
    use diesel::prelude::*;
    use maatje::db::schema::response_tokens::dsl;
    app.with_connection(|conn| {
        dsl::response_tokens
            .select((dsl::token_hash, dsl::used_at))
            .load(conn)
    })
    .expect("readable")
}

#[tokio::test]
async fn the_proposal_mail_names_no_client_and_the_database_holds_no_usable_link() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = proposal(&app, &org, 1).await;
    let mails = mails(&app, "buddy_proposal");
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.recipient, "buddy1@example.org");
    assert_eq!(mail.language, "nl");
    assert_eq!(mail.subject, "Wil je maatje zijn voor een nieuwe cliënt?");
    assert_eq!(mail.related_id.as_deref(), Some(pairing.as_str()));
    for body in [&mail.body_text, &mail.body_html] {
        assert!(body.contains("Utrecht") && body.contains("Buddy Voorbeeld 1"));
        assert!(body.contains("ontevredenheid"), "the trigger, in words");
        // No client identity: first name, e-mail, phone, note, preferences.
        for secret in [
            "Client",
            "client1@example.org",
            "06-87654321",
            "Wants someone",
            "A parent",
            "CASE-R1",
        ] {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
        assert!(body.contains("@@respond:"), "a marker, not a link");
        assert!(!body.contains("/respond/"), "{body}");
    }
    // The token is derived at send time; the table keeps only its hash.
    let (accept, _) = proposal_links(&app, &pairing);
    let token = bare(&accept).trim_start_matches("/respond/");
    assert_eq!(token.len(), 43);
    let tokens = token_rows(&app);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].0.len(), 64);
    assert_ne!(tokens[0].0, token);
    assert!(tokens[0].1.is_none());
}

#[tokio::test]
async fn opening_a_link_shows_the_proposal_and_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, _) = proposal(&app, &org, 1).await;
    let (accept, decline) = proposal_links(&app, &pairing);
    let before = app.table_counts();
    let history_before = app.history(&format!("/v1/pairings/{pairing}")).await;
    for link in [&accept, &decline, &accept] {
        let page = open_link(&app, link).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert_page_headers(&page);
        assert!(page.text.contains("<html lang=\"nl\">"));
        assert!(page.text.contains("Utrecht") && page.text.contains("Buddy Voorbeeld 1"));
        assert!(
            page.text.contains("Ja, ik word maatje") && page.text.contains("Nee, deze keer niet")
        );
        assert!(!page.text.contains("Client") && !page.text.contains("client1@example.org"));
        // The forms post back to the page itself, whatever host the browser used.
        assert!(page.text.contains("<form method=\"post\" action=\"\""));
    }
    let chosen = open_link(&app, &decline).await;
    assert!(
        chosen.text.contains("action=\"\" class=\"chosen\">\n<input type=\"hidden\" name=\"answer\" value=\"decline\">"),
        "the decline link offers declining first: {}",
        chosen.text
    );
    assert_eq!(app.table_counts(), before, "a GET stores nothing");
    assert_eq!(
        app.history(&format!("/v1/pairings/{pairing}")).await,
        history_before
    );
    assert_eq!(pairing_state(&app, &pairing).await, "proposed");
    assert_eq!(request_state(&app, &request).await, "proposed");
    assert!(token_rows(&app)[0].1.is_none(), "the token is still unused");
    // Each opening is in the audit trail, as the buddy reading the pairing.
    let records = app
        .audit_records_where(&format!("object_id={pairing}&actor_type=buddy"))
        .await;
    let by_buddy: Vec<&Value> = records
        .iter()
        .filter(|r| r["route"] == "GET /respond/{token}")
        .collect();
    assert_eq!(by_buddy.len(), 4, "{records:?}");
    assert_eq!(by_buddy[0]["actor"]["type"], "buddy");
    assert_eq!(by_buddy[0]["client_ref"], "CASE-R1");
}

async fn pairing_state(app: &TestApp, id: &str) -> String {
    pairing_body(app, id).await["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn request_state(app: &TestApp, id: &str) -> String {
    let response = app.get(&format!("/v1/buddy-requests/{id}")).await;
    response.body["state"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn accepting_takes_one_click_and_sends_the_contact_details() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, buddy) = proposal(&app, &org, 1).await;
    let (accept, _) = proposal_links(&app, &pairing);
    let done = post_form(&app, &accept, "answer=accept").await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_page_headers(&done);
    assert!(done.text.contains("je bent maatje"), "{}", done.text);
    assert_eq!(pairing_state(&app, &pairing).await, "accepted");
    assert_eq!(request_state(&app, &request).await, "matched");
    let history = app.history(&format!("/v1/pairings/{pairing}")).await;
    let last = history.last().unwrap();
    assert_eq!(last["action"], "accept");
    assert_eq!(last["actor"]["type"], "buddy", "{last}");
    assert_eq!(last["actor"]["id"], buddy.as_str(), "{last}");
    // The confirmation, with what the client consented to share.
    let confirmations = mails(&app, "buddy_confirmation");
    assert_eq!(confirmations.len(), 1);
    let mail = &confirmations[0];
    assert_eq!(mail.recipient, "buddy1@example.org");
    assert_eq!(mail.subject, "Je bent maatje: zo neem je contact op");
    for body in [&mail.body_text, &mail.body_html] {
        assert!(body.contains("Client") && body.contains("client1@example.org"));
        assert!(body.contains("06-87654321"));
    }
    assert!(token_rows(&app)[0].1.is_some(), "the token is used up");
    let records = app
        .audit_records_where(&format!("object_id={pairing}&actor_type=buddy"))
        .await;
    let answered: Vec<&Value> = records
        .iter()
        .filter(|r| r["route"] == "POST /respond/{token}")
        .collect();
    assert_eq!(answered.len(), 1, "{records:?}");
    assert_eq!(answered[0]["actor"]["type"], "buddy");
    assert_eq!(answered[0]["actor"]["id"], buddy.as_str());
    assert_eq!(answered[0]["outcome"], "allowed");
    assert_eq!(answered[0]["client_ref"], "CASE-R1");
}

#[tokio::test]
async fn a_used_link_answers_410_with_a_page_and_changes_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = proposal(&app, &org, 1).await;
    let (accept, decline) = proposal_links(&app, &pairing);
    assert_eq!(post_form(&app, &accept, "answer=accept").await.status, 200);
    let before = app.table_counts();
    for response in [
        open_link(&app, &accept).await,
        open_link(&app, &decline).await,
        post_form(&app, &decline, "answer=decline").await,
        post_form(&app, &accept, "answer=accept").await,
    ] {
        assert_eq!(response.status, 410, "{}", response.text);
        assert_page_headers(&response);
        assert!(
            response.text.contains("Deze link is al gebruikt"),
            "{}",
            response.text
        );
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(pairing_state(&app, &pairing).await, "accepted");
    assert_eq!(
        mails(&app, "buddy_confirmation").len(),
        1,
        "one confirmation"
    );
}

#[tokio::test]
async fn declining_keeps_the_reason_reopens_the_request_and_tells_the_bureau() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, _) = proposal(&app, &org, 1).await;
    let (_, decline) = proposal_links(&app, &pairing);
    let done = post_form(&app, &decline, "answer=decline&reason=Te+druk+met+werk").await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(
        done.text.contains("We vragen een ander maatje"),
        "{}",
        done.text
    );
    let row = pairing_body(&app, &pairing).await;
    assert_eq!(row["state"], "declined");
    assert_eq!(row["decline_reason"], "Te druk met werk", "{row}");
    assert_eq!(request_state(&app, &request).await, "open");
    let notes = mails(&app, "bureau_declined");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].recipient, "bureau@example.org");
    assert_eq!(notes[0].language, "nl");
    assert!(notes[0].body_text.contains("Te druk met werk"));
    assert!(notes[0].body_text.contains(&request));
    assert!(mails(&app, "buddy_confirmation").is_empty());
}

#[tokio::test]
async fn an_expired_proposal_answers_410_with_its_own_page() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, _) = proposal(&app, &org, 1).await;
    let (accept, _) = proposal_links(&app, &pairing);
    // Still valid a minute before the 72 hours are up.
    app.clock
        .advance(chrono::Duration::hours(72) - chrono::Duration::minutes(1));
    assert_eq!(open_link(&app, &accept).await.status, 200);
    app.clock.advance(chrono::Duration::minutes(1));
    let before = app.table_counts();
    for response in [
        open_link(&app, &accept).await,
        post_form(&app, &accept, "answer=accept").await,
    ] {
        assert_eq!(response.status, 410, "{}", response.text);
        assert!(
            response.text.contains("Dit voorstel is verlopen"),
            "{}",
            response.text
        );
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(pairing_state(&app, &pairing).await, "proposed");
    assert_eq!(request_state(&app, &request).await, "proposed");
}

#[tokio::test]
async fn a_proposal_answered_by_staff_or_withdrawn_closes_its_link() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (first, _, _) = proposal(&app, &org, 1).await;
    let (second, second_request, _) = proposal(&app, &org, 2).await;
    let (first_link, _) = proposal_links(&app, &first);
    let (second_link, _) = proposal_links(&app, &second);
    assert_eq!(
        app.post_empty(&format!("/v1/pairings/{first}/accept"))
            .await
            .status,
        200
    );
    let withdrawn = app
        .post_empty(&format!("/v1/buddy-requests/{second_request}/withdraw"))
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text);
    // The buddy of the withdrawn request is told there is nothing left to do.
    let told = mails(&app, "buddy_withdrawn");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].recipient, "buddy2@example.org");
    assert_eq!(told[0].related_id.as_deref(), Some(second.as_str()));
    assert_eq!(told[0].subject, "Het voorstel is ingetrokken");
    let before = app.table_counts();
    for link in [&first_link, &second_link] {
        for response in [
            open_link(&app, link).await,
            post_form(&app, link, "answer=decline").await,
        ] {
            assert_eq!(response.status, 410, "{}", response.text);
            assert!(
                response.text.contains("niet meer open"),
                "{}",
                response.text
            );
        }
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(pairing_state(&app, &first).await, "accepted");
    assert_eq!(pairing_state(&app, &second).await, "cancelled");
}

#[tokio::test]
async fn unknown_tokens_and_bad_forms_get_a_page_and_change_nothing() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = proposal(&app, &org, 1).await;
    let (accept, _) = proposal_links(&app, &pairing);
    let before = app.table_counts();
    let forged = format!("/respond/{}", "A".repeat(43));
    for path in ["/respond/abc", forged.as_str(), "/respond/%00%01"] {
        let page = open_link(&app, path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.text);
        assert_page_headers(&page);
        assert!(page.text.contains("Deze link is niet geldig"));
        assert_eq!(post_form(&app, path, "answer=accept").await.status, 404);
    }
    let english = app
        .request_with_headers(
            Method::GET,
            &forged,
            None,
            Vec::new(),
            &[("authorization", ""), ("accept-language", "en-GB,en;q=0.8")],
        )
        .await;
    assert!(english.text.contains("This link is not valid"));
    for form in [
        "",
        "answer=maybe",
        "answer=accept&reason=because",
        "answer=accept&admin=1",
        &format!("answer=decline&reason={}", "x".repeat(501)),
    ] {
        let response = post_form(&app, &accept, form).await;
        assert_eq!(response.status, 400, "{form}: {}", response.text);
        assert!(response.text.contains("Je antwoord kwam niet goed door"));
    }
    let json = app
        .request_with_headers(
            Method::POST,
            bare(&accept),
            Some("application/json"),
            br#"{"answer":"accept"}"#.to_vec(),
            &[("authorization", "")],
        )
        .await;
    assert_eq!(json.status, 400);
    assert_eq!(app.table_counts(), before);
    assert_eq!(pairing_state(&app, &pairing).await, "proposed");
    assert!(
        token_rows(&app)[0].1.is_none(),
        "a bad form does not use the token"
    );
    // A failed attempt with an unknown token is audited without an actor or object.
    let denied = app.audit_records_where("outcome=denied").await;
    assert!(denied
        .iter()
        .any(|r| r["route"] == "GET /respond/{token}" && r["actor"]["type"] == "unauthenticated"));
}

#[tokio::test]
async fn an_english_buddy_gets_english_mail_and_pages() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 7, 1).await;
    prefers_english(&app, &buddy).await;
    let request = open_request(&app, &org, "CASE-EN").await;
    let pairing = propose(&app, &request, &buddy).await;
    let mail = mails(&app, "buddy_proposal").pop().unwrap();
    assert_eq!(mail.language, "en");
    assert_eq!(mail.subject, "Would you be the buddy of a new client?");
    assert!(mail.body_text.contains("discontent with the help"));
    let (accept, _) = proposal_links(&app, &pairing);
    let page = open_link(&app, &accept).await;
    assert!(page.text.contains("<html lang=\"en\">"));
    assert!(page.text.contains("Yes, I will be the buddy"));
    let done = post_form(&app, &accept, "answer=accept").await;
    assert!(done.text.contains("you are the buddy"), "{}", done.text);
    let confirmation = mails(&app, "buddy_confirmation").pop().unwrap();
    assert_eq!(
        confirmation.subject,
        "You are the buddy: how to get in touch"
    );
    // The bureau keeps its own language.
    assert_eq!(
        mails(&app, "bureau_new_request").pop().unwrap().language,
        "nl"
    );
}

#[tokio::test]
async fn links_come_from_the_public_base_url_never_from_the_host_header() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, _) = proposal(&app, &org, 1).await;
    let (accept, _) = proposal_links(&app, &pairing);
    let page = app
        .request_with_headers(
            Method::GET,
            &accept,
            None,
            Vec::new(),
            &[("authorization", ""), ("host", "evil.example")],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("evil.example"), "{}", page.text);
    assert!(
        !page.text.contains("http"),
        "the page holds no absolute URL"
    );
}

/// Decodes the parts of a multipart message by content type (quoted-printable, base64 or as is).
pub(crate) fn mime_parts(eml: &str) -> BTreeMap<String, String> {
    let eml = eml.replace("\r\n", "\n");
    let boundary = eml
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no boundary in {eml}"))
        .to_owned();
    let mut parts = BTreeMap::new();
    for chunk in eml.split(&format!("--{boundary}")).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let (head, body) = chunk.trim_start_matches('\n').split_once("\n\n").unwrap();
        let field = |name: &str| {
            head.lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_ascii_lowercase())
                })
                .unwrap_or_default()
        };
        let content_type = field("content-type").split(';').next().unwrap().to_owned();
        let decoded = match field("content-transfer-encoding").as_str() {
            "base64" => {
                let compact: String = body.split_whitespace().collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .expect("base64"),
                )
                .expect("utf-8")
            }
            "quoted-printable" => quoted_printable(body),
            _ => body.to_owned(),
        };
        parts.insert(content_type, decoded);
    }
    parts
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

/// Waits (at most 30 s) for `count` `.eml` files in `dir`; returns their texts.
async fn wait_for_files(dir: &Path, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut texts: Vec<(std::path::PathBuf, String)> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        if texts.len() >= count {
            texts.sort();
            return texts.into_iter().map(|(_, t)| t).collect();
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} mails in {}",
            texts.len(),
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The issue's "done when": a request and a proposal leave a readable proposal mail in the mail
/// directory whose link opens a page that accepts with one click; the confirmation follows.
#[tokio::test]
async fn a_proposal_mail_on_disk_leads_to_one_click_acceptance_and_a_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(&[
        ("MAATJE__MAIL__WORKER_ENABLED", "true"),
        ("MAATJE__MAIL__POLL_INTERVAL_MS", "20"),
        ("MAATJE__MAIL__FILE_DIR", &mail_dir),
    ])
    .await;
    let org = organisation(&app).await;
    let (pairing, request, _) = proposal(&app, &org, 1).await;
    // The bureau's note about the new request, then the proposal.
    let files = wait_for_files(dir.path(), 2).await;
    let proposal_mail = files
        .iter()
        .find(|t| t.contains("To: buddy1@example.org"))
        .unwrap_or_else(|| panic!("no proposal mail in {files:?}"));
    let parts = mime_parts(proposal_mail);
    let text = &parts["text/plain"];
    assert!(text.starts_with("Beste Buddy Voorbeeld 1,"), "{text}");
    let (accept, _) = links_in(text);
    assert!(parts["text/html"].contains(&format!("href=\"{PUBLIC_BASE_URL}{accept}\"")));
    let page = open_link(&app, &accept).await;
    assert_eq!(page.status, 200);
    // The one click: the page's accept form.
    assert!(page
        .text
        .contains("<input type=\"hidden\" name=\"answer\" value=\"accept\">"));
    let done = post_form(&app, &accept, "answer=accept").await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(request_state(&app, &request).await, "matched");
    assert_eq!(pairing_state(&app, &pairing).await, "accepted");
    let files = wait_for_files(dir.path(), 3).await;
    let confirmation = files
        .iter()
        .filter(|t| t.contains("To: buddy1@example.org"))
        .map(|t| mime_parts(t)["text/plain"].clone())
        .find(|t| t.contains("Dit zijn de gegevens van de cliënt"))
        .unwrap_or_else(|| panic!("no confirmation in {files:?}"));
    assert!(confirmation.contains("Voornaam:  Client"), "{confirmation}");
    assert!(
        confirmation.contains("client1@example.org"),
        "{confirmation}"
    );
}

#[tokio::test]
async fn the_proposal_over_smtp_has_both_parts_its_language_and_message_id() {
    let sink = SmtpSink::start();
    let app = spawn_app_with_sink(&sink, &[]).await;
    let org = organisation(&app).await;
    let buddy = active_buddy(&app, &org, 3, 1).await;
    prefers_english(&app, &buddy).await;
    let request = open_request(&app, &org, "CASE-SMTP").await;
    let pairing = propose(&app, &request, &buddy).await;
    let outbox_id = mails(&app, "buddy_proposal").pop().unwrap().id;
    let deadline = Instant::now() + Duration::from_secs(30);
    let received = loop {
        let received = sink.received();
        if let Some(m) = received
            .iter()
            .find(|m| m.starts_with("X-Sink-Rcpt: buddy3@example.org"))
        {
            break m.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no proposal arrived: {received:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let header = |name: &str| {
        received
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    assert_eq!(header("To"), "buddy3@example.org");
    assert_eq!(header("Subject"), "Would you be the buddy of a new client?");
    assert_eq!(header("Message-ID"), format!("<{outbox_id}@maatje.local>"));
    let parts = mime_parts(&received);
    assert_eq!(parts.len(), 2, "{received}");
    assert!(parts["text/plain"].starts_with("Dear Buddy Voorbeeld 3,"));
    assert!(parts["text/html"].contains("<html lang=\"en\">"));
    let (accept, _) = links_in(&parts["text/plain"]);
    let token = bare(&accept).trim_start_matches("/respond/");
    assert_eq!(
        token_rows(&app)[0].0,
        maatje::respond::links::token_hash(token),
        "the link the worker sent is the pairing's token"
    );
    let _ = &pairing;
    assert_eq!(open_link(&app, &accept).await.status, 200);
}

#[tokio::test]
async fn staff_actions_send_the_same_mails_as_the_buddy_links() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let first = active_buddy(&app, &org, 1, 1).await;
    let second = active_buddy(&app, &org, 2, 1).await;
    let request = open_request(&app, &org, "CASE-STAFF").await;
    let news = mails(&app, "bureau_new_request");
    assert_eq!(news.len(), 1);
    assert_eq!(news[0].recipient, "bureau@example.org");
    assert_eq!(
        news[0].subject,
        "maatje: Nieuwe maatjesaanvraag (Gecertificeerde Instelling Test)"
    );
    assert!(news[0].body_text.contains(&request));
    assert!(!news[0].body_text.contains("Client") && !news[0].body_text.contains("CASE-STAFF"));
    let declined = propose(&app, &request, &first).await;
    let response = app
        .post_json(
            &format!("/v1/pairings/{declined}/decline"),
            &json!({ "reason": "Op vakantie" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let notes = mails(&app, "bureau_declined");
    assert_eq!(notes.len(), 1);
    assert!(notes[0].body_text.contains("Op vakantie"));
    let pairing = propose(&app, &request, &second).await;
    for step in ["accept", "activate"] {
        let response = app
            .post_empty(&format!("/v1/pairings/{pairing}/{step}"))
            .await;
        assert_eq!(response.status, 200, "{step}: {}", response.text);
    }
    let ended = app
        .post_json(
            &format!("/v1/pairings/{pairing}/end"),
            &json!({ "reason": "goal_reached" }),
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text);
    let thanks = mails(&app, "buddy_thanks");
    assert_eq!(thanks.len(), 1);
    assert_eq!(thanks[0].recipient, "buddy2@example.org");
    assert_eq!(thanks[0].subject, "Dank je wel, maatje");
    let kinds: Vec<String> = all_rows(&app).into_iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            "bureau_new_request",
            "buddy_proposal",
            "bureau_declined",
            "buddy_proposal",
            "buddy_confirmation",
            // The client chose e-mail: invited to give feedback (README, "Client feedback").
            "client_feedback_invitation",
            "buddy_thanks",
        ],
        "one mail per event, nothing for activate"
    );
}

#[tokio::test]
async fn mail_contents_go_once_sent_or_when_the_people_in_them_are_erased() {
    // Sent: the worker keeps no contents.
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(&[
        ("MAATJE__MAIL__WORKER_ENABLED", "true"),
        ("MAATJE__MAIL__POLL_INTERVAL_MS", "20"),
        ("MAATJE__MAIL__FILE_DIR", &mail_dir),
    ])
    .await;
    let org = organisation(&app).await;
    proposal(&app, &org, 1).await;
    wait_for_files(dir.path(), 2).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while all_rows(&app).iter().any(|r| r.state.as_str() != "sent") {
        assert!(Instant::now() < deadline, "{:?}", all_rows(&app));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for row in all_rows(&app) {
        assert!(
            row.body_text.is_empty() && row.body_html.is_empty(),
            "{row:?}"
        );
        assert!(!row.subject.is_empty());
    }

    // Unsent, then erased: the client's contact details leave the outbox with the client.
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, buddy) = proposal(&app, &org, 1).await;
    for step in ["accept", "activate"] {
        assert_eq!(
            app.post_empty(&format!("/v1/pairings/{pairing}/{step}"))
                .await
                .status,
            200
        );
    }
    let ended = app
        .post_json(
            &format!("/v1/pairings/{pairing}/end"),
            &json!({ "reason": "goal_reached" }),
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text);
    let confirmation = mails(&app, "buddy_confirmation").pop().unwrap();
    assert!(confirmation.body_text.contains("client1@example.org"));
    let erased = app
        .post_json(
            "/v1/privacy/clients/erase",
            &json!({ "organisation_id": org, "client_ref": "CASE-R1", "reason": "asked" }),
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    for row in all_rows(&app)
        .into_iter()
        .filter(|r| r.related_id.as_deref() == Some(pairing.as_str()))
    {
        assert!(
            row.body_text.is_empty() && row.body_html.is_empty(),
            "{row:?}"
        );
        assert_eq!(row.state.as_str(), "dead", "never sent: {row:?}");
        assert_eq!(
            row.last_error.as_deref(),
            Some(maatje::store::outbox::CONTENTS_ERASED)
        );
        let retry = app
            .post_empty(&format!("/v1/outbox/{}/retry", row.id))
            .await;
        assert_eq!(retry.status, 409, "{}", retry.text);
    }
    // Erasing the buddy removes their address from the outbox.
    let erased = app.post_empty(&format!("/v1/buddies/{buddy}/erase")).await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert!(all_rows(&app)
        .iter()
        .all(|r| r.recipient != "buddy1@example.org"));
}

#[tokio::test]
async fn an_instance_with_another_link_secret_refuses_to_start() {
    let app = spawn_app().await;
    let same = Links::new(TEST_LINK_SECRET, PUBLIC_BASE_URL);
    app.with_connection(|conn| same.ensure_shared(conn))
        .expect("the same secret is fine");
    let mut settings = app.settings.clone();
    settings.mail.link_secret = "another-link-secret-0123456789abcdef0123".into();
    let refused = maatje::startup::Application::build(
        &settings,
        maatje::domain::clock::Clock::manual(crate::helpers::start_time()),
    )
    .err()
    .expect("another secret is refused");
    let message = format!("{refused:#}");
    assert!(message.contains("mail.link_secret"), "{message}");
    assert!(
        !message.contains("another-link-secret"),
        "the secret is never printed"
    );
}

/// Pausing or retiring a buddy with a proposal waiting for their answer cancels it, as the
/// proposal can no longer be taken on: the request is open again, the bureau is told, and the
/// links in the proposal mail answer 410 and change nothing.
#[tokio::test]
async fn pausing_or_retiring_a_buddy_cancels_their_pending_proposal_and_its_links() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    for (n, action, state) in [(1, "pause", "paused"), (2, "retire", "retired")] {
        let (pairing, request, buddy) = proposal(&app, &org, n).await;
        let (accept, decline) = proposal_links(&app, &pairing);
        let response = app
            .post_empty(&format!("/v1/buddies/{buddy}/{action}"))
            .await;
        assert_eq!(response.status, 200, "{action}: {}", response.text);
        assert_eq!(response.body["state"], state);
        assert_eq!(pairing_state(&app, &pairing).await, "cancelled", "{action}");
        assert_eq!(request_state(&app, &request).await, "open", "{action}");
        let last = app.history(&format!("/v1/pairings/{pairing}")).await;
        let last = last.last().unwrap();
        assert_eq!(
            (&last["action"], &last["from_state"], &last["to_state"]),
            (&json!("cancel"), &json!("proposed"), &json!("cancelled")),
            "{last}"
        );
        assert_eq!(last["reason"], format!("buddy {state}"), "{last}");
        let last = app.history(&format!("/v1/buddy-requests/{request}")).await;
        let last = last.last().unwrap();
        assert_eq!(
            (&last["action"], &last["from_state"], &last["to_state"]),
            (
                &json!("proposal-cancelled"),
                &json!("proposed"),
                &json!("open")
            ),
            "{last}"
        );
        let notes: Vec<_> = mails(&app, "bureau_cancelled")
            .into_iter()
            .filter(|m| m.related_id.as_deref() == Some(pairing.as_str()))
            .collect();
        assert_eq!(notes.len(), 1, "{action}: the bureau is told");
        assert_eq!(notes[0].recipient, "bureau@example.org");
        assert!(
            notes[0].body_text.contains(&request),
            "{}",
            notes[0].body_text
        );
        let before = app.table_counts();
        for response in [
            open_link(&app, &accept).await,
            post_form(&app, &accept, "answer=accept").await,
            post_form(&app, &decline, "answer=decline").await,
        ] {
            assert_eq!(response.status, 410, "{action}: {}", response.text);
            assert!(
                response.text.contains("niet meer open"),
                "{}",
                response.text
            );
        }
        assert_eq!(app.table_counts(), before, "{action}");
        assert!(mails(&app, "buddy_confirmation").is_empty(), "{action}");
    }
    // A buddy with an accepted pairing is still not retired: that pairing must end first.
    let (pairing, _, buddy) = proposal(&app, &org, 3).await;
    let response = app
        .post_empty(&format!("/v1/pairings/{pairing}/accept"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let response = app.post_empty(&format!("/v1/buddies/{buddy}/retire")).await;
    crate::helpers::assert_problem(&response, 409, "buddy-has-live-pairings");
}

/// An answer needs an active buddy, whatever else holds: a link of a buddy who is not active
/// answers 410 even while the proposal is still open.
#[tokio::test]
async fn a_link_of_a_buddy_who_is_not_active_answers_410() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, _, buddy) = proposal(&app, &org, 1).await;
    let (accept, _) = proposal_links(&app, &pairing);
    app.with_connection(|conn| {
        use diesel::prelude::*;
        use maatje::db::schema::buddies;
        diesel::update(buddies::table.find(&buddy))
            .set(buddies::state.eq("paused"))
            .execute(conn)
            .unwrap();
    });
    let before = app.table_counts();
    for response in [
        open_link(&app, &accept).await,
        post_form(&app, &accept, "answer=accept").await,
    ] {
        assert_eq!(response.status, 410, "{}", response.text);
        assert!(
            response.text.contains("niet meer open"),
            "{}",
            response.text
        );
    }
    assert_eq!(app.table_counts(), before);
    assert_eq!(pairing_state(&app, &pairing).await, "proposed");
    assert!(mails(&app, "buddy_confirmation").is_empty());
}

/// A changed e-mail address takes the proposal with it: the old links answer 410 (whoever reads
/// the old mailbox cannot accept and get the client's contact details), and the proposal is
/// mailed to the new address with a fresh link, with the same deadline.
#[tokio::test]
async fn a_changed_email_address_gets_the_proposal_with_a_fresh_link_and_the_old_one_dies() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let (pairing, request, buddy) = proposal(&app, &org, 1).await;
    let (old_accept, old_decline) = proposal_links(&app, &pairing);
    let first = mails(&app, "buddy_proposal");
    assert_eq!(first.len(), 1);
    let response = app
        .patch_json(
            &format!("/v1/buddies/{buddy}"),
            &json!({ "email": "nieuw.adres@example.org" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    for response in [
        open_link(&app, &old_accept).await,
        post_form(&app, &old_accept, "answer=accept").await,
        post_form(&app, &old_decline, "answer=decline").await,
    ] {
        assert_eq!(response.status, 410, "{}", response.text);
    }
    assert_eq!(pairing_state(&app, &pairing).await, "proposed");
    assert!(mails(&app, "buddy_confirmation").is_empty());
    let proposals = mails(&app, "buddy_proposal");
    assert_eq!(proposals.len(), 2, "the proposal is mailed again");
    let again = &proposals[1];
    assert_eq!(again.recipient, "nieuw.adres@example.org");
    assert_eq!(again.related_id.as_deref(), Some(pairing.as_str()));
    assert_eq!(
        again.body_text.lines().find(|l| l.contains("2026")),
        first[0].body_text.lines().find(|l| l.contains("2026")),
        "the same deadline"
    );
    let links = Links::new(TEST_LINK_SECRET, PUBLIC_BASE_URL);
    let (accept, _) = links_in(&links.expand(&again.body_text));
    assert_ne!(bare(&accept), bare(&old_accept));
    let page = open_link(&app, &accept).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let done = post_form(&app, &accept, "answer=accept").await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(request_state(&app, &request).await, "matched");
    let confirmations = mails(&app, "buddy_confirmation");
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0].recipient, "nieuw.adres@example.org");
    // A change that leaves the address as it was sends nothing.
    let response = app
        .patch_json(
            &format!("/v1/buddies/{buddy}"),
            &json!({ "region": "Zeist" }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(mails(&app, "buddy_proposal").len(), 2);
}

/// Only the markers the service places become links: a marker typed into a buddy's name or an
/// organisation's name (anything rendered from user input) stays text in every mail.
#[tokio::test]
async fn markers_in_names_never_become_links() {
    let app = spawn_app().await;
    let planted = "0123456789abcdef0123456789abcdef";
    let marker = format!("@@respond:{planted}:accept@@");
    let org_name = format!("Instelling {marker}");
    let org = crate::helpers::id_of(&crate::helpers::create_organisation(&app, &org_name).await);
    let (pairing, _, buddy) = proposal(&app, &org, 1).await;
    let response = app
        .patch_json(
            &format!("/v1/buddies/{buddy}"),
            &json!({ "name": format!("Jan{marker}") }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    // A reminder renders the new name with the proposal's own links.
    let reminder = app.with_connection(|conn| {
        let row = maatje::store::pairings::find(conn, &pairing.as_str().into()).unwrap();
        app.notices()
            .reminder(conn, &row, chrono::Utc::now().naive_utc())
            .unwrap()
    });
    assert!(reminder.is_some());
    let links = Links::new(TEST_LINK_SECRET, PUBLIC_BASE_URL);
    let planted_link = links.token(planted);
    let mut checked = 0;
    for mail in all_rows(&app) {
        for body in [&mail.body_text, &mail.body_html, &mail.subject] {
            let sent = links.expand(body);
            assert!(
                !sent.contains(&planted_link),
                "{}: the planted marker became a link: {sent}",
                mail.kind
            );
            let proposal = mail.kind == "buddy_proposal" || mail.kind == "buddy_reminder";
            let own = if proposal && body.as_str() != mail.subject {
                2
            } else {
                0
            };
            assert_eq!(
                sent.matches("/respond/").count(),
                own,
                "{}: {sent}",
                mail.kind
            );
        }
        checked += 1;
    }
    assert!(checked >= 3, "bureau note, proposal and reminder");
    // The name is still readable in the reminder, the service's own links still work.
    let reminder = mails(&app, "buddy_reminder");
    assert!(
        reminder[0].body_text.contains("Jan"),
        "{}",
        reminder[0].body_text
    );
    let (accept, _) = links_in(&links.expand(&reminder[0].body_text));
    assert_eq!(open_link(&app, &accept).await.status, 200);
}
