//! Exit-interview outcomes. A `yes` creates the buddy candidate in the same transaction.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::buddies::{self, BuddyRow, Profile};
use super::history::{self, Event};
use super::page::PageRequest;
use super::{StoreError, StoreResult};
use crate::db::schema::exit_interviews;
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::exit_interview::Answer;
use crate::domain::ids::{BuddyId, ExitInterviewId, OrganisationId};

pub const ENTITY: &str = "exit_interview";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = exit_interviews)]
pub struct ExitInterviewRow {
    pub id: ExitInterviewId,
    pub organisation_id: OrganisationId,
    pub held_on: NaiveDate,
    pub answer: Answer,
    pub buddy_id: Option<BuddyId>,
    pub created_at: NaiveDateTime,
}

/// Records an outcome; with `candidate` (only for `yes`) the buddy candidate is created too.
pub fn record(
    conn: &mut DbConnection,
    organisation_id: &OrganisationId,
    held_on: NaiveDate,
    answer: Answer,
    candidate: Option<Profile>,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<(ExitInterviewRow, Option<BuddyRow>)> {
    let id = ExitInterviewId::new();
    let buddy = match candidate {
        Some(profile) => Some(buddies::insert(
            conn,
            organisation_id,
            profile,
            actor,
            Some(&format!("said yes at exit interview {id}")),
            now,
        )?),
        None => None,
    };
    let row = ExitInterviewRow {
        id,
        organisation_id: organisation_id.clone(),
        held_on,
        answer,
        buddy_id: buddy.as_ref().map(|b| b.id.clone()),
        created_at: now,
    };
    diesel::insert_into(exit_interviews::table)
        .values(&row)
        .execute(conn)?;
    history::record(
        conn,
        Event::creation(ENTITY, &row.id, None, actor, None, now),
    )?;
    Ok((row, buddy))
}

pub fn find(conn: &mut DbConnection, id: &ExitInterviewId) -> StoreResult<ExitInterviewRow> {
    exit_interviews::table
        .find(id)
        .select(ExitInterviewRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENTITY, id))
}

#[derive(Debug, Default)]
pub struct Filter {
    pub organisation_id: Option<OrganisationId>,
    pub answer: Option<Answer>,
    pub held_from: Option<NaiveDate>,
    pub held_to: Option<NaiveDate>,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &PageRequest,
) -> QueryResult<Vec<ExitInterviewRow>> {
    let mut query = exit_interviews::table
        .order(exit_interviews::id.asc())
        .limit(page.fetch())
        .select(ExitInterviewRow::as_select())
        .into_boxed();
    if let Some(org) = &filter.organisation_id {
        query = query.filter(exit_interviews::organisation_id.eq(org.clone()));
    }
    if let Some(answer) = filter.answer {
        query = query.filter(exit_interviews::answer.eq(answer));
    }
    if let Some(from) = filter.held_from {
        query = query.filter(exit_interviews::held_on.ge(from));
    }
    if let Some(to) = filter.held_to {
        query = query.filter(exit_interviews::held_on.le(to));
    }
    if let Some(after) = &page.after {
        query = query.filter(exit_interviews::id.gt(after.clone()));
    }
    query.load(conn)
}
