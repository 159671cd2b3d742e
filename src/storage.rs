//! Object storage: where file bytes live (S3 in production, a local folder in the embedded
//! default) and the short-lived signed URLs that carry them, so bytes never pass through GraphQL.
//!
//! Both backends speak one protocol to clients: an upload is a `PUT` of the whole body to a
//! signed URL with the headers [`PresignedPut::headers`] lists (content type and sha256 bound to
//! the signature, `If-None-Match: *` so a leaked URL cannot overwrite); a download is a `GET` of a
//! signed URL that names its disposition. S3 signs with SigV4 (`object_store`'s signer); the local
//! backend signs its own route with an HMAC ([`local`]). Object keys are generated, never built
//! from a user's names.

pub mod local;
mod s3;

use crate::config::FilesConfig;
use crate::error::{ApiError, ApiResult};
use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How many leading bytes of an object are kept for type detection.
pub const HEAD_BYTES: usize = 8 * 1024;

/// A generated object key: `{workspace}/{object}`, nothing a user typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// A new key for an object of `workspace_id`.
    pub fn generate(workspace_id: Uuid) -> Self {
        Self(format!("{workspace_id}/{}", Uuid::now_v7()))
    }

    /// A stored key (as written by [`ObjectKey::generate`]).
    pub fn stored(key: String) -> Self {
        Self(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn path(&self) -> Path {
        Path::from(self.0.as_str())
    }
}

/// What an upload URL binds: the body's type, digest and length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutTerms {
    pub content_type: String,
    pub sha256: [u8; 32],
    pub size: u64,
}

/// A signed upload: the URL, the headers to send with it, and when it stops working.
#[derive(Debug, Clone)]
pub struct PresignedPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

/// How a download is shown: saved, or displayed in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Attachment,
    Inline,
}

/// A stored object, read once: its length, digest and first bytes.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub size: u64,
    pub sha256: [u8; 32],
    pub head: Vec<u8>,
}

enum Signer {
    S3(Arc<object_store::aws::AmazonS3>),
    Local(local::LocalSigner),
}

/// The object store and its URL signer.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    signer: Arc<Signer>,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("store", &self.store.to_string())
            .finish_non_exhaustive()
    }
}

impl Storage {
    /// S3 when `S3_BUCKET` is set, otherwise the local folder (`FILES_DIR`, or `data_dir/files`)
    /// behind Portico's own signed route at `base_url`; `url_secret` keys that route's HMAC.
    pub fn from_config(
        files: &FilesConfig,
        data_dir: &std::path::Path,
        base_url: &str,
        url_secret: &[u8],
    ) -> anyhow::Result<Self> {
        if files.s3_bucket.is_some() {
            let store = Arc::new(s3::build(files, files.s3_endpoint.as_deref())?);
            // URLs name the host clients reach, which may not be the one Portico reaches.
            let signer = match &files.s3_public_endpoint {
                Some(public) => Arc::new(s3::build(files, Some(public))?),
                None => store.clone(),
            };
            return Ok(Self {
                store,
                signer: Arc::new(Signer::S3(signer)),
            });
        }
        let dir = files
            .files_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("files"));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the files folder {}", dir.display()))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
            .with_context(|| format!("opening the files folder {}", dir.display()))?;
        Ok(Self {
            store: Arc::new(fs),
            signer: Arc::new(Signer::Local(local::LocalSigner::new(
                dir, base_url, url_secret,
            ))),
        })
    }

    /// The local backend's signer, which serves its signed route; `None` on S3.
    pub fn local(&self) -> Option<&local::LocalSigner> {
        match self.signer.as_ref() {
            Signer::Local(local) => Some(local),
            Signer::S3(_) => None,
        }
    }

    /// A URL that accepts one `PUT` of exactly `terms` at `key`, for `ttl`.
    pub async fn presign_put(
        &self,
        key: &ObjectKey,
        terms: &PutTerms,
        ttl: Duration,
    ) -> ApiResult<PresignedPut> {
        let expires_at = Utc::now() + ttl;
        let headers = put_headers(terms);
        let url = match self.signer.as_ref() {
            Signer::S3(s3) => s3::presign_put(s3, &key.path(), &headers, ttl).await?,
            Signer::Local(local) => local.put_url(key, terms, expires_at),
        };
        Ok(PresignedPut {
            url,
            headers,
            expires_at,
        })
    }

    /// A URL that answers one object for `ttl`, typed `content_type`, shown as `disposition` under
    /// `filename`.
    pub async fn presign_get(
        &self,
        key: &ObjectKey,
        content_type: &str,
        disposition: Disposition,
        filename: &str,
        ttl: Duration,
    ) -> ApiResult<String> {
        let disposition = content_disposition(disposition, filename);
        match self.signer.as_ref() {
            Signer::S3(s3) => {
                s3::presign_get(s3, &key.path(), content_type, &disposition, ttl).await
            }
            Signer::Local(local) => {
                Ok(local.get_url(key, content_type, &disposition, Utc::now() + ttl))
            }
        }
    }

    /// Reads a stored object once: `None` when there is none. Stops reading past `limit` bytes
    /// (the size is then reported as read so far, which is already wrong).
    pub async fn inspect(&self, key: &ObjectKey, limit: u64) -> ApiResult<Option<Inspected>> {
        let result = match self.store.get(&key.path()).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(ApiError::unavailable(e)),
        };
        let mut stream = result.into_stream();
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(HEAD_BYTES);
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(ApiError::unavailable)?;
            size += chunk.len() as u64;
            if head.len() < HEAD_BYTES {
                let take = (HEAD_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(&chunk);
            if size > limit {
                break;
            }
        }
        Ok(Some(Inspected {
            size,
            sha256: hasher.finalize().into(),
            head,
        }))
    }

    /// Reads a whole object into memory, for work that needs all of it (thumbnails): `None` when
    /// there is none; UNAVAILABLE past `limit` bytes, which callers check beforehand.
    pub async fn read(&self, key: &ObjectKey, limit: u64) -> ApiResult<Option<bytes::Bytes>> {
        let result = match self.store.get(&key.path()).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(ApiError::unavailable(e)),
        };
        if result.meta.size > limit {
            return Err(ApiError::unavailable(anyhow::anyhow!(
                "object {} is {} bytes, more than {limit}",
                key.as_str(),
                result.meta.size
            )));
        }
        Ok(Some(result.bytes().await.map_err(ApiError::unavailable)?))
    }

    /// Writes an object Portico made itself (a thumbnail) at a generated key.
    pub async fn put(&self, key: &ObjectKey, body: Vec<u8>) -> ApiResult<()> {
        self.store
            .put(&key.path(), body.into())
            .await
            .map_err(ApiError::unavailable)?;
        Ok(())
    }

    /// Checks the store answers (a signed `HEAD` of a key that need not exist, on S3).
    pub async fn ping(&self) -> anyhow::Result<()> {
        match self
            .store
            .head(&Path::from("portico-readiness-probe"))
            .await
        {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an object; one already gone is fine.
    pub async fn delete(&self, key: &ObjectKey) -> ApiResult<()> {
        match self.store.delete(&key.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ApiError::unavailable(e)),
        }
    }
}

/// The headers an upload sends, bound to its signature on both backends.
fn put_headers(terms: &PutTerms) -> Vec<(String, String)> {
    use base64::Engine;
    vec![
        ("content-type".to_owned(), terms.content_type.clone()),
        (
            "x-amz-checksum-sha256".to_owned(),
            base64::engine::general_purpose::STANDARD.encode(terms.sha256),
        ),
        ("if-none-match".to_owned(), "*".to_owned()),
    ]
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback with quotes,
/// backslashes and controls replaced, and the exact name percent-encoded.
pub fn content_disposition(disposition: Disposition, filename: &str) -> String {
    const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let kind = match disposition {
        Disposition::Attachment => "attachment",
        Disposition::Inline => "inline",
    };
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(filename, ATTR_CHAR);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_quote_nothing_a_header_could_break_on() {
        assert_eq!(
            content_disposition(Disposition::Attachment, "logo final.png"),
            "attachment; filename=\"logo final.png\"; filename*=UTF-8''logo%20final.png"
        );
        let tricky = content_disposition(Disposition::Inline, "a\"b\\c\r\nd é.pdf");
        assert_eq!(
            tricky,
            "inline; filename=\"a_b_c__d _.pdf\"; filename*=UTF-8''a%22b%5Cc%0D%0Ad%20%C3%A9.pdf"
        );
    }

    #[test]
    fn keys_are_generated_under_their_workspace() {
        let ws = Uuid::now_v7();
        let key = ObjectKey::generate(ws);
        assert!(key.as_str().starts_with(&format!("{ws}/")));
        assert_ne!(key, ObjectKey::generate(ws));
    }
}
