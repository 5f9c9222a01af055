//! argon2id password hashing under a concurrency bound.
//!
//! Each hash takes 19 MiB and ~35 ms (release), so a login storm could
//! exhaust memory and both cores; a semaphore bounds how many run at once
//! and the rest wait their turn — in a bounded queue ([`QUEUE_PER_PERMIT`]
//! waiters per permit, each for at most [`WAIT_BUDGET`]); beyond that the
//! caller gets [`Busy`] (503 + Retry-After) instead of holding memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

/// OWASP's argon2id minimum: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Callers allowed to wait per hashing permit.
pub const QUEUE_PER_PERMIT: usize = 8;
/// The longest a caller waits for a permit.
pub const WAIT_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// Every permit is taken and the queue is full (or the wait ran out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is busy; try again shortly")]
pub struct Busy;

/// Hashes and verifies passwords, at most `limit` at a time.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    /// A hash of a random password, verified against when the login is
    /// unknown so that "no such user" costs as much as "wrong password".
    dummy: Arc<String>,
}

impl Hasher {
    /// A hasher that runs at most `limit` hashes at once.
    pub fn new(limit: usize) -> Self {
        let dummy = hash_now(&hex::encode(rand::random::<[u8; 16]>()));
        Self {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting: limit.max(1) * QUEUE_PER_PERMIT,
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
            dummy: Arc::new(dummy),
        }
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: &str) -> Result<String, Busy> {
        let password = password.to_string();
        self.bounded(move || hash_now(&password)).await
    }

    /// Whether `password` matches the PHC string `hash`. With `None`
    /// (unknown user) it checks against a dummy hash and returns false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, Busy> {
        let password = password.to_string();
        let (hash, real) = match hash {
            Some(h) => (h.to_string(), true),
            None => (self.dummy.as_str().to_string(), false),
        };
        let ok = self
            .bounded(move || {
                PasswordHash::new(&hash)
                    .map(|parsed| {
                        argon2()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(ok && real)
    }

    /// The most hashes that ever ran at once (tests check the bound).
    pub fn peak_concurrency(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    async fn bounded<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let _permit = match self.permits.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                // Counted while waiting; the guard uncounts on every exit (and on drop of a
                // cancelled request).
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(Busy);
                }
                let _queued = Uncount(&self.waiting);
                match tokio::time::timeout(WAIT_BUDGET, self.permits.acquire()).await {
                    Ok(p) => p.expect("hasher semaphore never closes"),
                    Err(_) => return Err(Busy),
                }
            }
        };
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let result = tokio::task::spawn_blocking(f).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(result.expect("password hashing panicked"))
    }
}

struct Uncount<'a>(&'a AtomicUsize);

impl Drop for Uncount<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Hashes on the current thread (CLI and start-up).
pub fn hash_now(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters")
        .to_string()
}

/// Why a new password is refused.
pub fn check_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < 8 {
        return Err("password must be at least 8 characters".into());
    }
    if password.len() > 256 {
        return Err("password must be at most 256 bytes".into());
    }
    if password.contains('\0') {
        return Err("password must not contain NUL characters".into());
    }
    Ok(())
}

/// A random password for first start and resets: 20 characters from an
/// alphabet without look-alikes (~115 bits).
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let hasher = Hasher::new(2);
        let h = hasher.hash("correct horse").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(hasher.verify("correct horse", Some(&h)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&h)).await.unwrap());
        assert!(!hasher.verify("correct horse", None).await.unwrap());
        assert!(!hasher.verify("x", Some("not a phc string")).await.unwrap());
    }

    #[tokio::test]
    async fn the_wait_queue_is_bounded() {
        let hasher = Hasher::new(1);
        let n = 1 + QUEUE_PER_PERMIT + 5;
        let all = (0..n).map(|_| hasher.verify("guess", None));
        let results = futures_util::future::join_all(all).await;
        let busy = results.iter().filter(|r| r.is_err()).count();
        assert!(busy >= 5, "{busy} of {n} refused");
        assert_eq!(hasher.peak_concurrency(), 1);
    }

    #[test]
    fn policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("long enough").is_ok());
        assert!(check_policy("long\0enough").is_err());
        let p = generate();
        assert_eq!(p.len(), 20);
        assert!(check_policy(&p).is_ok());
    }
}
