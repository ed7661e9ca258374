//! Abuse limits: a token bucket per key and [`LimitClass`], and the middleware that charges the
//! caller's source address.
//!
//! A bucket holds `capacity` tokens and regains `capacity` tokens per minute (the configured
//! `*_per_minute`). Each request takes one token; a request that finds less than one is refused
//! with 429 and a `Retry-After` saying when the next token is there. Time is passed in, so the
//! tests drive the buckets without sleeping.
//!
//! The middleware charges, per request:
//! - [`LimitClass::Address`] for the peer address (an IPv6 address by its /64 prefix, which one
//!   host usually owns whole);
//! - in addition [`LimitClass::Login`] for the same address when the path is [`LOGIN_PATH`].
//!
//! The health probes are exempt: an orchestrator polling them must never see a 429 and restart a
//! healthy instance, and they touch no personal data.
//!
//! Authentication, once it lands, charges the caller's identity itself after resolving it:
//!
//! ```ignore
//! limiter.check(&format!("client:{id}"), LimitClass::Client, Instant::now())?;
//! ```
//!
//! (`RetryAfter` converts into [`ApiError::TooManyRequests`]). The limiter is created once in
//! `Application::build` and shared by every worker through `web::Data`.
//!
//! Memory stays bounded: each class keeps at most `max_buckets` buckets. When a new key would
//! pass that, full buckets are dropped first (a full bucket is exactly what a new key gets, so
//! nothing is forgotten); if that is not enough, the fullest buckets go until a quarter of the
//! room is free again, so that the sweep runs at most once per `max_buckets / 4` new keys.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};

use crate::config::LimitSettings;
use crate::error::ApiError;

/// The path whose requests also use the stricter login bucket (the route does not exist yet).
pub const LOGIN_PATH: &str = "/v1/auth/login";

/// Paths never limited: the liveness and readiness probes.
pub const EXEMPT_PATHS: &[&str] = &[
    "/v1/health/live",
    "/v1/health/ready",
    "/health/live",
    "/health/ready",
];

/// Which limit a key is charged against. Each class has its own rate and its own buckets, so the
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

    fn index(self) -> usize {
        self as usize
    }
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

/// A bucket's size and refill speed.
#[derive(Debug, Clone, Copy)]
struct Rate {
    capacity: f64,
    per_second: f64,
}

impl Rate {
    fn per_minute(requests: u32) -> Self {
        let capacity = f64::from(requests.max(1));
        Rate {
            capacity,
            per_second: capacity / 60.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    /// The tokens the bucket holds at `now`. An earlier `now` (a request that read the clock just
    /// before another one took the lock) counts as no time passed.
    fn tokens_at(&self, rate: Rate, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        (self.tokens + elapsed * rate.per_second).min(rate.capacity)
    }

    fn is_full_at(&self, rate: Rate, now: Instant) -> bool {
        self.tokens_at(rate, now) >= rate.capacity
    }

    fn take(&mut self, rate: Rate, now: Instant) -> Result<(), RetryAfter> {
        let tokens = self.tokens_at(rate, now);
        self.updated = self.updated.max(now);
        if tokens >= 1.0 {
            self.tokens = tokens - 1.0;
            Ok(())
        } else {
            self.tokens = tokens;
            Err(RetryAfter(Duration::from_secs_f64(
                (1.0 - tokens) / rate.per_second,
            )))
        }
    }
}

/// The buckets of one class.
#[derive(Debug)]
struct Buckets {
    rate: Rate,
    map: HashMap<String, Bucket>,
}

impl Buckets {
    fn check(&mut self, key: &str, now: Instant, max_buckets: usize) -> Result<(), RetryAfter> {
        if let Some(bucket) = self.map.get_mut(key) {
            return bucket.take(self.rate, now);
        }
        if self.map.len() >= max_buckets {
            self.make_room(now, max_buckets);
        }
        let mut bucket = Bucket {
            tokens: self.rate.capacity,
            updated: now,
        };
        let outcome = bucket.take(self.rate, now);
        self.map.insert(key.to_owned(), bucket);
        outcome
    }

    /// Drops full buckets; if that leaves more than three quarters of `max_buckets`, drops the
    /// fullest of the rest (they forget the least) until it does not.
    fn make_room(&mut self, now: Instant, max_buckets: usize) {
        let rate = self.rate;
        self.map.retain(|_, bucket| !bucket.is_full_at(rate, now));
        let keep = max_buckets * 3 / 4;
        if self.map.len() <= keep {
            return;
        }
        let mut by_tokens: Vec<(f64, String)> = self
            .map
            .iter()
            .map(|(key, bucket)| (bucket.tokens_at(rate, now), key.clone()))
            .collect();
        by_tokens.sort_by(|a, b| b.0.total_cmp(&a.0));
        let excess = self.map.len() - keep;
        for (_, key) in by_tokens.into_iter().take(excess) {
            self.map.remove(&key);
        }
    }
}

/// The token buckets of every class, safe to share between workers.
#[derive(Debug)]
pub struct RateLimiter {
    enabled: bool,
    max_buckets: usize,
    classes: [Mutex<Buckets>; 3],
}

impl RateLimiter {
    pub fn new(settings: &LimitSettings) -> Self {
        let rate = |class| match class {
            LimitClass::Address => Rate::per_minute(settings.per_address_per_minute),
            LimitClass::Login => Rate::per_minute(settings.login_per_address_per_minute),
            LimitClass::Client => Rate::per_minute(settings.per_client_per_minute),
        };
        RateLimiter {
            enabled: settings.enabled,
            max_buckets: settings.max_buckets.max(1),
            classes: LimitClass::ALL.map(|class| {
                Mutex::new(Buckets {
                    rate: rate(class),
                    map: HashMap::new(),
                })
            }),
        }
    }

    /// Takes one token from `key`'s bucket of `class`, or says how long to wait for one.
    /// Always `Ok` when the limits are disabled.
    pub fn check(&self, key: &str, class: LimitClass, now: Instant) -> Result<(), RetryAfter> {
        if !self.enabled {
            return Ok(());
        }
        self.classes[class.index()]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .check(key, now, self.max_buckets)
    }

    #[cfg(test)]
    fn tracked(&self, class: LimitClass) -> usize {
        self.classes[class.index()].lock().unwrap().map.len()
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

/// Answers 429 when the source address has used up its budget; passes everything through when
/// there is no limiter in the app data or no peer address.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>();
    let peer = req.peer_addr();
    if let (Some(limiter), Some(peer)) = (limiter, peer) {
        let key = address_key(peer.ip());
        let now = Instant::now();
        for &class in classes_for(req.match_info().as_str()) {
            if let Err(retry) = limiter.check(&key, class, now) {
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

    #[test]
    fn a_full_bucket_allows_a_burst_of_its_capacity() {
        let limiter = RateLimiter::new(&settings(5, 100));
        let t = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check("a", LimitClass::Address, t), Ok(()));
        }
        let refused = limiter.check("a", LimitClass::Address, t).unwrap_err();
        // 5 per minute: one token every 12 seconds.
        assert_eq!(refused, RetryAfter(secs(12.0)));
        assert_eq!(refused.whole_seconds(), 12);
        // Other keys and other classes have buckets of their own.
        assert_eq!(limiter.check("b", LimitClass::Address, t), Ok(()));
        assert_eq!(limiter.check("a", LimitClass::Client, t), Ok(()));
    }

    #[test]
    fn tokens_come_back_at_the_configured_rate() {
        let limiter = RateLimiter::new(&settings(60, 100));
        let t = Instant::now();
        for _ in 0..60 {
            limiter.check("a", LimitClass::Address, t).unwrap();
        }
        assert!(limiter.check("a", LimitClass::Address, t).is_err());
        // One token per second; after 0.5 s half of one is back, so 0.5 s more to wait.
        let half = limiter
            .check("a", LimitClass::Address, t + secs(0.5))
            .unwrap_err();
        assert!((half.0.as_secs_f64() - 0.5).abs() < 1e-6, "{half:?}");
        assert_eq!(half.whole_seconds(), 1);
        assert_eq!(
            limiter.check("a", LimitClass::Address, t + secs(1.0)),
            Ok(())
        );
        assert!(limiter
            .check("a", LimitClass::Address, t + secs(1.0))
            .is_err());
        // Three seconds later, three requests pass and the fourth does not.
        for _ in 0..3 {
            assert_eq!(
                limiter.check("a", LimitClass::Address, t + secs(4.0)),
                Ok(())
            );
        }
        assert!(limiter
            .check("a", LimitClass::Address, t + secs(4.0))
            .is_err());
    }

    #[test]
    fn a_bucket_never_holds_more_than_its_capacity() {
        let limiter = RateLimiter::new(&settings(3, 100));
        let t = Instant::now();
        limiter.check("a", LimitClass::Address, t).unwrap();
        let later = t + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(limiter.check("a", LimitClass::Address, later), Ok(()));
        }
        assert!(limiter.check("a", LimitClass::Address, later).is_err());
    }

    #[test]
    fn refused_requests_take_nothing() {
        let limiter = RateLimiter::new(&settings(1, 100));
        let t = Instant::now();
        limiter.check("a", LimitClass::Address, t).unwrap();
        for _ in 0..100 {
            assert!(limiter.check("a", LimitClass::Address, t).is_err());
        }
        // One per minute: hammering while refused does not push the next token back.
        assert_eq!(
            limiter.check("a", LimitClass::Address, t + secs(60.0)),
            Ok(())
        );
    }

    #[test]
    fn an_instant_from_before_the_last_update_counts_as_no_time() {
        let limiter = RateLimiter::new(&settings(1, 100));
        let t = Instant::now() + Duration::from_secs(10);
        limiter.check("a", LimitClass::Address, t).unwrap();
        let refused = limiter
            .check("a", LimitClass::Address, t - Duration::from_secs(5))
            .unwrap_err();
        assert_eq!(refused.whole_seconds(), 60);
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
        let limiter = RateLimiter::new(&s);
        let t = Instant::now();
        for _ in 0..1000 {
            assert_eq!(limiter.check("a", LimitClass::Login, t), Ok(()));
        }
        assert_eq!(limiter.tracked(LimitClass::Login), 0);
    }

    #[test]
    fn full_buckets_are_dropped_when_the_map_is_at_its_cap() {
        let limiter = RateLimiter::new(&settings(60, 100));
        let t = Instant::now();
        for i in 0..100 {
            limiter
                .check(&format!("k{i}"), LimitClass::Address, t)
                .unwrap();
        }
        assert_eq!(limiter.tracked(LimitClass::Address), 100);
        // A second later each of them is full again: a new key sweeps them all away.
        let later = t + secs(1.0);
        limiter.check("new", LimitClass::Address, later).unwrap();
        assert_eq!(limiter.tracked(LimitClass::Address), 1);
        // Other classes were not touched.
        assert_eq!(limiter.tracked(LimitClass::Client), 0);
    }

    #[test]
    fn past_the_cap_the_fullest_buckets_go_and_drained_ones_stay() {
        let limiter = RateLimiter::new(&settings(10, 100));
        let t = Instant::now();
        // "drained" used its whole budget; the others one token each.
        for _ in 0..10 {
            limiter.check("drained", LimitClass::Address, t).unwrap();
        }
        for i in 0..99 {
            limiter
                .check(&format!("k{i}"), LimitClass::Address, t)
                .unwrap();
        }
        assert_eq!(limiter.tracked(LimitClass::Address), 100);
        limiter.check("new", LimitClass::Address, t).unwrap();
        // Down to three quarters, plus the new key.
        assert_eq!(limiter.tracked(LimitClass::Address), 76);
        // The drained bucket was kept: its owner is still limited.
        assert!(limiter.check("drained", LimitClass::Address, t).is_err());
    }

    #[test]
    fn the_number_of_buckets_stays_bounded() {
        for max in [1, 2, 3, 4, 100] {
            let limiter = RateLimiter::new(&settings(600, max));
            let t = Instant::now();
            for i in 0..2_000 {
                let _ = limiter.check(&format!("k{i}"), LimitClass::Client, t);
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
