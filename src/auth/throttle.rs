//! Failed-login throttling per account and per client address.
//!
//! In memory, per process: enough to stop password guessing against one
//! instance; several instances each allow their own budget (noted in
//! ARCHITECTURE.md). A window is fixed-length from its first failure.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per login identifier within the window.
pub const PER_ACCOUNT: u32 = 5;
/// Failures allowed per client address within the window.
pub const PER_ADDRESS: u32 = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept before old ones are swept (bounds memory under a spray).
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
struct Counters {
    accounts: HashMap<String, (u32, Instant)>,
    addresses: HashMap<IpAddr, (u32, Instant)>,
}

/// Counts failures; answers how long a caller must wait.
#[derive(Default)]
pub struct LoginThrottle {
    inner: Mutex<Counters>,
}

fn remaining(entry: Option<&(u32, Instant)>, limit: u32, now: Instant) -> Option<Duration> {
    let (count, since) = entry?;
    let elapsed = now.duration_since(*since);
    (*count >= limit && elapsed < WINDOW).then(|| WINDOW - elapsed)
}

fn bump<K: std::hash::Hash + Eq>(map: &mut HashMap<K, (u32, Instant)>, key: K, now: Instant) {
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
    }
    let entry = map.entry(key).or_insert((0, now));
    if now.duration_since(entry.1) >= WINDOW {
        *entry = (0, now);
    }
    entry.0 += 1;
}

impl LoginThrottle {
    /// `Some(wait)` when this login or address is blocked for now.
    pub fn check(&self, login: &str, addr: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let c = self.inner.lock().expect("throttle mutex");
        let a = remaining(c.accounts.get(&login.to_lowercase()), PER_ACCOUNT, now);
        let b = remaining(c.addresses.get(&addr), PER_ADDRESS, now);
        a.max(b)
    }

    /// Records a failed attempt.
    pub fn fail(&self, login: &str, addr: IpAddr) {
        let now = Instant::now();
        let mut c = self.inner.lock().expect("throttle mutex");
        bump(&mut c.accounts, login.to_lowercase(), now);
        bump(&mut c.addresses, addr, now);
    }

    /// A success clears the account's count (not the address's).
    pub fn succeed(&self, login: &str) {
        self.inner
            .lock()
            .expect("throttle mutex")
            .accounts
            .remove(&login.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_per_account_and_address() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..PER_ACCOUNT {
            assert!(t.check("a@x", ip).is_none());
            t.fail("A@x", ip);
        }
        assert!(t.check("a@x", ip).is_some());
        assert!(t.check("b@x", "192.0.2.2".parse().unwrap()).is_none());
        t.succeed("a@x");
        assert!(t.check("a@x", ip).is_none());
        for i in 0..PER_ADDRESS {
            t.fail(&format!("user{i}"), ip);
        }
        assert!(t.check("fresh", ip).is_some());
    }
}
