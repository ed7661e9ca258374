//! Whether a presented bearer token is valid now, and who it makes the caller. The store finds
//! the stored credential by its id; the rules of validity are here, in one place.

use chrono::{Duration, NaiveDateTime};

use super::token::{Presented, TokenKind};
use super::{Identity, Role};
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::error::DomainResult;
use crate::domain::ids::ApiKeyId;
use crate::domain::organisation::OrganisationState;
use crate::store::{api_clients, staff};

/// `last_used_at` is written at most this often per key, not on every request.
const LAST_USED_RESOLUTION: i64 = 60;

/// A caller whose credential is valid.
#[derive(Debug, Clone)]
pub struct Holder {
    pub identity: Identity,
    /// `false` once a case system's organisation is deactivated: its keys are refused until it
    /// is reactivated (see [`super::middleware`]).
    pub organisation_active: bool,
}

/// The caller behind a presented token, if the token is valid now: known, its secret matching,
/// not revoked, not expired, and its account or client still active. Notes an API key's use.
pub fn authenticate(
    conn: &mut DbConnection,
    presented: &Presented,
    now: NaiveDateTime,
) -> DomainResult<Option<Holder>> {
    match presented.kind {
        TokenKind::ApiKey => api_key(conn, presented, now),
        TokenKind::StaffSession => staff_session(conn, presented, now),
    }
}

fn api_key(
    conn: &mut DbConnection,
    presented: &Presented,
    now: NaiveDateTime,
) -> DomainResult<Option<Holder>> {
    let Some((key, client, organisation_state)) =
        api_clients::find_key(conn, &ApiKeyId::from(presented.id.as_str()))?
    else {
        return Ok(None);
    };
    let valid = presented.matches(&key.secret_hash)
        && key.revoked_at.is_none()
        && client.revoked_at.is_none()
        && key.expires_at.is_none_or(|at| at > now);
    if !valid {
        return Ok(None);
    }
    let stale = key
        .last_used_at
        .is_none_or(|at| now - at >= Duration::seconds(LAST_USED_RESOLUTION));
    if stale {
        api_clients::note_use(conn, &key.id, now)?;
    }
    Ok(Some(Holder {
        identity: Identity {
            role: Role::CaseSystem,
            actor: Actor::ApiClient(client.id.into()),
            organisation_id: Some(client.organisation_id),
            credential_id: key.id.into(),
            on_behalf_of: None,
        },
        organisation_active: organisation_state == OrganisationState::Active,
    }))
}

fn staff_session(
    conn: &mut DbConnection,
    presented: &Presented,
    now: NaiveDateTime,
) -> DomainResult<Option<Holder>> {
    let Some((session, account)) = staff::find_session(conn, &presented.id)? else {
        return Ok(None);
    };
    let valid = presented.matches(&session.token_hash)
        && session.revoked_at.is_none()
        && session.expires_at > now
        && account.active;
    if !valid {
        return Ok(None);
    }
    Ok(Some(Holder {
        identity: Identity {
            role: account.role.into(),
            actor: Actor::Staff(account.id.into()),
            organisation_id: None,
            credential_id: session.id,
            on_behalf_of: None,
        },
        organisation_active: true,
    }))
}
