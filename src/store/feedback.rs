//! Client feedback: invitations (`client_feedback_invitations`) and answers (`client_feedback`),
//! stored apart from the case: no row names a request, a pairing or a buddy, and an answer keeps
//! no time finer than its quarter. The request keeps only that its client was invited
//! (`buddy_requests.feedback_invited`). Every function runs inside the caller's transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{StoreError, StoreResult};
use crate::db::schema::{buddy_requests, client_feedback, client_feedback_invitations as inv};
use crate::db::DbConnection;
use crate::domain::feedback::{Answer, Quarter};
use crate::domain::ids::{OrganisationId, RequestId};
use crate::respond::links::{new_token_id, token_hash, Links};

pub const ENTITY: &str = "client_feedback";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inv)]
pub struct InvitationRow {
    pub id: String,
    pub token_hash: String,
    pub organisation_id: OrganisationId,
    pub language: String,
    pub expires_at: NaiveDateTime,
    pub used: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = client_feedback)]
pub struct AnswerRow {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub quarter: String,
    pub score: i32,
    pub helped: Option<String>,
    pub better: Option<String>,
    pub text_removed: bool,
}

/// Marks request `id` as having had its feedback invitation, guarded by its not having had one:
/// `false` when it had (a second invitation is refused).
pub fn mark_invited(conn: &mut DbConnection, id: &RequestId) -> StoreResult<bool> {
    let changed = diesel::update(
        buddy_requests::table
            .find(id)
            .filter(buddy_requests::feedback_invited.eq(false)),
    )
    .set(buddy_requests::feedback_invited.eq(true))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Whether request `id`'s client was invited.
pub fn invited(conn: &mut DbConnection, id: &RequestId) -> StoreResult<bool> {
    Ok(buddy_requests::table
        .find(id)
        .select(buddy_requests::feedback_invited)
        .first(conn)
        .optional()?
        .unwrap_or(false))
}

/// Creates an invitation of `organisation` in `language` until `expires_at`; returns its id,
/// from which the link (or the mail's marker) is made. Only the token's hash is stored.
pub fn create_invitation(
    conn: &mut DbConnection,
    links: &Links,
    organisation: &OrganisationId,
    language: &str,
    expires_at: NaiveDateTime,
) -> StoreResult<String> {
    let id = new_token_id();
    diesel::insert_into(inv::table)
        .values((
            inv::id.eq(&id),
            inv::token_hash.eq(token_hash(&links.feedback_token(&id))),
            inv::organisation_id.eq(organisation),
            inv::language.eq(language),
            inv::expires_at.eq(expires_at),
            inv::used.eq(false),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The invitation of a presented token, by its hash.
pub fn find_invitation(conn: &mut DbConnection, token: &str) -> StoreResult<Option<InvitationRow>> {
    Ok(inv::table
        .filter(inv::token_hash.eq(token_hash(token)))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Uses an invitation up, guarded by its being unused: `false` when another request used it
/// first.
pub fn use_invitation(conn: &mut DbConnection, id: &str) -> StoreResult<bool> {
    let changed = diesel::update(inv::table.find(id).filter(inv::used.eq(false)))
        .set(inv::used.eq(true))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes the invitations that expired before `cutoff` (used or not); returns how many.
pub fn purge_invitations(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StoreResult<usize> {
    Ok(diesel::delete(inv::table.filter(inv::expires_at.lt(cutoff))).execute(conn)?)
}

/// A random id (UUID version 4): unlike the service's other ids (UUIDv7), it holds no time.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Stores an answer of `organisation` in `quarter`; returns its id.
pub fn insert_answer(
    conn: &mut DbConnection,
    organisation: &OrganisationId,
    quarter: Quarter,
    answer: &Answer,
) -> StoreResult<String> {
    let id = random_id();
    diesel::insert_into(client_feedback::table)
        .values((
            client_feedback::id.eq(&id),
            client_feedback::organisation_id.eq(organisation),
            client_feedback::quarter.eq(quarter.to_string()),
            client_feedback::score.eq(answer.score),
            client_feedback::helped.eq(&answer.helped),
            client_feedback::better.eq(&answer.better),
            client_feedback::text_removed.eq(false),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The scores of every answer in `quarters` (of `organisation`, or every organisation), as
/// `(organisation, quarter, score)`.
pub fn scores(
    conn: &mut DbConnection,
    organisation: Option<&OrganisationId>,
    quarters: &[Quarter],
) -> StoreResult<Vec<(OrganisationId, String, i32)>> {
    let quarters: Vec<String> = quarters.iter().map(Quarter::to_string).collect();
    let mut query = client_feedback::table
        .filter(client_feedback::quarter.eq_any(quarters))
        .select((
            client_feedback::organisation_id,
            client_feedback::quarter,
            client_feedback::score,
        ))
        .into_boxed();
    if let Some(organisation) = organisation {
        query = query.filter(client_feedback::organisation_id.eq(organisation.clone()));
    }
    Ok(query.load(conn)?)
}

/// Every answer of `organisation` in `quarter`, ordered by their (random) ids.
pub fn answers(
    conn: &mut DbConnection,
    organisation: &OrganisationId,
    quarter: Quarter,
) -> StoreResult<Vec<AnswerRow>> {
    Ok(client_feedback::table
        .filter(client_feedback::organisation_id.eq(organisation))
        .filter(client_feedback::quarter.eq(quarter.to_string()))
        .order(client_feedback::id.asc())
        .select(AnswerRow::as_select())
        .load(conn)?)
}

pub fn find_answer(conn: &mut DbConnection, id: &str) -> StoreResult<AnswerRow> {
    client_feedback::table
        .find(id)
        .select(AnswerRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENTITY, id))
}

/// Removes the free texts of answer `id` (the score stays); `false` when they were gone already.
pub fn remove_text(conn: &mut DbConnection, id: &str) -> StoreResult<bool> {
    let changed = diesel::update(
        client_feedback::table
            .find(id)
            .filter(client_feedback::text_removed.eq(false)),
    )
    .set((
        client_feedback::helped.eq(None::<String>),
        client_feedback::better.eq(None::<String>),
        client_feedback::text_removed.eq(true),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Removes the free texts of every answer of `through` and earlier quarters (retention);
/// returns how many answers lost their texts.
pub fn remove_texts_through(conn: &mut DbConnection, through: Quarter) -> StoreResult<usize> {
    Ok(diesel::update(
        client_feedback::table
            .filter(client_feedback::quarter.le(through.to_string()))
            .filter(client_feedback::text_removed.eq(false)),
    )
    .set((
        client_feedback::helped.eq(None::<String>),
        client_feedback::better.eq(None::<String>),
        client_feedback::text_removed.eq(true),
    ))
    .execute(conn)?)
}

/// The feedback facts of `quarters` for `organisation`, or for every organisation.
pub fn facts(
    conn: &mut DbConnection,
    organisation: Option<&OrganisationId>,
    quarters: Vec<Quarter>,
) -> StoreResult<crate::reports::feedback::FeedbackFacts> {
    use crate::db::schema::organisations;
    let mut query = organisations::table
        .select((organisations::id, organisations::name))
        .into_boxed();
    if let Some(organisation) = organisation {
        query = query.filter(organisations::id.eq(organisation.clone()));
    }
    let organisations: Vec<(OrganisationId, String)> = query.load(conn)?;
    let scores = scores(conn, organisation, &quarters)?;
    Ok(crate::reports::feedback::FeedbackFacts {
        quarters,
        organisations,
        scores,
    })
}
