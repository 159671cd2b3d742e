//! Download, preview and thumbnail URLs, minted by guarded fields for a file the caller already
//! reached: valid for `FILE_DOWNLOAD_URL_TTL_SECS`, inline only for images and PDFs, and each
//! mint an event for the audit log.

use super::rules::Zone;
use super::{Files, kinds, thumbnail};
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::events::{DomainEvent, FileUrlMinted};
use crate::storage::{Disposition, ObjectKey};
use entity::{file, file_version};
use sea_orm::{ColumnTrait, QueryFilter};
use std::time::Duration;
use uuid::Uuid;

/// A URL of `version` (the current one when `None`) of a file `actor_id` may see.
pub async fn mint(
    f: Files<'_>,
    actor_id: Uuid,
    row: &file::Model,
    version: Option<&file_version::Model>,
    disposition: Disposition,
) -> ApiResult<String> {
    let loaded;
    let version = match version {
        Some(v) => v,
        None => {
            loaded = Scoped::new(f.db.conn(), row.workspace_id)
                .find::<file_version::Entity>()
                .filter(file_version::Column::FileId.eq(row.id))
                .filter(file_version::Column::Number.eq(row.current_version))
                .one(f.db.conn())
                .await?
                .ok_or(ApiError::NotFound("file version"))?;
            &loaded
        }
    };
    if disposition == Disposition::Inline && !kinds::previews_inline(&version.content_type) {
        return Err(ApiError::bad_field(
            "disposition",
            "only images and PDFs preview inline",
        ));
    }
    let key = ObjectKey::stored(version.object_key.clone());
    let url = presign(f, &key, &version.content_type, disposition, &row.name).await?;
    let inline = disposition == Disposition::Inline;
    record(f, actor_id, row, version.number, inline, false).await?;
    Ok(url)
}

/// An inline URL of `version`'s thumbnail; `None` until the thumbnail job made it.
pub async fn mint_thumbnail(
    f: Files<'_>,
    actor_id: Uuid,
    row: &file::Model,
    version: &file_version::Model,
) -> ApiResult<Option<String>> {
    let (thumbnail::READY, Some(key), Some(content_type)) = (
        version.thumbnail_status.as_str(),
        &version.thumbnail_key,
        &version.thumbnail_content_type,
    ) else {
        return Ok(None);
    };
    let name = thumbnail_name(&row.name, content_type);
    let key = ObjectKey::stored(key.clone());
    let url = presign(f, &key, content_type, Disposition::Inline, &name).await?;
    record(f, actor_id, row, version.number, true, true).await?;
    Ok(Some(url))
}

/// `logo.png` → `logo-thumbnail.jpg`.
fn thumbnail_name(name: &str, content_type: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let extension = if content_type == "image/png" {
        "png"
    } else {
        "jpg"
    };
    format!("{stem}-thumbnail.{extension}")
}

async fn presign(
    f: Files<'_>,
    key: &ObjectKey,
    content_type: &str,
    disposition: Disposition,
    name: &str,
) -> ApiResult<String> {
    let ttl = Duration::from_secs(f.config.file_download_url_ttl_secs);
    f.storage
        .presign_get(key, content_type, disposition, name, ttl)
        .await
}

/// The mint's event, for the audit log.
async fn record(
    f: Files<'_>,
    actor_id: Uuid,
    row: &file::Model,
    version: i32,
    inline: bool,
    thumbnail: bool,
) -> ApiResult<()> {
    let txn = f.db.begin().await?;
    txn.scoped(row.workspace_id)
        .emit(DomainEvent::FileUrlMinted(FileUrlMinted {
            project_id: row.project_id,
            file_id: row.id,
            version,
            actor_id,
            inline,
            thumbnail,
            staff_only: Zone::parse(&row.zone) == Zone::Internal,
        }));
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn thumbnails_are_named_after_their_file() {
        assert_eq!(
            super::thumbnail_name("logo.final.png", "image/png"),
            "logo.final-thumbnail.png"
        );
        assert_eq!(
            super::thumbnail_name("photo", "image/jpeg"),
            "photo-thumbnail.jpg"
        );
    }
}
