//! The local backend's signed route: Portico signs its own upload and download URLs (HMAC-SHA256
//! over every term, with an expiry) and serves them, streaming to and from disk so no file is
//! ever held in memory. An upload lands in a temporary file, is checked against its signed
//! length and digest, then linked into place only if nothing is there (`If-None-Match: *`).

use super::{ObjectKey, PutTerms};
use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

type HmacSha256 = Hmac<Sha256>;

/// The path of the signed route.
pub const ROUTE: &str = "/storage/object";

/// Why a signed request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the URL is malformed, tampered with or signed for another operation")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
    #[error("header {0} differs from the signed value")]
    HeaderMismatch(&'static str),
    #[error("the body is longer than the signed length")]
    TooLarge,
    #[error("the body differs from the signed length or sha256")]
    DigestMismatch,
    #[error("an object is already stored at this URL")]
    Exists,
    #[error("no such object")]
    Missing,
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// A verified upload: where, and what the body must be.
#[derive(Debug, Clone)]
pub struct PutGrant {
    pub key: ObjectKey,
    pub terms: PutTerms,
}

/// A verified download: which object, and the response's type and disposition.
#[derive(Debug, Clone)]
pub struct GetGrant {
    pub key: ObjectKey,
    pub content_type: String,
    pub disposition: String,
}

/// Signs and checks the local route's URLs, and moves bytes between requests and the folder.
#[derive(Debug, Clone)]
pub struct LocalSigner {
    dir: PathBuf,
    base_url: String,
    key: [u8; 32],
}

impl LocalSigner {
    /// Objects under `dir`, URLs under `base_url`, signed with a key derived from `secret`.
    pub fn new(dir: PathBuf, base_url: &str, secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable_mac());
        mac.update(b"portico storage urls v1");
        Self {
            dir,
            base_url: base_url.trim_end_matches('/').to_owned(),
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// A signed `PUT` URL for `terms` at `key`.
    pub fn put_url(&self, key: &ObjectKey, terms: &PutTerms, expires_at: DateTime<Utc>) -> String {
        let fields = [
            ("op", "put".to_owned()),
            ("key", key.as_str().to_owned()),
            ("exp", expires_at.timestamp().to_string()),
            ("ct", terms.content_type.clone()),
            ("sha", hex::encode(terms.sha256)),
            ("len", terms.size.to_string()),
        ];
        self.url(&fields)
    }

    /// A signed `GET` URL of `key`, answered with `content_type` and `disposition`.
    pub fn get_url(
        &self,
        key: &ObjectKey,
        content_type: &str,
        disposition: &str,
        expires_at: DateTime<Utc>,
    ) -> String {
        let fields = [
            ("op", "get".to_owned()),
            ("key", key.as_str().to_owned()),
            ("exp", expires_at.timestamp().to_string()),
            ("ct", content_type.to_owned()),
            ("cd", disposition.to_owned()),
        ];
        self.url(&fields)
    }

    fn url(&self, fields: &[(&str, String)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            query.append_pair(name, value);
        }
        query.append_pair("sig", &hex::encode(self.sign(fields)));
        format!("{}{ROUTE}?{}", self.base_url, query.finish())
    }

    fn sign(&self, fields: &[(&str, String)]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable_mac());
        for (name, value) in fields {
            // Length-prefixed, so no value can pose as the next field.
            mac.update(&(name.len() as u64).to_be_bytes());
            mac.update(name.as_bytes());
            mac.update(&(value.len() as u64).to_be_bytes());
            mac.update(value.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// Checks a query's signature and expiry for `op` and the fields it signs; answers them.
    fn verify(
        &self,
        query: &str,
        op: &str,
        names: &[&'static str],
    ) -> Result<HashMap<String, String>, Refusal> {
        let pairs: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let mut fields = vec![("op", op.to_owned())];
        for name in names {
            let value = pairs.get(*name).ok_or(Refusal::BadSignature)?;
            fields.push((name, value.clone()));
        }
        let given = pairs
            .get("sig")
            .and_then(|s| hex::decode(s).ok())
            .ok_or(Refusal::BadSignature)?;
        if pairs.get("op").map(String::as_str) != Some(op) {
            return Err(Refusal::BadSignature);
        }
        // Constant-time comparison.
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            self.sign(&fields).as_slice(),
            given.as_slice(),
        )) {
            return Err(Refusal::BadSignature);
        }
        let expires: i64 = pairs
            .get("exp")
            .and_then(|e| e.parse().ok())
            .ok_or(Refusal::BadSignature)?;
        if Utc::now().timestamp() > expires {
            return Err(Refusal::Expired);
        }
        Ok(pairs)
    }

    /// Checks an upload URL.
    pub fn verify_put(&self, query: &str) -> Result<PutGrant, Refusal> {
        let f = self.verify(query, "put", &["key", "exp", "ct", "sha", "len"])?;
        let sha256 = hex::decode(&f["sha"])
            .ok()
            .and_then(|s| <[u8; 32]>::try_from(s).ok())
            .ok_or(Refusal::BadSignature)?;
        Ok(PutGrant {
            key: ObjectKey::stored(f["key"].clone()),
            terms: PutTerms {
                content_type: f["ct"].clone(),
                sha256,
                size: f["len"].parse().map_err(|_| Refusal::BadSignature)?,
            },
        })
    }

    /// Checks a download URL.
    pub fn verify_get(&self, query: &str) -> Result<GetGrant, Refusal> {
        let f = self.verify(query, "get", &["key", "exp", "ct", "cd"])?;
        Ok(GetGrant {
            key: ObjectKey::stored(f["key"].clone()),
            content_type: f["ct"].clone(),
            disposition: f["cd"].clone(),
        })
    }

    /// Where `key` lives on disk. Keys are generated (`{uuid}/{uuid}`) and signed; anything else
    /// is refused rather than joined onto the folder.
    pub fn object_path(&self, key: &ObjectKey) -> Result<PathBuf, Refusal> {
        let mut parts = key.as_str().split('/');
        let (Some(ws), Some(id), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Refusal::BadSignature);
        };
        if uuid::Uuid::parse_str(ws).is_err() || uuid::Uuid::parse_str(id).is_err() {
            return Err(Refusal::BadSignature);
        }
        Ok(self.dir.join(ws).join(id))
    }

    /// Streams an upload's body to disk, checks it against the grant, and stores it unless an
    /// object is already there. Nothing is left behind when it fails.
    pub async fn receive<E>(
        &self,
        grant: &PutGrant,
        body: impl Stream<Item = Result<Bytes, E>>,
    ) -> Result<(), Refusal>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let target = self.object_path(&grant.key)?;
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            return Err(Refusal::Exists);
        }
        let parent = target.parent().ok_or(Refusal::BadSignature)?.to_owned();
        tokio::fs::create_dir_all(&parent)
            .await
            .context("creating an object folder")?;
        let partial = parent.join(format!(".{}.partial", uuid::Uuid::now_v7()));
        let written = write_checked(&partial, &grant.terms, body).await;
        let linked = match written {
            // A hard link fails when the target exists: no overwrite, even racing another PUT.
            Ok(()) => tokio::fs::hard_link(&partial, &target)
                .await
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => Refusal::Exists,
                    _ => Refusal::Io(anyhow::Error::new(e).context("storing an upload")),
                }),
            Err(refusal) => Err(refusal),
        };
        let _ = tokio::fs::remove_file(&partial).await;
        linked
    }

    /// The file of a download, opened.
    pub async fn open(&self, key: &ObjectKey) -> Result<(tokio::fs::File, u64), Refusal> {
        let path = self.object_path(key)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refusal::Missing),
            Err(e) => return Err(anyhow::Error::new(e).context("opening an object").into()),
        };
        let len = file
            .metadata()
            .await
            .context("reading an object's length")?
            .len();
        Ok((file, len))
    }
}

/// Writes `body` to `path`, refusing more than the signed length and a digest that differs.
async fn write_checked<E>(
    path: &std::path::Path,
    terms: &PutTerms,
    body: impl Stream<Item = Result<Bytes, E>>,
) -> Result<(), Refusal>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let mut file = tokio::fs::File::create(path)
        .await
        .context("creating an upload's file")?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Refusal::Io(anyhow::Error::new(e).context("reading")))?;
        size += chunk.len() as u64;
        if size > terms.size {
            return Err(Refusal::TooLarge);
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.context("writing an upload")?;
    }
    file.sync_all().await.context("syncing an upload")?;
    let digest: [u8; 32] = hasher.finalize().into();
    if size != terms.size || digest != terms.sha256 {
        return Err(Refusal::DigestMismatch);
    }
    Ok(())
}

/// HMAC accepts keys of any length, so `new_from_slice` cannot fail; this keeps the types honest
/// without a panic path.
fn unreachable_mac() -> HmacSha256 {
    <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> LocalSigner {
        LocalSigner::new(PathBuf::from("/nowhere"), "http://h/", b"secret")
    }

    fn terms() -> PutTerms {
        PutTerms {
            content_type: "image/png".into(),
            sha256: [7; 32],
            size: 10,
        }
    }

    fn query(url: &str) -> &str {
        url.split_once('?').map(|(_, q)| q).unwrap_or_default()
    }

    #[test]
    fn a_signed_url_verifies_and_any_change_breaks_it() {
        let s = signer();
        let key = ObjectKey::generate(uuid::Uuid::now_v7());
        let url = s.put_url(&key, &terms(), Utc::now() + chrono::Duration::seconds(60));
        assert!(url.starts_with("http://h/storage/object?"));
        let grant = s.verify_put(query(&url)).unwrap();
        assert_eq!(grant.key, key);
        assert_eq!(grant.terms, terms());
        let tampered = query(&url).replace("len=10", "len=11");
        assert!(matches!(
            s.verify_put(&tampered),
            Err(Refusal::BadSignature)
        ));
        // A PUT URL is not a GET URL.
        assert!(matches!(
            s.verify_get(query(&url)),
            Err(Refusal::BadSignature)
        ));
        let other = LocalSigner::new(PathBuf::from("/nowhere"), "http://h", b"other");
        assert!(matches!(
            other.verify_put(query(&url)),
            Err(Refusal::BadSignature)
        ));
    }

    #[test]
    fn an_expired_url_is_refused() {
        let s = signer();
        let key = ObjectKey::generate(uuid::Uuid::now_v7());
        let url = s.get_url(
            &key,
            "image/png",
            "inline",
            Utc::now() - chrono::Duration::seconds(1),
        );
        assert!(matches!(s.verify_get(query(&url)), Err(Refusal::Expired)));
    }

    #[test]
    fn only_generated_keys_reach_the_disk() {
        let s = signer();
        for bad in [
            "../etc/passwd",
            "a/b",
            "x",
            "00000000-0000-0000-0000-000000000000/../../x",
        ] {
            assert!(
                s.object_path(&ObjectKey::stored(bad.into())).is_err(),
                "{bad}"
            );
        }
    }
}
