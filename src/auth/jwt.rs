//! Access tokens: HS256 JWTs with `sub` (user), `sid` (session), `iat`, `exp` and `iss`.
//! Only HS256 is accepted, which rules out `alg: none` and algorithm confusion.

use crate::config::Secret;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
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
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &Secret, ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
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
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims.exp))
    }

    /// Verifies signature, algorithm, issuer and expiry.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
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
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert!(keys.verify(&token).is_err());
    }
}
