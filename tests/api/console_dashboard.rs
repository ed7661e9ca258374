//! The work queue (werkvoorraad): overdue requests first, proposals with their deadline in Dutch
//! local time, buddies whose VOG is about to turn too old, undeliverable e-mails.

use chrono::Duration;
use maatje::auth::StaffRole;

use crate::fixtures::{active_buddy, open_request, organisation, propose};
use crate::helpers::*;

#[tokio::test]
async fn the_work_queue_puts_overdue_requests_first_and_shows_deadlines_in_local_time() {
    let app = spawn_app().await;
    let org = organisation(&app).await;
    let old = open_request(&app, &org, "CASE-OLD").await;
    app.clock.advance(Duration::days(6));
    let fresh = open_request(&app, &org, "CASE-NEW").await;
    let buddy = active_buddy(&app, &org, 1, 2).await;
    // A proposal for a third request: it waits for the buddy's answer.
    let waiting = open_request(&app, &org, "CASE-WAIT").await;
    propose(&app, &waiting, &buddy).await;
    let console = app.console(StaffRole::Coordinator).await;
    let page = console.get("/console").await;
    assert_eq!(page.status, 200);
    page.assert_shows("2 open aanvragen, waarvan 1 te laat; 1 voorstellen wachten op antwoord.");
    let text = page.plain();
    let (at_old, at_new) = (
        text.find("CASE-OLD").unwrap(),
        text.find("CASE-NEW").unwrap(),
    );
    assert!(at_old < at_new, "the overdue request comes first");
    assert!(page.text.contains(&format!("/console/requests/{old}")));
    assert!(page.text.contains(&format!("/console/requests/{fresh}")));
    page.assert_shows("CASE-OLD Onvrede Utrecht 6 dagen");
    page.assert_shows("Te laat");
    // Proposed on 28 Nov 10:00 Amsterdam (09:00 UTC), answer within 72 hours: 1 Dec 10:00.
    page.assert_shows("28 nov 2026 10:00");
    page.assert_shows("1 dec 2026 10:00");
    assert!(page.text.contains("datetime=\"2026-12-01T09:00:00Z\""));
    // No VOG about to expire yet: issued 1 Oct, it counts through 1 Jan, too old from 2 Jan.
    page.assert_shows("Geen VOG's die binnenkort verlopen.");
    // English, and the VOG warning once 1 Jan is within 30 days.
    app.clock.advance(Duration::days(9));
    let console = app.console(StaffRole::Coordinator).await;
    console.get("/console/language?to=en&back=/console").await;
    let page = console.get("/console").await;
    page.assert_shows("VOG about to expire");
    page.assert_shows("1 Oct 2026");
    page.assert_shows("2 Jan 2027");
    page.assert_shows("Overdue");
}
