//! File settings: where objects live (S3, or a local folder in the embedded default), how long
//! signed URLs last, and the limits a workspace starts with.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::Secret;

/// Object storage and file limits, flattened into [`Config`](super::Config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FilesConfig {
    /// S3 bucket. Set: objects live in S3 (or MinIO); unset: in `files_dir`.
    pub s3_bucket: Option<String>,
    /// S3 endpoint, for MinIO or another S3-compatible server (path-style addressing).
    pub s3_endpoint: Option<String>,
    /// The endpoint clients reach S3 at, when it differs from `s3_endpoint` (Portico inside a
    /// container network, browsers outside): signed URLs name this host.
    pub s3_public_endpoint: Option<String>,
    /// S3 region.
    pub s3_region: String,
    /// S3 access key ID (unset: the instance's role, from the environment).
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key.
    pub s3_secret_access_key: Option<Secret>,
    /// Folder of the embedded default's objects (default: `data_dir/files`).
    pub files_dir: Option<PathBuf>,
    /// How long a download or preview URL stays valid.
    pub file_download_url_ttl_secs: u64,
    /// How long an upload URL stays valid; an upload not completed by then is removed.
    pub file_upload_url_ttl_secs: u64,
    /// Largest file a workspace accepts unless its settings say otherwise.
    pub file_max_bytes: u64,
    /// Storage a workspace may use unless its settings say otherwise (every version and the trash).
    pub file_quota_bytes: u64,
    /// Days a deleted file stays in the trash before the purge removes it.
    pub file_trash_retention_days: u64,
    /// Uploads one principal may start per minute.
    pub file_uploads_per_minute: u64,
    /// Longest side, in pixels, of an image's thumbnail.
    pub file_thumbnail_px: u32,
    /// Largest image a thumbnail is made of (it is read whole into memory); larger ones get none.
    pub file_thumbnail_max_bytes: u64,
    /// How often the thumbnail job looks for new images.
    pub file_thumbnail_interval_secs: u64,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            s3_bucket: None,
            s3_endpoint: None,
            s3_public_endpoint: None,
            s3_region: "us-east-1".to_owned(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            files_dir: None,
            file_download_url_ttl_secs: 120,
            file_upload_url_ttl_secs: 15 * 60,
            file_max_bytes: 100 * 1024 * 1024,
            file_quota_bytes: 10 * 1024 * 1024 * 1024,
            file_trash_retention_days: 30,
            file_uploads_per_minute: 60,
            file_thumbnail_px: 256,
            file_thumbnail_max_bytes: 25 * 1024 * 1024,
            file_thumbnail_interval_secs: 10,
        }
    }
}

impl FilesConfig {
    /// Checks what types cannot say.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.s3_bucket.is_some()
            && self.s3_access_key_id.is_some() != self.s3_secret_access_key.is_some()
        {
            anyhow::bail!("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together");
        }
        if self.file_download_url_ttl_secs == 0 || self.file_upload_url_ttl_secs == 0 {
            anyhow::bail!("FILE_DOWNLOAD_URL_TTL_SECS and FILE_UPLOAD_URL_TTL_SECS are positive");
        }
        // A file's size travels as a GraphQL Int.
        if self.file_max_bytes == 0 || self.file_max_bytes > i32::MAX as u64 {
            anyhow::bail!("FILE_MAX_BYTES is between 1 and 2147483647");
        }
        if !(16..=2048).contains(&self.file_thumbnail_px) || self.file_thumbnail_interval_secs == 0
        {
            anyhow::bail!(
                "FILE_THUMBNAIL_PX is between 16 and 2048, FILE_THUMBNAIL_INTERVAL_SECS positive"
            );
        }
        Ok(())
    }
}
