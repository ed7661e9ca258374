//! Candidates for a request: the facts the ranking needs, loaded in a fixed number of queries
//! whatever the number of buddies (no query per candidate), then ranked by [`crate::matching`].
//!
//! Each ranking reads: the request; the `matching_version` counter; this request's pairings (who
//! declined, whose proposal expired, who is paired now); its exclusions; and the names of the few
//! candidates shown. The facts about every active buddy (the columns the score reads, live
//! pairings per buddy, last proposal per buddy) are kept in a [`FactsCache`] under the version
//! they were read at. Database triggers move the counter, and note which buddy each change
//! concerns (`matching_changes`), in the same transaction as any change to `buddies` or
//! `pairings`. A cache a few versions behind reads only the buddies those versions name and
//! patches its pool ([`Pool::patched`]); one further behind, or without a pool yet, reads them all.
//! Either way a ranking never sees facts older than the last committed change, on one instance or
//! several.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max};
use diesel::prelude::*;

use super::requests::RequestRow;
use super::{StoreError, StoreResult};
use crate::db::schema::{
    buddies, matching_changes, matching_version, pairings, request_exclusions,
};
use crate::db::DbConnection;
use crate::domain::buddy::BuddyState;
use crate::domain::ids::{BuddyId, RequestId};
use crate::domain::pairing::PairingState;
use crate::matching::{
    explain, BuddyFacts, Component, Pool, RequestFilters, RequestProfile, Weights,
};

/// How many changes behind a cached pool is caught up by reading the buddies they name; further
/// behind, everything is read again. Well below what `matching_changes` keeps (4,096 versions).
const PATCH_LIMIT: i64 = 512;

/// The facts about every active buddy as of one `matching_version`, shared by the rankings of
/// one service instance. Starts empty; [`FactsCache::default`] for a caller without one.
#[derive(Debug, Default)]
pub struct FactsCache {
    held: Mutex<Option<(i64, Arc<Pool>)>>,
    /// How often every active buddy was read, and how often a pool was patched instead.
    full_reads: AtomicU64,
    patches: AtomicU64,
}

/// Where a ranking takes the facts about every active buddy from.
pub trait Facts {
    /// The pool as of what `conn` sees now.
    fn pool(&self, conn: &mut DbConnection) -> StoreResult<Arc<Pool>>;
}

impl FactsCache {
    fn held(&self) -> Option<(i64, Arc<Pool>)> {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many times the facts about every active buddy were read, and how many times a held
    /// pool was patched with the changed buddies instead, since this cache was made.
    pub fn reads(&self) -> (u64, u64) {
        (
            self.full_reads.load(Ordering::Relaxed),
            self.patches.load(Ordering::Relaxed),
        )
    }
}

/// The committed facts, kept for the next ranking: the held pool, caught up with the changes
/// logged since its version (and held again), or read afresh.
impl Facts for FactsCache {
    fn pool(&self, conn: &mut DbConnection) -> StoreResult<Arc<Pool>> {
        let held = self.held();
        let (version, pool) = match caught_up(conn, self, held)? {
            CaughtUp::Current(pool) => return Ok(pool),
            CaughtUp::Moved(version, pool) => (version, Arc::new(pool)),
        };
        let mut slot = self.held.lock().unwrap_or_else(|e| e.into_inner());
        // Another ranking may have held a newer pool meanwhile.
        if slot.as_ref().is_none_or(|(at, _)| *at < version) {
            *slot = Some((version, pool.clone()));
        }
        Ok(pool)
    }
}

/// The facts as a write transaction sees them, its own uncommitted changes included: the shared
/// cache's pool caught up to them, and not kept (the transaction may yet roll back, and its
/// facts must not be served under a version another change may take). The automatic proposal
/// ranks this way, reading only the buddies changed since the cache's version.
pub struct InTransaction<'a>(pub &'a FactsCache);

impl Facts for InTransaction<'_> {
    fn pool(&self, conn: &mut DbConnection) -> StoreResult<Arc<Pool>> {
        Ok(match caught_up(conn, self.0, self.0.held())? {
            CaughtUp::Current(pool) => pool,
            CaughtUp::Moved(_, pool) => Arc::new(pool),
        })
    }
}

enum CaughtUp {
    /// Nothing changed since the held pool's version.
    Current(Arc<Pool>),
    /// The pool as of this version: patched, or read afresh.
    Moved(i64, Pool),
}

/// The held pool if no change was logged since its version; patched with the buddies changed
/// since when the log holds every version in between and they are at most [`PATCH_LIMIT`];
/// else every active buddy read afresh, under the version read first (so the facts are at least
/// as new as it). Every version has its log entry, written with it in one transaction, and
/// versions are taken in commit order (the counter's row is locked until commit), so the entries
/// a statement sees end at the newest committed version and leave no gap before it.
fn caught_up(
    conn: &mut DbConnection,
    cache: &FactsCache,
    held: Option<(i64, Arc<Pool>)>,
) -> StoreResult<CaughtUp> {
    if let Some((at, pool)) = held {
        let changes: Vec<(i64, String)> = matching_changes::table
            .filter(matching_changes::version.gt(at))
            .order(matching_changes::version.asc())
            .limit(PATCH_LIMIT + 1)
            .select((matching_changes::version, matching_changes::buddy_id))
            .load(conn)?;
        let Some(&(version, _)) = changes.last() else {
            return Ok(CaughtUp::Current(pool));
        };
        let contiguous = changes.len() as i64 == version - at;
        if contiguous && changes.len() as i64 <= PATCH_LIMIT {
            let mut changed: Vec<String> = changes.into_iter().map(|(_, id)| id).collect();
            changed.sort_unstable();
            changed.dedup();
            let fresh = changed_buddy_facts(conn, &changed)?;
            cache.patches.fetch_add(1, Ordering::Relaxed);
            return Ok(CaughtUp::Moved(version, pool.patched(&changed, fresh)));
        }
    }
    let version: i64 = matching_version::table
        .find(1)
        .select(matching_version::version)
        .first(conn)?;
    let pool = Pool::new(buddy_facts(conn)?);
    cache.full_reads.fetch_add(1, Ordering::Relaxed);
    Ok(CaughtUp::Moved(version, pool))
}

/// One candidate, explained.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// 1 for the best.
    pub rank: usize,
    pub buddy_id: BuddyId,
    pub name: String,
    pub region: String,
    pub languages: Vec<String>,
    /// Between 0 and 1.
    pub score: f64,
    pub components: Vec<Component>,
}

/// The best candidates for a request, best first.
#[derive(Debug, Clone)]
pub struct Ranking {
    pub request_id: RequestId,
    /// The request's pseudonymous client reference, for the audit trail.
    pub client_ref: String,
    pub weights: Weights,
    /// How many buddies passed the hard filters (the list holds at most `limit` of them).
    pub eligible: usize,
    pub candidates: Vec<Candidate>,
}

/// Ranks the candidates for `request`, best first, at most `limit` (whether the request takes
/// proposals is the caller's to check: `ops::pairings::candidates`).
pub fn rank(
    conn: &mut DbConnection,
    cache: &(impl Facts + ?Sized),
    request: &RequestRow,
    weights: &Weights,
    now: NaiveDateTime,
    limit: usize,
) -> StoreResult<Ranking> {
    let languages = request.client_languages()?;
    let profile = RequestProfile {
        languages: &languages,
        region: &request.region,
        measure: request.measure,
    };
    let pool = cache.pool(conn)?;
    let filters = request_filters(conn, request)?;
    let (top, eligible) = crate::matching::rank(&profile, &pool, &filters, weights, now, limit);
    let ids: Vec<&str> = top.iter().map(|s| s.buddy.id.as_str()).collect();
    let mut names: HashMap<String, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        buddies::table
            .filter(buddies::id.eq_any(&ids))
            .select((buddies::id, buddies::full_name))
            .load(conn)?
            .into_iter()
            .collect()
    };
    let candidates = top
        .iter()
        .enumerate()
        .map(|(i, scored)| {
            let buddy = scored.buddy;
            let name = names.remove(&buddy.id).ok_or_else(|| {
                StoreError::Corrupt(format!("buddy {} vanished while ranking", buddy.id))
            })?;
            Ok(Candidate {
                rank: i + 1,
                buddy_id: BuddyId::from(buddy.id.as_str()),
                name,
                region: buddy.region().to_owned(),
                languages: buddy.languages().map(str::to_owned).collect(),
                score: scored.score,
                components: explain(&profile, scored, weights, now),
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(Ranking {
        request_id: request.id.clone(),
        client_ref: request.client_ref.clone(),
        weights: *weights,
        eligible,
        candidates,
    })
}

/// The best candidate for `request_id`, if any buddy passes the filters (see [`rank`]).
pub fn best_candidate(
    conn: &mut DbConnection,
    cache: &(impl Facts + ?Sized),
    request: &RequestRow,
    weights: &Weights,
    now: NaiveDateTime,
) -> StoreResult<Option<Candidate>> {
    Ok(rank(conn, cache, request, weights, now, 1)?
        .candidates
        .into_iter()
        .next())
}

/// Every active buddy with its live load and last proposal: three queries.
fn buddy_facts(conn: &mut DbConnection) -> StoreResult<Vec<BuddyFacts>> {
    let rows: Vec<(String, String, String, String, i32)> = buddies::table
        .filter(buddies::state.eq(BuddyState::Active))
        .select(FACT_COLUMNS)
        .load(conn)?;
    let loads: HashMap<String, i64> = pairings::table
        .filter(pairings::state.eq_any(PairingState::LIVE))
        .group_by(pairings::buddy_id)
        .select((pairings::buddy_id, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let last_proposals: HashMap<String, Option<NaiveDateTime>> = pairings::table
        .group_by(pairings::buddy_id)
        .select((pairings::buddy_id, max(pairings::proposed_at)))
        .load::<(String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .collect();
    Ok(facts_of(rows, |id| {
        (
            loads.get(id).copied().unwrap_or(0),
            last_proposals.get(id).copied().flatten(),
        )
    }))
}

/// The buddies of `ids` that are active, with their live load and last proposal: two queries,
/// the second reading these few buddies' pairings (a patch names a handful of buddies, each with
/// a handful of pairings).
fn changed_buddy_facts(conn: &mut DbConnection, ids: &[String]) -> StoreResult<Vec<BuddyFacts>> {
    let rows: Vec<(String, String, String, String, i32)> = buddies::table
        .filter(buddies::state.eq(BuddyState::Active))
        .filter(buddies::id.eq_any(ids))
        .select(FACT_COLUMNS)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut per_buddy: HashMap<String, (i64, Option<NaiveDateTime>)> = HashMap::new();
    let theirs: Vec<(String, PairingState, NaiveDateTime)> = pairings::table
        .filter(pairings::buddy_id.eq_any(rows.iter().map(|r| &r.0)))
        .select((pairings::buddy_id, pairings::state, pairings::proposed_at))
        .load(conn)?;
    for (buddy_id, state, proposed_at) in theirs {
        let (load, last) = per_buddy.entry(buddy_id).or_default();
        *load += i64::from(state.is_live());
        *last = (*last).max(Some(proposed_at));
    }
    Ok(facts_of(rows, |id| {
        per_buddy.get(id).copied().unwrap_or_default()
    }))
}

type FactColumns = (
    buddies::id,
    buddies::languages,
    buddies::region,
    buddies::experience,
    buddies::capacity,
);
const FACT_COLUMNS: FactColumns = (
    buddies::id,
    buddies::languages,
    buddies::region,
    buddies::experience,
    buddies::capacity,
);

fn facts_of(
    rows: Vec<(String, String, String, String, i32)>,
    load_and_last: impl Fn(&str) -> (i64, Option<NaiveDateTime>),
) -> Vec<BuddyFacts> {
    rows.into_iter()
        .map(|(id, languages, region, experience, capacity)| {
            let mut facts = BuddyFacts::new(id, languages, region, &experience, capacity);
            (facts.load, facts.last_proposed_at) = load_and_last(&facts.id);
            facts
        })
        .collect()
}

/// Who this request rules out: two queries.
fn request_filters(conn: &mut DbConnection, request: &RequestRow) -> StoreResult<RequestFilters> {
    let mut filters = RequestFilters::default();
    let own: Vec<(String, PairingState)> = pairings::table
        .filter(pairings::request_id.eq(&request.id))
        .select((pairings::buddy_id, pairings::state))
        .load(conn)?;
    for (buddy_id, state) in own {
        match state {
            PairingState::Declined => {
                filters.declined.insert(buddy_id);
            }
            PairingState::Expired => {
                filters.expired.insert(buddy_id);
            }
            s if s.is_live() => filters.current_buddy = Some(buddy_id),
            _ => {}
        }
    }
    filters.excluded = request_exclusions::table
        .filter(request_exclusions::request_id.eq(&request.id))
        .select(request_exclusions::buddy_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    Ok(filters)
}
