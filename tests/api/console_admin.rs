//! The console's administration pages: staff accounts, organisations, API clients and keys
//! (a key shown once), the audit trail with its chain check, privacy (legal holds, export,
//! erasure, retention) and undeliverable mails. Administrators only.

use maatje::auth::StaffRole;
use serde_json::json;

use crate::fixtures::{self, active_buddy, open_request, organisation};
use crate::helpers::*;

/// Every administration page a coordinator might open.
const ADMIN_PAGES: &[&str] = &[
    "/console/admin",
    "/console/admin/staff",
    "/console/admin/organisations",
    "/console/admin/api-clients",
    "/console/admin/audit",
    "/console/admin/audit/verify",
    "/console/admin/privacy",
    "/console/admin/mails",
];

#[tokio::test]
async fn a_coordinator_is_refused_every_administration_page_and_action() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = open_request(&app, &org, "CASE-1").await;
    let console = app.console(StaffRole::Coordinator).await;
    for path in ADMIN_PAGES {
        let refused = console.get(path).await;
        assert_eq!(refused.status, 403, "{path}");
        refused.assert_shows("alleen voor beheerders");
        // Still in the console's frame: the menu and the way out are there.
        refused.assert_shows("Werkvoorraad");
        assert!(refused.text.contains("action=\"/console/logout\""));
    }
    let before = app.table_counts();
    let refused = console
        .post("/console/admin/organisations", &[("name", "Sneaky")])
        .await;
    assert_eq!(refused.status, 403);
    let refused = console
        .post(
            &format!("/console/admin/privacy/requests/{request}/hold"),
            &[("hold", "place"), ("reason", "x")],
        )
        .await;
    assert_eq!(refused.status, 403);
    let mut after = app.table_counts();
    // The refusals are in the audit trail (the hold is an audited route); nothing else changed.
    after.remove("audit_log");
    let mut before = before;
    before.remove("audit_log");
    assert_eq!(after, before);
    // The menu does not offer what is refused.
    let home = console.get("/console").await;
    assert!(!home.text.contains("href=\"/console/admin\""));
}

#[tokio::test]
async fn every_administration_list_exports_as_csv() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    app.create_case_system(&org, "=HYPERLINK(\"x\")").await;
    // A request, so that the bureau has a mail waiting.
    open_request(&app, &org, "CASE-1").await;
    let console = app.console(StaffRole::Admin).await;
    for (path, header) in [
        ("/console/admin/staff.csv", "id,name,email,role,active"),
        (
            "/console/admin/organisations.csv",
            "id,name,state,created_at",
        ),
        (
            "/console/admin/api-clients.csv",
            "id,name,organisation_id,organisation",
        ),
        (
            "/console/admin/mails.csv",
            "id,kind,state,attempts,last_error",
        ),
        ("/console/admin/audit.csv", "seq,id,at,actor_type"),
    ] {
        let csv = console.get(path).await;
        assert_eq!(csv.status, 200, "{path}");
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        assert!(csv
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment"));
        assert!(csv.text.starts_with(header), "{path}: {}", csv.text);
        assert!(csv.text.lines().count() >= 2, "{path}: {}", csv.text);
    }
    // A client named like a formula is written so that a spreadsheet shows it as text.
    let clients = console.get("/console/admin/api-clients.csv").await;
    assert!(clients.text.contains("'=HYPERLINK"), "{}", clients.text);
    // Coordinators get none of them.
    let coordinator = app.console(StaffRole::Coordinator).await;
    assert_eq!(
        coordinator.get("/console/admin/staff.csv").await.status,
        403
    );
}

#[tokio::test]
async fn every_administration_page_opens_for_an_administrator() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Admin).await;
    for path in ADMIN_PAGES {
        let page = console.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.plain());
    }
    console.get("/console/language?to=en&back=/console").await;
    for path in ADMIN_PAGES {
        let page = console.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.plain());
        assert!(page.text.contains("<html lang=\"en\">"));
    }
}

#[tokio::test]
async fn staff_accounts_are_created_with_field_errors_shown_and_nothing_stored_on_error() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Admin).await;
    let before = app.table_counts();
    let long = "x".repeat(300);
    let refused = console
        .post(
            "/console/admin/staff",
            &[
                ("name", long.as_str()),
                ("email", "not-an-address"),
                ("role", "emperor"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.plain());
    for field in ["name", "email", "role", "password"] {
        assert!(
            refused.field_error(field).is_some(),
            "{field}: {}",
            refused.plain()
        );
    }
    assert_eq!(refused.field_error("name").unwrap(), "Maximaal 200 tekens.");
    assert_eq!(
        refused.input_value("email").as_deref(),
        Some("not-an-address")
    );
    assert_eq!(
        refused.input_value("password").as_deref(),
        Some(""),
        "a password is never shown again"
    );
    assert_eq!(app.table_counts(), before);

    let made = console
        .post(
            "/console/admin/staff",
            &[
                ("name", "Nieuwe Coördinator"),
                ("email", "nieuw@example.org"),
                ("role", "coordinator"),
                ("password", "a long enough passphrase"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.plain());
    let list = console.get(made.location()).await;
    list.assert_shows("Het account is aangemaakt.");
    list.assert_shows("nieuw@example.org");
    // The account works: it can sign in to the console.
    let newcomer = app.console_anonymous();
    newcomer
        .log_in("nieuw@example.org", "a long enough passphrase")
        .await;
    // The same address again is refused at its field.
    let twice = console
        .post(
            "/console/admin/staff",
            &[
                ("name", "Dubbel"),
                ("email", "nieuw@example.org"),
                ("role", "admin"),
                ("password", "a long enough passphrase"),
            ],
        )
        .await;
    assert_eq!(twice.status, 422);
    assert!(twice
        .field_error("email")
        .unwrap()
        .contains("al een account"));
}

#[tokio::test]
async fn deactivating_an_account_ends_its_console_session() {
    let app = spawn_app().await;
    let admin = app.console(StaffRole::Admin).await;
    let (id, _) = app
        .create_staff(StaffRole::Coordinator, "weg@example.org")
        .await;
    let coordinator = app.console_anonymous();
    coordinator.log_in("weg@example.org", STAFF_PASSWORD).await;
    let form = admin.get(&format!("/console/admin/staff/{id}")).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.input_value("name").as_deref(), Some("Staff Voorbeeld"));
    // `active` left unchecked: the account is switched off.
    let done = admin
        .post(
            &format!("/console/admin/staff/{id}"),
            &[("name", "Staff Voorbeeld"), ("role", "coordinator")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.plain());
    assert_eq!(coordinator.get("/console").await.status, 303, "signed out");
    // Unknown and malformed ids.
    let unknown = admin
        .get(&format!("/console/admin/staff/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        admin.get("/console/admin/staff/not-an-id").await.status,
        404
    );
}

#[tokio::test]
async fn organisations_are_added_deactivated_and_reactivated_and_an_illegal_step_is_explained() {
    let app = spawn_app().await;
    let console = app.console(StaffRole::Admin).await;
    let refused = console
        .post("/console/admin/organisations", &[("name", "  ")])
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.field_error("name").unwrap(), "Vul dit veld in.");
    let made = console
        .post("/console/admin/organisations", &[("name", "GI Midden")])
        .await;
    assert_eq!(made.status, 303);
    let org = app.get("/v1/organisations").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let off = console
        .post(
            &format!("/console/admin/organisations/{org}/deactivate"),
            &[("reason", "Contract ended")],
        )
        .await;
    assert_eq!(off.status, 303);
    assert_eq!(
        fixtures::state_of(&app, &format!("/v1/organisations/{org}")).await,
        "inactive"
    );
    let before = app.table_counts();
    let again = console
        .post(
            &format!("/console/admin/organisations/{org}/deactivate"),
            &[],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.plain());
    again.assert_shows("inactief");
    assert_eq!(app.table_counts(), before, "nothing changed");
    let on = console
        .post(
            &format!("/console/admin/organisations/{org}/reactivate"),
            &[],
        )
        .await;
    assert_eq!(on.status, 303);
    assert_eq!(
        fixtures::state_of(&app, &format!("/v1/organisations/{org}")).await,
        "active"
    );
    let unknown = console
        .post(
            &format!(
                "/console/admin/organisations/{}/deactivate",
                uuid::Uuid::now_v7()
            ),
            &[],
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn an_api_key_is_shown_once_works_and_can_be_revoked() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let console = app.console(StaffRole::Admin).await;
    let refused = console
        .post(
            "/console/admin/api-clients",
            &[
                ("organisation_id", "nonsense"),
                ("name", ""),
                ("expires_on", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    for field in ["organisation_id", "name", "expires_on"] {
        assert!(refused.field_error(field).is_some(), "{field}");
    }
    let made = console
        .post(
            "/console/admin/api-clients",
            &[
                ("organisation_id", &org),
                ("name", "Casus-systeem"),
                ("expires_on", ""),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.plain());
    let shown = console.get(made.location()).await;
    let key = shown.input_value("new-key").or_else(|| {
        // The key's field has an id, not a name: read it by its id.
        let at = shown.text.find("id=\"new-key\"")?;
        let rest = &shown.text[at..];
        Some(rest.split("value=\"").nth(1)?.split('"').next()?.to_owned())
    });
    let key = key.expect("the new key is shown");
    assert!(key.starts_with("mtj_ak_"), "{key}");
    // It works for the case system.
    app.use_token(Some(&key));
    let me = app.get("/v1/auth/me").await;
    assert_eq!(me.status, 200);
    app.use_admin();
    // Shown once: reloading the page does not show it again.
    let again = console.get(made.location()).await;
    assert!(!again.text.contains(&key));
    again.assert_shows("al getoond");
    // Revoking the key stops it.
    let client = made
        .location()
        .split('/')
        .nth(4)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let key_id = app.get(&format!("/v1/api-clients/{client}")).await.body["keys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = console
        .post(
            &format!("/console/admin/api-clients/{client}/keys/{key_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status, 303);
    app.use_token(Some(&key));
    assert_eq!(app.get("/v1/auth/me").await.status, 401);
    app.use_admin();
    // Revoking it twice is explained, and changes nothing.
    let before = app.table_counts();
    let twice = console
        .post(
            &format!("/console/admin/api-clients/{client}/keys/{key_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.plain());
    assert_eq!(app.table_counts(), before);
    // A new key for the client, then the client revoked.
    let issued = console
        .post(
            &format!("/console/admin/api-clients/{client}/keys"),
            &[("expires_on", "")],
        )
        .await;
    assert_eq!(issued.status, 303);
    assert!(console
        .get(issued.location())
        .await
        .text
        .contains("mtj_ak_"));
    let gone = console
        .post(&format!("/console/admin/api-clients/{client}/revoke"), &[])
        .await;
    assert_eq!(gone.status, 303);
    assert!(app.get(&format!("/v1/api-clients/{client}")).await.body["revoked_at"].is_string());
}

#[tokio::test]
async fn the_audit_trail_filters_and_its_chain_verifies() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    open_request(&app, &org, "CASE-7").await;
    let console = app.console(StaffRole::Admin).await;
    let all = console.get("/console/admin/audit").await;
    assert_eq!(all.status, 200);
    all.assert_shows("POST /v1/buddy-requests");
    let filtered = console
        .get("/console/admin/audit?object_type=buddy&outcome=allowed")
        .await;
    assert_eq!(filtered.status, 200);
    assert!(!filtered.plain().contains("POST /v1/buddy-requests"));
    let bad = console
        .get("/console/admin/audit?from=yesterday&object_type=planet&object_id=12")
        .await;
    assert_eq!(bad.status, 422);
    for field in ["from", "object_type", "object_id"] {
        assert!(bad.field_error(field).is_some(), "{field}");
    }
    // The filtered trail as CSV, formula-guarded, hashes included for checking elsewhere.
    let csv = console
        .get("/console/admin/audit.csv?object_type=buddy_request")
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let mut lines = csv.text.lines();
    assert!(lines.next().unwrap().starts_with("seq,id,at,actor_type"));
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.contains(",buddy_request,")),
        "{rows:?}"
    );
    // Invalid filters lead back to the page, which shows them.
    let back = console.get("/console/admin/audit.csv?from=never").await;
    assert_eq!(back.status, 303);
    assert!(back.location().starts_with("/console/admin/audit?"));
    let verified = console.get("/console/admin/audit/verify").await;
    assert_eq!(verified.status, 200);
    verified.assert_shows("De keten is intact");
}

#[tokio::test]
async fn legal_holds_exports_and_erasure_go_through_the_privacy_operations() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let request = open_request(&app, &org, "CASE-9").await;
    let console = app.console(StaffRole::Admin).await;
    let page = console
        .get(&format!("/console/admin/privacy/requests/{request}"))
        .await;
    assert_eq!(page.status, 200);
    page.assert_shows("Geen juridische bewaarplicht");
    // A hold needs a reason.
    let before = app.table_counts();
    let refused = console
        .post(
            &format!("/console/admin/privacy/requests/{request}/hold"),
            &[("hold", "place"), ("reason", "")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.field_error("reason").is_some());
    assert_eq!(app.table_counts(), before);
    let held = console
        .post(
            &format!("/console/admin/privacy/requests/{request}/hold"),
            &[("hold", "place"), ("reason", "Klachtprocedure 2026-17")],
        )
        .await;
    assert_eq!(held.status, 303);
    assert_eq!(
        app.get(&format!("/v1/buddy-requests/{request}")).await.body["legal_hold"],
        true
    );
    console
        .get("/console/admin/privacy")
        .await
        .assert_shows("CASE-9");
    // Erasure is refused while the request is open (and held): explained, nothing changes.
    let before = app.table_counts();
    let refused = console
        .post(
            &format!("/console/admin/privacy/requests/{request}/erase"),
            &[("erase_reason", "Verzoek van de cliënt"), ("confirm", "1")],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    assert_eq!(app.table_counts(), before);
    // Without the confirmation, nothing is tried.
    let unconfirmed = console
        .post(
            &format!("/console/admin/privacy/requests/{request}/erase"),
            &[("erase_reason", "Verzoek")],
        )
        .await;
    assert_eq!(unconfirmed.status, 422);
    assert!(unconfirmed.field_error("confirm").is_some());
    // The export is the API's document, as a download.
    let export = console
        .get(&format!(
            "/console/admin/privacy/requests/{request}/export.json"
        ))
        .await;
    assert_eq!(export.status, 200);
    assert!(export
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    let document: serde_json::Value = serde_json::from_str(&export.text).unwrap();
    assert_eq!(document["client_ref"], "CASE-9");
    assert_eq!(document["requests"][0]["request"]["legal_hold"], true);
    let records = app.audit_records_where("object_type=buddy_request").await;
    assert!(
        records.iter().any(|r| r["action"] == "export"
            && r["client_ref"] == "CASE-9"
            && r["actor"]["type"] == "staff"),
        "{records:?}"
    );

    // A buddy: exported and erased.
    let buddy = active_buddy(&app, &org, 1, 1).await;
    let export = console
        .get(&format!(
            "/console/admin/privacy/buddies/{buddy}/export.json"
        ))
        .await;
    assert_eq!(export.status, 200);
    let document: serde_json::Value = serde_json::from_str(&export.text).unwrap();
    assert_eq!(document["buddy"]["id"], buddy.as_str());
    let erased = console
        .post(
            &format!("/console/admin/privacy/buddies/{buddy}/erase"),
            &[("erase_reason", "Verzoek"), ("confirm", "1")],
        )
        .await;
    assert_eq!(erased.status, 303, "{}", erased.plain());
    assert_eq!(
        fixtures::state_of(&app, &format!("/v1/buddies/{buddy}")).await,
        "retired"
    );
    let twice = console
        .post(
            &format!("/console/admin/privacy/buddies/{buddy}/erase"),
            &[("confirm", "1")],
        )
        .await;
    assert_eq!(twice.status, 409);
    // Retention on demand.
    let ran = console.post("/console/admin/privacy/retention", &[]).await;
    assert_eq!(ran.status, 303);
}

#[tokio::test]
async fn an_undeliverable_mail_is_queued_again() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    open_request(&app, &org, "CASE-3").await;
    // The bureau's mail about the request, made undeliverable.
    let id: String = app.with_connection(|conn| {
        use diesel::prelude::*;
        use maatje::db::schema::outbox;
        let id: String = outbox::table.select(outbox::id).first(conn).unwrap();
        diesel::update(outbox::table.filter(outbox::id.eq(&id)))
            .set((
                outbox::state.eq("dead"),
                outbox::last_error.eq("550 mailbox unavailable"),
            ))
            .execute(conn)
            .unwrap();
        id
    });
    let console = app.console(StaffRole::Admin).await;
    let list = console.get("/console/admin/mails").await;
    list.assert_shows("550 mailbox unavailable");
    let home = console.get("/console").await;
    home.assert_shows("bureau_new_request");
    let retried = console
        .post(&format!("/console/admin/mails/{id}/retry"), &[])
        .await;
    assert_eq!(retried.status, 303);
    let state: String = app.with_connection(|conn| {
        use diesel::prelude::*;
        use maatje::db::schema::outbox;
        outbox::table
            .filter(outbox::id.eq(&id))
            .select(outbox::state)
            .first(conn)
            .unwrap()
    });
    assert_eq!(state, "pending");
    // A pending mail cannot be retried: explained, nothing changes.
    let before = app.table_counts();
    let refused = console
        .post(&format!("/console/admin/mails/{id}/retry"), &[])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.plain());
    assert_eq!(app.table_counts(), before);
    let _ = json!(null);
}
