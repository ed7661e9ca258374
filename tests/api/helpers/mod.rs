//! The test harness: the real server on a free port against a fresh database per test, request
//! helpers that check every answer against the OpenAPI contract, and fixtures.
//!
//! ```ignore
//! let app = spawn_app().await;
//! let before = app.table_counts();
//! let resp = app.post_json("/v1/organisations", &json!({ "name": 5 })).await;
//! assert_invalid_fields(&resp, &["name"]);
//! assert_eq!(app.table_counts(), before, "a bad request stores nothing");
//! ```
//!
//! # Databases
//!
//! SQLite by default: a file in a temporary directory that lives as long as the [`TestApp`].
//!
//! PostgreSQL when `MAATJE_TEST_POSTGRES_URL` is set to a maintenance database on a server where
//! the test may create databases, e.g. `postgres://postgres@127.0.0.1:25432/postgres` (see
//! `.ci/run`). Once per test process a template database `maatje_tpl_<pid>` is created and
//! migrated; each test then gets its own `maatje_t_<uuid>` cloned from it, dropped again when the
//! [`TestApp`] is dropped. A template outlives its process; the next run on a local server drops
//! those whose process has ended. A test process that is killed leaves its databases behind.
//!
//! # What every request checks
//!
//! Each helper that sends a request panics unless the answer
//! - carries an `X-Request-Id` header;
//! - for 4xx and 5xx: is `application/problem+json` whose `status` equals the HTTP status, with
//!   `type`, `title` and a `request_id` equal to the header;
//! - has a status code that the OpenAPI spec documents for the operation matching the method
//!   and path (paths the spec does not describe, such as `/docs` or unknown routes, and methods
//!   it does not list for a path are exempt);
//! - keeps the contract, checked by a JSON Schema 2020-12 validator (see [`crate::contract`]):
//!   the answer's content type is documented for its status and a JSON body validates against
//!   the documented schema (enums, formats, patterns, `additionalProperties`), problems
//!   included; and a request the server accepted (2xx) validates too: its JSON body, its query
//!   and path parameters, and a required body is there.
//!
//! Set `TEST_LOG=1` to see the server's logs (`TEST_LOG=debug` for more). [`capture_logs`] keeps
//! them in memory at debug level, for tests about what is (not) logged.
//!
//! # Adding a module
//!
//! A new resource gets `tests/api/<resource>.rs` and a `mod <resource>;` line in `main.rs`. Use
//! `#[tokio::test]`, one [`spawn_app`] per test, the request helpers of [`TestApp`] (never a
//! bare `reqwest` call, which would skip the checks above), [`assert_problem`] and
//! [`assert_invalid_fields`] for failures, and `app.table_counts()` before and after every
//! request that must store nothing. Put fixtures that other modules need (`create_buddy`, ...)
//! here, next to [`create_organisation`], and new tables in [`TABLES`]. Move time with
//! `app.clock.advance(chrono::Duration::days(n))` instead of sleeping.
//!
//! # Files
//!
//! - `app.rs`: [`spawn_app`] and its variants, the [`TestApp`], staff accounts, case systems and
//!   [`create_organisation`];
//! - `http.rs`: the request helpers of [`TestApp`] and the [`Response`] they return;
//! - `exchange.rs`: the checks of every exchange ([`check_exchange`]) and the look-ups in the
//!   spec ([`find_spec_operation`]);
//! - `database.rs`: the test databases, [`TABLES`] and [`TestApp::table_counts`];
//! - `assertions.rs`: [`assert_problem`], [`assert_invalid_fields`] and reading resources;
//! - `logs.rs`: [`capture_logs`] and `TEST_LOG`;
//! - `browser.rs`: the pages in a real browser, [`Browser`]: headless Chromium through
//!   chromedriver, axe-core, keyboard, 320 px, screenshots; skipped unless
//!   `MAATJE_TEST_CHROMEDRIVER` and `MAATJE_TEST_AXE` are set (see there).

#![allow(dead_code)] // Not every test module uses every helper.

mod app;
mod assertions;
mod browser;
mod console;
mod database;
mod exchange;
mod http;
mod logs;

pub use reqwest::Method;

pub use crate::contract::Sent;

pub use app::*;
pub use assertions::*;
pub use browser::*;
pub use console::{Console, Page};
pub use database::*;
pub use exchange::*;
pub use http::*;
pub use logs::*;

/// The harness checks themselves: each must be able to fail.
#[cfg(test)]
mod tests;
