//! Buddies: volunteer ex-clients, their profile, screening and lifecycle.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::history::{self, Event};
use super::page::PageRequest;
use super::{concurrent_change, corrupt_list, StoreError, StoreResult};
use crate::db::schema::{buddies, pairings};
use crate::db::DbConnection;
use crate::domain::actor::Actor;
use crate::domain::buddy::{BuddyState, MailLanguage, MeasureKind, Screening};
use crate::domain::ids::{BuddyId, OrganisationId};
use crate::domain::lifecycle::Step;
use crate::domain::pairing::PairingState;
use crate::domain::values::{list_from_json, list_to_json};

pub const ENTITY: &str = "buddy";

/// The row of resource `id`, to lock before a conditional change (see [`super::RowLock`]).
pub fn row(id: &BuddyId) -> super::RowLock {
    super::RowLock::new("buddies", ENTITY, id.as_ref())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = buddies, treat_none_as_null = true)]
pub struct BuddyRow {
    pub id: BuddyId,
    pub organisation_id: OrganisationId,
    pub state: BuddyState,
    pub full_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub mail_language: MailLanguage,
    pub languages: String,
    pub region: String,
    pub experience: String,
    pub topics: String,
    pub capacity: i32,
    pub vog_issued_on: Option<NaiveDate>,
    pub training_completed_on: Option<NaiveDate>,
    pub agreement_signed_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub erased_at: Option<NaiveDateTime>,
    /// A paused buddy is active again on this day (the scheduler resumes them).
    pub paused_until: Option<NaiveDate>,
    /// What the buddy noted about their availability in the portal.
    pub availability_notes: Option<String>,
    /// When the buddy asked to stop in the portal; the bureau confirms by retiring them.
    pub retirement_requested_at: Option<NaiveDateTime>,
}

impl BuddyRow {
    pub fn screening(&self) -> Screening {
        Screening {
            vog_issued_on: self.vog_issued_on,
            training_completed_on: self.training_completed_on,
            agreement_signed_on: self.agreement_signed_on,
        }
    }

    pub fn languages(&self) -> StoreResult<Vec<String>> {
        list_from_json(&self.languages).map_err(corrupt_list)
    }

    pub fn experience(&self) -> StoreResult<Vec<MeasureKind>> {
        list_from_json(&self.experience).map_err(corrupt_list)
    }

    pub fn topics(&self) -> StoreResult<Vec<String>> {
        list_from_json(&self.topics).map_err(corrupt_list)
    }
}

/// A validated buddy profile, ready to store.
#[derive(Debug, Clone)]
pub struct Profile {
    pub full_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub mail_language: MailLanguage,
    pub languages: Vec<String>,
    pub region: String,
    pub experience: Vec<MeasureKind>,
    pub topics: Vec<String>,
    pub capacity: i32,
    pub screening: Screening,
}

/// Inserts a buddy in state `candidate` (for an organisation the operation found filing).
pub fn insert(
    conn: &mut DbConnection,
    organisation_id: &OrganisationId,
    profile: Profile,
    actor: &Actor,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<BuddyRow> {
    let row = BuddyRow {
        id: BuddyId::new(),
        organisation_id: organisation_id.clone(),
        state: BuddyState::Candidate,
        full_name: profile.full_name,
        email: profile.email,
        phone: profile.phone,
        mail_language: profile.mail_language,
        languages: list_to_json(&profile.languages),
        region: profile.region,
        experience: list_to_json(&profile.experience),
        topics: list_to_json(&profile.topics),
        capacity: profile.capacity,
        vog_issued_on: profile.screening.vog_issued_on,
        training_completed_on: profile.screening.training_completed_on,
        agreement_signed_on: profile.screening.agreement_signed_on,
        created_at: now,
        updated_at: now,
        erased_at: None,
        paused_until: None,
        availability_notes: None,
        retirement_requested_at: None,
    };
    diesel::insert_into(buddies::table)
        .values(&row)
        .execute(conn)?;
    history::record(
        conn,
        Event::creation(
            ENTITY,
            &row.id,
            Some(row.state.as_str()),
            actor,
            reason,
            now,
        ),
    )?;
    Ok(row)
}

pub fn find(conn: &mut DbConnection, id: &BuddyId) -> StoreResult<BuddyRow> {
    buddies::table
        .find(id)
        .select(BuddyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(ENTITY, id))
}

#[derive(Debug, Default)]
pub struct Filter {
    pub state: Option<BuddyState>,
    pub organisation_id: Option<OrganisationId>,
    pub region: Option<String>,
    /// A validated ISO 639-1 code.
    pub language: Option<String>,
    pub experience: Option<MeasureKind>,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    page: &PageRequest,
) -> QueryResult<Vec<BuddyRow>> {
    list_by_capacity(conn, filter, None, page)
}

/// Number of live pairings (proposed, accepted, active) of buddy `id`.
pub fn live_load(conn: &mut DbConnection, id: &BuddyId) -> QueryResult<i64> {
    Ok(live_loads(conn, std::slice::from_ref(id))?
        .get(id)
        .copied()
        .unwrap_or(0))
}

/// Number of live pairings (proposed, accepted, active) of each buddy, in one query.
pub fn live_loads(conn: &mut DbConnection, ids: &[BuddyId]) -> QueryResult<HashMap<BuddyId, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(BuddyId, i64)> = pairings::table
        .filter(pairings::buddy_id.eq_any(ids))
        .filter(pairings::state.eq_any(PairingState::LIVE))
        .group_by(pairings::buddy_id)
        .select((pairings::buddy_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// A validated change to a buddy's profile or screening facts; `None` leaves a field alone,
/// `Some(None)` clears an optional one.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<Option<String>>,
    pub mail_language: Option<MailLanguage>,
    pub languages: Option<Vec<String>>,
    pub region: Option<String>,
    pub experience: Option<Vec<MeasureKind>>,
    pub topics: Option<Vec<String>>,
    pub capacity: Option<i32>,
    pub vog_issued_on: Option<Option<NaiveDate>>,
    pub training_completed_on: Option<Option<NaiveDate>>,
    pub agreement_signed_on: Option<Option<NaiveDate>>,
    /// Set by the buddy in the portal; `Some(None)` clears it.
    pub availability_notes: Option<Option<String>>,
}

impl ProfileChange {
    /// Names of the fields this change touches (recorded in the history, values never).
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        macro_rules! touched {
            ($($field:ident),*) => { $(if self.$field.is_some() { names.push(stringify!($field)); })* };
        }
        touched!(
            full_name,
            email,
            phone,
            mail_language,
            languages,
            region,
            experience,
            topics,
            capacity,
            vog_issued_on,
            training_completed_on,
            agreement_signed_on,
            availability_notes
        );
        names
    }
}

/// Applies `change` to buddy `row` as read, guarded by its `updated_at` then, with a history
/// record; returns the buddy as it is now.
pub fn update_profile(
    conn: &mut DbConnection,
    mut row: BuddyRow,
    change: ProfileChange,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<BuddyRow> {
    let id = row.id.clone();
    let fields = change.field_names().join(", ");
    if let Some(v) = change.full_name {
        row.full_name = v;
    }
    if let Some(v) = change.email {
        row.email = v;
    }
    if let Some(v) = change.phone {
        row.phone = v;
    }
    if let Some(v) = change.mail_language {
        row.mail_language = v;
    }
    if let Some(v) = change.languages {
        row.languages = list_to_json(&v);
    }
    if let Some(v) = change.region {
        row.region = v;
    }
    if let Some(v) = change.experience {
        row.experience = list_to_json(&v);
    }
    if let Some(v) = change.topics {
        row.topics = list_to_json(&v);
    }
    if let Some(v) = change.capacity {
        row.capacity = v;
    }
    if let Some(v) = change.vog_issued_on {
        row.vog_issued_on = v;
    }
    if let Some(v) = change.training_completed_on {
        row.training_completed_on = v;
    }
    if let Some(v) = change.agreement_signed_on {
        row.agreement_signed_on = v;
    }
    if let Some(v) = change.availability_notes {
        row.availability_notes = v;
    }
    let previous_update = row.updated_at;
    row.updated_at = now;
    // Guarded by the version read above, so two concurrent edits cannot silently interleave.
    let updated = diesel::update(buddies::table)
        .filter(buddies::id.eq(&id))
        .filter(buddies::updated_at.eq(previous_update))
        .set(&row)
        .execute(conn)?;
    if updated != 1 {
        return Err(concurrent_change(ENTITY));
    }
    history::record(
        conn,
        Event {
            entity_type: ENTITY,
            entity_id: &id,
            action: "update",
            from: None,
            to: None,
            actor,
            reason: Some(&format!("changed: {fields}")),
            at: now,
        },
    )?;
    Ok(row)
}

/// The buddy's accepted and active pairings (a pending proposal is not counted).
pub fn running_pairings(conn: &mut DbConnection, id: &BuddyId) -> QueryResult<i64> {
    pairings::table
        .filter(pairings::buddy_id.eq(id))
        .filter(pairings::state.eq_any([PairingState::Accepted, PairingState::Active]))
        .count()
        .get_result(conn)
}

/// Locks buddy `id` while it is `active` (on PostgreSQL the row lock serialises concurrent
/// proposals for one buddy, so each capacity check sees the others' pairings); a buddy no longer
/// active is a concurrent change.
pub fn lock_active(conn: &mut DbConnection, id: &BuddyId) -> StoreResult<()> {
    let locked = diesel::update(buddies::table)
        .filter(buddies::id.eq(id))
        .filter(buddies::state.eq(BuddyState::Active))
        .set(buddies::updated_at.eq(buddies::updated_at))
        .execute(conn)?;
    if locked != 1 {
        return Err(concurrent_change(ENTITY));
    }
    Ok(())
}

/// Records `step` of buddy `id`, guarded by its state before the step, with a history record;
/// returns the buddy as it is now.
pub fn record_step(
    conn: &mut DbConnection,
    id: &BuddyId,
    step: Step<BuddyState>,
    reason: Option<&str>,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<BuddyRow> {
    record_step_until(conn, id, step, None, reason, actor, now)
}

/// [`record_step`], with the date a pause runs until (`None` for every other step, which
/// clears it). A retirement settles a request to stop.
pub fn record_step_until(
    conn: &mut DbConnection,
    id: &BuddyId,
    step: Step<BuddyState>,
    paused_until: Option<NaiveDate>,
    reason: Option<&str>,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<BuddyRow> {
    let (from, to, action) = (step.from(), step.to(), step.action());
    let updated = diesel::update(buddies::table)
        .filter(buddies::id.eq(id))
        .filter(buddies::state.eq(from))
        .set((
            buddies::state.eq(to),
            buddies::paused_until.eq(paused_until),
            buddies::updated_at.eq(now),
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

/// The buddies without free capacity: as many live pairings (proposed, accepted, active; see
/// [`live_loads`]) as their capacity, or more. For the console's "free capacity" filter, which
/// leaves these out (or keeps only these) with `id NOT IN` / `id IN` on the list's query, so
/// that its pages stay whole.
pub fn without_free_capacity(conn: &mut DbConnection) -> QueryResult<Vec<BuddyId>> {
    let loads: Vec<(BuddyId, i64)> = pairings::table
        .filter(pairings::state.eq_any(PairingState::LIVE))
        .group_by(pairings::buddy_id)
        .select((pairings::buddy_id, diesel::dsl::count_star()))
        .load(conn)?;
    if loads.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&BuddyId> = loads.iter().map(|(id, _)| id).collect();
    let capacities: HashMap<BuddyId, i32> = buddies::table
        .filter(buddies::id.eq_any(ids))
        .select((buddies::id, buddies::capacity))
        .load::<(BuddyId, i32)>(conn)?
        .into_iter()
        .collect();
    Ok(loads
        .into_iter()
        .filter(|(id, load)| capacities.get(id).is_some_and(|c| *load >= i64::from(*c)))
        .map(|(id, _)| id)
        .collect())
}

/// Which buddies a list keeps by their free capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// Fewer live pairings than their capacity.
    Free,
    /// As many as their capacity, or more.
    Full,
}

/// One page of buddies matching `filter` and, if given, `capacity` (see
/// [`without_free_capacity`]), ordered by id as [`list`].
pub fn list_by_capacity(
    conn: &mut DbConnection,
    filter: &Filter,
    capacity: Option<Capacity>,
    page: &PageRequest,
) -> QueryResult<Vec<BuddyRow>> {
    let mut query = buddies::table
        .order(buddies::id.asc())
        .limit(page.fetch())
        .select(BuddyRow::as_select())
        .into_boxed();
    if let Some(capacity) = capacity {
        let full = without_free_capacity(conn)?;
        match capacity {
            Capacity::Free if full.is_empty() => {}
            Capacity::Free => query = query.filter(buddies::id.ne_all(full)),
            Capacity::Full if full.is_empty() => return Ok(Vec::new()),
            Capacity::Full => query = query.filter(buddies::id.eq_any(full)),
        }
    }
    if let Some(state) = filter.state {
        query = query.filter(buddies::state.eq(state));
    }
    if let Some(org) = &filter.organisation_id {
        query = query.filter(buddies::organisation_id.eq(org.clone()));
    }
    if let Some(region) = &filter.region {
        query = query.filter(buddies::region.eq(region.clone()));
    }
    // Lists are JSON arrays of plain codes, so a quoted code matches exactly one element.
    if let Some(language) = &filter.language {
        query = query.filter(buddies::languages.like(format!("%\"{language}\"%")));
    }
    if let Some(kind) = filter.experience {
        query = query.filter(buddies::experience.like(format!("%\"{}\"%", kind.as_str())));
    }
    if let Some(after) = &page.after {
        query = query.filter(buddies::id.gt(after.clone()));
    }
    query.load(conn)
}

/// The paused buddies whose pause ends on `today` or before: the scheduler resumes them.
pub fn due_resumptions(
    conn: &mut DbConnection,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<BuddyId>> {
    buddies::table
        .filter(buddies::state.eq(BuddyState::Paused))
        .filter(buddies::paused_until.le(today))
        .order(buddies::id.asc())
        .limit(limit)
        .select(buddies::id)
        .load(conn)
}

/// The buddies with this (canonical) e-mail address, newest first.
pub fn with_email(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<BuddyRow>> {
    buddies::table
        .filter(buddies::email.eq(email))
        .order(buddies::created_at.desc())
        .select(BuddyRow::as_select())
        .load(conn)
}

/// Notes buddy `id`'s request to stop, once (guarded by there being none), with a history
/// record; returns the buddy as it is now.
pub fn record_retirement_request(
    conn: &mut DbConnection,
    id: &BuddyId,
    actor: &Actor,
    now: NaiveDateTime,
) -> StoreResult<BuddyRow> {
    let updated = diesel::update(buddies::table)
        .filter(buddies::id.eq(id))
        .filter(buddies::retirement_requested_at.is_null())
        .set((
            buddies::retirement_requested_at.eq(Some(now)),
            buddies::updated_at.eq(now),
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
            action: "request-retirement",
            from: None,
            to: None,
            actor,
            reason: None,
            at: now,
        },
    )?;
    find(conn, id)
}
