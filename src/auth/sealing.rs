//! Sealing secrets at rest (TOTP secrets, stored idempotent responses) with XChaCha20-Poly1305
//! under a rotating set of keys: the first seals, every one opens, so a key can be replaced
//! without losing what the old one sealed (`portico reseal-mfa` then moves it to the new key).

use anyhow::Context;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Keys for one purpose, derived from root secrets; the first seals.
pub struct SecretBox {
    ciphers: Vec<XChaCha20Poly1305>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox")
            .field("keys", &self.ciphers.len())
            .finish_non_exhaustive()
    }
}

impl SecretBox {
    /// The MFA key derived from one root secret.
    pub fn derive(root: &str) -> Self {
        Self::derive_for("mfa", root)
    }

    /// A key of its own for `purpose`, derived from `root`.
    pub fn derive_for(purpose: &str, root: &str) -> Self {
        Self::rotating(purpose, &[root])
    }

    /// Keys for `purpose` derived from `roots`: the first seals, each opens.
    pub fn rotating(purpose: &str, roots: &[&str]) -> Self {
        let ciphers = roots
            .iter()
            .map(|root| {
                let key = Sha256::digest(format!("portico:{purpose}:v1:{root}").as_bytes());
                XChaCha20Poly1305::new(&key)
            })
            .collect();
        Self { ciphers }
    }

    /// `base64(nonce ‖ ciphertext)` under the first key.
    pub fn seal(&self, plain: &[u8]) -> anyhow::Result<String> {
        use base64::Engine;
        let cipher = self
            .ciphers
            .first()
            .ok_or_else(|| anyhow::anyhow!("no sealing key"))?;
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(&XNonce::from(nonce), plain)
            .map_err(|_| anyhow::anyhow!("sealing a secret"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// Opens what any of the keys sealed.
    pub fn open(&self, sealed: &str) -> anyhow::Result<Vec<u8>> {
        self.open_with_key(sealed).map(|(plain, _)| plain)
    }

    /// Opens what any of the keys sealed, and says which (0: the sealing key).
    pub fn open_with_key(&self, sealed: &str) -> anyhow::Result<(Vec<u8>, usize)> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .context("decoding a sealed secret")?;
        if raw.len() < 24 {
            anyhow::bail!("a sealed secret is too short");
        }
        let (nonce, body) = raw.split_at(24);
        let nonce: [u8; 24] = nonce
            .try_into()
            .map_err(|_| anyhow::anyhow!("a sealed secret has no nonce"))?;
        self.ciphers
            .iter()
            .enumerate()
            .find_map(|(index, cipher)| {
                cipher
                    .decrypt(&XNonce::from(nonce), body)
                    .ok()
                    .map(|plain| (plain, index))
            })
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no key opens this sealed secret (was its key dropped from the settings?)"
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_key_seals_and_every_key_opens() {
        let old = SecretBox::derive("one-secret-that-is-long-enough-000000");
        let sealed = old.seal(b"totp secret").unwrap();
        assert_eq!(old.open(&sealed).unwrap(), b"totp secret");
        let other = SecretBox::derive("another-secret-that-is-long-enough-00");
        assert!(other.open(&sealed).is_err());
        let rotated = SecretBox::rotating(
            "mfa",
            &[
                "another-secret-that-is-long-enough-00",
                "one-secret-that-is-long-enough-000000",
            ],
        );
        assert_eq!(
            rotated.open_with_key(&sealed).unwrap(),
            (b"totp secret".to_vec(), 1)
        );
        let resealed = rotated.seal(b"totp secret").unwrap();
        assert_eq!(other.open(&resealed).unwrap(), b"totp secret");
        assert!(
            SecretBox::derive_for("responses", "one-secret-that-is-long-enough-000000")
                .open(&sealed)
                .is_err(),
            "each purpose has its own key"
        );
    }
}
