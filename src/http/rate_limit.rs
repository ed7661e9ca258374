//! Abuse limits: a rate limit per key and [`LimitClass`] (governor's GCRA, which behaves as a
//! token bucket), and the middleware that charges the caller's source address.
//!
//! A key may send `capacity` requests at once and regains `capacity` per minute (the configured
//! `*_per_minute`), one every `60 / capacity` seconds. A request beyond that is refused with 429
//! and a `Retry-After` saying when the next one will pass; a refused request uses up nothing.
//! The clock is governor's: the tests drive a fake one instead of sleeping.
//!
//! The middleware charges, per request:
//! - [`LimitClass::Address`] for the client's address ([`super::client_addr`]: the peer, or what
//!   a trusted proxy says; an IPv6 address by its /64 prefix, which one host usually owns whole);
//! - in addition [`LimitClass::Login`] for the same address when the path is [`LOGIN_PATH`].
//!
//! The health probes are exempt: an orchestrator polling them must never see a 429 and restart a
//! healthy instance, and they touch no personal data.
//!
//! Authentication charges the caller's identity itself after resolving it:
//!
//! ```ignore
//! limiter.check(&format!("client:{id}"), LimitClass::Client)?;
//! ```
//!
//! (`RetryAfter` converts into [`ApiError::TooManyRequests`]). The limiter is created once in
//! `Application::build` and shared by every worker through `web::Data`.
//!
//! Memory stays bounded: each class keeps at most `max_buckets` keys (in [`Buckets`], the state
//! store handed to governor). When a new key would pass that, keys with their whole budget back
//! are dropped first (that is exactly what a new key gets, so nothing is forgotten); if that is
//! not enough, those closest to it go until a quarter of the room is free again, so that the
//! sweep runs at most once per `max_buckets / 4` new keys.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};
use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::StateStore;
use governor::Quota;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::config::LimitSettings;
use crate::error::ApiError;

/// The path whose requests also use the stricter login limit.
pub const LOGIN_PATH: &str = "/v1/auth/login";

/// Paths never limited: the liveness and readiness probes.
pub const EXEMPT_PATHS: &[&str] = &[
    "/v1/health/live",
    "/v1/health/ready",
    "/health/live",
    "/health/ready",
];

/// Which limit a key is charged against. Each class has its own rate and its own keys, so the
/// same key may be used in several classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitClass {
    /// Every request from one source address.
    Address,
    /// Requests from one source address to [`LOGIN_PATH`].
    Login,
    /// Every request of one authenticated caller (charged by the authentication layer).
    Client,
}

impl LimitClass {
    const ALL: [LimitClass; 3] = [LimitClass::Address, LimitClass::Login, LimitClass::Client];
}

/// How long to wait before the next request will be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// For the `Retry-After` header: whole seconds, rounded up, at least 1.
    pub fn whole_seconds(self) -> u64 {
        let seconds = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        seconds.max(1)
    }
}

impl From<RetryAfter> for ApiError {
    fn from(retry: RetryAfter) -> Self {
        ApiError::TooManyRequests {
            retry_after_secs: retry.whole_seconds(),
        }
    }
}

/// The state governor keeps for one class: per key its "theoretical arrival time" (the GCRA
/// state; the smaller, the more budget the key has), at most `max_keys` of them.
#[derive(Debug)]
pub struct Buckets {
    tats: Mutex<HashMap<String, Nanos>>,
    max_keys: usize,
    /// The time one request costs (`60 s / capacity`).
    period: Nanos,
}

impl StateStore for Buckets {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let known = tats.get(key).copied();
        let (outcome, tat) = f(known)?;
        if known.is_none() && tats.len() >= self.max_keys {
            // A new key's state is `now + period`: that tells the store the time.
            make_room(&mut tats, tat.saturating_sub(self.period), self.max_keys);
        }
        tats.insert(key.clone(), tat);
        Ok(outcome)
    }
}

impl ShrinkableKeyedStateStore<String> for Buckets {
    /// Drops the keys whose whole budget is back at `drop_below`.
    fn retain_recent(&self, drop_below: Nanos) {
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        tats.retain(|_, tat| *tat > drop_below);
    }

    fn len(&self) -> usize {
        self.tats.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops the keys whose whole budget is back at `now`; if that leaves more than three quarters
/// of `max_keys`, drops those with the most budget left (they forget the least) until it does not.
fn make_room(tats: &mut HashMap<String, Nanos>, now: Nanos, max_keys: usize) {
    tats.retain(|_, tat| *tat > now);
    let keep = max_keys * 3 / 4;
    if tats.len() > keep {
        let mut by_budget: Vec<(Nanos, String)> =
            tats.iter().map(|(key, tat)| (*tat, key.clone())).collect();
        by_budget.sort_unstable();
        for (_, key) in by_budget.into_iter().take(tats.len() - keep) {
            tats.remove(&key);
        }
    }
}

type Limiter<C> = governor::RateLimiter<String, Buckets, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The limits of every class, safe to share between workers.
pub struct RateLimiter<C: Clock = MonotonicClock> {
    enabled: bool,
    classes: [Limiter<C>; 3],
    /// The refusals by class, for the metrics ([`RateLimiter::counting_in`]).
    refusals: Family<crate::metrics::LimitLabels, Counter>,
}

impl RateLimiter {
    pub fn new(settings: &LimitSettings) -> Self {
        RateLimiter::with_clock(settings, MonotonicClock)
    }
}

impl LimitClass {
    /// Its name as a metrics label.
    fn label(self) -> &'static str {
        match self {
            LimitClass::Address => "address",
            LimitClass::Login => "login",
            LimitClass::Client => "client",
        }
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(settings: &LimitSettings, clock: C) -> Self {
        let max_keys = settings.max_buckets.max(1);
        let per_minute = |class| match class {
            LimitClass::Address => settings.per_address_per_minute,
            LimitClass::Login => settings.login_per_address_per_minute,
            LimitClass::Client => settings.per_client_per_minute,
        };
        RateLimiter {
            enabled: settings.enabled,
            classes: LimitClass::ALL.map(|class| {
                let quota = Quota::per_minute(
                    NonZeroU32::new(per_minute(class)).unwrap_or(NonZeroU32::MIN),
                );
                let buckets = Buckets {
                    tats: Mutex::new(HashMap::new()),
                    max_keys,
                    period: quota.replenish_interval().into(),
                };
                governor::RateLimiter::new(quota, buckets, clock.clone())
            }),
            refusals: Family::default(),
        }
    }

    /// Counts the refusals in `refusals` (the service's `maatje_rate_limited_total`).
    pub fn counting_in(mut self, refusals: Family<crate::metrics::LimitLabels, Counter>) -> Self {
        self.refusals = refusals;
        self
    }
}

impl<C: Clock> RateLimiter<C> {
    /// Charges one request to `key` in `class`, or says how long to wait before one passes.
    /// Always `Ok` when the limits are disabled.
    pub fn check(&self, key: &str, class: LimitClass) -> Result<(), RetryAfter> {
        if !self.enabled {
            return Ok(());
        }
        let limiter = &self.classes[class as usize];
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            self.refusals
                .get_or_create(&crate::metrics::LimitLabels {
                    limit: class.label(),
                })
                .inc();
            RetryAfter(not_until.wait_time_from(limiter.clock().now()))
        })
    }

    #[cfg(test)]
    fn tracked(&self, class: LimitClass) -> usize {
        self.classes[class as usize].len()
    }
}

impl<C: Clock> std::fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// The key of a source address: an IPv4 address as is, an IPv6 address by its /64 prefix (an
/// IPv4-mapped one as the IPv4 address).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The classes a request is charged against, by the path the router sees (percent-decoded, so
/// an encoded letter does not dodge the login limit).
fn classes_for(path: &str) -> &'static [LimitClass] {
    if EXEMPT_PATHS.contains(&path) {
        &[]
    } else if path.trim_end_matches('/') == LOGIN_PATH {
        &[LimitClass::Address, LimitClass::Login]
    } else {
        &[LimitClass::Address]
    }
}

/// Answers 429 when the client's address has used up its budget; passes everything through when
/// there is no limiter in the app data or no peer address.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>();
    let client = super::client_addr::of(req.request());
    if let (Some(limiter), Some(client)) = (limiter, client) {
        let key = address_key(client);
        for &class in classes_for(req.match_info().as_str()) {
            if let Err(retry) = limiter.check(&key, class) {
                let error = ApiError::from(retry);
                // `request_id` logs the request at info already, with its status.
                tracing::debug!(
                    ?class,
                    retry_after_secs = retry.whole_seconds(),
                    "rate limited"
                );
                let response = error.error_response();
                return Ok(req.into_response(response).map_into_right_body());
            }
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn settings(per_minute: u32, max_buckets: usize) -> LimitSettings {
        LimitSettings {
            enabled: true,
            per_address_per_minute: per_minute,
            per_client_per_minute: per_minute,
            login_per_address_per_minute: 2,
            max_buckets,
        }
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// A limiter on a clock that only moves when the test says so.
    fn limiter(settings: &LimitSettings) -> (RateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (RateLimiter::with_clock(settings, clock.clone()), clock)
    }

    #[test]
    fn a_full_bucket_allows_a_burst_of_its_capacity() {
        let (limiter, _) = limiter(&settings(5, 100));
        for _ in 0..5 {
            assert_eq!(limiter.check("a", LimitClass::Address), Ok(()));
        }
        let refused = limiter.check("a", LimitClass::Address).unwrap_err();
        // 5 per minute: one token every 12 seconds.
        assert_eq!(refused, RetryAfter(secs(12.0)));
        assert_eq!(refused.whole_seconds(), 12);
        // Other keys and other classes have buckets of their own.
        assert_eq!(limiter.check("b", LimitClass::Address), Ok(()));
        assert_eq!(limiter.check("a", LimitClass::Client), Ok(()));
    }

    #[test]
    fn tokens_come_back_at_the_configured_rate() {
        let (limiter, clock) = limiter(&settings(60, 100));
        for _ in 0..60 {
            limiter.check("a", LimitClass::Address).unwrap();
        }
        assert!(limiter.check("a", LimitClass::Address).is_err());
        // One token per second; after 0.5 s half of one is back, so 0.5 s more to wait.
        clock.advance(secs(0.5));
        let half = limiter.check("a", LimitClass::Address).unwrap_err();
        assert!((half.0.as_secs_f64() - 0.5).abs() < 1e-6, "{half:?}");
        assert_eq!(half.whole_seconds(), 1);
        clock.advance(secs(0.5));
        assert_eq!(limiter.check("a", LimitClass::Address), Ok(()));
        assert!(limiter.check("a", LimitClass::Address).is_err());
        // Three seconds later, three requests pass and the fourth does not.
        clock.advance(secs(3.0));
        for _ in 0..3 {
            assert_eq!(limiter.check("a", LimitClass::Address), Ok(()));
        }
        assert!(limiter.check("a", LimitClass::Address).is_err());
    }

    #[test]
    fn a_bucket_never_holds_more_than_its_capacity() {
        let (limiter, clock) = limiter(&settings(3, 100));
        limiter.check("a", LimitClass::Address).unwrap();
        clock.advance(Duration::from_secs(3600));
        for _ in 0..3 {
            assert_eq!(limiter.check("a", LimitClass::Address), Ok(()));
        }
        assert!(limiter.check("a", LimitClass::Address).is_err());
    }

    #[test]
    fn refused_requests_take_nothing() {
        let (limiter, clock) = limiter(&settings(1, 100));
        limiter.check("a", LimitClass::Address).unwrap();
        for _ in 0..100 {
            assert!(limiter.check("a", LimitClass::Address).is_err());
        }
        // One per minute: hammering while refused does not push the next token back.
        clock.advance(secs(60.0));
        assert_eq!(limiter.check("a", LimitClass::Address), Ok(()));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_at_least_one() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).whole_seconds(), 1);
        assert_eq!(RetryAfter(Duration::ZERO).whole_seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1000)).whole_seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1001)).whole_seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(12)).whole_seconds(), 12);
        let error = ApiError::from(RetryAfter(Duration::from_millis(2500)));
        assert!(matches!(
            error,
            ApiError::TooManyRequests {
                retry_after_secs: 3
            }
        ));
    }

    #[test]
    fn disabled_limits_refuse_nothing() {
        let mut s = settings(1, 100);
        s.enabled = false;
        let (limiter, _) = limiter(&s);
        for _ in 0..1000 {
            assert_eq!(limiter.check("a", LimitClass::Login), Ok(()));
        }
        assert_eq!(limiter.tracked(LimitClass::Login), 0);
    }

    #[test]
    fn full_buckets_are_dropped_when_the_map_is_at_its_cap() {
        let (limiter, clock) = limiter(&settings(60, 100));
        for i in 0..100 {
            limiter
                .check(&format!("k{i}"), LimitClass::Address)
                .unwrap();
        }
        assert_eq!(limiter.tracked(LimitClass::Address), 100);
        // A second later each of them is full again: a new key sweeps them all away.
        clock.advance(secs(1.0));
        limiter.check("new", LimitClass::Address).unwrap();
        assert_eq!(limiter.tracked(LimitClass::Address), 1);
        // Other classes were not touched.
        assert_eq!(limiter.tracked(LimitClass::Client), 0);
    }

    #[test]
    fn past_the_cap_the_fullest_buckets_go_and_drained_ones_stay() {
        let (limiter, _) = limiter(&settings(10, 100));
        // "drained" used its whole budget; the others one token each.
        for _ in 0..10 {
            limiter.check("drained", LimitClass::Address).unwrap();
        }
        for i in 0..99 {
            limiter
                .check(&format!("k{i}"), LimitClass::Address)
                .unwrap();
        }
        assert_eq!(limiter.tracked(LimitClass::Address), 100);
        limiter.check("new", LimitClass::Address).unwrap();
        // Down to three quarters, plus the new key.
        assert_eq!(limiter.tracked(LimitClass::Address), 76);
        // The drained bucket was kept: its owner is still limited.
        assert!(limiter.check("drained", LimitClass::Address).is_err());
    }

    #[test]
    fn the_number_of_buckets_stays_bounded() {
        for max in [1, 2, 3, 4, 100] {
            let (limiter, _) = limiter(&settings(600, max));
            for i in 0..2_000 {
                let _ = limiter.check(&format!("k{i}"), LimitClass::Client);
                assert!(limiter.tracked(LimitClass::Client) <= max, "cap {max}");
            }
        }
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        assert_eq!(address_key(a), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7");
        assert_eq!(address_key("127.0.0.1".parse().unwrap()), "127.0.0.1");
    }

    #[test]
    fn probes_are_exempt_and_login_is_charged_twice() {
        assert!(classes_for("/v1/health/live").is_empty());
        assert!(classes_for("/v1/health/ready").is_empty());
        assert_eq!(classes_for("/v1/health/nope"), &[LimitClass::Address]);
        assert_eq!(classes_for("/v1/organisations"), &[LimitClass::Address]);
        for login in ["/v1/auth/login", "/v1/auth/login/"] {
            assert_eq!(
                classes_for(login),
                &[LimitClass::Address, LimitClass::Login]
            );
        }
        assert_eq!(classes_for("/v1/auth/login2"), &[LimitClass::Address]);
    }
}
