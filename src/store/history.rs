//! The history of every resource: who moved it from which state to which, when and why.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::page::PageRequest;
use crate::db::schema::history;
use crate::db::DbConnection;
use crate::domain::actor::Actor;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = history)]
// A missing value is NULL, not DEFAULT (the columns have none): one shape of INSERT, which
// diesel then prepares once per connection instead of on every insert.
#[diesel(treat_none_as_default_value = false)]
pub struct HistoryRow {
    pub id: String,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    pub at: NaiveDateTime,
}

/// One event to record.
pub struct Event<'a> {
    pub entity_type: &'static str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub actor: &'a Actor,
    pub reason: Option<&'a str>,
    pub at: NaiveDateTime,
}

impl<'a> Event<'a> {
    /// The creation of an entity, in its first state (`None` for entities without states).
    pub fn creation(
        entity_type: &'static str,
        entity_id: &'a str,
        state: Option<&'a str>,
        actor: &'a Actor,
        reason: Option<&'a str>,
        at: NaiveDateTime,
    ) -> Self {
        Event {
            entity_type,
            entity_id,
            action: "create",
            from: None,
            to: state,
            actor,
            reason,
            at,
        }
    }
}

pub fn record(conn: &mut DbConnection, event: Event<'_>) -> QueryResult<()> {
    diesel::insert_into(history::table)
        .values(HistoryRow {
            id: Uuid::now_v7().to_string(),
            entity_type: event.entity_type.to_owned(),
            entity_id: event.entity_id.to_owned(),
            action: event.action.to_owned(),
            from_state: event.from.map(str::to_owned),
            to_state: event.to.map(str::to_owned),
            actor_type: event.actor.kind().to_owned(),
            actor_id: event.actor.id().map(str::to_owned),
            reason: event.reason.map(str::to_owned),
            at: event.at,
        })
        .execute(conn)
        .map(|_| ())
}

pub fn list(
    conn: &mut DbConnection,
    entity_type: &str,
    entity_id: &str,
    page: &PageRequest,
) -> QueryResult<Vec<HistoryRow>> {
    let mut query = history::table
        .filter(history::entity_type.eq(entity_type))
        .filter(history::entity_id.eq(entity_id))
        .order(history::id.asc())
        .limit(page.fetch())
        .select(HistoryRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(history::id.gt(after.clone()));
    }
    query.load(conn)
}

/// The whole history of several entities of one type, oldest first, in one query.
pub fn for_entities(
    conn: &mut DbConnection,
    entity_type: &str,
    entity_ids: &[String],
) -> QueryResult<Vec<HistoryRow>> {
    if entity_ids.is_empty() {
        return Ok(Vec::new());
    }
    history::table
        .filter(history::entity_type.eq(entity_type))
        .filter(history::entity_id.eq_any(entity_ids))
        .order(history::id.asc())
        .select(HistoryRow::as_select())
        .load(conn)
}
