//! Files: lookups that answer NOT_FOUND for what the caller may not see, the lists of a folder
//! and of the trash, and the staff actions (rename, move, delete, restore) with their events.

use super::folders;
use super::names::display_name;
use super::rules::{self, Zone};
use super::settings;
use crate::activity::{self, Entry};
use crate::config::FilesConfig;
use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::events::{DomainEvent, FileChanged};
use crate::graphql::pagination::{Direction, Page, fetch};
use crate::rbac::WorkspaceAccess;
use chrono::Utc;
use entity::{file, file_version};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

/// Files `access` may see (in the trash or not): in a visible project and zone.
fn visible_files<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    access: &WorkspaceAccess,
) -> Condition {
    rules::in_visible_zone(scoped, access, file::Column::ProjectId, file::Column::Zone)
}

/// A file `access` may see, in the trash only for staff; NOT_FOUND otherwise.
pub async fn get_visible<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<file::Model> {
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut query = scoped
        .find::<file::Entity>()
        .filter(file::Column::Id.eq(id))
        .filter(visible_files(&scoped, access));
    if !rules::is_file_staff(access) {
        query = query.filter(file::Column::DeletedAt.is_null());
    }
    query.one(conn).await?.ok_or(ApiError::NotFound("file"))
}

/// A page of a folder's files (not in the trash), by name.
///
/// `folder` is one the caller already reached through a visibility check (a `Folder` is only
/// ever built from one), so it is not looked up again for each folder of a list.
pub async fn in_folder<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    folder: &entity::folder::Model,
    page: Page,
) -> ApiResult<(Vec<file::Model>, u64, bool)> {
    let condition = Condition::all()
        .add(file::Column::FolderId.eq(folder.id))
        .add(file::Column::DeletedAt.is_null());
    paged(conn, access, condition, page).await
}

/// A page of a project's trash (staff).
pub async fn trash<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    project_id: Uuid,
    page: Page,
) -> ApiResult<(Vec<file::Model>, u64, bool)> {
    crate::rbac::visibility::get_visible(conn, access, project_id).await?;
    rules::require_staff(access)?;
    let condition = Condition::all()
        .add(file::Column::ProjectId.eq(project_id))
        .add(file::Column::DeletedAt.is_not_null());
    paged(conn, access, condition, page).await
}

/// Files matching `condition` that `access` may see, by ID after the cursor.
async fn paged<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    condition: Condition,
    page: Page,
) -> ApiResult<(Vec<file::Model>, u64, bool)> {
    let scoped = Scoped::new(conn, access.workspace_id);
    let condition = condition.add(visible_files(&scoped, access));
    let query = scoped.find::<file::Entity>().filter(condition);
    fetch(conn, query, file::Column::Id, Direction::Forward, page).await
}

/// Records a file's change on the timeline and in the outbox, in the change's transaction.
pub(super) async fn announce<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    row: &file::Model,
    actor_id: Uuid,
    (action, summary): (&'static str, String),
    event: fn(FileChanged) -> DomainEvent,
) -> ApiResult<()> {
    let staff_only = Zone::parse(&row.zone) == Zone::Internal;
    activity::service::record(
        scoped,
        Entry {
            project_id: row.project_id,
            actor_id,
            action,
            subject_type: "file",
            subject_id: row.id,
            summary,
            payload: json!({ "folderId": row.folder_id, "version": row.current_version }),
            staff_only,
        },
    )
    .await?;
    scoped.emit(event(FileChanged {
        project_id: row.project_id,
        file_id: row.id,
        folder_id: row.folder_id,
        version: row.current_version,
        actor_id,
        staff_only,
    }));
    Ok(())
}

/// Renames a file (staff).
pub async fn rename(
    db: &Db,
    access: &WorkspaceAccess,
    id: Uuid,
    name: &str,
) -> ApiResult<file::Model> {
    let name = display_name("name", name)?;
    let txn = db.begin().await?;
    let row = get_visible(&*txn, access, id).await?;
    rules::require_staff(access)?;
    let renamed = txn
        .scoped(access.workspace_id)
        .update(file::ActiveModel {
            id: Set(row.id),
            name: Set(name),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    txn.commit().await?;
    Ok(renamed)
}

/// Moves a file to another folder of its project (staff); it takes that folder's zone.
pub async fn move_to(
    db: &Db,
    access: &WorkspaceAccess,
    id: Uuid,
    folder_id: Uuid,
) -> ApiResult<file::Model> {
    let txn = db.begin().await?;
    let row = get_visible(&*txn, access, id).await?;
    let target = folders::get_visible(&*txn, access, folder_id).await?;
    rules::require_staff(access)?;
    if row.folder_id.is_none() {
        return Err(ApiError::bad_field(
            "id",
            "attachments stay with what they are attached to",
        ));
    }
    if target.project_id != row.project_id {
        return Err(ApiError::bad_field(
            "folderId",
            "files move within their project",
        ));
    }
    let moved = txn
        .scoped(access.workspace_id)
        .update(file::ActiveModel {
            id: Set(row.id),
            folder_id: Set(Some(target.id)),
            zone: Set(target.zone),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    txn.commit().await?;
    Ok(moved)
}

/// Moves a file to the trash: staff, or a client their own upload when the workspace allows it.
pub async fn delete(
    db: &Db,
    config: &FilesConfig,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<file::Model> {
    let txn = db.begin().await?;
    let row = get_visible(&*txn, access, id).await?;
    let rules = settings::rules(&*txn, access.workspace_id, config).await?;
    rules::may_delete(access, &row, &rules)?;
    if row.deleted_at.is_some() {
        return Err(ApiError::conflict("the file is already in the trash"));
    }
    let scoped = txn.scoped(access.workspace_id);
    let now = Utc::now();
    let deleted = scoped
        .update(file::ActiveModel {
            id: Set(row.id),
            deleted_at: Set(Some(now)),
            deleted_by: Set(Some(access.user_id)),
            updated_at: Set(now),
            ..Default::default()
        })
        .await?;
    let summary = format!("File deleted: {}", deleted.name);
    announce(
        &scoped,
        &deleted,
        access.user_id,
        ("file.deleted", summary),
        DomainEvent::FileDeleted,
    )
    .await?;
    txn.commit().await?;
    Ok(deleted)
}

/// Takes a file back from the trash (staff).
pub async fn restore(db: &Db, access: &WorkspaceAccess, id: Uuid) -> ApiResult<file::Model> {
    let txn = db.begin().await?;
    let row = get_visible(&*txn, access, id).await?;
    rules::require_staff(access)?;
    if row.deleted_at.is_none() {
        return Err(ApiError::conflict("the file is not in the trash"));
    }
    let scoped = txn.scoped(access.workspace_id);
    let restored = scoped
        .update(file::ActiveModel {
            id: Set(row.id),
            deleted_at: Set(None),
            deleted_by: Set(None),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    let summary = format!("File restored: {}", restored.name);
    announce(
        &scoped,
        &restored,
        access.user_id,
        ("file.restored", summary),
        DomainEvent::FileRestored,
    )
    .await?;
    txn.commit().await?;
    Ok(restored)
}

/// Relabels a version (staff): `v1`, `v2`, `final`, …
pub async fn label_version(
    db: &Db,
    access: &WorkspaceAccess,
    version_id: Uuid,
    label: &str,
) -> ApiResult<file_version::Model> {
    let label = crate::types::text::required("label", label, 50)?;
    let txn = db.begin().await?;
    let scoped = txn.scoped(access.workspace_id);
    let version = scoped
        .find_by_id::<file_version::Entity>(version_id)
        .await?
        .ok_or(ApiError::NotFound("file version"))?;
    // The file decides who sees the version.
    get_visible(&*txn, access, version.file_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => ApiError::NotFound("file version"),
            other => other,
        })?;
    rules::require_staff(access)?;
    let labelled = scoped
        .update(file_version::ActiveModel {
            id: Set(version.id),
            label: Set(label),
            ..Default::default()
        })
        .await?;
    txn.commit().await?;
    Ok(labelled)
}
