//! The GraphQL face of thumbnails: a version's status and, once made, its size and a guarded,
//! short-lived URL.

use super::{Files, download, thumbnail};
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::rbac::Permission;
use async_graphql::{Context, Enum, Object, Result};
use entity::{file, file_version};
use std::sync::Arc;

/// Where a version's thumbnail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ThumbnailStatus {
    /// Queued for the thumbnail job.
    Pending,
    /// Made: `url` answers it.
    Ready,
    /// The image did not decode; there will be none.
    Failed,
}

/// The thumbnail of an image version.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    status: ThumbnailStatus,
    version: file_version::Model,
    file: Arc<file::Model>,
}

impl Thumbnail {
    /// The thumbnail of `version`, `None` for a version that gets none (not an image, too large).
    pub fn of(version: &file_version::Model, file: &Arc<file::Model>) -> Option<Self> {
        let status = match version.thumbnail_status.as_str() {
            thumbnail::PENDING => ThumbnailStatus::Pending,
            thumbnail::READY => ThumbnailStatus::Ready,
            thumbnail::FAILED => ThumbnailStatus::Failed,
            _ => return None,
        };
        Some(Self {
            status,
            version: version.clone(),
            file: file.clone(),
        })
    }
}

/// The thumbnail of an image version, made in the background after its upload.
#[Object]
impl Thumbnail {
    /// Pending, ready or failed.
    async fn status(&self) -> ThumbnailStatus {
        self.status
    }
    /// Width in pixels, once ready.
    async fn width(&self) -> Option<i32> {
        self.version.thumbnail_width
    }
    /// Height in pixels, once ready.
    async fn height(&self) -> Option<i32> {
        self.version.thumbnail_height
    }
    /// `image/png` or `image/jpeg`, once ready.
    async fn content_type(&self) -> Option<&str> {
        self.version.thumbnail_content_type.as_deref()
    }
    /// An inline URL of the thumbnail, valid for a short time (`FILE_DOWNLOAD_URL_TTL_SECS`); null
    /// until ready.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let url =
            download::mint_thumbnail(Files::of(rc), access.user_id, &self.file, &self.version)
                .await?;
        Ok(url)
    }
}
