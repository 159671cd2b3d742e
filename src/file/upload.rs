//! Direct uploads: `createUpload` checks permission, zone, type, size, quota and rate, records the
//! upload and answers a signed PUT URL; `completeUpload` reads the stored object once (length,
//! sha256, the real type from its first bytes) and only then makes the file or version visible.
//! Anything that does not match is deleted and answered BAD_USER_INPUT.

use super::files::announce;
use super::place::Destination;
use super::uploader::Uploader;
use super::{Files, kinds, names, settings};
use crate::db::{Global, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::events::DomainEvent;
use crate::storage::{ObjectKey, PresignedPut, PutTerms};
use chrono::Utc;
use entity::{file, file_upload, file_version, workspace};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};
use std::time::Duration;
use uuid::Uuid;

/// What a client announces before uploading.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// Where it goes: a folder, a file it is a new version of, or what it is attached to.
    pub destination: Destination,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    /// Hex sha256 of the bytes.
    pub sha256: String,
    pub label: Option<String>,
}

fn sha256_of(hex_digest: &str) -> ApiResult<[u8; 32]> {
    hex::decode(hex_digest.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| ApiError::bad_field("sha256", "64 hexadecimal digits"))
}

/// `CAST(SUM(column) AS BIGINT)`: PostgreSQL sums a BIGINT as NUMERIC.
fn total(column: impl sea_orm::sea_query::IntoColumnRef) -> Expr {
    Func::cast_as(Func::sum(Expr::col(column)), "BIGINT").into()
}

/// Bytes stored or promised in a workspace: every version (the trash included) and the uploads
/// still open.
pub async fn used_bytes<C: ConnectionTrait>(conn: &C, workspace_id: Uuid) -> ApiResult<u64> {
    let scoped = Scoped::new(conn, workspace_id);
    let sum = |stored: Option<Option<i64>>| {
        stored
            .flatten()
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(0)
    };
    let versions: Option<Option<i64>> = scoped
        .find::<file_version::Entity>()
        .select_only()
        .column_as(total(file_version::Column::SizeBytes), "total")
        .into_tuple()
        .one(conn)
        .await?;
    let open: Option<Option<i64>> = scoped
        .find::<file_upload::Entity>()
        .select_only()
        .column_as(total(file_upload::Column::SizeBytes), "total")
        .filter(file_upload::Column::CompletedAt.is_null())
        .filter(file_upload::Column::ExpiresAt.gt(Utc::now()))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(sum(versions) + sum(open))
}

/// Announces an upload and signs its URL.
pub async fn create(
    f: Files<'_>,
    uploader: Uploader<'_>,
    input: NewUpload,
) -> ApiResult<(file_upload::Model, PresignedPut)> {
    let workspace_id = uploader.workspace_id();
    let name = names::display_name("name", &input.name)?;
    let content_type = kinds::declared(&input.content_type)?;
    let sha256 = sha256_of(&input.sha256)?;
    let label = crate::types::text::optional("label", input.label, 50)?;
    let size = u64::try_from(input.size)
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| ApiError::bad_field("size", "a file has at least one byte"))?;
    let txn = f.db.begin().await?;
    let rules = settings::rules(&*txn, workspace_id, f.config).await?;
    let place = uploader.place(&*txn, &rules, input.destination).await?;
    if size > rules.max_file_bytes {
        return Err(ApiError::bad_field(
            "size",
            format!("files are at most {} bytes here", rules.max_file_bytes),
        ));
    }
    rate(f, &uploader).await?;
    // One quota check at a time per workspace (PostgreSQL; SQLite serializes writers anyway).
    Global::new(&*txn)
        .find::<workspace::Entity>()
        .filter(workspace::Column::Id.eq(workspace_id))
        .lock_exclusive()
        .one(&*txn)
        .await?;
    if let Uploader::Link(link) = uploader {
        super::links::ensure_room(&*txn, link).await?;
    }
    let used = used_bytes(&*txn, workspace_id).await?;
    if used.saturating_add(size) > rules.quota_bytes {
        return Err(ApiError::bad_field(
            "size",
            "over the workspace's storage quota (every version and the trash count)",
        ));
    }
    let key = ObjectKey::generate(workspace_id);
    let ttl = Duration::from_secs(f.config.file_upload_url_ttl_secs);
    let terms = PutTerms {
        content_type: content_type.clone(),
        sha256,
        size,
    };
    let presigned = f.storage.presign_put(&key, &terms, ttl).await?;
    let now = Utc::now();
    let upload = txn
        .scoped(workspace_id)
        .insert(file_upload::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(workspace_id),
            project_id: Set(place.project_id),
            folder_id: Set(match input.destination {
                Destination::Folder(id) => Some(id),
                _ => None,
            }),
            file_id: Set(place.existing.as_ref().map(|e| e.id)),
            attached_to: Set(match input.destination {
                Destination::Attachment(target, _) => Some(target.as_str().to_owned()),
                _ => None,
            }),
            attached_id: Set(match input.destination {
                Destination::Attachment(_, id) => Some(id),
                _ => None,
            }),
            name: Set(name),
            label: Set(label),
            content_type: Set(content_type),
            size_bytes: Set(input.size),
            sha256: Set(hex::encode(sha256)),
            object_key: Set(key.as_str().to_owned()),
            created_by: Set(uploader.user_id()),
            created_at: Set(now),
            expires_at: Set(presigned.expires_at),
            completed_at: Set(None),
            upload_link_id: Set(uploader.link_id()),
        })
        .await?;
    txn.commit().await?;
    Ok((upload, presigned))
}

/// At most `FILE_UPLOADS_PER_MINUTE` uploads started per principal (or link) and minute.
async fn rate(f: Files<'_>, uploader: &Uploader<'_>) -> ApiResult<()> {
    let (count, left) = f
        .cache
        .incr(&uploader.rate_key(), Duration::from_secs(60))
        .await
        .map_err(ApiError::internal)?;
    if count > f.config.file_uploads_per_minute {
        return Err(ApiError::RateLimited {
            retry_after_secs: left.as_secs().max(1),
        });
    }
    Ok(())
}

/// Removes a refused upload's object and row, and answers why.
async fn refuse(f: Files<'_>, upload: &file_upload::Model, why: &str) -> ApiError {
    if let Err(e) = f
        .storage
        .delete(&ObjectKey::stored(upload.object_key.clone()))
        .await
    {
        // The expired-upload job removes it later.
        tracing::warn!(error = ?e.into_anyhow(), "could not delete a refused upload's object");
    }
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = f.db.writer().await;
    let removed = Scoped::new(f.db.conn(), upload.workspace_id)
        .delete_many::<file_upload::Entity>()
        .filter(file_upload::Column::Id.eq(upload.id))
        .exec(f.db.conn())
        .await;
    drop(turn);
    if let Err(e) = removed {
        tracing::warn!(error = ?e, "could not delete a refused upload");
    }
    ApiError::bad_input(format!("the upload was refused and removed: {why}"))
}

/// Checks the stored object and makes the file (or its new version) visible.
pub async fn complete(f: Files<'_>, uploader: Uploader<'_>, id: Uuid) -> ApiResult<file::Model> {
    let conn = f.db.conn();
    let by_link = match uploader.link_id() {
        Some(link) => file_upload::Column::UploadLinkId.eq(link),
        None => file_upload::Column::UploadLinkId.is_null(),
    };
    let scoped = Scoped::new(conn, uploader.workspace_id());
    let mut query = scoped
        .find::<file_upload::Entity>()
        .filter(file_upload::Column::Id.eq(id))
        .filter(file_upload::Column::CreatedBy.eq(uploader.user_id()))
        .filter(by_link);
    if let Uploader::Member(access) = &uploader {
        // In a project the caller still sees: not through a key restricted to other projects,
        // nor after being removed from the project since announcing.
        query = query.filter(super::rules::in_visible_project(
            &scoped,
            access,
            file_upload::Column::ProjectId,
        ));
    }
    let upload = query.one(conn).await?.ok_or(ApiError::NotFound("upload"))?;
    if upload.completed_at.is_some() {
        return Err(ApiError::conflict("this upload is already completed"));
    }
    if upload.expires_at < Utc::now() {
        return Err(refuse(f, &upload, "it expired before completion").await);
    }
    let size = u64::try_from(upload.size_bytes).unwrap_or(0);
    let key = ObjectKey::stored(upload.object_key.clone());
    let Some(stored) = f.storage.inspect(&key, size).await? else {
        return Err(ApiError::bad_input(
            "nothing was uploaded yet: PUT the file to the upload URL first",
        ));
    };
    if stored.size != size {
        return Err(refuse(f, &upload, "its length differs from the announced size").await);
    }
    if hex::encode(stored.sha256) != upload.sha256 {
        return Err(refuse(f, &upload, "its sha256 differs from the announced one").await);
    }
    if !kinds::bytes_match(
        &upload.content_type,
        &stored.head,
        stored.size as usize == stored.head.len(),
    ) {
        return Err(refuse(f, &upload, "its bytes are not of the declared type").await);
    }
    record(f, uploader, &upload).await
}

/// Writes the file or version of a verified upload, in one transaction.
async fn record(
    f: Files<'_>,
    uploader: Uploader<'_>,
    upload: &file_upload::Model,
) -> ApiResult<file::Model> {
    let (workspace_id, user_id) = (uploader.workspace_id(), uploader.user_id());
    let txn = f.db.begin().await?;
    let scoped = txn.scoped(workspace_id);
    let now = Utc::now();
    // Exactly once, even when two completions race.
    let claimed = scoped
        .update_many::<file_upload::Entity>()
        .col_expr(file_upload::Column::CompletedAt, Expr::value(now))
        .filter(file_upload::Column::Id.eq(upload.id))
        .filter(file_upload::Column::CompletedAt.is_null())
        .exec(&*txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(ApiError::conflict("this upload is already completed"));
    }
    // Rights may have changed since the upload was announced.
    let rules = settings::rules(&*txn, workspace_id, f.config).await?;
    let place = uploader
        .place(&*txn, &rules, Destination::of_upload(upload)?)
        .await?;
    if let Uploader::Link(link) = uploader {
        super::links::count_file(&scoped, link).await?;
    }
    let existing = place.existing.clone();
    let number = existing.as_ref().map_or(1, |e| e.current_version + 1);
    let file_id = existing.as_ref().map_or_else(Uuid::now_v7, |e| e.id);
    let row = match &existing {
        None => {
            scoped
                .insert(file::ActiveModel {
                    id: Set(file_id),
                    workspace_id: Set(workspace_id),
                    project_id: Set(place.project_id),
                    folder_id: Set(place.folder_id),
                    attached_to: Set(place.attached.map(|(t, _)| t.as_str().to_owned())),
                    attached_id: Set(place.attached.map(|(_, id)| id)),
                    name: Set(upload.name.clone()),
                    zone: Set(place.zone.as_str().to_owned()),
                    content_type: Set(upload.content_type.clone()),
                    size_bytes: Set(upload.size_bytes),
                    sha256: Set(upload.sha256.clone()),
                    current_version: Set(number),
                    uploaded_by: Set(user_id),
                    created_at: Set(now),
                    updated_at: Set(now),
                    deleted_at: Set(None),
                    deleted_by: Set(None),
                    upload_link_id: Set(uploader.link_id()),
                })
                .await?
        }
        Some(e) => {
            scoped
                .update(file::ActiveModel {
                    id: Set(e.id),
                    content_type: Set(upload.content_type.clone()),
                    size_bytes: Set(upload.size_bytes),
                    sha256: Set(upload.sha256.clone()),
                    current_version: Set(number),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .await?
        }
    };
    scoped
        .insert(file_version::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(workspace_id),
            file_id: Set(file_id),
            number: Set(number),
            label: Set(upload.label.clone().unwrap_or_else(|| format!("v{number}"))),
            object_key: Set(upload.object_key.clone()),
            content_type: Set(upload.content_type.clone()),
            size_bytes: Set(upload.size_bytes),
            sha256: Set(upload.sha256.clone()),
            uploaded_by: Set(user_id),
            created_at: Set(now),
            thumbnail_status: Set(super::thumbnail::initial_status(
                &upload.content_type,
                u64::try_from(upload.size_bytes).unwrap_or(u64::MAX),
                f.config.file_thumbnail_max_bytes,
            )
            .to_owned()),
            thumbnail_key: Set(None),
            thumbnail_content_type: Set(None),
            thumbnail_width: Set(None),
            thumbnail_height: Set(None),
        })
        .await?;
    let (action, summary, event): (_, _, fn(_) -> DomainEvent) = match existing {
        None => (
            "file.uploaded",
            format!("File uploaded: {}", row.name),
            DomainEvent::FileUploaded,
        ),
        Some(_) => (
            "file.version_added",
            format!("New version of {}: v{number}", row.name),
            DomainEvent::FileVersionAdded,
        ),
    };
    announce(&scoped, &row, user_id, (action, summary), event).await?;
    txn.commit().await?;
    Ok(row)
}
