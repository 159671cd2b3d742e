//! Signed links in emails (one-click unsubscribe): an HMAC-SHA256 over a purpose and
//! length-prefixed fields, keyed by a key derived from the signing secret, checked in constant
//! time. They carry no expiry: what they allow is harmless to repeat and is undone in the portal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks the links Portico puts in emails.
pub struct LinkSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(***)")
    }
}

impl LinkSigner {
    /// A signer whose key is derived from `secret`.
    pub fn new(secret: &[u8]) -> Self {
        let mut key = [0u8; 32];
        if let Ok(mut mac) = HmacSha256::new_from_slice(secret) {
            mac.update(b"portico email links v1");
            key = mac.finalize().into_bytes().into();
        }
        Self { key }
    }

    fn mac(&self, purpose: &str, fields: &[&str]) -> [u8; 32] {
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            // HMAC takes keys of any length.
            Err(_) => return [0; 32],
        };
        for part in std::iter::once(purpose).chain(fields.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// The signature of `fields` for `purpose`, URL-safe.
    pub fn sign(&self, purpose: &str, fields: &[&str]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(purpose, fields))
    }

    /// Whether `signature` is `fields`' for `purpose`.
    pub fn verify(&self, purpose: &str, fields: &[&str], signature: &str) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        given.ct_eq(&self.mac(purpose, fields)).into()
    }
}

#[cfg(test)]
mod tests {
    use super::LinkSigner;

    #[test]
    fn a_signature_holds_only_for_its_purpose_fields_and_key() {
        let signer = LinkSigner::new(b"a secret long enough for the tests");
        let sig = signer.sign("unsubscribe", &["w", "u", "message.added"]);
        assert!(signer.verify("unsubscribe", &["w", "u", "message.added"], &sig));
        assert!(!signer.verify("unsubscribe", &["w", "u", "ticket.created"], &sig));
        assert!(!signer.verify("other", &["w", "u", "message.added"], &sig));
        // Length prefixes: moving a boundary changes the signature.
        assert!(!signer.verify("unsubscribe", &["wu", "", "message.added"], &sig));
        assert!(!signer.verify("unsubscribe", &["w", "u", "message.added"], "garbage!"));
        let other = LinkSigner::new(b"another secret long enough for tests");
        assert!(!other.verify("unsubscribe", &["w", "u", "message.added"], &sig));
    }
}
