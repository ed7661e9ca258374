//! Organisations taking part in the programme.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::on_duplicate;
use super::history::{self, Event};
use super::page::PageRequest;
use super::{concurrent_change, StoreError, StoreResult};
use crate::db::schema::organisations;
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::ids::OrganisationId;
use crate::domain::lifecycle::Step;
use crate::domain::organisation::OrganisationState;

pub const ENTITY: &str = "organisation";

/// The row of resource `id`, to lock before a conditional change (see [`super::RowLock`]).
pub fn row(id: &OrganisationId) -> super::RowLock {
    super::RowLock::new("organisations", ENTITY, id.as_ref())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub id: OrganisationId,
    pub name: String,
    pub state: OrganisationState,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn create(
    conn: &mut DbConnection,
    name: String,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<OrganisationRow> {
    let row = OrganisationRow {
        id: OrganisationId::new(),
        name,
        state: OrganisationState::Active,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(organisations::table)
        .values(&row)
        .execute(conn)
        .map_err(on_duplicate(ENTITY, "name"))?;
    history::record(
        conn,
        Event::creation(ENTITY, &row.id, Some(row.state.as_str()), actor, None, now),
    )?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: &OrganisationId) -> StoreResult<OrganisationRow> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENTITY, id))
}

pub struct Filter {
    pub state: Option<OrganisationState>,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &PageRequest,
) -> QueryResult<Vec<OrganisationRow>> {
    let mut query = organisations::table
        .order(organisations::id.asc())
        .limit(page.fetch())
        .select(OrganisationRow::as_select())
        .into_boxed();
    if let Some(state) = filter.state {
        query = query.filter(organisations::state.eq(state));
    }
    if let Some(after) = &page.after {
        query = query.filter(organisations::id.gt(after.clone()));
    }
    query.load(conn)
}

/// Records `step` of organisation `id`, guarded by its state before the step.
pub fn record_step(
    conn: &mut DbConnection,
    id: &OrganisationId,
    step: Step<OrganisationState>,
    reason: Option<&str>,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<OrganisationRow> {
    let (from, to, action) = (step.from(), step.to(), step.action());
    let updated = diesel::update(organisations::table)
        .filter(organisations::id.eq(id))
        .filter(organisations::state.eq(from))
        .set((
            organisations::state.eq(to),
            organisations::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(concurrent_change(ENTITY));
    }
    history::record(
        conn,
        Event {
            entity_type: ENTITY,
            entity_id: id,
            action: action.as_str(),
            from: Some(from.as_str()),
            to: Some(to.as_str()),
            actor,
            reason,
            at: now,
        },
    )?;
    find(conn, id)
}
