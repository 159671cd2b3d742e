//! The file domain's periodic cleanup: files in the trash past retention go for good (rows first,
//! then objects and thumbnails, so no row is ever left without its object), and uploads never completed by their
//! expiry are removed with their objects.

use super::Files;
use crate::db::{AcrossTenants, Scoped};
use crate::error::ApiResult;
use crate::storage::ObjectKey;
use chrono::{DateTime, Utc};
use entity::{file, file_upload, file_version};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

/// Rows handled per run, so one run stays short.
const BATCH: u64 = 200;

/// Removes files deleted before `before`, with every version and object. Returns the files removed.
pub async fn purge_trash(f: Files<'_>, before: DateTime<Utc>) -> ApiResult<u64> {
    let conn = f.db.conn();
    let expired = AcrossTenants::because("the trash purge runs over every workspace's trash")
        .find::<file::Entity>()
        .filter(file::Column::DeletedAt.lt(before))
        .order_by_asc(file::Column::DeletedAt)
        .limit(BATCH)
        .all(conn)
        .await?;
    let mut purged = 0;
    for row in expired {
        let txn = f.db.begin().await?;
        let scoped = txn.scoped(row.workspace_id);
        let versions = scoped
            .find::<file_version::Entity>()
            .filter(file_version::Column::FileId.eq(row.id))
            .all(&*txn)
            .await?;
        scoped
            .delete_many::<file_version::Entity>()
            .filter(file_version::Column::FileId.eq(row.id))
            .exec(&*txn)
            .await?;
        scoped
            .delete_many::<file::Entity>()
            .filter(file::Column::Id.eq(row.id))
            .filter(file::Column::DeletedAt.is_not_null())
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        let keys = versions
            .into_iter()
            .flat_map(|v| std::iter::once(v.object_key).chain(v.thumbnail_key));
        for key in keys {
            let key = ObjectKey::stored(key);
            if let Err(e) = f.storage.delete(&key).await {
                // The row is gone; the object is an orphan the storage's own lifecycle can take.
                tracing::warn!(key = key.as_str(), error = ?e.into_anyhow(), "a purged file's object stays");
            }
        }
        purged += 1;
    }
    Ok(purged)
}

/// Removes upload records past their expiry; those never completed take their object along.
/// Returns the uploads removed.
pub async fn sweep_uploads(f: Files<'_>, now: DateTime<Utc>) -> ApiResult<u64> {
    let conn = f.db.conn();
    let expired = AcrossTenants::because("the upload sweep runs over every workspace's uploads")
        .find::<file_upload::Entity>()
        .filter(file_upload::Column::ExpiresAt.lt(now))
        .order_by_asc(file_upload::Column::ExpiresAt)
        .limit(BATCH)
        .all(conn)
        .await?;
    let mut swept = 0;
    for upload in expired {
        // The object of a completed upload is its file version's: it stays.
        if upload.completed_at.is_none() {
            f.storage
                .delete(&ObjectKey::stored(upload.object_key.clone()))
                .await?;
        }
        Scoped::new(conn, upload.workspace_id)
            .delete_many::<file_upload::Entity>()
            .filter(file_upload::Column::Id.eq(upload.id))
            .exec(conn)
            .await?;
        swept += 1;
    }
    Ok(swept)
}
