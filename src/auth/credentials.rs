//! Whether a presented bearer token is valid now, and who it makes the caller. The store finds
//! the stored credential by its id; the rules of validity are here, in one place, and apply
//! alike to what the database just returned and to what [`super::cache`] kept of it.

use chrono::{Duration, NaiveDateTime};

use super::token::{Presented, TokenKind};
use super::{Identity, Role, StaffRole};
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::buddy::BuddyState;
use crate::domain::error::DomainResult;
use crate::domain::ids::{ApiKeyId, StaffId};
use crate::domain::organisation::OrganisationState;
use crate::domain::session::{Channel, ConsolePolicy};
use crate::store::api_clients::{self, ApiClientRow, ApiKeyRow};
use crate::store::portal::{self, BuddySessionRow};
use crate::store::staff::{self, SessionRow};

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

/// What the database holds about one credential, as far as its validity goes: the rows of an
/// API key with its client and the state of the client's organisation, or of a staff session
/// with its account's id, role and active flag (not its password hash).
#[derive(Debug, Clone)]
pub enum Stored {
    ApiKey {
        key: ApiKeyRow,
        client: ApiClientRow,
        organisation: OrganisationState,
    },
    Session {
        session: SessionRow,
        staff_id: StaffId,
        role: StaffRole,
        active: bool,
    },
    /// A buddy's portal session, with the buddy's state and whether they are erased: a retired
    /// or erased buddy's sessions do not work.
    BuddySession {
        session: BuddySessionRow,
        state: BuddyState,
        erased: bool,
    },
}

impl Stored {
    /// The caller behind `presented`, if this credential is valid for it now: its secret
    /// matching (in constant time), not revoked, not expired, and its account or client still
    /// active.
    pub fn holder(&self, presented: &Presented, now: NaiveDateTime) -> Option<Holder> {
        match self {
            Stored::ApiKey {
                key,
                client,
                organisation,
            } => {
                let valid = presented.kind == TokenKind::ApiKey
                    && presented.id == key.id.as_str()
                    && presented.matches(&key.secret_hash)
                    && key.revoked_at.is_none()
                    && client.revoked_at.is_none()
                    && key.expires_at.is_none_or(|at| at > now);
                valid.then(|| Holder {
                    identity: Identity {
                        role: Role::CaseSystem,
                        actor: Actor::ApiClient(client.id.clone().into()),
                        organisation_id: Some(client.organisation_id.clone()),
                        credential_id: key.id.clone().into(),
                        on_behalf_of: None,
                    },
                    organisation_active: *organisation == OrganisationState::Active,
                })
            }
            Stored::Session {
                session,
                staff_id,
                role,
                active,
            } => {
                // A session works in the channel it was opened in only.
                let kind = match session.channel {
                    Channel::Api => TokenKind::StaffSession,
                    Channel::Console => TokenKind::ConsoleSession,
                };
                let valid = presented.kind == kind
                    && presented.id == session.id
                    && presented.matches(&session.token_hash)
                    && session.revoked_at.is_none()
                    && session.expires_at > now
                    && *active;
                valid.then(|| Holder {
                    identity: Identity {
                        role: (*role).into(),
                        actor: Actor::Staff(staff_id.clone().into()),
                        organisation_id: None,
                        credential_id: session.id.clone(),
                        on_behalf_of: None,
                    },
                    organisation_active: true,
                })
            }
            Stored::BuddySession {
                session,
                state,
                erased,
            } => {
                let valid = presented.kind == TokenKind::BuddySession
                    && presented.id == session.id
                    && presented.matches(&session.token_hash)
                    && session.revoked_at.is_none()
                    && session.expires_at > now
                    && *state != BuddyState::Retired
                    && !*erased;
                valid.then(|| Holder {
                    identity: Identity {
                        role: Role::Buddy,
                        actor: Actor::Buddy(session.buddy_id.to_string()),
                        organisation_id: None,
                        credential_id: session.id.clone(),
                        on_behalf_of: None,
                    },
                    organisation_active: true,
                })
            }
        }
    }

    /// Whether a use at `now` is to be noted: an API key whose `last_used_at` is a minute old
    /// or more (or was never noted), or a console session whose use was last noted a minute
    /// ago or more (its idle time then starts again).
    pub fn use_to_note(&self, now: NaiveDateTime) -> bool {
        let stale = |at: Option<NaiveDateTime>| {
            at.is_none_or(|at| now - at >= Duration::seconds(LAST_USED_RESOLUTION))
        };
        match self {
            Stored::ApiKey { key, .. } => stale(key.last_used_at),
            Stored::Session { session, .. } => {
                session.channel == Channel::Console && stale(session.last_seen_at)
            }
            Stored::BuddySession { session, .. } => stale(session.last_seen_at),
        }
    }
}

/// The caller behind a presented token, if the token is valid now (see [`Stored::holder`]), and
/// what the database holds about the credential (with an API key's use noted), for
/// [`super::cache`] to keep.
pub fn verify(
    conn: &mut DbConnection,
    presented: &Presented,
    now: NaiveDateTime,
) -> DomainResult<Option<(Holder, Stored)>> {
    let Some(mut stored) = find(conn, presented)? else {
        return Ok(None);
    };
    let Some(holder) = stored.holder(presented, now) else {
        return Ok(None);
    };
    if stored.use_to_note(now) {
        match &mut stored {
            Stored::ApiKey { key, .. } => {
                api_clients::note_use(conn, &key.id, now)?;
                key.last_used_at = Some(now);
            }
            Stored::Session { session, .. } => {
                if let (Some(idle), Some(ends_at)) = (session.idle_seconds, session.ends_at) {
                    let expires_at = ConsolePolicy::extended(idle, now, ends_at);
                    staff::note_session_use(conn, &session.id, now, expires_at)?;
                    session.last_seen_at = Some(now);
                    session.expires_at = expires_at;
                }
            }
            Stored::BuddySession { session, .. } => {
                let expires_at =
                    ConsolePolicy::extended(session.idle_seconds, now, session.ends_at);
                portal::note_use(conn, &session.id, now, expires_at)?;
                session.last_seen_at = Some(now);
                session.expires_at = expires_at;
            }
        }
    }
    Ok(Some((holder, stored)))
}

fn find(conn: &mut DbConnection, presented: &Presented) -> DomainResult<Option<Stored>> {
    Ok(match presented.kind {
        TokenKind::ApiKey => api_clients::find_key(conn, &ApiKeyId::from(presented.id.as_str()))?
            .map(|(key, client, organisation)| Stored::ApiKey {
                key,
                client,
                organisation,
            }),
        TokenKind::StaffSession | TokenKind::ConsoleSession => {
            staff::find_session(conn, &presented.id)?.map(|(session, account)| Stored::Session {
                session,
                staff_id: account.id,
                role: account.role,
                active: account.active,
            })
        }
        TokenKind::BuddySession => {
            portal::find(conn, &presented.id)?.map(|(session, state, erased)| {
                Stored::BuddySession {
                    session,
                    state,
                    erased,
                }
            })
        }
    })
}
