//! The `response_tokens` table: one row per link, bound to a buddy and a purpose, and for an
//! answer to a proposal to its pairing. Every function takes a connection and runs inside the
//! caller's transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::links::{new_token_id, token_hash, Links};
use crate::db::schema::response_tokens;
use crate::db::DbConnection;
use crate::domain::error::DomainResult;
use crate::domain::ids::{BuddyId, PairingId};

/// What a token may be used for: answering a pairing proposal ...
pub const PURPOSE_PROPOSAL_RESPONSE: &str = "proposal_response";
/// ... or the check-in of a running pairing.
pub const PURPOSE_CHECK_IN: &str = "check_in";
/// ... or signing in to the buddy portal (bound to no pairing; see [`crate::portal`]).
pub const PURPOSE_BUDDY_SIGN_IN: &str = "buddy_sign_in";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = response_tokens)]
pub struct TokenRow {
    pub id: String,
    pub token_hash: String,
    /// The pairing a proposal's answer is about; `None` for a sign-in link.
    pub pairing_id: Option<PairingId>,
    pub buddy_id: BuddyId,
    pub purpose: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// When the link was revoked unused: its buddy was paused or retired, or their e-mail
    /// address changed (see [`revoke_for_buddy`]).
    pub revoked_at: Option<NaiveDateTime>,
}

/// Creates the token with which `buddy_id` answers the proposal `pairing_id` until
/// `expires_at`; returns its id, from which the mail's link markers are made.
pub fn create(
    conn: &mut DbConnection,
    links: &Links,
    pairing_id: &PairingId,
    buddy_id: &BuddyId,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> DomainResult<String> {
    create_for(
        conn,
        links,
        PURPOSE_PROPOSAL_RESPONSE,
        pairing_id,
        buddy_id,
        expires_at,
        now,
    )
}

/// Creates a token for `purpose` (one of the `PURPOSE_…` constants) of pairing `pairing_id`
/// and its buddy, usable until `expires_at`; returns its id.
pub fn create_for(
    conn: &mut DbConnection,
    links: &Links,
    purpose: &str,
    pairing_id: &PairingId,
    buddy_id: &BuddyId,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> DomainResult<String> {
    insert(
        conn,
        links,
        purpose,
        Some(pairing_id),
        buddy_id,
        expires_at,
        now,
    )
}

/// Creates a sign-in link's token for `buddy_id`, valid until `expires_at`; returns its id.
pub fn create_sign_in(
    conn: &mut DbConnection,
    links: &Links,
    buddy_id: &BuddyId,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> DomainResult<String> {
    insert(
        conn,
        links,
        PURPOSE_BUDDY_SIGN_IN,
        None,
        buddy_id,
        expires_at,
        now,
    )
}

fn insert(
    conn: &mut DbConnection,
    links: &Links,
    purpose: &str,
    pairing_id: Option<&PairingId>,
    buddy_id: &BuddyId,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> DomainResult<String> {
    let id = new_token_id();
    diesel::insert_into(response_tokens::table)
        .values((
            response_tokens::id.eq(&id),
            response_tokens::token_hash.eq(token_hash(&links.token(&id))),
            response_tokens::pairing_id.eq(pairing_id),
            response_tokens::buddy_id.eq(buddy_id),
            response_tokens::purpose.eq(purpose),
            response_tokens::expires_at.eq(expires_at),
            response_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// How many tokens for `purpose` buddy `buddy_id` got since `since` (used or not).
pub fn created_since(
    conn: &mut DbConnection,
    buddy_id: &BuddyId,
    purpose: &str,
    since: NaiveDateTime,
) -> DomainResult<i64> {
    Ok(response_tokens::table
        .filter(response_tokens::buddy_id.eq(buddy_id))
        .filter(response_tokens::purpose.eq(purpose))
        .filter(response_tokens::created_at.gt(since))
        .count()
        .get_result(conn)?)
}

/// The live token of a pairing's proposal, for a reminder that repeats its links.
pub fn for_pairing(
    conn: &mut DbConnection,
    pairing_id: &PairingId,
) -> DomainResult<Option<TokenRow>> {
    Ok(response_tokens::table
        .filter(response_tokens::pairing_id.eq(pairing_id))
        .filter(response_tokens::purpose.eq(PURPOSE_PROPOSAL_RESPONSE))
        .filter(response_tokens::used_at.is_null())
        .filter(response_tokens::revoked_at.is_null())
        .order(response_tokens::created_at.desc())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// The row of a presented token, looked up by its hash.
pub fn find(conn: &mut DbConnection, token: &str) -> DomainResult<Option<TokenRow>> {
    Ok(response_tokens::table
        .filter(response_tokens::token_hash.eq(token_hash(token)))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a token used, guarded by its being unused: `false` when another request used it first.
pub fn mark_used(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> DomainResult<bool> {
    let updated = diesel::update(
        response_tokens::table
            .find(id)
            .filter(response_tokens::used_at.is_null()),
    )
    .set(response_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes every live (unused, unrevoked) link of `buddy_id`: a revoked link answers 410 like
/// one whose proposal is closed. Returns how many were revoked.
pub fn revoke_for_buddy(
    conn: &mut DbConnection,
    buddy_id: &BuddyId,
    now: NaiveDateTime,
) -> DomainResult<usize> {
    Ok(diesel::update(
        response_tokens::table
            .filter(response_tokens::buddy_id.eq(buddy_id))
            .filter(response_tokens::used_at.is_null())
            .filter(response_tokens::revoked_at.is_null()),
    )
    .set(response_tokens::revoked_at.eq(now))
    .execute(conn)?)
}
