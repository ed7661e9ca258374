//! Access control from the outside: who may call which operation (the role matrix), what one
//! organisation's case system can see of another's (object-level checks), and server-owned
//! fields in request bodies (mass assignment).
//!
//! The expectations are written from the actor table of `DESIGN.md`, on purpose without looking
//! at the rules the server declares: the two must agree. Each test module of a resource keeps the
//! rows of its operations (`ACCESS`, beside its other tests), and a route added to the contract
//! without a row fails the matrix until someone decides who may call it.

use std::collections::BTreeSet;

use chrono::Duration;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{active_buddy, candidate, open_request, profile, propose, request_body};
use crate::helpers::{
    assert_invalid_fields, assert_problem, create_organisation, id_of, spawn_app_with, spec_paths,
    start_time, time_of, Method, Response, TestApp, STAFF_PASSWORD,
};
use maatje::auth::StaffRole;

/// Generous abuse limits: the matrix sends several hundred requests from one address.
const NO_LIMITS: &[(&str, &str)] = &[
    ("MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE", "100000"),
    ("MAATJE__LIMITS__PER_CLIENT_PER_MINUTE", "100000"),
    ("MAATJE__LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE", "100000"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    CaseSystem,
    Coordinator,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Allowed {
    /// Anyone, with or without (valid) credentials.
    Public,
    /// Only these roles; any other valid credentials get 403, invalid ones 401.
    Roles(&'static [Role]),
}

pub(crate) const PUBLIC: Allowed = Allowed::Public;
/// Case systems, coordinators and admins.
pub(crate) const ANY: Allowed = Allowed::Roles(&[Role::CaseSystem, Role::Coordinator, Role::Admin]);
/// Coordinators and admins.
pub(crate) const STAFF: Allowed = Allowed::Roles(&[Role::Coordinator, Role::Admin]);
pub(crate) const ADMIN: Allowed = Allowed::Roles(&[Role::Admin]);

/// One operation's expected access: method, path template (as in the contract), who may call it.
pub(crate) type Row = (&'static str, &'static str, Allowed);

/// Who may call each operation of the contract, from the actor table of `DESIGN.md`:
/// case systems file buddy requests and exit-interview outcomes and read, follow and withdraw
/// their requests; coordinators may do everything except staff accounts, API clients and
/// creating, deactivating or reactivating organisations; admins may do everything.
///
/// The rows sit in each resource's test module (`ACCESS`), so a new endpoint's access is decided
/// in its own test file; the matrix takes them all.
fn rows() -> impl Iterator<Item = &'static Row> {
    [
        crate::health::ACCESS,
        crate::auth::ACCESS,
        crate::audit::ACCESS,
        crate::mail::ACCESS,
        crate::privacy::ACCESS,
        crate::organisations::ACCESS,
        crate::exit_interviews::ACCESS,
        crate::buddies::ACCESS,
        crate::requests::ACCESS,
        crate::matching::ACCESS,
        crate::pairings::ACCESS,
        crate::contacts::ACCESS,
        crate::reports::ACCESS,
        crate::events::ACCESS,
        crate::webhooks::ACCESS,
        crate::feedback::ACCESS,
    ]
    .into_iter()
    .flatten()
}

/// Every operation of the OpenAPI spec: method, path template, and whether it takes a body.
fn spec_operations() -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for (path, item) in spec_paths() {
        for (method, operation) in item.as_object().expect("a path item") {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                let has_body = operation.get("requestBody").is_some();
                out.push((method.to_uppercase(), path.clone(), has_body));
            }
        }
    }
    out
}

fn expected(method: &str, template: &str) -> Option<Allowed> {
    rows()
        .find(|(m, p, _)| *m == method && *p == template)
        .map(|(_, _, allowed)| *allowed)
}

#[test]
fn every_operation_of_the_contract_has_an_expected_access() {
    let operations = spec_operations();
    let undecided: Vec<String> = operations
        .iter()
        .filter(|(method, path, _)| expected(method, path).is_none())
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert!(
        undecided.is_empty(),
        "operations without a row in an ACCESS table (decide who may call them, beside their tests): {undecided:#?}"
    );
    let listed: BTreeSet<(String, String)> = operations
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    let stale: Vec<String> = rows()
        .filter(|(m, p, _)| !listed.contains(&(m.to_string(), p.to_string())))
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert!(
        stale.is_empty(),
        "rows for operations the spec lacks: {stale:#?}"
    );
    let mut seen = BTreeSet::new();
    for (m, p, _) in rows() {
        assert!(seen.insert((m, p)), "two rows for {m} {p}");
    }
}

/// Who a request is made as.
#[derive(Debug, Clone)]
struct Caller {
    name: &'static str,
    /// The `Authorization` header; empty for none.
    authorization: String,
    /// `None`: the credentials are not valid (a 401 wherever credentials are needed).
    role: Option<Role>,
    /// A valid key of an organisation that left the programme: a 403 `organisation-inactive`
    /// wherever credentials are needed.
    inactive_organisation: bool,
}

impl Caller {
    fn invalid(name: &'static str, authorization: String) -> Self {
        Caller {
            name,
            authorization,
            role: None,
            inactive_organisation: false,
        }
    }

    fn bearer(name: &'static str, token: &str, role: Option<Role>) -> Self {
        Caller {
            name,
            authorization: format!("Bearer {token}"),
            role,
            inactive_organisation: false,
        }
    }

    fn of_inactive_organisation(name: &'static str, token: &str) -> Self {
        Caller {
            inactive_organisation: true,
            ..Caller::bearer(name, token, Some(Role::CaseSystem))
        }
    }
}

/// A token with the right shape whose id names nothing.
fn unknown_token(kind: &str) -> String {
    format!("mtj_{kind}_{}_{}", Uuid::now_v7().simple(), "A".repeat(43))
}

/// The key id of an API key token, as the API shows it.
fn key_id_of(token: &str) -> String {
    let id = token
        .strip_prefix("mtj_ak_")
        .and_then(|rest| rest.get(..32))
        .unwrap_or_else(|| panic!("not an API key: {token}"));
    Uuid::parse_str(id).expect("a hex id").to_string()
}

/// Issues another key for `client` as the admin; returns its id and token.
async fn issue_key(app: &TestApp, client: &str, body: &Value) -> (String, String) {
    let response = as_admin(
        app,
        Method::POST,
        &format!("/v1/api-clients/{client}/keys"),
        body,
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text);
    (
        response.body["key"]["id"].as_str().unwrap().to_owned(),
        response.body["token"].as_str().unwrap().to_owned(),
    )
}

/// A request with an explicit `Authorization` header (empty: none), whatever the app's token.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    authorization: &str,
) -> Response {
    let (content_type, bytes) = match body {
        Some(body) => (
            Some("application/json"),
            serde_json::to_vec(body).expect("JSON"),
        ),
        None => (None, Vec::new()),
    };
    app.request_with_headers(
        method,
        path,
        content_type,
        bytes,
        &[("authorization", authorization)],
    )
    .await
}

async fn as_admin(app: &TestApp, method: Method, path: &str, body: &Value) -> Response {
    let authorization = format!("Bearer {}", app.admin_token);
    send(app, method, path, Some(body), &authorization).await
}

/// Logs in through the API; returns the session token.
async fn login(app: &TestApp, email: &str) -> String {
    let response = send(
        app,
        Method::POST,
        "/v1/auth/login",
        Some(&json!({ "email": email, "password": STAFF_PASSWORD })),
        "",
    )
    .await;
    assert_eq!(response.status, 200, "login {email}: {}", response.text);
    response.body["token"].as_str().unwrap().to_owned()
}

/// Real ids for the path templates, so that allowed calls mostly reach real objects.
struct Ids {
    organisation: String,
    staff: String,
    api_client: String,
    api_key: String,
    exit_interview: String,
    buddy: String,
    request: String,
    pairing: String,
}

impl Ids {
    fn path(&self, template: &str) -> String {
        let id = match template.split('/').nth(2) {
            Some("organisations") => self.organisation.clone(),
            Some("staff") => self.staff.clone(),
            Some("api-clients") => self.api_client.clone(),
            Some("exit-interviews") => self.exit_interview.clone(),
            Some("buddies") => self.buddy.clone(),
            Some("buddy-requests") => self.request.clone(),
            Some("pairings") => self.pairing.clone(),
            // A route this test does not know yet: any well-formed id will do.
            _ => Uuid::now_v7().to_string(),
        };
        template
            .replace("{id}", &id)
            .replace("{key_id}", &self.api_key)
            .replace("{buddy_id}", &self.buddy)
    }
}

/// What is wrong with `response` for `caller` calling an operation that `allowed` permits, if
/// anything.
fn verdict(allowed: Allowed, caller: &Caller, response: &Response) -> Option<String> {
    let status = response.status;
    if status >= 500 {
        return Some(format!("{status} (a server error)"));
    }
    if caller.inactive_organisation && allowed != Allowed::Public {
        let kind = &response.body["type"];
        return (status != 403
            || kind != "urn:maatje:problem:organisation-inactive"
            || response.header("www-authenticate").is_some())
        .then(|| format!("{status} of type {kind}, expected a 403 organisation-inactive"));
    }
    let must = match (allowed, caller.role) {
        (Allowed::Public, _) => None,
        (Allowed::Roles(_), None) => Some(401),
        (Allowed::Roles(roles), Some(role)) if roles.contains(&role) => None,
        (Allowed::Roles(_), Some(_)) => Some(403),
    };
    match must {
        None if status == 401 || status == 403 => {
            Some(format!("{status}, expected an allowed call"))
        }
        None => None,
        Some(want) if status != want => Some(format!("{status}, expected {want}")),
        Some(401) => {
            let challenge = response.header("www-authenticate").unwrap_or("");
            let bearer = challenge
                .get(..6)
                .is_some_and(|s| s.eq_ignore_ascii_case("bearer"));
            (!bearer || response.body["type"] != "urn:maatje:problem:unauthorized").then(|| {
                format!(
                    "401 without `WWW-Authenticate: Bearer` ({challenge:?}) or of type {}",
                    response.body["type"]
                )
            })
        }
        Some(_) => (response.body["type"] != "urn:maatje:problem:forbidden"
            || response.header("www-authenticate").is_some())
        .then(|| format!("403 of type {} or with a challenge", response.body["type"])),
    }
}

#[tokio::test]
async fn every_operation_answers_each_kind_of_caller_as_the_design_says() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org = crate::fixtures::organisation(&app).await;
    let spare_org = id_of(&create_organisation(&app, "Reserve-instelling").await);

    // Case systems: a working one, and keys that must not work.
    let (case_client, case_key) = app.create_case_system(&org, "Zaaksysteem").await;
    let in_an_hour = (start_time() + Duration::hours(1)).to_rfc3339();
    let (_, expiring_key) =
        issue_key(&app, &case_client, &json!({ "expires_at": in_an_hour })).await;
    let (revoked_key_id, revoked_key) = issue_key(&app, &case_client, &json!({})).await;
    let response = as_admin(
        &app,
        Method::POST,
        &format!("/v1/api-clients/{case_client}/keys/{revoked_key_id}/revoke"),
        &json!({}),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let (old_client, old_client_key) = app.create_case_system(&org, "Oud zaaksysteem").await;
    let response = as_admin(
        &app,
        Method::POST,
        &format!("/v1/api-clients/{old_client}/revoke"),
        &json!({}),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let wrong_secret = format!(
        "mtj_ak_{}_{}",
        Uuid::parse_str(&key_id_of(&case_key)).unwrap().simple(),
        "A".repeat(43)
    );
    // The target of the API-client operations: not the case system above.
    let (spare_client, spare_key) = app.create_case_system(&spare_org, "Reserve").await;
    // A valid key of an organisation that left the programme.
    let gone_org = id_of(&create_organisation(&app, "Vertrokken instelling").await);
    let (_, gone_org_key) = app.create_case_system(&gone_org, "Oud systeem").await;
    let response = as_admin(
        &app,
        Method::POST,
        &format!("/v1/organisations/{gone_org}/deactivate"),
        &json!({}),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);

    // Staff: working sessions, and sessions that must not work.
    let (_, coordinator) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let (spare_staff, _) = app
        .create_staff(StaffRole::Coordinator, "reserve@example.org")
        .await;
    let logged_out = login(&app, "reserve@example.org").await;
    let response = send(
        &app,
        Method::POST,
        "/v1/auth/logout",
        None,
        &format!("Bearer {logged_out}"),
    )
    .await;
    assert_eq!(response.status, 204, "{}", response.text);
    let expiring_session = login(&app, "reserve@example.org").await;
    let (gone, gone_session) = app
        .create_staff(StaffRole::Admin, "vertrokken@example.org")
        .await;
    let response = as_admin(
        &app,
        Method::PATCH,
        &format!("/v1/staff/{gone}"),
        &json!({ "active": false }),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);

    // Objects of every kind.
    let buddy = active_buddy(&app, &org, 1, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let proposed = open_request(&app, &org, "CASE-2").await;
    let pairing = propose(&app, &proposed, &buddy).await;
    let response = as_admin(
        &app,
        Method::POST,
        "/v1/exit-interviews",
        &json!({ "organisation_id": org, "held_on": "2026-11-01", "answer": "no" }),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let ids = Ids {
        organisation: spare_org,
        staff: spare_staff,
        api_client: spare_client,
        api_key: key_id_of(&spare_key),
        exit_interview: id_of(&response.body["exit_interview"]),
        buddy,
        request,
        pairing,
    };

    // The expiring key and the login session expire; everything else lives on.
    app.clock.advance(Duration::hours(2));

    let callers = [
        Caller::invalid("no credentials", String::new()),
        Caller::invalid("a malformed token", "Bearer nonsense".into()),
        Caller::invalid("a token of another scheme", format!("Basic {case_key}")),
        Caller::bearer("an unknown API key", &unknown_token("ak"), None),
        Caller::bearer("an unknown staff session", &unknown_token("st"), None),
        Caller::bearer("a known key id with a wrong secret", &wrong_secret, None),
        Caller::bearer("a revoked key", &revoked_key, None),
        Caller::bearer("a key of a revoked client", &old_client_key, None),
        Caller::bearer("an expired key", &expiring_key, None),
        Caller::bearer("a logged-out session", &logged_out, None),
        Caller::bearer("an expired session", &expiring_session, None),
        Caller::bearer("a deactivated account's session", &gone_session, None),
        Caller::of_inactive_organisation("a key of a deactivated organisation", &gone_org_key),
        Caller::bearer("a case system", &case_key, Some(Role::CaseSystem)),
        Caller::bearer("a coordinator", &coordinator, Some(Role::Coordinator)),
        Caller::bearer("an admin", &app.admin_token, Some(Role::Admin)),
    ];

    let mut operations = spec_operations();
    // Logging out ends the caller's session: do it last.
    operations.sort_by_key(|(method, path, _)| method == "POST" && path == "/v1/auth/logout");
    let mut wrong = Vec::new();
    let mut calls = 0;
    for caller in &callers {
        for (method, template, has_body) in &operations {
            let Some(allowed) = expected(method, template) else {
                wrong.push(format!("{method} {template}: no row in an ACCESS table"));
                continue;
            };
            let path = ids.path(template);
            // A placeholder body; an allowed call may well answer 400 to it.
            let body = match template.as_str() {
                "/v1/auth/login" => Some(json!({
                    "email": "coordinator@example.org",
                    "password": STAFF_PASSWORD,
                })),
                _ => has_body.then(|| json!({})),
            };
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let response = send(
                &app,
                method.clone(),
                &path,
                body.as_ref(),
                &caller.authorization,
            )
            .await;
            calls += 1;
            if let Some(problem) = verdict(allowed, caller, &response) {
                wrong.push(format!(
                    "{method} {template} as {}: {problem}; body: {}",
                    caller.name, response.text
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {calls} calls were answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(calls, callers.len() * rows().count());
}

/// The verdicts themselves: each must be able to fail.
#[test]
fn the_matrix_verdicts_catch_wrong_answers() {
    use reqwest::header::{HeaderMap, HeaderValue};
    let answer = |status: u16, kind: &str, challenge: Option<&'static str>| {
        let mut headers = HeaderMap::new();
        if let Some(challenge) = challenge {
            headers.insert("www-authenticate", HeaderValue::from_static(challenge));
        }
        let body = json!({ "type": format!("urn:maatje:problem:{kind}"), "status": status });
        Response {
            status,
            headers,
            text: body.to_string(),
            body,
        }
    };
    let anonymous = Caller::invalid("nobody", String::new());
    let coordinator = Caller::bearer("coordinator", "x", Some(Role::Coordinator));
    let unauthorized = answer(401, "unauthorized", Some("Bearer"));
    let forbidden = answer(403, "forbidden", None);
    let ok = answer(200, "", None);

    assert_eq!(verdict(ADMIN, &anonymous, &unauthorized), None);
    assert!(verdict(ADMIN, &anonymous, &forbidden).is_some());
    assert!(verdict(ADMIN, &anonymous, &ok).is_some());
    assert!(verdict(ADMIN, &anonymous, &answer(401, "unauthorized", None)).is_some());
    assert!(verdict(
        ADMIN,
        &anonymous,
        &answer(401, "unauthorized", Some("Basic"))
    )
    .is_some());
    assert_eq!(verdict(ADMIN, &coordinator, &forbidden), None);
    assert!(verdict(ADMIN, &coordinator, &ok).is_some());
    assert!(verdict(ADMIN, &coordinator, &unauthorized).is_some());
    assert_eq!(verdict(STAFF, &coordinator, &ok), None);
    assert_eq!(
        verdict(STAFF, &coordinator, &answer(404, "not-found", None)),
        None
    );
    assert!(verdict(STAFF, &coordinator, &forbidden).is_some());
    assert!(verdict(STAFF, &coordinator, &answer(500, "internal", None)).is_some());
    assert_eq!(verdict(PUBLIC, &anonymous, &ok), None);
    assert!(verdict(PUBLIC, &anonymous, &unauthorized).is_some());
    assert!(verdict(PUBLIC, &coordinator, &forbidden).is_some());
    let gone = Caller::of_inactive_organisation("gone", "x");
    let inactive = answer(403, "organisation-inactive", None);
    assert_eq!(verdict(ANY, &gone, &inactive), None);
    assert_eq!(verdict(ADMIN, &gone, &inactive), None);
    assert!(verdict(ANY, &gone, &ok).is_some());
    assert!(verdict(ADMIN, &gone, &forbidden).is_some());
    assert!(verdict(ANY, &gone, &unauthorized).is_some());
    assert!(verdict(
        ANY,
        &gone,
        &answer(403, "organisation-inactive", Some("Bearer"))
    )
    .is_some());
    assert_eq!(verdict(PUBLIC, &gone, &ok), None);
}

/// The router decodes percent-escapes in the path, so `/v1/st%61ff` is `/v1/staff`: the access
/// check must judge it as such, and neither let it through nor refuse an allowed caller.
#[tokio::test]
async fn percent_encoded_paths_get_the_same_access_check() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org = crate::fixtures::organisation(&app).await;
    let (_, case_key) = app.create_case_system(&org, "Zaaksysteem").await;
    let (coordinator_id, coordinator) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let staff_list = "/v1/st%61ff";
    let staff_item = format!("/v1/%73taff/{coordinator_id}");
    let interviews = "/v1/exit-interv%69ews";
    let admin = format!("Bearer {}", app.admin_token);
    let coordinator = format!("Bearer {coordinator}");
    let case_system = format!("Bearer {case_key}");
    for (path, authorization, status) in [
        (staff_list, admin.as_str(), 200),
        (staff_item.as_str(), admin.as_str(), 200),
        (staff_list, coordinator.as_str(), 403),
        (staff_item.as_str(), coordinator.as_str(), 403),
        (staff_list, case_system.as_str(), 403),
        (staff_list, "", 401),
        (interviews, coordinator.as_str(), 200),
        (interviews, case_system.as_str(), 403),
        (interviews, "", 401),
    ] {
        let response = send(&app, Method::GET, path, None, authorization).await;
        assert_eq!(
            response.status, status,
            "GET {path} with {authorization:?}: {}",
            response.text
        );
    }
    // And a case system's own operations work encoded too.
    let response = send(
        &app,
        Method::GET,
        "/v1/buddy-r%65quests",
        None,
        &case_system,
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);
}

/// `X-On-Behalf-Of` names the person a case system calls for; an invalid one is a 400, but only
/// for a caller whose credentials are valid: anyone else gets the 401 and learns nothing more.
#[tokio::test]
async fn an_invalid_on_behalf_of_header_is_judged_after_the_credentials() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org = crate::fixtures::organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let valid = format!("Bearer {key}");
    let unknown = format!("Bearer {}", unknown_token("ak"));
    let too_long = "x".repeat(129);
    for path in ["/v1/auth/me", "/v1/buddy-requests"] {
        for bad in ["", "   ", too_long.as_str(), "naam\tmet tab"] {
            for authorization in ["", "Bearer nonsense", unknown.as_str()] {
                let response = app
                    .request_with_headers(
                        Method::GET,
                        path,
                        None,
                        Vec::new(),
                        &[("authorization", authorization), ("x-on-behalf-of", bad)],
                    )
                    .await;
                assert_problem(&response, 401, "unauthorized");
            }
            let response = app
                .request_with_headers(
                    Method::GET,
                    path,
                    None,
                    Vec::new(),
                    &[("authorization", &valid), ("x-on-behalf-of", bad)],
                )
                .await;
            assert_invalid_fields(&response, &["X-On-Behalf-Of"]);
        }
        let response = app
            .request_with_headers(
                Method::GET,
                path,
                None,
                Vec::new(),
                &[
                    ("authorization", &valid),
                    ("x-on-behalf-of", "J. de Vries, jeugdbeschermer"),
                ],
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
    }
}

/// `X-On-Behalf-Of` names one person: sent twice it is ambiguous, and refused like an invalid
/// one, whatever the values.
#[tokio::test]
async fn an_on_behalf_of_header_sent_twice_is_refused() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org = crate::fixtures::organisation(&app).await;
    let (_, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let valid = format!("Bearer {key}");
    let counts = app.table_counts();
    for (first, second) in [("J. de Vries", "P. Jansen"), ("J. de Vries", "J. de Vries")] {
        let response = app
            .request_with_headers(
                Method::POST,
                "/v1/buddy-requests",
                Some("application/json"),
                serde_json::to_vec(&b_request("CASE-TWICE")).unwrap(),
                &[
                    ("authorization", &valid),
                    ("x-on-behalf-of", first),
                    ("x-on-behalf-of", second),
                ],
            )
            .await;
        assert_invalid_fields(&response, &["X-On-Behalf-Of"]);
    }
    assert_eq!(app.table_counts(), counts, "nothing is filed");
}

/// A valid key with an invalid `X-On-Behalf-Of`: the 400 is recorded with the case system as
/// the actor (not as an unauthenticated caller), and it counts against the case system's own
/// rate limit like any other request.
#[tokio::test]
async fn an_invalid_on_behalf_of_header_keeps_the_caller_and_its_budget() {
    let app = spawn_app_with(&[
        ("MAATJE__LIMITS__PER_ADDRESS_PER_MINUTE", "100000"),
        ("MAATJE__LIMITS__PER_CLIENT_PER_MINUTE", "2"),
    ])
    .await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let valid = format!("Bearer {key}");
    let too_long = "x".repeat(129);
    let mut statuses = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..3 {
        let response = app
            .request_with_headers(
                Method::GET,
                "/v1/buddy-requests",
                None,
                Vec::new(),
                &[("authorization", &valid), ("x-on-behalf-of", &too_long)],
            )
            .await;
        statuses.push(response.status);
        refused.push(response);
    }
    // Two within the budget (each a 400), the third over it.
    assert_eq!(statuses, [400, 400, 429], "{}", refused[2].text);
    assert_invalid_fields(&refused[0], &["X-On-Behalf-Of"]);
    assert_problem(&refused[2], 429, "rate-limited");
    let records = app.audit_records().await;
    for response in &refused {
        let record = records
            .iter()
            .find(|r| r["request_id"].as_str() == Some(response.request_id()))
            .unwrap_or_else(|| panic!("no audit record for {}", response.request_id()));
        assert_eq!(
            record["actor"],
            json!({ "type": "api_client", "id": client }),
            "{record}"
        );
        assert_eq!(record["status"], response.status, "{record}");
        assert!(record.get("on_behalf_of").is_none(), "{record}");
    }
}

/// An organisation that left the programme reads and withdraws nothing: its case systems' keys
/// are refused in authentication (403 `organisation-inactive`, so an integrator knows the key
/// itself is fine and new keys would not help), audited with the case system as actor, and
/// they work again once the organisation is reactivated.
#[tokio::test]
async fn keys_of_a_deactivated_organisation_are_refused_until_it_is_reactivated() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    app.use_token(Some(&key));
    let response = app
        .post_json("/v1/buddy-requests", &b_request("CASE-GONE"))
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let request = id_of(&response.body);
    app.use_admin();
    let response = app
        .post_empty(&format!("/v1/organisations/{org}/deactivate"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);

    let authorization = format!("Bearer {key}");
    let calls = [
        (Method::GET, "/v1/auth/me".to_owned()),
        (Method::GET, "/v1/buddy-requests".to_owned()),
        (Method::GET, format!("/v1/buddy-requests/{request}")),
        (Method::GET, format!("/v1/buddy-requests/{request}/history")),
        (
            Method::POST,
            format!("/v1/buddy-requests/{request}/withdraw"),
        ),
        (Method::POST, "/v1/buddy-requests".to_owned()),
        (Method::POST, "/v1/exit-interviews".to_owned()),
        // Not a case system's operation at all: refused the same way, before the role.
        (Method::GET, "/v1/buddies".to_owned()),
    ];
    let counts = app.table_counts();
    let mut refused = Vec::new();
    for (method, path) in &calls {
        let body = (*method == Method::POST).then(|| json!({}));
        let response = send(&app, method.clone(), path, body.as_ref(), &authorization).await;
        assert_problem(&response, 403, "organisation-inactive");
        assert!(
            response.header("www-authenticate").is_none(),
            "{method} {path}: the credentials are valid"
        );
        assert!(
            !response.text.contains("Berendina") && !response.text.contains("99887766"),
            "{method} {path}: {}",
            response.text
        );
        refused.push(response);
    }
    assert_eq!(app.table_counts(), counts, "nothing changed");
    assert_eq!(
        crate::fixtures::state_of(&app, &format!("/v1/buddy-requests/{request}")).await,
        "open"
    );
    // The refusals on audited routes name the case system.
    let records = app.audit_records().await;
    let audited: Vec<&Value> = refused
        .iter()
        .filter_map(|response| {
            records
                .iter()
                .find(|r| r["request_id"].as_str() == Some(response.request_id()))
        })
        .collect();
    assert!(audited.len() >= 5, "{audited:?}");
    for record in audited {
        assert_eq!(
            record["actor"],
            json!({ "type": "api_client", "id": client }),
            "{record}"
        );
        assert_eq!(record["outcome"], "denied", "{record}");
        assert_eq!(record["status"], 403, "{record}");
    }

    let response = app
        .post_empty(&format!("/v1/organisations/{org}/reactivate"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let response = send(
        &app,
        Method::GET,
        &format!("/v1/buddy-requests/{request}"),
        None,
        &authorization,
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text);
}

/// What a role sees of one field of a request's history entries (or of the request itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// Always, as recorded.
    Yes,
    /// Never.
    No,
    /// Only on entries whose actor is an API client, i.e. the organisation's own case system:
    /// its own words and its own id; never the bureau's.
    OwnOnly,
}

/// Who sees which field of a buddy request's history (`GET /v1/buddy-requests/{id}/history`):
/// a case system sees what happened, the states, when and what kind of actor, but nothing the
/// bureau wrote (exclusion and legal-hold reasons, decline notes) and no staff, buddy or system
/// identity. Staff see everything.
const HISTORY_FIELDS: &[(&str, Role, Shown)] = &[
    ("action", Role::CaseSystem, Shown::Yes),
    ("action", Role::Coordinator, Shown::Yes),
    ("action", Role::Admin, Shown::Yes),
    ("from_state", Role::CaseSystem, Shown::Yes),
    ("from_state", Role::Coordinator, Shown::Yes),
    ("from_state", Role::Admin, Shown::Yes),
    ("to_state", Role::CaseSystem, Shown::Yes),
    ("to_state", Role::Coordinator, Shown::Yes),
    ("to_state", Role::Admin, Shown::Yes),
    ("at", Role::CaseSystem, Shown::Yes),
    ("at", Role::Coordinator, Shown::Yes),
    ("at", Role::Admin, Shown::Yes),
    ("actor.type", Role::CaseSystem, Shown::Yes),
    ("actor.type", Role::Coordinator, Shown::Yes),
    ("actor.type", Role::Admin, Shown::Yes),
    ("actor.id", Role::CaseSystem, Shown::OwnOnly),
    ("actor.id", Role::Coordinator, Shown::Yes),
    ("actor.id", Role::Admin, Shown::Yes),
    ("reason", Role::CaseSystem, Shown::OwnOnly),
    ("reason", Role::Coordinator, Shown::Yes),
    ("reason", Role::Admin, Shown::Yes),
];

/// Who sees which nested field of the request itself (`GET /v1/buddy-requests/{id}`, lists,
/// withdraw answers): which buddy is proposed is the bureau's business.
const REQUEST_FIELDS: &[(&str, Role, Shown)] = &[
    ("pairing.id", Role::CaseSystem, Shown::Yes),
    ("pairing.state", Role::CaseSystem, Shown::Yes),
    ("pairing.buddy_id", Role::CaseSystem, Shown::No),
    ("pairing.buddy_id", Role::Coordinator, Shown::Yes),
    ("pairing.buddy_id", Role::Admin, Shown::Yes),
];

/// A member of `value` by a dotted path.
fn member<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

#[tokio::test]
async fn a_case_system_sees_no_bureau_internal_text_in_a_requests_history() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let (_, coordinator) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    const EXCLUSION: &str = "Jan is de oom van de client; eerder veroordeeld";
    const HOLD: &str = "Klacht bij de tuchtrechter: dossier bewaren";
    const DECLINE: &str = "Ik ken deze familie van school";
    const WITHDRAW: &str = "Cliënt ziet er toch van af";

    // The case system files; staff exclude a buddy, hold the record, propose another buddy
    // who declines, propose a third; the case system withdraws.
    app.use_token(Some(&key));
    let response = app
        .post_json("/v1/buddy-requests", &b_request("CASE-INTERN"))
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let request = id_of(&response.body);
    let path = format!("/v1/buddy-requests/{request}");
    app.use_admin();
    let uncle = active_buddy(&app, &org, 1, 1).await;
    let decliner = active_buddy(&app, &org, 2, 1).await;
    let third = active_buddy(&app, &org, 3, 1).await;
    let response = app
        .post_json(
            &format!("{path}/exclusions"),
            &json!({ "buddy_id": uncle, "reason": EXCLUSION }),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let response = app
        .post_json(
            &format!("{path}/legal-hold"),
            &json!({ "hold": true, "reason": HOLD }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let pairing = propose(&app, &request, &decliner).await;
    let response = app
        .post_json(
            &format!("/v1/pairings/{pairing}/decline"),
            &json!({ "reason": DECLINE }),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    propose(&app, &request, &third).await;

    // What each role reads: the full history (staff) and the request.
    let views = [
        (Role::Admin, app.admin_token.clone()),
        (Role::Coordinator, coordinator),
        (Role::CaseSystem, key.clone()),
    ];
    let mut histories = Vec::new();
    let mut requests = Vec::new();
    for (role, token) in &views {
        app.use_token(Some(token));
        histories.push((*role, app.history(&path).await));
        let response = app.get(&path).await;
        assert_eq!(response.status, 200, "{}", response.text);
        requests.push((*role, response.body));
    }
    // The case system's withdraw: its own words, kept for it.
    app.use_token(Some(&key));
    let response = app
        .post_json(&format!("{path}/withdraw"), &json!({ "reason": WITHDRAW }))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert!(
        member(&response.body, "pairing.buddy_id").is_none(),
        "{}",
        response.text
    );
    let listed = app.get("/v1/buddy-requests").await;
    assert!(!listed.text.contains(&third), "{}", listed.text);
    for (role, token) in &views {
        app.use_token(Some(token));
        let history = app.history(&path).await;
        let entry = history.last().unwrap().clone();
        histories
            .iter_mut()
            .find(|(r, _)| r == role)
            .unwrap()
            .1
            .push(entry);
    }
    app.use_admin();

    let full = &histories[0].1;
    let full_text = serde_json::to_string(full).unwrap();
    for text in [EXCLUSION, HOLD, WITHDRAW] {
        assert!(full_text.contains(text), "staff see {text:?}: {full_text}");
    }
    let mut wrong = Vec::new();
    for (field, role, shown) in HISTORY_FIELDS {
        let seen = &histories.iter().find(|(r, _)| r == role).unwrap().1;
        assert_eq!(seen.len(), full.len(), "{role:?} sees every entry");
        for (entry, recorded) in seen.iter().zip(full) {
            assert_eq!(entry["id"], recorded["id"]);
            let own = recorded["actor"]["type"] == "api_client";
            let expected = match shown {
                Shown::Yes => member(recorded, field),
                Shown::No => None,
                Shown::OwnOnly => member(recorded, field).filter(|_| own),
            };
            if member(entry, field) != expected {
                wrong.push(format!(
                    "{role:?} / {field}: {:?} where {expected:?} belongs, in {entry}",
                    member(entry, field)
                ));
            }
        }
    }
    for (field, role, shown) in REQUEST_FIELDS {
        let seen = &requests.iter().find(|(r, _)| r == role).unwrap().1;
        let recorded = &requests[0].1;
        let expected = match shown {
            Shown::Yes => member(recorded, field),
            Shown::No | Shown::OwnOnly => None,
        };
        assert!(member(recorded, field).is_some(), "{field} in {recorded}");
        if member(seen, field) != expected {
            wrong.push(format!("{role:?} / {field}: {seen}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // So nothing the bureau wrote and no identity of staff or buddies reaches the case system,
    // while it keeps its own words and id.
    let case_text = serde_json::to_string(&histories[2].1).unwrap();
    for secret in [
        EXCLUSION,
        HOLD,
        DECLINE,
        "oom",
        uncle.as_str(),
        decliner.as_str(),
        third.as_str(),
    ] {
        assert!(!case_text.contains(secret), "{secret:?} in {case_text}");
    }
    assert!(case_text.contains(WITHDRAW), "{case_text}");
    assert!(case_text.contains(&client), "{case_text}");
    for staff in full.iter().filter(|e| e["actor"]["type"] == "staff") {
        let id = staff["actor"]["id"].as_str().unwrap();
        assert!(!case_text.contains(id), "staff id {id} in {case_text}");
    }
}

/// A buddy request of organisation B's case system, with recognisable personal data.
fn b_request(client_ref: &str) -> Value {
    let mut body = request_body("", client_ref);
    body.as_object_mut().unwrap().remove("organisation_id");
    body["client"] = json!({
        "first_name": "Berendina",
        "email": "berendina.geheim@example.org",
        "phone": "+31 6 99887766",
        "preferred_channel": "phone",
        "languages": ["nl"],
    });
    body["trigger_note"] = json!("Klacht over gezinsvoogd Zwartjes");
    body
}

/// Each watched resource and its history, read with the app's current token.
async fn snapshot(app: &TestApp, watched: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for path in watched {
        let response = app.get(path).await;
        assert_eq!(response.status, 200, "{}", response.text);
        out.push(response.body);
        out.push(Value::Array(app.history(path).await));
    }
    out
}

/// The request ids of a list page.
fn ids_in(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

#[tokio::test]
async fn a_case_system_cannot_see_or_touch_another_organisations_requests() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org_a = id_of(&create_organisation(&app, "Instelling A").await);
    let org_b = id_of(&create_organisation(&app, "Instelling B").await);
    let (_, key_a) = app.create_case_system(&org_a, "Systeem A").await;
    let (_, key_b) = app.create_case_system(&org_b, "Systeem B").await;

    // B files two requests; staff propose a buddy for the second.
    app.use_token(Some(&key_b));
    let mut b_requests = Vec::new();
    for client_ref in ["B-GEHEIM-1", "B-GEHEIM-2"] {
        let response = app
            .post_json("/v1/buddy-requests", &b_request(client_ref))
            .await;
        assert_eq!(response.status, 201, "{}", response.text);
        b_requests.push(id_of(&response.body));
    }
    app.use_admin();
    let buddy = active_buddy(&app, &org_b, 1, 1).await;
    let b_pairing = propose(&app, &b_requests[1], &buddy).await;

    // A files one with the same client reference: references are unique per organisation, and
    // a clash with B's must not be reported (that would tell A that B has such a client).
    app.use_token(Some(&key_a));
    let mut a_body = b_request("B-GEHEIM-1");
    a_body["client"]["first_name"] = json!("Anna");
    a_body["client"]["email"] = json!("anna@example.org");
    a_body["client"]["phone"] = json!("+31 6 11223344");
    a_body["trigger_note"] = json!("Vragen over de maatregel");
    let response = app.post_json("/v1/buddy-requests", &a_body).await;
    assert_eq!(response.status, 201, "{}", response.text);
    let a_request = id_of(&response.body);

    // What B's objects look like before A tries anything.
    app.use_admin();
    let mut watched: Vec<String> = b_requests
        .iter()
        .map(|id| format!("/v1/buddy-requests/{id}"))
        .collect();
    watched.push(format!("/v1/pairings/{b_pairing}"));
    let before = snapshot(&app, &watched).await;
    let counts = app.table_counts();

    app.use_token(Some(&key_a));
    let mut seen_by_a: Vec<Response> = Vec::new();
    let unknown = Uuid::now_v7().to_string();
    let not_found = app.get(&format!("/v1/buddy-requests/{unknown}")).await;
    assert_problem(&not_found, 404, "not-found");
    for id in &b_requests {
        let path = format!("/v1/buddy-requests/{id}");
        for response in [
            app.get(&path).await,
            app.get(&format!("{path}/history")).await,
            app.get(&format!("{path}/history?limit=1")).await,
            app.post_empty(&format!("{path}/withdraw")).await,
            app.post_json(
                &format!("{path}/withdraw"),
                &json!({ "reason": "per ongeluk" }),
            )
            .await,
        ] {
            assert_problem(&response, 404, "not-found");
            // Exactly what an id that does not exist gets, but for the id itself.
            assert_eq!(response.body["title"], not_found.body["title"]);
            assert_eq!(
                response.body["detail"]
                    .as_str()
                    .map(|d| d.replace(id, "ID")),
                not_found.body["detail"]
                    .as_str()
                    .map(|d| d.replace(&unknown, "ID")),
            );
            seen_by_a.push(response);
        }
    }

    // Lists show A's own request only, whatever the filter asks for.
    for query in [
        String::new(),
        "?limit=1".to_owned(),
        format!("?organisation_id={org_b}"),
        format!("?organisation_id={org_b}&state=proposed"),
        "?client_ref=B-GEHEIM-2".to_owned(),
        "?state=proposed".to_owned(),
        "?trigger=discontent".to_owned(),
    ] {
        let path = format!("/v1/buddy-requests{query}");
        let items = app.collect_pages(&path).await;
        let want: Vec<String> =
            if query.contains("GEHEIM-2") || query.contains("proposed") || query.contains(&org_b) {
                Vec::new()
            } else {
                vec![a_request.clone()]
            };
        assert_eq!(ids_in(&items), want, "GET {path}");
        seen_by_a.push(app.get(&path).await);
    }
    let own = app
        .collect_pages(&format!("/v1/buddy-requests?organisation_id={org_a}"))
        .await;
    assert_eq!(ids_in(&own), vec![a_request.clone()]);

    // A cannot file for another organisation (nor name its own: the key decides).
    for org in [&org_b, &org_a] {
        let mut body = b_request("A-NIEUW");
        body["organisation_id"] = json!(org);
        let response = app.post_json("/v1/buddy-requests", &body).await;
        assert_invalid_fields(&response, &["organisation_id"]);
        seen_by_a.push(response);
        let response = app
            .post_json(
                "/v1/exit-interviews",
                &json!({ "organisation_id": org, "held_on": "2026-11-20", "answer": "no" }),
            )
            .await;
        assert_invalid_fields(&response, &["organisation_id"]);
        seen_by_a.push(response);
    }
    let me = app.get("/v1/auth/me").await;
    assert_eq!(me.body["organisation_id"], org_a.as_str());
    seen_by_a.push(me);

    // Nothing changed.
    assert_eq!(app.table_counts(), counts);
    app.use_admin();
    assert_eq!(snapshot(&app, &watched).await, before);
    assert_eq!(
        crate::fixtures::state_of(&app, &format!("/v1/buddy-requests/{}", b_requests[1])).await,
        "proposed"
    );

    // Not a trace of B's clients in anything A got back.
    for response in &seen_by_a {
        for secret in [
            "B-GEHEIM-2",
            "Berendina",
            "berendina.geheim@example.org",
            "99887766",
            "Zwartjes",
            &b_pairing,
            &buddy,
        ] {
            assert!(
                !response.text.contains(secret),
                "A saw {secret:?} of B: {}",
                response.text
            );
        }
    }
    for response in seen_by_a.iter().filter(|r| r.status == 200) {
        for id in &b_requests {
            assert!(!response.text.contains(id.as_str()), "{}", response.text);
        }
        assert!(!response.text.contains(&org_b), "{}", response.text);
    }

    // And B still sees its own, and none of A's.
    app.use_token(Some(&key_b));
    let items = app.collect_pages("/v1/buddy-requests").await;
    assert_eq!(ids_in(&items), b_requests);
    let response = app.get(&format!("/v1/buddy-requests/{a_request}")).await;
    assert_problem(&response, 404, "not-found");
}

/// One attempt to set server-owned fields: as whom, where, a body that is otherwise valid, and
/// the fields added to it.
struct Attempt {
    token: String,
    method: Method,
    path: String,
    body: Value,
    extra: Vec<(&'static str, Value)>,
    /// Read (as the admin) before and after: must not change.
    watch: Option<String>,
}

/// Sets `path` (dotted) in `body`.
fn set(body: &mut Value, path: &str, value: Value) {
    let mut node = body;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            node[part] = value;
            return;
        }
        node = &mut node[part];
    }
}

const T: &str = "2020-01-01T00:00:00Z";

#[tokio::test]
async fn server_owned_fields_in_a_body_are_refused_by_name_and_nothing_is_stored() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, case_key) = app.create_case_system(&org, "Zaaksysteem").await;
    let admin = app.admin_token.clone();
    let (staff, _) = app
        .create_staff(StaffRole::Coordinator, "coordinator@example.org")
        .await;
    let fresh = candidate(&app, &org, 1).await;
    let buddy = active_buddy(&app, &org, 2, 2).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let proposed = open_request(&app, &org, "CASE-2").await;
    let pairing = propose(&app, &proposed, &buddy).await;
    let other_request = open_request(&app, &org, "CASE-3").await;

    let common = || {
        vec![
            ("id", json!(Uuid::now_v7().to_string())),
            ("created_at", json!(T)),
            ("updated_at", json!(T)),
        ]
    };
    let mut attempts = Vec::new();
    let mut add = |token: &str,
                   method: Method,
                   path: String,
                   body: Value,
                   extra: Vec<(&'static str, Value)>,
                   watch: Option<String>| {
        attempts.push(Attempt {
            token: token.to_owned(),
            method,
            path,
            body,
            extra,
            watch,
        })
    };

    // Organisations.
    let mut extra = common();
    extra.push(("state", json!("inactive")));
    add(
        &admin,
        Method::POST,
        "/v1/organisations".into(),
        json!({ "name": "Nieuwe instelling" }),
        extra,
        None,
    );
    for action in ["deactivate", "reactivate"] {
        add(
            &admin,
            Method::POST,
            format!("/v1/organisations/{org}/{action}"),
            json!({ "reason": "test" }),
            vec![("state", json!("inactive")), ("updated_at", json!(T))],
            Some(format!("/v1/organisations/{org}")),
        );
    }

    // Exit interviews, by a case system and by staff; a yes carries a candidate.
    let interview = json!({ "held_on": "2026-11-20", "answer": "yes", "candidate": profile(7) });
    let mut extra = common();
    extra.extend([
        ("buddy_id", json!(buddy)),
        ("candidate.state", json!("active")),
        ("candidate.live_pairings", json!(0)),
        ("candidate.id", json!(Uuid::now_v7().to_string())),
        ("candidate.created_at", json!(T)),
    ]);
    let mut from_case_system = extra.clone();
    from_case_system.push(("organisation_id", json!(org)));
    add(
        &case_key,
        Method::POST,
        "/v1/exit-interviews".into(),
        interview.clone(),
        from_case_system,
        None,
    );
    let mut staff_interview = interview.clone();
    staff_interview["organisation_id"] = json!(org);
    add(
        &admin,
        Method::POST,
        "/v1/exit-interviews".into(),
        staff_interview,
        extra,
        None,
    );

    // Buddies.
    let mut new_buddy = profile(8);
    new_buddy["organisation_id"] = json!(org);
    let mut extra = common();
    extra.extend([("state", json!("active")), ("live_pairings", json!(0))]);
    add(
        &admin,
        Method::POST,
        "/v1/buddies".into(),
        new_buddy,
        extra,
        None,
    );
    let mut extra = common();
    extra.extend([
        ("state", json!("active")),
        ("live_pairings", json!(0)),
        ("organisation_id", json!(Uuid::now_v7().to_string())),
    ]);
    add(
        &admin,
        Method::PATCH,
        format!("/v1/buddies/{fresh}"),
        json!({ "name": "Nieuwe naam" }),
        extra,
        Some(format!("/v1/buddies/{fresh}")),
    );
    for action in ["start-screening", "activate", "pause", "resume", "retire"] {
        let target = if action == "pause" { &buddy } else { &fresh };
        add(
            &admin,
            Method::POST,
            format!("/v1/buddies/{target}/{action}"),
            json!({ "reason": "test" }),
            vec![
                ("state", json!("active")),
                ("updated_at", json!(T)),
                ("live_pairings", json!(0)),
            ],
            Some(format!("/v1/buddies/{target}")),
        );
    }

    // Buddy requests, by a case system and by staff.
    let mut new_request = request_body(&org, "CASE-NEW");
    new_request
        .as_object_mut()
        .unwrap()
        .remove("organisation_id");
    let mut extra = common();
    extra.extend([
        ("state", json!("matched")),
        ("closed_at", json!(T)),
        ("consent_recorded_at", json!(T)),
        (
            "pairing",
            json!({ "id": pairing, "state": "active", "buddy_id": buddy }),
        ),
    ]);
    let mut from_case_system = extra.clone();
    from_case_system.push(("organisation_id", json!(Uuid::now_v7().to_string())));
    add(
        &case_key,
        Method::POST,
        "/v1/buddy-requests".into(),
        new_request.clone(),
        from_case_system,
        None,
    );
    new_request["organisation_id"] = json!(org);
    add(
        &admin,
        Method::POST,
        "/v1/buddy-requests".into(),
        new_request,
        extra,
        None,
    );
    for (token, target) in [(&case_key, &request), (&admin, &other_request)] {
        add(
            token,
            Method::POST,
            format!("/v1/buddy-requests/{target}/withdraw"),
            json!({ "reason": "test" }),
            vec![
                ("state", json!("open")),
                ("closed_at", json!(T)),
                ("organisation_id", json!(org)),
            ],
            Some(format!("/v1/buddy-requests/{target}")),
        );
    }

    // Pairings.
    let mut extra = common();
    extra.extend([
        ("state", json!("active")),
        ("proposed_at", json!(T)),
        ("responded_at", json!(T)),
    ]);
    add(
        &admin,
        Method::POST,
        "/v1/pairings".into(),
        json!({ "request_id": request, "buddy_id": buddy }),
        extra,
        None,
    );
    for action in ["accept", "decline", "activate"] {
        add(
            &admin,
            Method::POST,
            format!("/v1/pairings/{pairing}/{action}"),
            json!({ "reason": "test" }),
            vec![
                ("state", json!("active")),
                ("responded_at", json!(T)),
                ("activated_at", json!(T)),
            ],
            Some(format!("/v1/pairings/{pairing}")),
        );
    }
    add(
        &admin,
        Method::POST,
        format!("/v1/pairings/{pairing}/end"),
        json!({ "reason": "goal_reached" }),
        vec![("state", json!("ended")), ("ended_at", json!(T))],
        Some(format!("/v1/pairings/{pairing}")),
    );

    // Staff accounts.
    let secrets = || {
        vec![
            ("password_hash", json!("$argon2id$v=19$m=19456,t=2,p=1$x$y")),
            ("failed_logins", json!(0)),
            ("locked_until", json!(T)),
        ]
    };
    let mut extra = common();
    extra.extend(secrets());
    extra.push(("active", json!(true)));
    add(
        &admin,
        Method::POST,
        "/v1/staff".into(),
        json!({
            "email": "nieuw@example.org",
            "name": "Nieuw",
            "role": "coordinator",
            "password": "a long enough password",
        }),
        extra,
        None,
    );
    let mut extra = common();
    extra.extend(secrets());
    add(
        &admin,
        Method::PATCH,
        format!("/v1/staff/{staff}"),
        json!({ "name": "Andere naam" }),
        extra,
        Some(format!("/v1/staff/{staff}")),
    );
    add(
        "",
        Method::POST,
        "/v1/auth/login".into(),
        json!({ "email": "coordinator@example.org", "password": STAFF_PASSWORD }),
        vec![
            ("role", json!("admin")),
            ("token", json!("mtj_st_x")),
            ("expires_at", json!("2099-01-01T00:00:00Z")),
        ],
        None,
    );

    // API clients and keys.
    let key_fields = || {
        vec![
            ("revoked_at", json!(T)),
            ("last_used_at", json!(T)),
            ("secret_hash", json!("00")),
            ("token", json!("mtj_ak_x")),
        ]
    };
    let mut extra = common();
    extra.extend(key_fields());
    extra.push(("keys", json!([])));
    add(
        &admin,
        Method::POST,
        "/v1/api-clients".into(),
        json!({ "organisation_id": org, "name": "Tweede systeem" }),
        extra,
        None,
    );
    let mut extra = common();
    extra.extend(key_fields());
    extra.push(("client_id", json!(client)));
    add(
        &admin,
        Method::POST,
        format!("/v1/api-clients/{client}/keys"),
        json!({}),
        extra,
        Some(format!("/v1/api-clients/{client}")),
    );

    for attempt in attempts {
        let Attempt {
            token,
            method,
            path,
            mut body,
            extra,
            watch,
        } = attempt;
        let mut want: Vec<&str> = Vec::new();
        for (field, value) in extra {
            set(&mut body, field, value);
            want.push(field);
        }
        let counts = app.table_counts();
        let before = match &watch {
            Some(watched) => Some(as_admin_get(&app, watched).await),
            None => None,
        };
        let authorization = if token.is_empty() {
            String::new()
        } else {
            format!("Bearer {token}")
        };
        let response = send(&app, method.clone(), &path, Some(&body), &authorization).await;
        assert_eq!(
            response.status, 400,
            "{method} {path} with {want:?}: {}",
            response.text
        );
        assert_invalid_fields(&response, &want);
        assert_eq!(
            app.table_counts(),
            counts,
            "{method} {path} stored something"
        );
        if let (Some(watched), Some(before)) = (&watch, before) {
            assert_eq!(
                as_admin_get(&app, watched).await,
                before,
                "{method} {path} changed {watched}"
            );
        }
    }
}

async fn as_admin_get(app: &TestApp, path: &str) -> Value {
    let authorization = format!("Bearer {}", app.admin_token);
    let response = send(app, Method::GET, path, None, &authorization).await;
    assert_eq!(response.status, 200, "{path}: {}", response.text);
    response.body
}

/// Revocation takes no body: whatever one says, the server's own time is what is stored.
#[tokio::test]
async fn a_revocation_time_in_a_body_is_not_taken_over() {
    let app = spawn_app_with(NO_LIMITS).await;
    let org = crate::fixtures::organisation(&app).await;
    let (client, key) = app.create_case_system(&org, "Zaaksysteem").await;
    let (second, _) = issue_key(&app, &client, &json!({})).await;
    app.clock.advance(Duration::hours(3));
    let now = start_time() + Duration::hours(3);
    let later = json!({ "revoked_at": "2099-01-01T00:00:00Z" });
    let response = app
        .post_json(
            &format!("/v1/api-clients/{client}/keys/{second}/revoke"),
            &later,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(time_of(&response.body, "revoked_at"), now);
    let response = app
        .post_json(&format!("/v1/api-clients/{client}/revoke"), &later)
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(time_of(&response.body, "revoked_at"), now);
    app.use_token(Some(&key));
    assert_eq!(
        app.get("/v1/auth/me").await.status,
        401,
        "revoked now, not in 2099"
    );
}
