//! argon2id at OWASP's 19 MiB / t=2 / p=1, computed on the blocking pool with at most one hash per
//! core at a time, so that a login flood queues here instead of stalling every other request.

use crate::error::{ApiError, ApiResult};
use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Hashes and verifies passwords.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    params: Params,
    /// A real hash verified when the account does not exist, so both paths cost the same.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    /// OWASP's argon2id parameters: m = 19 MiB, t = 2, p = 1.
    pub fn owasp_params() -> anyhow::Result<Params> {
        Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))
    }

    /// A hasher allowing `concurrency` hashes at once.
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let params = Self::owasp_params()?;
        let dummy_hash = hash_blocking(&params, "portico-timing-equalizer")?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            params,
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// Hashes `password` into a PHC string.
    pub async fn hash(&self, password: &str) -> ApiResult<String> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let params = self.params.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&params, &password))
            .await
            .context("password hashing task")?
            .map_err(ApiError::from)
    }

    /// Verifies `password` against `hash`; with `None` it verifies against a dummy hash and
    /// returns false, taking the same time as a real check.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> ApiResult<bool> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.as_str().to_owned(), str::to_owned);
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            Ok::<_, anyhow::Error>(
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await
        .context("password verification task")??;
        Ok(known && matches)
    }
}

fn hash_blocking(params: &Params, password: &str) -> anyhow::Result<String> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon2
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_owasp_and_verify() {
        let hasher = PasswordHasher::new(2).unwrap();
        let hash = hasher.hash("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("correct horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("wrong", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("correct horse battery", None).await.unwrap());
    }
}
