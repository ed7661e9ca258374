//! The facts behind the summary report: a fixed number of queries, each an aggregate or a load
//! of a few columns of the rows in the window. No personal data is read: ids, states, triggers,
//! times, end reasons, scores, capacities and the kinds of contact moments only.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::StoreResult;
use crate::db::schema::{
    buddies, buddy_requests, contact_moments, exit_interviews, history, organisations, pairings,
};
use crate::db::DbConnection;
use crate::domain::buddy::BuddyState;
use crate::domain::contact::ContactKind;
use crate::domain::exit_interview::Answer;
use crate::domain::ids::{BuddyId, OrganisationId, PairingId, RequestId};
use crate::domain::pairing::{EndReason, PairingState};
use crate::domain::report::Window;
use crate::domain::request::Trigger;

/// What a report covers.
#[derive(Debug, Clone)]
pub struct Scope {
    pub window: Window,
    /// One organisation only (its requests, their pairings, its buddies and exit interviews).
    pub organisation_id: Option<OrganisationId>,
    /// Open requests created at or before this are overdue now.
    pub overdue_cutoff: NaiveDateTime,
}

/// A request created in the window.
#[derive(Debug, Clone, Queryable)]
pub struct RequestFact {
    pub id: RequestId,
    pub organisation_id: OrganisationId,
    pub trigger: Trigger,
    pub created_at: NaiveDateTime,
}

/// A pairing of a request created in the window (whenever it was proposed).
#[derive(Debug, Clone, Queryable)]
pub struct CohortPairing {
    pub request_id: RequestId,
    pub state: PairingState,
    pub proposed_at: NaiveDateTime,
    pub responded_at: Option<NaiveDateTime>,
}

/// A pairing that ended in the window.
#[derive(Debug, Clone, Queryable)]
pub struct Ending {
    pub end_reason: Option<EndReason>,
    pub client_score: Option<i32>,
    pub buddy_score: Option<i32>,
}

/// Everything the report is computed from.
#[derive(Debug, Default)]
pub struct Facts {
    pub requests: Vec<RequestFact>,
    /// (id, name) of the organisations in `requests`.
    pub organisation_names: Vec<(OrganisationId, String)>,
    pub cohort_pairings: Vec<CohortPairing>,
    /// The state now of each pairing proposed in the window.
    pub proposal_states: Vec<PairingState>,
    pub endings: Vec<Ending>,
    pub active_pairings: i64,
    /// (buddy id, capacity) of every active buddy.
    pub active_buddies: Vec<(BuddyId, i32)>,
    /// (buddy id, live pairings) of the active buddies that have any.
    pub live_loads: Vec<(BuddyId, i64)>,
    /// (answer, buddy id) of every exit interview held in the window.
    pub interviews: Vec<(Answer, Option<BuddyId>)>,
    /// (buddy id, state) for every state of interest a buddy from those interviews ever entered.
    pub buddy_states_reached: Vec<(String, String)>,
    pub overdue: i64,
    /// (pairing id, kind) of every contact moment dated in the window.
    pub contacts: Vec<(PairingId, ContactKind)>,
    /// Active pairings flagged now for going without contact.
    pub contact_overdue: i64,
    /// The client feedback of the quarters the window touches.
    pub feedback: crate::reports::feedback::FeedbackFacts,
}

/// Whether an organisation exists (for the report's `organisation` filter).
pub fn organisation_exists(conn: &mut DbConnection, id: &OrganisationId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(organisations::table.find(id))).get_result(conn)
}

pub fn facts(conn: &mut DbConnection, scope: &Scope) -> StoreResult<Facts> {
    let (start, end) = (scope.window.start(), scope.window.end());
    let org = scope.organisation_id.clone();

    let mut query = buddy_requests::table
        .filter(buddy_requests::created_at.ge(start))
        .filter(buddy_requests::created_at.lt(end))
        .select((
            buddy_requests::id,
            buddy_requests::organisation_id,
            buddy_requests::trigger_kind,
            buddy_requests::created_at,
        ))
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    let requests: Vec<RequestFact> = query.load(conn)?;

    let mut org_ids: Vec<&str> = requests
        .iter()
        .map(|r| r.organisation_id.as_str())
        .collect();
    org_ids.sort_unstable();
    org_ids.dedup();
    let organisation_names: Vec<(OrganisationId, String)> = if org_ids.is_empty() {
        Vec::new()
    } else {
        organisations::table
            .filter(organisations::id.eq_any(org_ids))
            .select((organisations::id, organisations::name))
            .load(conn)?
    };

    let mut query = pairings::table
        .inner_join(buddy_requests::table)
        .filter(buddy_requests::created_at.ge(start))
        .filter(buddy_requests::created_at.lt(end))
        .select((
            pairings::request_id,
            pairings::state,
            pairings::proposed_at,
            pairings::responded_at,
        ))
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    let cohort_pairings: Vec<CohortPairing> = query.load(conn)?;

    let mut query = pairings::table
        .inner_join(buddy_requests::table)
        .filter(pairings::proposed_at.ge(start))
        .filter(pairings::proposed_at.lt(end))
        .select(pairings::state)
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    let proposal_states: Vec<PairingState> = query.load(conn)?;

    let mut query = pairings::table
        .inner_join(buddy_requests::table)
        .filter(pairings::ended_at.ge(start))
        .filter(pairings::ended_at.lt(end))
        .filter(pairings::state.eq(PairingState::Ended))
        .select((
            pairings::end_reason,
            pairings::evaluation_client_score,
            pairings::evaluation_buddy_score,
        ))
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    let endings: Vec<Ending> = query.load(conn)?;

    let mut query = pairings::table
        .inner_join(buddy_requests::table)
        .filter(pairings::state.eq(PairingState::Active))
        .select(count_star())
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    let active_pairings: i64 = query.get_result(conn)?;

    let active = BuddyState::Active;
    let mut query = buddies::table
        .filter(buddies::state.eq(active))
        .select((buddies::id, buddies::capacity))
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddies::organisation_id.eq(org.clone()));
    }
    let active_buddies: Vec<(BuddyId, i32)> = query.load(conn)?;

    let mut query = pairings::table
        .inner_join(buddies::table)
        .filter(buddies::state.eq(active))
        .filter(pairings::state.eq_any(PairingState::LIVE))
        .group_by(pairings::buddy_id)
        .select((pairings::buddy_id, count_star()))
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddies::organisation_id.eq(org.clone()));
    }
    let live_loads: Vec<(BuddyId, i64)> = query.load(conn)?;

    let mut query = exit_interviews::table
        .filter(exit_interviews::held_on.ge(scope.window.from))
        .filter(exit_interviews::held_on.lt(scope.window.to))
        .select((exit_interviews::answer, exit_interviews::buddy_id))
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(exit_interviews::organisation_id.eq(org.clone()));
    }
    let interviews: Vec<(Answer, Option<BuddyId>)> = query.load(conn)?;

    let buddy_ids: Vec<&str> = interviews
        .iter()
        .filter_map(|(_, buddy)| buddy.as_deref())
        .collect();
    let buddy_states_reached: Vec<(String, String)> = if buddy_ids.is_empty() {
        Vec::new()
    } else {
        history::table
            .filter(history::entity_type.eq(crate::store::buddies::ENTITY))
            .filter(history::entity_id.eq_any(buddy_ids))
            .filter(
                history::to_state
                    .eq_any([BuddyState::Screening.as_str(), BuddyState::Active.as_str()]),
            )
            .select((history::entity_id, history::to_state.assume_not_null()))
            .distinct()
            .load(conn)?
    };

    let mut query = buddy_requests::table
        .filter(super::requests::overdue(scope.overdue_cutoff))
        .select(count_star())
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    let overdue: i64 = query.get_result(conn)?;

    let mut query = contact_moments::table
        .inner_join(pairings::table.inner_join(buddy_requests::table))
        .filter(contact_moments::contact_on.ge(scope.window.from))
        .filter(contact_moments::contact_on.lt(scope.window.to))
        .select((contact_moments::pairing_id, contact_moments::kind))
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    let contacts: Vec<(PairingId, ContactKind)> = query.load(conn)?;

    let mut query = pairings::table
        .inner_join(buddy_requests::table)
        .filter(super::contacts::overdue())
        .select(count_star())
        .into_boxed();
    if let Some(org) = &org {
        query = query.filter(buddy_requests::organisation_id.eq(org.clone()));
    }
    let contact_overdue: i64 = query.get_result(conn)?;

    Ok(Facts {
        requests,
        organisation_names,
        cohort_pairings,
        proposal_states,
        endings,
        active_pairings,
        active_buddies,
        live_loads,
        interviews,
        buddy_states_reached,
        overdue,
        contacts,
        contact_overdue,
        feedback: super::feedback::facts(
            conn,
            org.as_ref(),
            crate::domain::feedback::Quarter::spanning(scope.window.from, scope.window.to),
        )?,
    })
}
