//! A staff login by e-mail address and password, for both channels that have one: the API
//! (`POST /v1/auth/login`, a bearer token) and the browser console (a session cookie). Same
//! accounts, same password check, same lockout; only the kind of session opened differs.

use actix_web::{web, HttpRequest};

use super::password;
use crate::domain::actor::Actor;
use crate::domain::values::canonical_email;
use crate::error::{ApiError, ApiResult};
use crate::ops::admin::{LoginOutcome, Opening};
use crate::ops::{AppState, Ctx};
use crate::store::staff as store;

/// The source a login's failures count against: the client's address
/// ([`crate::http::client_addr`]), an IPv6 address by its /64, as the rate limits count it.
pub fn source(req: &HttpRequest) -> String {
    crate::http::client_addr::of(req).map_or_else(
        || "unknown".to_owned(),
        crate::http::rate_limit::address_key,
    )
}

/// Checks `password` for the account of `email` and, when it matches and the account is active
/// and not locked for `source`, opens a session of `channel`. The slow hash check runs on the
/// blocking pool, outside any transaction, holding one of the bounded permits until it is done;
/// an unknown address costs the same time as a known one. A failure counts against the account
/// for `source` (an IPv4 address, or an IPv6 address's /64, as the rate limits count it).
pub async fn log_in(
    state: &AppState,
    email: &str,
    password: String,
    source: String,
    channel: Opening,
) -> ApiResult<LoginOutcome> {
    // Accounts are stored with the domain in lower case: look them up the same way.
    let email = canonical_email(email);
    let account = state
        .db
        .run(move |conn| -> ApiResult<_> { Ok(store::find_by_email(conn, &email)?) })
        .await?;
    let permit = state
        .verifications
        .acquire()
        .await
        .map_err(|password::Busy| ApiError::Busy {
            what: "password checks",
            retry_after_secs: 1,
        })?;
    let attempt = web::block(move || {
        let _permit = permit;
        match account {
            Some(row) => Some((row.id, password::verify(&password, &row.password_hash))),
            None => {
                password::verify_dummy(&password);
                None
            }
        }
    })
    .await?;
    let (policy, now) = (state.login, state.clock.now_naive());
    let labels = crate::metrics::ChannelLabels {
        channel: match channel {
            Opening::Api => "api",
            Opening::Console(_) => "console",
        },
    };
    let outcome = match attempt {
        Some((id, verified)) => {
            let ctx = Ctx::new(Actor::Unauthenticated, None, now);
            state
                .change(ctx, move |tx| {
                    crate::ops::admin::log_in(tx, &id, &source, verified, policy, channel)
                })
                .await?
        }
        None => LoginOutcome::Refused { locked_out: false },
    };
    if let LoginOutcome::Refused { locked_out } = outcome {
        let metrics = state.db.metrics();
        metrics.login_failures.get_or_create(&labels).inc();
        if locked_out {
            metrics.login_lockouts.get_or_create(&labels).inc();
        }
    }
    Ok(outcome)
}
