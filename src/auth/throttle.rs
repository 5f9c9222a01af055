//! Failed-login throttling that slows guessing without locking people out.
//!
//! In memory, per process: enough to stop password guessing against one
//! instance; several instances each allow their own budget (noted in
//! ARCHITECTURE.md). A window is fixed-length from its first failure.
//!
//! The buckets, and why:
//! - per (account, client network): [`PER_PAIR`] failures per [`WINDOW`]. The network is the
//!   address, or its /64 for IPv6 (one host gets a whole /64). Failures on one account never
//!   block another, and one client's failures never block another client of the same account.
//! - per account: past [`ACCOUNT_CEILING`] failures per [`ACCOUNT_WINDOW`] (a distributed
//!   attack) only clients *without* a device cookie from an earlier successful sign-in to that
//!   account are refused.
//! - per (account, known device): a client with a valid device cookie is limited by its own
//!   failures only ([`PER_PAIR`] per [`WINDOW`]), so a correct password from a known device
//!   always gets in whatever others send.
//!
//! Every attempt is *reserved* before the password is hashed (H1: checking and counting in two
//! steps let parallel requests all pass the check): the reservation counts toward the limits at
//! once; a success refunds it, a request that never reached the hasher refunds it on drop.
//!
//! Keys are SHA-256 digests (never the login itself: a 1 MiB login must not stay in memory),
//! and every map is bounded by [`MAX_ENTRIES`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::device::DeviceKeys;

/// Failures allowed per (account, client network) — and per (account, known device) —
/// within [`WINDOW`].
pub const PER_PAIR: u32 = 5;
/// The per-client window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures per account within [`ACCOUNT_WINDOW`] after which clients without a device
/// cookie for the account are refused.
pub const ACCOUNT_CEILING: u32 = 100;
/// The account-wide window.
pub const ACCOUNT_WINDOW: Duration = Duration::from_secs(3600);
/// Entries kept per map (bounds memory under a spray).
pub const MAX_ENTRIES: usize = 100_000;

type Key = [u8; 32];

/// Whom a sign-in is for: a user id when the login names an account, else the
/// normalised login (an unknown login is throttled like a known one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AccountKey(Key);

impl AccountKey {
    /// The key of an existing account.
    pub fn user(id: uuid::Uuid) -> Self {
        Self(digest(&[b"user", id.as_bytes()]))
    }

    /// The key of a login that names no account (trimmed, case-folded).
    pub fn login(login: &str) -> Self {
        Self(digest(&[b"login", login.trim().to_lowercase().as_bytes()]))
    }
}

fn digest(parts: &[&[u8]]) -> Key {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// The part of an address one client controls: an IPv4 address, or an IPv6 /64.
pub fn network(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

#[derive(Clone, Copy)]
struct Window {
    count: u32,
    since: Instant,
}

/// One bounded map of fixed windows.
struct Buckets {
    map: HashMap<Key, Window>,
    window: Duration,
    limit: u32,
}

impl Buckets {
    fn new(window: Duration, limit: u32) -> Self {
        Self {
            map: HashMap::new(),
            window,
            limit,
        }
    }

    fn live(&self, key: &Key, now: Instant) -> Option<Window> {
        self.map
            .get(key)
            .copied()
            .filter(|w| now.duration_since(w.since) < self.window)
    }

    /// How long until `key` may try again, if it is at its limit now.
    fn blocked(&self, key: &Key, now: Instant) -> Option<Duration> {
        let w = self.live(key, now)?;
        (w.count >= self.limit).then(|| self.window - now.duration_since(w.since))
    }

    fn add(&mut self, key: Key, now: Instant) {
        if self.map.len() >= MAX_ENTRIES && !self.map.contains_key(&key) {
            self.make_room(now);
        }
        let window = self.window;
        let w = self.map.entry(key).or_insert(Window {
            count: 0,
            since: now,
        });
        if now.duration_since(w.since) >= window {
            *w = Window {
                count: 0,
                since: now,
            };
        }
        w.count = w.count.saturating_add(1);
    }

    fn refund(&mut self, key: &Key) {
        if let Some(w) = self.map.get_mut(key) {
            w.count = w.count.saturating_sub(1);
        }
    }

    fn clear(&mut self, key: &Key) {
        self.map.remove(key);
    }

    /// Drops expired windows; if the map is still full (a live spray), keeps the
    /// three quarters with the most failures, so the work is amortised O(log n) per
    /// insert and the accounts under attack keep their counts.
    fn make_room(&mut self, now: Instant) {
        let window = self.window;
        self.map.retain(|_, w| now.duration_since(w.since) < window);
        if self.map.len() < MAX_ENTRIES {
            return;
        }
        let mut counts: Vec<u32> = self.map.values().map(|w| w.count).collect();
        let keep = MAX_ENTRIES * 3 / 4;
        let cut = counts.len() - keep;
        let (_, threshold, _) = counts.select_nth_unstable(cut);
        let threshold = *threshold;
        let mut over = self.map.len() - keep;
        self.map.retain(|_, w| {
            if over > 0 && w.count <= threshold {
                over -= 1;
                false
            } else {
                true
            }
        });
    }
}

struct Counters {
    pairs: Buckets,
    devices: Buckets,
    accounts: Buckets,
}

/// Counts failures; answers how long a caller must wait.
pub struct LoginThrottle {
    inner: Mutex<Counters>,
    devices: DeviceKeys,
}

impl Default for LoginThrottle {
    /// A throttle whose device cookies are signed with a random per-process key.
    fn default() -> Self {
        Self::new(DeviceKeys::random())
    }
}

/// Which buckets a reserved attempt counted in.
enum Held {
    Device(Key),
    Stranger(Key),
}

/// A sign-in attempt reserved against the limits. Call [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropped without either, it is refunded (the password was
/// never checked, e.g. the hasher was busy).
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    account: Key,
    held: Held,
    settled: bool,
}

impl Attempt<'_> {
    /// The password was wrong: the reservation stays counted.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The password was right: refunded, and this client's count cleared.
    pub fn succeeded(mut self) {
        self.settled = true;
        let mut c = self.throttle.lock();
        c.accounts.refund(&self.account);
        match &self.held {
            Held::Device(k) => c.devices.clear(k),
            Held::Stranger(k) => c.pairs.clear(k),
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let mut c = self.throttle.lock();
        c.accounts.refund(&self.account);
        match &self.held {
            Held::Device(k) => c.devices.refund(k),
            Held::Stranger(k) => c.pairs.refund(k),
        }
    }
}

impl LoginThrottle {
    /// A throttle whose device cookies are signed with `devices`.
    pub fn new(devices: DeviceKeys) -> Self {
        Self {
            inner: Mutex::new(Counters {
                pairs: Buckets::new(WINDOW, PER_PAIR),
                devices: Buckets::new(WINDOW, PER_PAIR),
                accounts: Buckets::new(ACCOUNT_WINDOW, ACCOUNT_CEILING),
            }),
            devices,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The device cookies' signer.
    pub fn device_keys(&self) -> &DeviceKeys {
        &self.devices
    }

    /// Reserves one attempt for `account` from `addr`; `known_device` is the value of a
    /// device cookie the caller has already checked with [`DeviceKeys::verify`] for this
    /// account. `Err(wait)` when this client must wait.
    pub fn reserve(
        &self,
        account: AccountKey,
        addr: IpAddr,
        known_device: Option<&str>,
    ) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let mut c = self.lock();
        let held = match known_device {
            Some(device) => {
                let key = digest(&[b"device", &account.0, device.as_bytes()]);
                if let Some(wait) = c.devices.blocked(&key, now) {
                    return Err(wait);
                }
                c.devices.add(key, now);
                Held::Device(key)
            }
            None => {
                let net = network(addr).to_string();
                let key = digest(&[b"pair", &account.0, net.as_bytes()]);
                let wait = c
                    .pairs
                    .blocked(&key, now)
                    .max(c.accounts.blocked(&account.0, now));
                if let Some(wait) = wait {
                    return Err(wait);
                }
                c.pairs.add(key, now);
                Held::Stranger(key)
            }
        };
        c.accounts.add(account.0, now);
        Ok(Attempt {
            throttle: self,
            account: account.0,
            held,
            settled: false,
        })
    }

    /// Entries held, per map (tests check the bound).
    pub fn sizes(&self) -> [usize; 3] {
        let c = self.lock();
        [c.pairs.map.len(), c.devices.map.len(), c.accounts.map.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn limits_per_account_and_client_not_per_address() {
        let t = LoginThrottle::default();
        let a = AccountKey::login("A@x");
        for _ in 0..PER_PAIR {
            t.reserve(a, ip("192.0.2.1"), None).unwrap().failed();
        }
        assert!(
            t.reserve(AccountKey::login("a@x "), ip("192.0.2.1"), None)
                .is_err()
        );
        // Another client of the same account, and another account from the same client.
        t.reserve(a, ip("192.0.2.2"), None).unwrap().failed();
        t.reserve(AccountKey::login("b@x"), ip("192.0.2.1"), None)
            .unwrap()
            .succeeded();
        // Many accounts from one address never block a further one.
        for i in 0..50 {
            let k = AccountKey::login(&format!("user{i}"));
            t.reserve(k, ip("192.0.2.9"), None).unwrap().failed();
        }
        assert!(
            t.reserve(AccountKey::login("fresh"), ip("192.0.2.9"), None)
                .is_ok()
        );
    }

    #[test]
    fn reservations_count_before_the_outcome_and_refund_on_success_or_drop() {
        let t = LoginThrottle::default();
        let a = AccountKey::login("admin");
        let held: Vec<_> = (0..PER_PAIR)
            .map(|_| t.reserve(a, ip("192.0.2.1"), None).unwrap())
            .collect();
        assert!(
            t.reserve(a, ip("192.0.2.1"), None).is_err(),
            "pending attempts count"
        );
        drop(held);
        for _ in 0..PER_PAIR - 1 {
            t.reserve(a, ip("192.0.2.1"), None).unwrap().failed();
        }
        t.reserve(a, ip("192.0.2.1"), None).unwrap().succeeded();
        assert!(
            t.reserve(a, ip("192.0.2.1"), None).is_ok(),
            "a success clears the client"
        );
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let t = LoginThrottle::default();
        let a = AccountKey::login("admin");
        for i in 0..PER_PAIR {
            t.reserve(a, ip(&format!("2001:db8:1:2::{i:x}")), None)
                .unwrap()
                .failed();
        }
        assert!(t.reserve(a, ip("2001:db8:1:2:ffff::1"), None).is_err());
        assert!(t.reserve(a, ip("2001:db8:1:3::1"), None).is_ok());
        assert_eq!(network(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn past_the_account_ceiling_only_known_devices_get_through() {
        let t = LoginThrottle::default();
        let id = uuid::Uuid::new_v4();
        let a = AccountKey::user(id);
        for i in 0..ACCOUNT_CEILING {
            let addr = ip(&format!("10.{}.{}.1", i / 200, i % 200));
            t.reserve(a, addr, None).unwrap().failed();
        }
        assert!(t.reserve(a, ip("198.51.100.1"), None).is_err());
        let cookie = t.device_keys().issue(id);
        let device = t.device_keys().verify(id, &cookie).unwrap();
        t.reserve(a, ip("198.51.100.1"), Some(device))
            .unwrap()
            .succeeded();
        // Other accounts are untouched.
        assert!(
            t.reserve(
                AccountKey::user(uuid::Uuid::new_v4()),
                ip("198.51.100.1"),
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn keys_are_digests_and_maps_stay_bounded() {
        let t = LoginThrottle::default();
        let huge = "x".repeat(1 << 20);
        t.reserve(AccountKey::login(&huge), ip("192.0.2.1"), None)
            .unwrap()
            .failed();
        assert_eq!(std::mem::size_of::<AccountKey>(), 32);
        let mut b = Buckets::new(WINDOW, PER_PAIR);
        let now = Instant::now();
        for i in 0..(MAX_ENTRIES as u64 + 10) {
            b.add(digest(&[&i.to_be_bytes()]), now);
        }
        assert!(b.map.len() <= MAX_ENTRIES);
    }
}
