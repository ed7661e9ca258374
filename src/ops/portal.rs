//! The buddy portal's own operations: asking for a sign-in link, signing in with it, and
//! signing out. What a buddy does once signed in goes through the buddies' operations
//! ([`super::buddies`]) with the buddy as actor.

use chrono::Duration;

use super::{Event, Tx};
use crate::auth::token::{self, TokenKind};
use crate::domain::actor::Actor;
use crate::domain::error::DomainResult;
use crate::domain::session::{ConsolePolicy, PortalPolicy};
use crate::domain::values::canonical_email;
use crate::respond::tokens::{self, PURPOSE_BUDDY_SIGN_IN};
use crate::store::buddies::{self, BuddyRow};
use crate::store::portal::{self, BuddySessionRow};

/// Asks for a sign-in link for the address `email`. When it belongs to a buddy who may sign in
/// ([`crate::domain::buddy::BuddyState::opens_portal`]) and who got fewer than
/// `policy.links_per_hour` links in the last hour, a link (a fresh token) is mailed to them;
/// otherwise nothing happens. The caller cannot tell which: it answers the same either way.
/// Returns whether a link was sent (for the tests and the logs' count, never for the answer).
pub fn request_sign_in(tx: &mut Tx<'_>, email: &str, policy: &PortalPolicy) -> DomainResult<bool> {
    let now = tx.now();
    let email = canonical_email(email);
    let buddy = buddies::with_email(tx.conn, &email)?
        .into_iter()
        .find(|b| b.state.opens_portal(b.erased_at.is_some()));
    let Some(buddy) = buddy else {
        tx.unchanged();
        return Ok(false);
    };
    let recent = tokens::created_since(
        tx.conn,
        &buddy.id,
        PURPOSE_BUDDY_SIGN_IN,
        now - Duration::hours(1),
    )?;
    if recent >= policy.links_per_hour {
        tx.unchanged();
        return Ok(false);
    }
    tx.emit(Event::SignInRequested {
        buddy,
        expires_at: now + policy.link_ttl,
    });
    tx.settle()?;
    Ok(true)
}

/// Why a sign-in link cannot be used. Each has its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// No such link: 404.
    Unknown,
    /// Used before: 410.
    Used,
    /// Past its time: 410.
    Expired,
    /// The buddy has stopped (retired or erased): 410.
    Closed,
}

/// What a presented sign-in token is.
pub struct Inspected {
    pub buddy: BuddyRow,
    pub token: tokens::TokenRow,
    pub verdict: Result<(), LinkRefusal>,
}

/// Looks a sign-in token up and decides whether it can be used at `now`; `None` when it is
/// unknown (or a token for anything else).
pub fn inspect(
    conn: &mut crate::db::DbConnection,
    presented: &str,
    now: chrono::NaiveDateTime,
) -> DomainResult<Option<Inspected>> {
    if !crate::respond::well_formed(presented) {
        return Ok(None);
    }
    let Some(token) = tokens::find(conn, presented)? else {
        return Ok(None);
    };
    if token.purpose != PURPOSE_BUDDY_SIGN_IN || token.pairing_id.is_some() {
        return Ok(None);
    }
    let buddy = buddies::find(conn, &token.buddy_id)?;
    let verdict = if token.used_at.is_some() {
        Err(LinkRefusal::Used)
    } else if token.revoked_at.is_some() || !buddy.state.opens_portal(buddy.erased_at.is_some()) {
        Err(LinkRefusal::Closed)
    } else if now >= token.expires_at {
        Err(LinkRefusal::Expired)
    } else {
        Ok(())
    };
    Ok(Some(Inspected {
        buddy,
        token,
        verdict,
    }))
}

/// A session opened: the cookie's token (shown once, stored only as a hash) and the buddy.
pub struct Opened {
    pub token: String,
    pub buddy: BuddyRow,
}

/// Signs in with the sign-in token `presented`, using it up, and opens a portal session as
/// the buddy. A refused link changes nothing.
pub fn sign_in(
    tx: &mut Tx<'_>,
    presented: &str,
    policy: &PortalPolicy,
) -> DomainResult<Result<Opened, LinkRefusal>> {
    let now = tx.now();
    let Some(found) = inspect(tx.conn, presented, now)? else {
        tx.unchanged();
        return Ok(Err(LinkRefusal::Unknown));
    };
    tx.ctx.acted_by(Actor::Buddy(found.buddy.id.to_string()));
    tx.ctx.object(&found.buddy.id);
    if let Err(why) = found.verdict {
        tx.unchanged();
        return Ok(Err(why));
    }
    if !tokens::mark_used(tx.conn, &found.token.id, now)? {
        tx.unchanged();
        return Ok(Err(LinkRefusal::Used));
    }
    let minted = token::mint(TokenKind::BuddySession);
    let ends_at = now + policy.absolute;
    let idle_seconds = i32::try_from(policy.idle.num_seconds()).unwrap_or(i32::MAX);
    portal::insert(
        tx.conn,
        &BuddySessionRow {
            id: minted.id.clone(),
            buddy_id: found.buddy.id.clone(),
            token_hash: minted.secret_hash,
            created_at: now,
            expires_at: ConsolePolicy::extended(idle_seconds, now, ends_at),
            ends_at,
            idle_seconds,
            last_seen_at: Some(now),
            revoked_at: None,
        },
    )?;
    Ok(Ok(Opened {
        token: minted.token,
        buddy: found.buddy,
    }))
}

/// Ends the portal session `session_id` (signing out).
pub fn sign_out(tx: &mut Tx<'_>, session_id: &str) -> DomainResult<()> {
    portal::revoke(tx.conn, session_id, tx.now())?;
    tx.credentials_changed();
    Ok(())
}
