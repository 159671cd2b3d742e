//! Opaque secrets (refresh tokens, invitation codes): 256 random bits, shown once, stored only as
//! a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly generated secret and its stored hash.
#[derive(Clone)]
pub struct OpaqueSecret {
    /// What the caller receives, e.g. `prt_…`.
    pub value: String,
    /// Hex SHA-256 of `value`, what the database keeps.
    pub hash: String,
}

impl std::fmt::Debug for OpaqueSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpaqueSecret")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl OpaqueSecret {
    /// A new secret with a readable `prefix` (`prt`, `inv`, …).
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let value = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = sha256_hex(&value);
        Self { value, hash }
    }
}

/// Hex SHA-256.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_hashed() {
        let a = OpaqueSecret::generate("prt");
        let b = OpaqueSecret::generate("prt");
        assert_ne!(a.value, b.value);
        assert!(a.value.starts_with("prt_") && a.value.len() > 40);
        assert_eq!(a.hash, sha256_hex(&a.value));
        assert_eq!(a.hash.len(), 64);
    }
}
