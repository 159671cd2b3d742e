//! The key format, `pk_<env>_<public id>_<secret>`: a 12-character public id for lookup and 256
//! random bits of secret (hex), of which only a SHA-256 hash is stored and compared in constant
//! time.

use super::sha256_hex;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// A freshly minted key.
pub struct NewKey {
    /// The whole key, shown once.
    pub value: String,
    pub public_id: String,
    pub secret_hash: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("public_id", &self.public_id)
            .finish_non_exhaustive()
    }
}

const PUBLIC_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// Mints a key for environment `env` (`live`, `dev`), or a new secret for `public_id`.
pub fn mint(env: &str, public_id: Option<&str>) -> NewKey {
    let mut rng = rand::rng();
    let public_id = public_id.map_or_else(
        || {
            let mut bytes = [0u8; 12];
            rng.fill_bytes(&mut bytes);
            bytes
                .iter()
                .map(|b| char::from(PUBLIC_ALPHABET[usize::from(*b) % PUBLIC_ALPHABET.len()]))
                .collect()
        },
        str::to_owned,
    );
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let secret = hex::encode(secret);
    NewKey {
        value: format!("pk_{env}_{public_id}_{secret}"),
        secret_hash: sha256_hex(&secret),
        public_id,
    }
}

/// The parts of a presented key, if it has the key's shape.
pub fn parse(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix("pk_")?;
    let mut parts = rest.splitn(3, '_');
    let (_env, public_id, secret) = (parts.next()?, parts.next()?, parts.next()?);
    let valid = public_id.len() == 12
        && public_id.bytes().all(|b| PUBLIC_ALPHABET.contains(&b))
        && secret.len() == 64
        && secret.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then_some((public_id, secret))
}

/// Whether `secret` hashes to `stored` (constant time).
pub fn matches(secret: &str, stored: &str) -> bool {
    sha256_hex(secret)
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_parse_and_match_only_their_hash() {
        let key = mint("live", None);
        assert!(key.value.starts_with("pk_live_"));
        let (public_id, secret) = parse(&key.value).unwrap();
        assert_eq!(public_id, key.public_id);
        assert!(matches(secret, &key.secret_hash));
        let other = mint("live", Some(public_id));
        assert_eq!(other.public_id, key.public_id);
        assert!(!matches(secret, &other.secret_hash));
        for bad in [
            "pk_live_short_abc",
            "prt_xyz",
            "pk_live_abcdefghijkm_nothex",
            &key.value[..key.value.len() - 1],
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
