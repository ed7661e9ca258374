//! maatje: coordinates the volunteer buddy programme of Dutch youth-protection organisations.
//!
//! Layers, outside in: [`startup`] wires the HTTP server; [`api`] holds the handlers and their
//! JSON shapes, [`respond`] the buddy's response pages and [`jobs`] the background work, all of
//! which call the use-case operations in [`ops`] (one transaction each, with its events, their
//! reactions and its audit record); [`store`] the queries; [`domain`] the rules (state
//! machines, validation) free of HTTP and SQL; [`db`] the pool and migrations for SQLite and
//! PostgreSQL; [`auth`] and [`audit`] who may do what, and the record of who did.

pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod console;
pub mod db;
pub mod domain;
pub mod error;
pub mod feedback;
pub mod http;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod matching;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod portal;
pub mod reports;
pub mod respond;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod templates;
pub mod webhooks;
