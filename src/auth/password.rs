//! Staff passwords: argon2id with the crate's recommended parameters, PHC strings at rest.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

pub fn hash(password: &str) -> String {
    let salt =
        SaltString::encode_b64(&super::token::random_bytes::<16>()).expect("16 bytes encode");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verifying against this when the account does not exist keeps the answer time the same, so
/// timing does not reveal which e-mail addresses have accounts.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not a real password, only for timing"));
    let _ = verify(password, dummy);
}

/// Bounds how many password checks run at once. Each argon2id check takes 19 MiB and a core for
/// tens of milliseconds, so unbounded logins would let anyone exhaust the memory and the blocking
/// pool. Take a [`Permit`] before a check and hold it until the check is done (move it into the
/// blocking task, so that it is released only when the work ends, even if the client went away).
#[derive(Debug, Clone)]
pub struct Verifications {
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// The right to run one password check.
#[derive(Debug)]
pub struct Permit(#[allow(dead_code)] OwnedSemaphorePermit);

/// Every permit stayed taken for the whole wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl Verifications {
    /// At most `max` checks at once (at least 1); a caller waits at most `wait` for its turn.
    pub fn new(max: usize, wait: Duration) -> Self {
        Verifications {
            permits: Arc::new(Semaphore::new(max.max(1))),
            wait,
        }
    }

    /// Waits for a free permit, at most the configured wait.
    pub async fn acquire(&self) -> Result<Permit, Busy> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Permit(permit)),
            _ => Err(Busy),
        }
    }
}

/// Why a new password is refused, if it is.
pub fn weakness(password: &str) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        Some(format!("must be at least {MIN_LENGTH} characters"))
    } else if length > MAX_LENGTH {
        Some(format!("must be at most {MAX_LENGTH} characters"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_argon2id() {
        let stored = hash("correct horse battery");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("wrong horse battery", &stored));
        assert!(!verify("correct horse battery", "not a hash"));
        assert_ne!(stored, hash("correct horse battery"), "salted");
    }

    #[tokio::test]
    async fn verifications_are_bounded_and_wait_only_so_long() {
        let wait = Duration::from_millis(100);
        let bound = Verifications::new(2, wait);
        let first = bound.acquire().await.expect("a free permit");
        let second = bound.acquire().await.expect("a second free permit");
        let started = std::time::Instant::now();
        assert_eq!(bound.acquire().await.unwrap_err(), Busy);
        assert!(started.elapsed() >= wait, "{:?}", started.elapsed());
        assert!(started.elapsed() < Duration::from_secs(5));
        // A permit handed back is taken by the next one waiting.
        let waiting = tokio::spawn({
            let bound = bound.clone();
            async move { bound.acquire().await.map(|_| ()) }
        });
        drop(first);
        assert_eq!(waiting.await.unwrap(), Ok(()));
        drop(second);
        // A bound of 0 still lets one check run; with no wait a free permit is taken at once.
        let one = Verifications::new(0, Duration::ZERO);
        let permit = one.acquire().await.expect("one permit");
        assert_eq!(one.acquire().await.unwrap_err(), Busy);
        drop(permit);
        assert!(one.acquire().await.is_ok());
    }

    #[test]
    fn short_passwords_are_weak() {
        assert!(weakness("short").is_some());
        assert!(weakness("twelve chars").is_none());
    }
}
