//! E-mail through a transactional outbox. A state change that should send mail calls
//! [`crate::store::outbox::enqueue`] inside its write transaction; the [`worker::MailWorker`] claims due rows with
//! a lease, sends them through the [`transport::Transport`] built once from `[mail]`, and marks
//! them sent, for a retry (transient failures, with exponential backoff and jitter) or dead
//! (permanent failures, or too many attempts; the client bureau is alerted). Delivery is
//! at-least-once: see the README, "Mail".

pub mod notices;
pub mod smtp;
pub mod transport;
pub mod worker;
