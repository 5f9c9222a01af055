//! Opaque session tokens: 256 random bits shown to the client once, stored
//! only as their SHA-256 so a database leak yields no usable token.

use sha2::{Digest, Sha256};

/// A fresh token (64 hex characters).
pub fn generate() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// What the database stores for `token`.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_random_and_hashed() {
        let a = super::generate();
        let b = super::generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(super::hash(&a).len(), 64);
        assert_ne!(super::hash(&a), a);
        assert_eq!(super::hash(&a), super::hash(&a));
    }
}
