//! Access tokens: HS256 JWTs with `sub` (user), `sid` (session), `iat`, `exp` and `iss`, signed
//! with one key and verified with any of several, so `JWT_SECRET` rotates without signing anyone
//! out: every token names its key in `kid`, and the previous secrets (`JWT_PREVIOUS_SECRETS`) keep
//! verifying the tokens they signed until those expire. Only HS256 is accepted, which rules out
//! `alg: none` and algorithm confusion.

use crate::config::Secret;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const ISSUER: &str = "portico";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// Signing and verification keys.
#[derive(Clone)]
pub struct JwtKeys {
    /// The key id and key new tokens are signed with.
    signing: (String, EncodingKey),
    /// Every key a token may name: the signing one first, then the previous ones.
    verifying: Vec<(String, DecodingKey)>,
    validation: Validation,
    ttl_secs: i64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("kid", &self.signing.0)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

/// A key's id: a short hash of it, which names the key without revealing it.
pub fn key_id(secret: &Secret) -> String {
    let digest = Sha256::digest(format!("portico:jwt-kid:{}", secret.expose()).as_bytes());
    hex::encode(&digest[..8])
}

impl JwtKeys {
    /// Signs and verifies with `secret` alone.
    pub fn new(secret: &Secret, ttl_secs: u64) -> Self {
        Self::rotating(secret, &[], ttl_secs)
    }

    /// Signs with `secret`; also verifies tokens signed with any of `previous`.
    pub fn rotating(secret: &Secret, previous: &[Secret], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        let verifying = std::iter::once(secret)
            .chain(previous)
            .map(|s| (key_id(s), DecodingKey::from_secret(s.expose().as_bytes())))
            .collect();
        Self {
            signing: (
                key_id(secret),
                EncodingKey::from_secret(secret.expose().as_bytes()),
            ),
            verifying,
            validation,
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2),
        }
    }

    /// Issues a token for `user_id` in session `session_id`; returns it with its expiry.
    pub fn issue(&self, user_id: Uuid, session_id: Uuid) -> anyhow::Result<(String, i64)> {
        self.issue_at(user_id, session_id, chrono::Utc::now().timestamp())
    }

    /// Issues a token as if at `issued_at` (Unix seconds); it expires `ttl` later.
    pub fn issue_at(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        issued_at: i64,
    ) -> anyhow::Result<(String, i64)> {
        let claims = AccessClaims {
            sub: user_id,
            sid: session_id,
            iat: issued_at,
            exp: issued_at + self.ttl_secs,
            iss: ISSUER.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing.0.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.signing.1)?;
        Ok((token, claims.exp))
    }

    /// Verifies signature (with the key the token names, or, for a token from before key ids,
    /// each key in turn), algorithm, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, jsonwebtoken::errors::Error> {
        let header = jsonwebtoken::decode_header(token)?;
        let mut last = jsonwebtoken::errors::ErrorKind::InvalidSignature.into();
        for (kid, key) in &self.verifying {
            if header.kid.as_ref().is_some_and(|named| named != kid) {
                continue;
            }
            match jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation) {
                Ok(data) => return Ok(data.claims),
                Err(err) => last = err,
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> JwtKeys {
        JwtKeys::new(&Secret::new("k".repeat(32)), 60)
    }

    #[test]
    fn round_trip() {
        let keys = keys();
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let (token, _) = keys.issue(user, session).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));
    }

    #[test]
    fn rejects_alg_none_wrong_key_and_tampering() {
        let keys = keys();
        let (token, _) = keys.issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();

        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(
            keys.verify(&format!("{none_header}.{}.", parts[1]))
                .is_err()
        );

        let other = JwtKeys::new(&Secret::new("o".repeat(32)), 60);
        assert!(other.verify(&token).is_err());

        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["sub"] = serde_json::json!(Uuid::now_v7());
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
        assert!(
            keys.verify(&format!("{}.{forged}.{}", parts[0], parts[2]))
                .is_err()
        );
    }

    #[test]
    fn a_rotated_secret_keeps_verifying_its_tokens_until_dropped() {
        let old = Secret::new("o".repeat(32));
        let new = Secret::new("n".repeat(32));
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let (before, _) = JwtKeys::new(&old, 60).issue(user, session).unwrap();
        let header = jsonwebtoken::decode_header(&before).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key_id(&old).as_str()));
        let rotating = JwtKeys::rotating(&new, std::slice::from_ref(&old), 60);
        assert_eq!(rotating.verify(&before).unwrap().sub, user);
        let (after, _) = rotating.issue(user, session).unwrap();
        let header = jsonwebtoken::decode_header(&after).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key_id(&new).as_str()));
        assert!(JwtKeys::new(&new, 60).verify(&before).is_err(), "dropped");
        assert!(JwtKeys::new(&old, 60).verify(&after).is_err());
        // A token from before key ids (no `kid`) is tried against each key.
        let claims = AccessClaims {
            sub: user,
            sid: session,
            iat: chrono::Utc::now().timestamp(),
            exp: chrono::Utc::now().timestamp() + 60,
            iss: ISSUER.into(),
        };
        let legacy = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(old.expose().as_bytes()),
        )
        .unwrap();
        assert_eq!(rotating.verify(&legacy).unwrap().sid, session);
    }

    #[test]
    fn rejects_expired_tokens() {
        let keys = JwtKeys::new(&Secret::new("k".repeat(32)), 0);
        let claims = AccessClaims {
            sub: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            iat: 0,
            exp: 1,
            iss: ISSUER.into(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.signing.1).unwrap();
        assert!(keys.verify(&token).is_err());
    }
}
