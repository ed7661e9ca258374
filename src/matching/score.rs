//! Filtering, scoring and ordering candidates for one request (see the module above).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::domain::buddy::MeasureKind;

/// How much each component counts, and when rotation counts in full. From `[matching]` in the
/// configuration (see `MatchingSettings::weights`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub language: f64,
    pub region: f64,
    pub experience: f64,
    pub load: f64,
    pub rotation: f64,
    /// Days since the last proposal after which the rotation component is 1.
    pub rotation_full_after_days: u32,
}

impl Weights {
    pub fn of(&self, component: ComponentName) -> f64 {
        match component {
            ComponentName::Language => self.language,
            ComponentName::Region => self.region,
            ComponentName::Experience => self.experience,
            ComponentName::Load => self.load,
            ComponentName::Rotation => self.rotation,
        }
    }

    pub fn total(&self) -> f64 {
        ComponentName::ALL.iter().map(|c| self.of(*c)).sum()
    }
}

crate::string_enum! {
    /// The components of a score, each a value between 0 and 1.
    ComponentName {
        /// 1 when the buddy speaks at least one of the client's languages, else 0.
        Language => "language",
        /// 1 when the buddy lives in the client's region (compared without case), else 0.
        Region => "region",
        /// 1 when the buddy went through the kind of measure the client is under, 0 when not,
        /// 0.5 (neutral) when the request names no measure.
        Experience => "experience",
        /// 1 − live pairings / capacity: 1 with no live pairing.
        Load => "load",
        /// Days since the buddy's last proposal / `rotation_full_after_days`, at most 1; 1 for a
        /// buddy never proposed.
        Rotation => "rotation",
    }
}

/// The value of the experience component when the request names no measure: neither a plus
/// nor a minus for any buddy.
pub const NEUTRAL_EXPERIENCE: f64 = 0.5;

/// What the ranking needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub struct RequestProfile<'a> {
    /// The client's languages, ISO 639-1 codes.
    pub languages: &'a [String],
    pub region: &'a str,
    pub measure: Option<MeasureKind>,
}

/// What the ranking needs to know about one buddy. Built once per buddy (see
/// [`BuddyFacts::new`]) with the lists already turned into what the score compares, so scoring
/// thousands of buddies allocates nothing.
#[derive(Debug, Clone)]
pub struct BuddyFacts {
    pub id: String,
    pub active: bool,
    pub capacity: i32,
    /// Live (proposed, accepted or active) pairings.
    pub load: i64,
    /// When the buddy was last proposed, for any request; `None` if never.
    pub last_proposed_at: Option<NaiveDateTime>,
    /// The stored JSON list of ISO 639-1 codes, e.g. `["nl","en"]`.
    languages: String,
    /// The same codes, two ASCII bytes each.
    language_codes: Vec<u16>,
    region: String,
    /// The region in lower case, as compared.
    region_key: String,
    /// One bit per [`MeasureKind::ALL`] the buddy went through.
    experience: u8,
}

impl BuddyFacts {
    /// An active buddy without live pairings, never proposed; `languages` and `experience` as
    /// stored (JSON lists of validated codes).
    pub fn new(
        id: String,
        languages: String,
        region: String,
        experience: &str,
        capacity: i32,
    ) -> Self {
        let language_codes = stored_items(&languages).filter_map(language_code).collect();
        let experience = stored_items(experience)
            .filter_map(|kind| MeasureKind::ALL.iter().position(|m| m.as_str() == kind))
            .fold(0u8, |bits, i| bits | (1 << i));
        BuddyFacts {
            id,
            active: true,
            capacity,
            load: 0,
            last_proposed_at: None,
            language_codes,
            languages,
            region_key: region_key(&region),
            region,
            experience,
        }
    }

    pub fn languages(&self) -> impl Iterator<Item = &str> {
        stored_items(&self.languages)
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    fn went_through(&self, measure: MeasureKind) -> bool {
        MeasureKind::ALL
            .iter()
            .position(|m| *m == measure)
            .is_some_and(|i| self.experience & (1 << i) != 0)
    }
}

fn language_code(code: &str) -> Option<u16> {
    match code.as_bytes() {
        [a, b] => Some(u16::from_le_bytes([*a, *b])),
        _ => None,
    }
}

fn region_key(region: &str) -> String {
    if region.is_ascii() {
        region.to_ascii_lowercase()
    } else {
        region.to_lowercase()
    }
}

/// The items of a stored JSON list of plain strings (validated codes hold no quotes or
/// escapes), read without allocating.
pub fn stored_items(list: &str) -> impl Iterator<Item = &str> {
    list.split('"').skip(1).step_by(2)
}

/// The active buddies, with an index from id to position so that a request's few barred
/// buddies are marked without comparing every id. The facts are shared between a pool and the
/// pools patched from it ([`Pool::patched`]), so a patch copies pointers, not profiles.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    buddies: Vec<Arc<BuddyFacts>>,
    index: HashMap<Arc<str>, usize>,
}

impl Pool {
    pub fn new(buddies: Vec<BuddyFacts>) -> Self {
        let buddies: Vec<Arc<BuddyFacts>> = buddies.into_iter().map(Arc::new).collect();
        let index = buddies
            .iter()
            .enumerate()
            .map(|(i, b)| (Arc::from(b.id.as_str()), i))
            .collect();
        Pool { buddies, index }
    }

    pub fn buddies(&self) -> impl ExactSizeIterator<Item = &BuddyFacts> {
        self.buddies.iter().map(|b| &**b)
    }

    /// This pool after the buddies `changed` changed: each is replaced by its facts in `fresh`,
    /// which holds those of them that are active now; one missing from `fresh` leaves the pool
    /// (no longer active), one new to the pool joins it. The other buddies' facts are shared.
    pub fn patched(&self, changed: &[String], fresh: Vec<BuddyFacts>) -> Pool {
        let mut buddies = self.buddies.clone();
        let mut index = self.index.clone();
        let mut fresh: HashMap<String, BuddyFacts> =
            fresh.into_iter().map(|b| (b.id.clone(), b)).collect();
        for id in changed {
            match (index.get(id.as_str()).copied(), fresh.remove(id)) {
                (Some(at), Some(facts)) => buddies[at] = Arc::new(facts),
                (Some(at), None) => {
                    index.remove(id.as_str());
                    buddies.swap_remove(at);
                    if let Some(moved) = buddies.get(at) {
                        if let Some(slot) = index.get_mut(moved.id.as_str()) {
                            *slot = at;
                        }
                    }
                }
                (None, Some(facts)) => {
                    index.insert(Arc::from(facts.id.as_str()), buddies.len());
                    buddies.push(Arc::new(facts));
                }
                (None, None) => {}
            }
        }
        Pool { buddies, index }
    }
}

/// The request as the score compares it.
struct Prepared {
    codes: Vec<u16>,
    region_key: String,
    measure: Option<MeasureKind>,
}

impl Prepared {
    fn new(request: &RequestProfile<'_>) -> Self {
        Prepared {
            codes: request
                .languages
                .iter()
                .filter_map(|c| language_code(c))
                .collect(),
            region_key: region_key(request.region),
            measure: request.measure,
        }
    }
}

/// Which buddies the request itself rules out.
#[derive(Debug, Clone, Default)]
pub struct RequestFilters {
    /// Buddies who declined this request.
    pub declined: HashSet<String>,
    /// Buddies whose proposal for this request expired.
    pub expired: HashSet<String>,
    /// Buddies staff excluded from this request.
    pub excluded: HashSet<String>,
    /// The buddy of the request's current live pairing, if it has one.
    pub current_buddy: Option<String>,
}

/// Why a buddy is not a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    NotActive,
    NoFreeCapacity,
    DeclinedThisRequest,
    ExpiredForThisRequest,
    ExcludedByStaff,
    CurrentPairing,
}

/// The hard filters: `None` when the buddy may be proposed.
pub fn exclusion(buddy: &BuddyFacts, filters: &RequestFilters) -> Option<Exclusion> {
    if !buddy.active {
        Some(Exclusion::NotActive)
    } else if buddy.load >= i64::from(buddy.capacity) {
        Some(Exclusion::NoFreeCapacity)
    } else if filters.declined.contains(&buddy.id) {
        Some(Exclusion::DeclinedThisRequest)
    } else if filters.expired.contains(&buddy.id) {
        Some(Exclusion::ExpiredForThisRequest)
    } else if filters.excluded.contains(&buddy.id) {
        Some(Exclusion::ExcludedByStaff)
    } else if filters.current_buddy.as_deref() == Some(buddy.id.as_str()) {
        Some(Exclusion::CurrentPairing)
    } else {
        None
    }
}

/// The five component values, in the order of [`ComponentName::ALL`].
pub fn values(
    request: &RequestProfile<'_>,
    buddy: &BuddyFacts,
    weights: &Weights,
    now: NaiveDateTime,
) -> [f64; 5] {
    prepared_values(&Prepared::new(request), buddy, weights, now)
}

fn prepared_values(
    request: &Prepared,
    buddy: &BuddyFacts,
    weights: &Weights,
    now: NaiveDateTime,
) -> [f64; 5] {
    let speaks = buddy
        .language_codes
        .iter()
        .any(|code| request.codes.contains(code));
    let experience = match request.measure {
        None => NEUTRAL_EXPERIENCE,
        Some(m) => f64::from(u8::from(buddy.went_through(m))),
    };
    [
        f64::from(u8::from(speaks)),
        f64::from(u8::from(buddy.region_key == request.region_key)),
        experience,
        load_value(buddy.load, buddy.capacity),
        rotation_value(
            buddy.last_proposed_at,
            now,
            weights.rotation_full_after_days,
        ),
    ]
}

fn load_value(load: i64, capacity: i32) -> f64 {
    if capacity <= 0 {
        return 0.0;
    }
    (1.0 - load as f64 / f64::from(capacity)).clamp(0.0, 1.0)
}

fn rotation_value(last: Option<NaiveDateTime>, now: NaiveDateTime, full_after_days: u32) -> f64 {
    match last {
        None => 1.0,
        Some(last) => {
            let full = f64::from(full_after_days.max(1)) * 86_400.0;
            ((now - last).num_seconds() as f64 / full).clamp(0.0, 1.0)
        }
    }
}

/// `Σ weight·value / Σ weights`, between 0 and 1 (0 when every weight is 0).
pub fn score(values: &[f64; 5], weights: &Weights) -> f64 {
    let total = weights.total();
    if total <= 0.0 {
        return 0.0;
    }
    ComponentName::ALL
        .iter()
        .zip(values)
        .map(|(c, v)| weights.of(*c) * v)
        .sum::<f64>()
        / total
}

/// An eligible buddy with its score, before explanation.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    pub buddy: &'a BuddyFacts,
    pub values: [f64; 5],
    pub score: f64,
    /// The score in millionths: scores equal to six decimals are a tie.
    key: i64,
}

/// The documented order: score descending, then the lower load ratio, then the longer since the
/// last proposal (never proposed first), then the buddy id ascending.
pub fn order(a: &Scored<'_>, b: &Scored<'_>) -> Ordering {
    let (x, y) = (a.buddy, b.buddy);
    b.key
        .cmp(&a.key)
        // load_x / cap_x < load_y / cap_y, without rounding (capacities are positive).
        .then_with(|| {
            (i128::from(x.load) * i128::from(y.capacity))
                .cmp(&(i128::from(y.load) * i128::from(x.capacity)))
        })
        .then_with(|| match (x.last_proposed_at, y.last_proposed_at) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(p), Some(q)) => p.cmp(&q),
        })
        .then_with(|| x.id.cmp(&y.id))
}

/// Filters, scores and orders the pool for `request`; returns the best `limit` in order and the
/// number of buddies that passed the filters (exactly those [`exclusion`] lets through). Only
/// the best `limit` are kept and sorted.
pub fn rank<'a>(
    request: &RequestProfile<'_>,
    pool: &'a Pool,
    filters: &RequestFilters,
    weights: &Weights,
    now: NaiveDateTime,
    limit: usize,
) -> (Vec<Scored<'a>>, usize) {
    let prepared = Prepared::new(request);
    let mut barred = vec![false; pool.buddies.len()];
    let named = filters
        .declined
        .iter()
        .chain(&filters.expired)
        .chain(&filters.excluded)
        .chain(&filters.current_buddy);
    for id in named {
        if let Some(&i) = pool.index.get(id.as_str()) {
            barred[i] = true;
        }
    }
    // The best `limit` so far, in a heap whose top is the worst of them: one comparison turns
    // most buddies away, and nothing is allocated per buddy.
    let mut best: BinaryHeap<Kept<'a>> = BinaryHeap::with_capacity(limit.saturating_add(1));
    let mut count = 0;
    for (buddy, barred) in pool.buddies().zip(barred) {
        if barred || !buddy.active || buddy.load >= i64::from(buddy.capacity) {
            continue;
        }
        count += 1;
        if limit == 0 {
            continue;
        }
        let values = prepared_values(&prepared, buddy, weights, now);
        let score = score(&values, weights);
        let scored = Scored {
            buddy,
            values,
            score,
            key: (score * 1_000_000.0).round() as i64,
        };
        if best.len() < limit {
            best.push(Kept(scored));
        } else if best
            .peek()
            .is_some_and(|worst| order(&scored, &worst.0) == Ordering::Less)
        {
            best.pop();
            best.push(Kept(scored));
        }
    }
    let mut ranked: Vec<Scored<'a>> = best.into_iter().map(|k| k.0).collect();
    ranked.sort_unstable_by(order);
    (ranked, count)
}

/// A kept candidate, ordered so that the worst is the greatest (the top of the heap).
struct Kept<'a>(Scored<'a>);

impl PartialEq for Kept<'_> {
    fn eq(&self, other: &Self) -> bool {
        order(&self.0, &other.0) == Ordering::Equal
    }
}

impl Eq for Kept<'_> {}

impl PartialOrd for Kept<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        order(&self.0, &other.0)
    }
}

/// One component of a candidate's score, explained.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: ComponentName,
    pub weight: f64,
    pub value: f64,
    pub reason: String,
}

/// The breakdown of a scored candidate: every component's weight, value and a short reason.
pub fn explain(
    request: &RequestProfile<'_>,
    scored: &Scored<'_>,
    weights: &Weights,
    now: NaiveDateTime,
) -> Vec<Component> {
    let buddy = scored.buddy;
    ComponentName::ALL
        .iter()
        .zip(scored.values)
        .map(|(&name, value)| Component {
            name,
            weight: weights.of(name),
            value,
            reason: reason(name, request, buddy, weights, now),
        })
        .collect()
}

fn words(measure: MeasureKind) -> String {
    measure.as_str().replace('_', " ")
}

fn reason(
    name: ComponentName,
    request: &RequestProfile<'_>,
    buddy: &BuddyFacts,
    weights: &Weights,
    now: NaiveDateTime,
) -> String {
    match name {
        ComponentName::Language => {
            let shared: Vec<&str> = buddy
                .languages()
                .filter(|code| request.languages.iter().any(|c| c == code))
                .collect();
            match shared.as_slice() {
                [] => format!(
                    "speaks none of the client's languages ({})",
                    request.languages.join(", ")
                ),
                [one] => format!("speaks {one}, one of the client's languages"),
                many => format!("speaks {}, the client's languages", many.join(" and ")),
            }
        }
        ComponentName::Region => {
            if buddy.region_key == region_key(request.region) {
                format!("lives in the client's region ({})", buddy.region)
            } else {
                format!(
                    "lives in {}, not in the client's region ({})",
                    buddy.region, request.region
                )
            }
        }
        ComponentName::Experience => match request.measure {
            None => "the request names no measure: neutral".to_owned(),
            Some(m) if buddy.went_through(m) => {
                format!("went through a {} too", words(m))
            }
            Some(m) => format!("has no experience of a {}", words(m)),
        },
        ComponentName::Load => {
            let places = if buddy.capacity == 1 {
                "place"
            } else {
                "places"
            };
            if buddy.load == 0 {
                format!("no pairing yet: 0 of {} {places} taken", buddy.capacity)
            } else {
                format!("{} of {} {places} taken", buddy.load, buddy.capacity)
            }
        }
        ComponentName::Rotation => {
            let full = weights.rotation_full_after_days;
            match buddy.last_proposed_at {
                None => "never proposed before".to_owned(),
                Some(last) => {
                    let days = (now - last).num_days().max(0);
                    let when = match days {
                        0 => "less than a day ago".to_owned(),
                        1 => "1 day ago".to_owned(),
                        n => format!("{n} days ago"),
                    };
                    format!("last proposal {when} (counts in full after {full} days)")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate};

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    fn weights() -> Weights {
        Weights {
            language: 3.0,
            region: 2.0,
            experience: 2.0,
            load: 1.0,
            rotation: 1.0,
            rotation_full_after_days: 30,
        }
    }

    fn buddy(id: &str) -> BuddyFacts {
        profiled(id, r#"["nl","en"]"#, "Utrecht", r#"["supervision_order"]"#)
    }

    fn profiled(id: &str, languages: &str, region: &str, experience: &str) -> BuddyFacts {
        BuddyFacts::new(
            id.to_owned(),
            languages.to_owned(),
            region.to_owned(),
            experience,
            2,
        )
    }

    fn pool(buddies: &[BuddyFacts]) -> Pool {
        Pool::new(buddies.to_vec())
    }

    fn client_languages() -> Vec<String> {
        vec!["nl".to_owned()]
    }

    fn profile(languages: &[String], measure: Option<MeasureKind>) -> RequestProfile<'_> {
        RequestProfile {
            languages,
            region: "Utrecht",
            measure,
        }
    }

    fn ids(ranked: &[Scored<'_>]) -> Vec<String> {
        ranked.iter().map(|s| s.buddy.id.clone()).collect()
    }

    #[test]
    fn a_patched_pool_ranks_as_the_pool_read_afresh() {
        let languages = client_languages();
        let request = profile(&languages, None);
        let filters = RequestFilters::default();
        let before = pool(&[buddy("a"), buddy("b"), buddy("c"), buddy("d")]);
        // "a" got more capacity, "b" left (paused), "e" joined (activated), "z" changed but was
        // never active (nothing to do).
        let mut a = buddy("a");
        a.capacity = 4;
        a.load = 1;
        let changed: Vec<String> = ["a", "b", "e", "z"].map(str::to_owned).to_vec();
        let patched = before.patched(&changed, vec![a.clone(), buddy("e")]);
        let afresh = pool(&[a, buddy("c"), buddy("d"), buddy("e")]);
        assert_eq!(patched.buddies().len(), 4);
        let (got, got_count) = rank(&request, &patched, &filters, &weights(), now(), 10);
        let (want, want_count) = rank(&request, &afresh, &filters, &weights(), now(), 10);
        assert_eq!(ids(&got), ids(&want));
        assert_eq!(got_count, want_count);
        // The index follows the moves: each buddy is barred by its own id.
        let mut barred = RequestFilters::default();
        barred.excluded.insert("d".to_owned());
        barred.declined.insert("e".to_owned());
        let (got, _) = rank(&request, &patched, &barred, &weights(), now(), 10);
        let (want, _) = rank(&request, &afresh, &barred, &weights(), now(), 10);
        assert_eq!(ids(&got), ids(&want));
        let mut left = ids(&got);
        left.sort();
        assert_eq!(left, vec!["a", "c"]);
        // The original pool is untouched.
        assert_eq!(before.buddies().len(), 4);
        assert!(before.buddies().any(|b| b.id == "b"));
    }

    #[test]
    fn stored_lists_are_read_without_parsing() {
        assert_eq!(
            stored_items(r#"["nl","en"]"#).collect::<Vec<_>>(),
            ["nl", "en"]
        );
        assert_eq!(stored_items("[]").count(), 0);
        let stored = crate::domain::values::list_to_json(&[MeasureKind::Guardianship]);
        assert_eq!(stored_items(&stored).collect::<Vec<_>>(), ["guardianship"]);
    }

    #[test]
    fn language_is_one_when_any_client_language_is_spoken() {
        let langs = vec!["ar".to_owned(), "en".to_owned()];
        let p = profile(&langs, None);
        let b = buddy("a");
        assert_eq!(values(&p, &b, &weights(), now())[0], 1.0);
        let langs = vec!["tr".to_owned()];
        let p = profile(&langs, None);
        assert_eq!(values(&p, &b, &weights(), now())[0], 0.0);
        assert_eq!(
            reason(ComponentName::Language, &p, &b, &weights(), now()),
            "speaks none of the client's languages (tr)"
        );
        let langs = client_languages();
        let p = profile(&langs, None);
        assert_eq!(
            reason(ComponentName::Language, &p, &b, &weights(), now()),
            "speaks nl, one of the client's languages"
        );
    }

    #[test]
    fn region_matches_without_case() {
        let langs = client_languages();
        let p = profile(&langs, None);
        let b = profiled("a", "[]", "UTRECHT", "[]");
        assert_eq!(values(&p, &b, &weights(), now())[1], 1.0);
        let b = profiled("a", "[]", "Súdwest-Fryslân", "[]");
        assert_eq!(values(&p, &b, &weights(), now())[1], 0.0);
        assert_eq!(region_key("SÚDWEST-FRYSLÂN"), region_key("Súdwest-Fryslân"));
        assert_eq!(
            reason(ComponentName::Region, &p, &b, &weights(), now()),
            "lives in Súdwest-Fryslân, not in the client's region (Utrecht)"
        );
    }

    #[test]
    fn experience_matches_the_measure_and_is_neutral_without_one() {
        let langs = client_languages();
        let b = buddy("a");
        let same = profile(&langs, Some(MeasureKind::SupervisionOrder));
        let other = profile(&langs, Some(MeasureKind::Guardianship));
        let none = profile(&langs, None);
        assert_eq!(values(&same, &b, &weights(), now())[2], 1.0);
        assert_eq!(values(&other, &b, &weights(), now())[2], 0.0);
        assert_eq!(values(&none, &b, &weights(), now())[2], NEUTRAL_EXPERIENCE);
        assert_eq!(
            reason(ComponentName::Experience, &same, &b, &weights(), now()),
            "went through a supervision order too"
        );
        assert_eq!(
            reason(ComponentName::Experience, &other, &b, &weights(), now()),
            "has no experience of a guardianship"
        );
    }

    #[test]
    fn load_is_the_free_share_of_capacity() {
        let langs = client_languages();
        let p = profile(&langs, None);
        let mut b = buddy("a");
        b.capacity = 4;
        assert_eq!(values(&p, &b, &weights(), now())[3], 1.0);
        assert_eq!(
            reason(ComponentName::Load, &p, &b, &weights(), now()),
            "no pairing yet: 0 of 4 places taken"
        );
        b.load = 1;
        assert_eq!(values(&p, &b, &weights(), now())[3], 0.75);
        assert_eq!(
            reason(ComponentName::Load, &p, &b, &weights(), now()),
            "1 of 4 places taken"
        );
    }

    #[test]
    fn rotation_grows_with_the_time_since_the_last_proposal() {
        let langs = client_languages();
        let p = profile(&langs, None);
        let mut b = buddy("a");
        assert_eq!(values(&p, &b, &weights(), now())[4], 1.0);
        assert_eq!(
            reason(ComponentName::Rotation, &p, &b, &weights(), now()),
            "never proposed before"
        );
        b.last_proposed_at = Some(now() - Duration::days(12));
        assert!((values(&p, &b, &weights(), now())[4] - 0.4).abs() < 1e-12);
        assert_eq!(
            reason(ComponentName::Rotation, &p, &b, &weights(), now()),
            "last proposal 12 days ago (counts in full after 30 days)"
        );
        b.last_proposed_at = Some(now() - Duration::days(90));
        assert_eq!(values(&p, &b, &weights(), now())[4], 1.0);
        b.last_proposed_at = Some(now());
        assert_eq!(values(&p, &b, &weights(), now())[4], 0.0);
    }

    #[test]
    fn the_score_is_the_weighted_mean_of_the_components() {
        let w = weights();
        assert_eq!(score(&[1.0; 5], &w), 1.0);
        assert_eq!(score(&[0.0; 5], &w), 0.0);
        // Language only: 3 of 9.
        assert!((score(&[1.0, 0.0, 0.0, 0.0, 0.0], &w) - 3.0 / 9.0).abs() < 1e-12);
        let zero = Weights {
            language: 0.0,
            region: 0.0,
            experience: 0.0,
            load: 0.0,
            rotation: 0.0,
            rotation_full_after_days: 30,
        };
        assert_eq!(score(&[1.0; 5], &zero), 0.0);
    }

    #[test]
    fn each_hard_filter_removes_the_buddy() {
        let mut filters = RequestFilters::default();
        let b = buddy("a");
        assert_eq!(exclusion(&b, &filters), None);

        let mut paused = b.clone();
        paused.active = false;
        assert_eq!(exclusion(&paused, &filters), Some(Exclusion::NotActive));
        let mut full = b.clone();
        full.load = 2;
        assert_eq!(exclusion(&full, &filters), Some(Exclusion::NoFreeCapacity));

        filters.declined.insert("a".into());
        assert_eq!(
            exclusion(&b, &filters),
            Some(Exclusion::DeclinedThisRequest)
        );
        filters.declined.clear();
        filters.expired.insert("a".into());
        assert_eq!(
            exclusion(&b, &filters),
            Some(Exclusion::ExpiredForThisRequest)
        );
        filters.expired.clear();
        filters.excluded.insert("a".into());
        assert_eq!(exclusion(&b, &filters), Some(Exclusion::ExcludedByStaff));
        filters.excluded.clear();
        filters.current_buddy = Some("a".into());
        assert_eq!(exclusion(&b, &filters), Some(Exclusion::CurrentPairing));

        let langs = client_languages();
        let buddies = [b.clone(), buddy("b")];
        let buddies = pool(&buddies);
        let (ranked, eligible) = rank(
            &profile(&langs, None),
            &buddies,
            &filters,
            &weights(),
            now(),
            10,
        );
        assert_eq!(ids(&ranked), ["b"]);
        assert_eq!(eligible, 1);
    }

    #[test]
    fn the_ranking_lets_through_exactly_what_the_filters_allow() {
        let mut buddies = Vec::new();
        for i in 0..60 {
            let mut b = buddy(&format!("b{i:02}"));
            b.active = i % 7 != 0;
            b.capacity = 1 + (i % 3);
            b.load = (i % 4) as i64;
            buddies.push(b);
        }
        let filters = RequestFilters {
            declined: ["b01", "b02"].map(String::from).into(),
            expired: ["b04", "unknown"].map(String::from).into(),
            excluded: ["b05", "b10"].map(String::from).into(),
            current_buddy: Some("b11".into()),
        };
        let want: Vec<&str> = buddies
            .iter()
            .filter(|b| exclusion(b, &filters).is_none())
            .map(|b| b.id.as_str())
            .collect();
        let langs = client_languages();
        let pool = pool(&buddies);
        let (ranked, eligible) = rank(
            &profile(&langs, None),
            &pool,
            &filters,
            &weights(),
            now(),
            100,
        );
        let mut got = ids(&ranked);
        got.sort();
        assert_eq!(eligible, want.len());
        assert_eq!(got, want);
    }

    #[test]
    fn a_better_fit_ranks_higher() {
        let langs = client_languages();
        let p = profile(&langs, Some(MeasureKind::Guardianship));
        let plain = buddy("a");
        let fit = profiled("z", r#"["nl","en"]"#, "Utrecht", r#"["guardianship"]"#);
        let elsewhere = profiled("m", r#"["nl","en"]"#, "Zwolle", r#"["supervision_order"]"#);
        let buddies = [plain, fit, elsewhere];
        let buddies = pool(&buddies);
        let (ranked, _) = rank(
            &p,
            &buddies,
            &RequestFilters::default(),
            &weights(),
            now(),
            10,
        );
        assert_eq!(ids(&ranked), ["z", "a", "m"]);
        assert!(ranked[0].score > ranked[1].score && ranked[1].score > ranked[2].score);
        assert_eq!(ranked[0].score, 1.0);
    }

    #[test]
    fn ties_go_to_the_lower_load_then_the_longer_wait_then_the_id() {
        let langs = client_languages();
        let p = profile(&langs, None);
        // Load and rotation weigh nothing here, so all scores tie and the tie-breaks decide.
        let w = Weights {
            load: 0.0,
            rotation: 0.0,
            ..weights()
        };
        let mut busy = buddy("0-busy");
        busy.capacity = 4;
        busy.load = 2; // ratio 1/2
        let mut light = buddy("1-light");
        light.capacity = 3;
        light.load = 1; // ratio 1/3
        let mut recent = buddy("2-recent");
        recent.last_proposed_at = Some(now() - Duration::days(1));
        let mut earlier = buddy("3-earlier");
        earlier.last_proposed_at = Some(now() - Duration::days(5));
        let never_b = buddy("5-never");
        let never_a = buddy("4-never");
        let buddies = [busy, light, recent, earlier, never_b, never_a];
        let pooled = pool(&buddies);
        let (ranked, _) = rank(&p, &pooled, &RequestFilters::default(), &w, now(), 10);
        assert_eq!(
            ids(&ranked),
            [
                "4-never",
                "5-never",
                "3-earlier",
                "2-recent",
                "1-light",
                "0-busy"
            ]
        );
        // The same order whatever order the buddies come in.
        let mut reversed = buddies.to_vec();
        reversed.reverse();
        let reversed = pool(&reversed);
        let (again, _) = rank(&p, &reversed, &RequestFilters::default(), &w, now(), 10);
        assert_eq!(ids(&again), ids(&ranked));
    }

    #[test]
    fn the_limit_keeps_the_best_in_order() {
        let langs = client_languages();
        let p = profile(&langs, None);
        let buddies: Vec<BuddyFacts> = (0..50)
            .map(|i| {
                let mut b = buddy(&format!("b{i:02}"));
                b.last_proposed_at = Some(now() - Duration::days(i));
                b
            })
            .collect();
        let buddies = pool(&buddies);
        let (all, eligible) = rank(
            &p,
            &buddies,
            &RequestFilters::default(),
            &weights(),
            now(),
            100,
        );
        assert_eq!(eligible, 50);
        let (top, _) = rank(
            &p,
            &buddies,
            &RequestFilters::default(),
            &weights(),
            now(),
            7,
        );
        assert_eq!(ids(&top), ids(&all[..7]));
        // Rotation counts in full from 30 days, so b30 to b49 tie on score; the longer wait
        // breaks the tie.
        assert_eq!(ids(&top)[0], "b49");
        assert_eq!(ids(&top)[6], "b43");
        assert_eq!(ids(&all)[19], "b30");
        assert_eq!(ids(&all)[20], "b29");
        let (none, eligible) = rank(
            &p,
            &buddies,
            &RequestFilters::default(),
            &weights(),
            now(),
            0,
        );
        assert!(none.is_empty());
        assert_eq!(eligible, 50);
    }

    #[test]
    fn weights_come_from_the_configuration() {
        let env = [
            ("MAATJE__MATCHING__WEIGHT_REGION", "5"),
            ("MAATJE__MATCHING__ROTATION_FULL_AFTER_DAYS", "14"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let settings = crate::config::Settings::load_from(None, env)
            .expect("the configuration loads")
            .matching;
        let w = settings.weights();
        assert_eq!(w.language, settings.weight_language);
        assert_eq!(w.region, 5.0);
        assert_eq!(w.experience, settings.weight_experience);
        assert_eq!(w.load, settings.weight_load);
        assert_eq!(w.rotation, settings.weight_rotation);
        assert_eq!(w.rotation_full_after_days, 14);
    }

    #[test]
    fn explanations_carry_every_component_with_its_weight() {
        let langs = client_languages();
        let p = profile(&langs, None);
        let b = buddy("a");
        let single = pool(std::slice::from_ref(&b));
        let (ranked, _) = rank(
            &p,
            &single,
            &RequestFilters::default(),
            &weights(),
            now(),
            1,
        );
        let components = explain(&p, &ranked[0], &weights(), now());
        let names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["language", "region", "experience", "load", "rotation"]
        );
        assert_eq!(components[0].weight, 3.0);
        assert_eq!(components[2].value, NEUTRAL_EXPERIENCE);
        assert!(components.iter().all(|c| !c.reason.is_empty()));
    }
}
