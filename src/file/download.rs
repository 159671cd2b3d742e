//! Download and preview URLs, minted by guarded fields for a file the caller already reached:
//! valid for `FILE_DOWNLOAD_URL_TTL_SECS`, inline only for images and PDFs, and each mint an
//! event for the audit log.

use super::rules::Zone;
use super::{Files, kinds};
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
    let url = f
        .storage
        .presign_get(
            &ObjectKey::stored(version.object_key.clone()),
            &version.content_type,
            disposition,
            &row.name,
            Duration::from_secs(f.config.file_download_url_ttl_secs),
        )
        .await?;
    let txn = f.db.begin().await?;
    txn.scoped(row.workspace_id)
        .emit(DomainEvent::FileUrlMinted(FileUrlMinted {
            project_id: row.project_id,
            file_id: row.id,
            version: version.number,
            actor_id,
            inline: disposition == Disposition::Inline,
            staff_only: Zone::parse(&row.zone) == Zone::Internal,
        }));
    txn.commit().await?;
    Ok(url)
}
