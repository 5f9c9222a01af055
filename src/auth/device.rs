//! Device cookies: proof that this browser signed in to an account before.
//!
//! Issued after a successful sign-in, one per account (`pulse_device_<id prefix>`), valued
//! `<nonce>.<HMAC-SHA256(key, user id, nonce)>`. The login throttle lets a client holding
//! a valid one through an account-wide lockout (see `throttle.rs`). The key lives in
//! `PULSE_DATA_DIR/device-key` (0600) so cookies survive restarts.

use std::path::Path;

use sha2::{Digest, Sha256};

/// How long a device cookie is kept by the browser.
pub const DEVICE_COOKIE_MAX_AGE: u64 = 365 * 24 * 3600;

/// Signs and checks device cookies.
#[derive(Clone)]
pub struct DeviceKeys {
    key: [u8; 32],
}

/// The device cookie's name for an account.
pub fn cookie_name(user_id: uuid::Uuid) -> String {
    format!("pulse_device_{}", &user_id.simple().to_string()[..12])
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, b) in key.iter().enumerate() {
        ipad[i] ^= b;
        opad[i] ^= b;
    }
    let mut inner = Sha256::new();
    inner.update(ipad);
    for p in parts {
        inner.update((p.len() as u64).to_be_bytes());
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

impl DeviceKeys {
    /// A key that lasts as long as this process.
    pub fn random() -> Self {
        Self {
            key: rand::random(),
        }
    }

    /// The key in `path`, created (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        let existing = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| hex::decode(text.trim()).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok());
        if let Some(key) = existing {
            return Ok(Self { key });
        }
        let keys = Self::random();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write;
            let mut f = options.open(&tmp)?;
            f.write_all(hex::encode(keys.key).as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        Ok(keys)
    }

    /// A fresh device cookie value for `user_id`.
    pub fn issue(&self, user_id: uuid::Uuid) -> String {
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let mac = hmac(&self.key, &[user_id.as_bytes(), nonce.as_bytes()]);
        format!("{nonce}.{}", hex::encode(mac))
    }

    /// The device id (nonce) of `value` when it is a valid cookie for `user_id`.
    pub fn verify<'v>(&self, user_id: uuid::Uuid, value: &'v str) -> Option<&'v str> {
        let (nonce, mac) = value.split_once('.')?;
        if nonce.len() != 32 {
            return None;
        }
        let mac = hex::decode(mac).ok()?;
        let want = hmac(&self.key, &[user_id.as_bytes(), nonce.as_bytes()]);
        // Constant-time comparison.
        let diff = want
            .iter()
            .zip(mac.iter().chain(std::iter::repeat(&0)))
            .fold(u8::from(mac.len() != 32), |acc, (a, b)| acc | (a ^ b));
        (diff == 0).then_some(nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_verify_only_for_their_account_and_key() {
        let keys = DeviceKeys::random();
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let c = keys.issue(a);
        assert!(keys.verify(a, &c).is_some());
        assert!(keys.verify(b, &c).is_none());
        assert!(DeviceKeys::random().verify(a, &c).is_none());
        assert!(keys.verify(a, "x.y").is_none());
        let mut forged = c.clone();
        forged.pop();
        forged.push('0');
        assert!(keys.verify(a, &forged).is_none() || c.ends_with('0'));
    }

    #[test]
    fn the_key_file_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device-key");
        let k1 = DeviceKeys::load_or_create(&path).unwrap();
        let k2 = DeviceKeys::load_or_create(&path).unwrap();
        let id = uuid::Uuid::new_v4();
        assert!(k2.verify(id, &k1.issue(id)).is_some());
    }
}
