//! The credentials this instance verified lately, so that a request with one of them is
//! authenticated without going to the database.
//!
//! What is kept is what the database returned for a credential that was valid ([`Stored`]: the
//! secret's hash, expiry, revocation, the account's role and active flag, the organisation's
//! state, the ids), never a verdict: every request checks the presented secret against the
//! kept hash (in constant time) and the expiry against the clock again, by the same rules as a
//! credential just read ([`Stored::holder`]). Unknown ids and failed checks are not kept, so
//! a flood of made-up tokens does not grow the cache; it holds at most [`CAPACITY`] entries and
//! drops an arbitrary one to make room.
//!
//! Invalidation: every change that makes a credential invalid or changes what it allows moves
//! the `credential_version` counter in its own transaction ([`crate::ops::Tx::credentials_changed`]).
//! The instance that made the change empties its cache once the change committed
//! ([`crate::ops::AppState::change`]); every instance polls the counter every [`POLL_INTERVAL`]
//! ([`Poller`]) and empties its cache when it moved. The cache is trusted only while the last
//! successful poll began less than [`TRUST`] ago: while the counter cannot be read (the
//! database unreachable), every request goes to the database, as without the cache.
//!
//! An entry read from the database before an invalidation is not stored after it: a lookup
//! takes the cache's epoch before it reads, and [`CredentialCache::insert`] drops the entry if
//! the epoch moved meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::credentials::{Holder, Stored};
use super::token::{Presented, TokenKind};
use crate::db::Database;
use crate::domain::error::DomainError;
use crate::store::credential_version;

/// The most credentials kept at once.
pub const CAPACITY: usize = 4096;

/// How often every instance reads the `credential_version` counter.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How long after the start of the last successful read of the counter the cache is trusted.
pub const TRUST: Duration = Duration::from_secs(1);

/// What the cache says about a presented credential.
#[derive(Debug)]
pub enum Lookup {
    /// Valid now by what the cache holds, and nothing to note: no need for the database.
    Valid(Holder),
    /// Ask the database; pass the epoch to [`CredentialCache::insert`] with what it returns.
    Ask { epoch: u64 },
}

#[derive(Default)]
pub struct CredentialCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Moves with every invalidation.
    epoch: u64,
    entries: HashMap<(TokenKind, String), Stored>,
    /// The counter as last read, `None` before the first read.
    version: Option<i64>,
    /// When the last successful read of the counter began.
    fresh_since: Option<Instant>,
}

fn key(presented: &Presented) -> (TokenKind, String) {
    (presented.kind, presented.id.clone())
}

impl CredentialCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The data stays consistent whatever panicked while holding the lock.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `presented` is valid at `now` by what the cache holds.
    pub fn lookup(&self, presented: &Presented, now: NaiveDateTime) -> Lookup {
        let inner = self.lock();
        let epoch = inner.epoch;
        if !inner.trusted() {
            return Lookup::Ask { epoch };
        }
        match inner.entries.get(&key(presented)) {
            Some(stored) if !stored.use_to_note(now) => match stored.holder(presented, now) {
                Some(holder) => Lookup::Valid(holder),
                None => Lookup::Ask { epoch },
            },
            _ => Lookup::Ask { epoch },
        }
    }

    /// Keeps what the database returned for a valid `presented`, unless the cache was
    /// invalidated since `epoch` was taken (the rows may predate the change).
    pub fn insert(&self, epoch: u64, presented: &Presented, stored: Stored) {
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        let key = key(presented);
        if inner.entries.len() >= CAPACITY && !inner.entries.contains_key(&key) {
            if let Some(any) = inner.entries.keys().next().cloned() {
                inner.entries.remove(&any);
            }
        }
        inner.entries.insert(key, stored);
    }

    /// Forgets every credential.
    pub fn invalidate(&self) {
        self.lock().invalidate();
    }

    /// The counter was read as `version` by a read that began at `began`.
    pub fn observe(&self, version: i64, began: Instant) {
        let mut inner = self.lock();
        if inner.version != Some(version) {
            // Also on the first read: entries kept before it may predate a change.
            inner.invalidate();
            inner.version = Some(version);
        }
        if inner.fresh_since.is_none_or(|at| at < began) {
            inner.fresh_since = Some(began);
        }
    }

    /// Whether the cache is trusted now (see [`TRUST`]).
    pub fn trusted(&self) -> bool {
        self.lock().trusted()
    }

    /// How many credentials are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn invalidate(&mut self) {
        self.epoch += 1;
        self.entries.clear();
    }

    fn trusted(&self) -> bool {
        self.fresh_since.is_some_and(|at| at.elapsed() < TRUST)
    }
}

/// Reads the `credential_version` counter every [`POLL_INTERVAL`] for a cache, for as long as
/// the server runs.
pub struct Poller {
    pub db: Database,
    pub cache: Arc<CredentialCache>,
}

impl Poller {
    pub async fn run(self) {
        let mut failing = false;
        loop {
            let began = Instant::now();
            match self
                .db
                .run(|conn| credential_version::read(conn).map_err(DomainError::from))
                .await
            {
                Ok(version) => {
                    if failing {
                        tracing::debug!("the credential counter is readable again");
                        failing = false;
                    }
                    self.cache.observe(version, began);
                }
                Err(e) => {
                    if !failing {
                        tracing::debug!(error = %e, "cannot read the credential counter: credentials are checked in the database");
                        failing = true;
                    }
                }
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration as Span, NaiveDate};

    use super::*;
    use crate::auth::token;
    use crate::domain::organisation::OrganisationState;
    use crate::store::api_clients::{ApiClientRow, ApiKeyRow};

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    /// A fresh key's token, parsed, and what the database would hold about it.
    fn key(expires_at: Option<NaiveDateTime>) -> (Presented, Stored) {
        let minted = token::mint(TokenKind::ApiKey);
        let presented = token::parse(&minted.token).unwrap();
        let client = ApiClientRow {
            id: "client".into(),
            organisation_id: "org".into(),
            name: "Zaaksysteem".into(),
            created_at: now(),
            revoked_at: None,
        };
        let stored = Stored::ApiKey {
            key: ApiKeyRow {
                id: minted.id.as_str().into(),
                client_id: client.id.clone(),
                secret_hash: minted.secret_hash,
                created_at: now(),
                expires_at,
                last_used_at: Some(now()),
                revoked_at: None,
            },
            client,
            organisation: OrganisationState::Active,
        };
        (presented, stored)
    }

    fn trusted_cache() -> CredentialCache {
        let cache = CredentialCache::default();
        cache.observe(0, Instant::now());
        cache
    }

    fn epoch(cache: &CredentialCache, presented: &Presented) -> u64 {
        match cache.lookup(presented, now()) {
            Lookup::Ask { epoch } => epoch,
            Lookup::Valid(_) => panic!("not cached yet"),
        }
    }

    #[test]
    fn a_kept_credential_is_checked_again_on_every_lookup() {
        let cache = trusted_cache();
        let (presented, stored) = key(Some(now() + Span::seconds(30)));
        let e = epoch(&cache, &presented);
        cache.insert(e, &presented, stored);
        assert!(matches!(cache.lookup(&presented, now()), Lookup::Valid(_)));
        // Another secret with the same id is not this credential.
        let (other, _) = key(None);
        let forged = token::parse(&format!(
            "mtj_ak_{}_{}",
            presented.id.replace('-', ""),
            "A".repeat(43)
        ))
        .unwrap();
        assert!(matches!(cache.lookup(&forged, now()), Lookup::Ask { .. }));
        assert!(matches!(cache.lookup(&other, now()), Lookup::Ask { .. }));
        // Expiry is checked against the clock of the lookup.
        let later = now() + Span::seconds(31);
        assert!(matches!(
            cache.lookup(&presented, later),
            Lookup::Ask { .. }
        ));
        // A use to note (a minute after the last) goes to the database.
        let (presented, stored) = key(None);
        cache.insert(e, &presented, stored);
        let in_a_minute = now() + Span::seconds(60);
        assert!(matches!(
            cache.lookup(&presented, in_a_minute),
            Lookup::Ask { .. }
        ));
        assert!(matches!(cache.lookup(&presented, now()), Lookup::Valid(_)));
    }

    #[test]
    fn nothing_read_before_an_invalidation_is_kept_after_it() {
        let cache = trusted_cache();
        let (presented, stored) = key(None);
        let e = epoch(&cache, &presented);
        cache.invalidate();
        cache.insert(e, &presented, stored.clone());
        assert!(cache.is_empty());
        // Nor before the counter was seen to move.
        let e = epoch(&cache, &presented);
        cache.observe(1, Instant::now());
        cache.insert(e, &presented, stored.clone());
        assert!(cache.is_empty());
        let e = epoch(&cache, &presented);
        cache.insert(e, &presented, stored);
        assert_eq!(cache.len(), 1);
        // The counter as it was empties nothing; a moved one empties all.
        cache.observe(1, Instant::now());
        assert_eq!(cache.len(), 1);
        cache.observe(2, Instant::now());
        assert!(cache.is_empty());
    }

    #[test]
    fn the_cache_is_not_trusted_without_a_recent_read_of_the_counter() {
        let cache = CredentialCache::default();
        let (presented, stored) = key(None);
        assert!(!cache.trusted());
        cache.insert(0, &presented, stored);
        assert!(matches!(
            cache.lookup(&presented, now()),
            Lookup::Ask { .. }
        ));
        // The last read that succeeded began more than `TRUST` ago.
        let long_ago = Instant::now() - TRUST - Duration::from_millis(1);
        cache.observe(0, long_ago);
        assert!(!cache.trusted());
        cache.observe(0, Instant::now());
        assert!(cache.trusted());
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity() {
        let cache = trusted_cache();
        for _ in 0..CAPACITY + 100 {
            let (presented, stored) = key(None);
            cache.insert(epoch(&cache, &presented), &presented, stored);
        }
        assert_eq!(cache.len(), CAPACITY);
    }
}
