//! Organisations taking part in the programme.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::concurrent_change;
use super::history::{self, Event};
use super::page::PageRequest;
use crate::db::schema::organisations;
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::actor::Actor;
use crate::domain::error::{DomainError, DomainResult};
use crate::domain::ids::OrganisationId;
use crate::domain::lifecycle::transition;
use crate::domain::organisation::{OrganisationAction, OrganisationState};

pub const ENTITY: &str = "organisation";

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
) -> DomainResult<OrganisationRow> {
    let row = OrganisationRow {
        id: OrganisationId::new(),
        name,
        state: OrganisationState::Active,
        created_at: now,
        updated_at: now,
    };
    match diesel::insert_into(organisations::table)
        .values(&row)
        .execute(conn)
    {
        Err(e) if is_unique_violation(&e) => {
            return Err(DomainError::Conflict {
                kind: "duplicate",
                title: "Already exists",
                detail: "an organisation with this name already exists".into(),
            })
        }
        other => other?,
    };
    history::record(
        conn,
        Event::creation(ENTITY, &row.id, Some(row.state.as_str()), actor, None, now),
    )?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: &OrganisationId) -> DomainResult<OrganisationRow> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| DomainError::not_found(ENTITY, id))
}

/// The organisation must exist (404) and take part (`active`, else 409) to file new records.
pub fn require_active(
    conn: &mut DbConnection,
    id: &OrganisationId,
) -> DomainResult<OrganisationRow> {
    let row = find(conn, id)?;
    if row.state != OrganisationState::Active {
        return Err(DomainError::Conflict {
            kind: "organisation-inactive",
            title: "Organisation inactive",
            detail: "the organisation has left the programme and cannot file new records".into(),
        });
    }
    Ok(row)
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

pub fn act(
    conn: &mut DbConnection,
    id: &OrganisationId,
    action: OrganisationAction,
    reason: Option<&str>,
    actor: &Actor,
    now: NaiveDateTime,
) -> DomainResult<OrganisationRow> {
    let row = find(conn, id)?;
    let from = row.state;
    let to = transition(from, action)?;
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
