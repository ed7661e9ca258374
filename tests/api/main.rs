//! The integration tests: one binary (fast to link), one module per concern or resource.
//! `helpers` starts the real server per test; see its docs for the PostgreSQL switch.

mod access;
mod adr;
mod audit;
mod auth;
mod auto_propose;
mod buddies;
mod cli;
mod common_errors;
mod conditional;
mod console_buddies;
mod console_session;
mod contract;
mod crash;
mod credential_cache;
mod events;
mod exit_interviews;
mod fixtures;
mod health;
mod helpers;
mod idempotency;
mod limits;
mod mail;
mod matching;
mod openapi;
mod organisations;
mod outage;
mod pairings;
mod privacy;
mod proxy;
mod reports;
mod requests;
mod respond;
mod smtp;
mod webhooks;
mod workflow;
