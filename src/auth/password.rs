//! argon2id password hashing under a concurrency bound.
//!
//! Each hash takes 19 MiB and ~35 ms (release), so a login storm could
//! exhaust memory and both cores; a semaphore bounds how many run at once
//! and the rest wait their turn.

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

/// Hashes and verifies passwords, at most `limit` at a time.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
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
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
            dummy: Arc::new(dummy),
        }
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: &str) -> String {
        let password = password.to_string();
        self.bounded(move || hash_now(&password)).await
    }

    /// Whether `password` matches the PHC string `hash`. With `None`
    /// (unknown user) it checks against a dummy hash and returns false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
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
            .await;
        ok && real
    }

    /// The most hashes that ever ran at once (tests check the bound).
    pub fn peak_concurrency(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    async fn bounded<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("hasher semaphore never closes");
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let result = tokio::task::spawn_blocking(f).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        result.expect("password hashing panicked")
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
        let h = hasher.hash("correct horse").await;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(hasher.verify("correct horse", Some(&h)).await);
        assert!(!hasher.verify("wrong horse", Some(&h)).await);
        assert!(!hasher.verify("correct horse", None).await);
        assert!(!hasher.verify("x", Some("not a phc string")).await);
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
