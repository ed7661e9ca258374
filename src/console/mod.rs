//! The staff console: the pages coordinators and administrators work in, under `/console`.
//!
//! It is one more channel onto the same service: every page is a route with a rule in the one
//! access [`Policy`] (registered here through [`Router`], next to its handler), authenticated by
//! the same middleware (a console session cookie instead of a bearer token, see
//! [`crate::auth::middleware`]), audited by the same trail, and every change goes through the
//! same use-case operations ([`crate::ops`]) as the API's.
//!
//! # Pages
//!
//! Server-rendered HTML (minijinja templates under `src/templates/console/`), one stylesheet
//! and no script at all: the Content-Security-Policy ([`CSP`]) allows nothing inline and only
//! the service's own origin. Dutch by default, English by choice (a cookie, [`i18n`]); times in
//! Europe/Amsterdam local time.
//!
//! # Forms
//!
//! Every form posts with the session's CSRF token ([`page::Viewer::csrf`]), checked before the
//! handler runs ([`forms::FormData`]). A change that succeeds answers `303 See Other` to a page
//! (post/redirect/get), so reloading or going back never posts again; a form with errors is
//! shown again with what was entered and a message at each field, and nothing is stored.

pub mod admin;
pub mod admin_audit;
pub mod admin_clients;
pub mod admin_feedback;
pub mod admin_privacy;
pub mod assets;
pub mod buddies;
pub mod casework;
pub mod charts;
pub mod dashboard;
pub mod exit_interviews;
pub mod export;
pub mod forms;
pub mod i18n;
pub mod page;
pub mod pairings;
pub mod reports;
pub mod requests;
pub mod router;
pub mod session;

use actix_web::web;

pub use page::{Console, Viewer};
pub use router::Router;

use crate::auth::policy::Policy;

/// Where the console lives.
pub const PREFIX: &str = "/console";

/// The console's Content-Security-Policy: its own stylesheet and images, no script, no inline
/// anything, forms back to itself only, framed by nobody.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Whether `path` is a console page (its refusals are pages, not problem documents).
pub fn is_console(path: &str) -> bool {
    path == PREFIX || path.starts_with("/console/")
}

/// Every console route, with its rule.
pub fn routes(router: &mut Router<'_>) {
    session::routes(router);
    assets::routes(router);
    dashboard::routes(router);
    admin::routes(router);
    admin_clients::routes(router);
    admin_audit::routes(router);
    admin_privacy::routes(router);
    admin_feedback::routes(router);
    buddies::routes(router);
    reports::routes(router);
    requests::routes(router);
    pairings::routes(router);
    exit_interviews::routes(router);
}

/// The rules of the console's routes.
pub fn rules(policy: &mut Policy) {
    routes(&mut Router::rules(policy));
}

/// Registers the console's routes on the app.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes(&mut Router::services(cfg));
}
