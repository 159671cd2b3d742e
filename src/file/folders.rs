//! Folders: the standard ones every project gets, subfolders (which take their parent's zone),
//! and the lookups that answer NOT_FOUND for a folder the caller may not see.

use super::names::display_name;
use super::rules::{self, Zone};
use super::settings;
use crate::config::FilesConfig;
use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility;
use chrono::Utc;
use entity::{file, folder};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

/// Creates the standard folders of a new project, in its transaction.
pub async fn create_standard<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    project_id: Uuid,
) -> ApiResult<()> {
    let now = Utc::now();
    let rows = migration::STANDARD_FOLDERS
        .iter()
        .map(|(key, name, zone)| folder::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(scoped.workspace_id()),
            project_id: Set(project_id),
            parent_id: Set(None),
            name: Set((*name).to_owned()),
            zone: Set((*zone).to_owned()),
            system_key: Set(Some((*key).to_owned())),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    scoped.insert_many(rows).await?;
    Ok(())
}

/// Folders `access` may see: in a visible project, and in a zone it may see.
pub fn visible_folders<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    access: &WorkspaceAccess,
) -> Condition {
    rules::in_visible_zone(
        scoped,
        access,
        folder::Column::ProjectId,
        folder::Column::Zone,
    )
}

/// A folder `access` may see; NOT_FOUND otherwise (exactly like a missing one).
pub async fn get_visible<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<folder::Model> {
    let scoped = Scoped::new(conn, access.workspace_id);
    scoped
        .find::<folder::Entity>()
        .filter(folder::Column::Id.eq(id))
        .filter(visible_folders(&scoped, access))
        .one(conn)
        .await?
        .ok_or(ApiError::NotFound("folder"))
}

/// The folders of a project `access` may see, by name within their parent.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    project_id: Uuid,
) -> ApiResult<Vec<folder::Model>> {
    visibility::get_visible(conn, access, project_id).await?;
    let scoped = Scoped::new(conn, access.workspace_id);
    Ok(scoped
        .find::<folder::Entity>()
        .filter(folder::Column::ProjectId.eq(project_id))
        .filter(visible_folders(&scoped, access))
        .order_by_asc(folder::Column::ParentId)
        .order_by_asc(folder::Column::Name)
        .order_by_asc(folder::Column::Id)
        .all(conn)
        .await?)
}

/// Creates a subfolder of `parent_id`, in its zone.
pub async fn create(
    db: &Db,
    config: &FilesConfig,
    access: &WorkspaceAccess,
    parent_id: Uuid,
    name: &str,
) -> ApiResult<folder::Model> {
    let name = display_name("name", name)?;
    let txn = db.begin().await?;
    let parent = get_visible(&*txn, access, parent_id).await?;
    let zone = Zone::parse(&parent.zone);
    let rules = settings::rules(&*txn, access.workspace_id, config).await?;
    rules::may_create_folder(access, zone, &rules)?;
    let scoped = txn.scoped(access.workspace_id);
    let now = Utc::now();
    let created = scoped
        .insert(folder::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            project_id: Set(parent.project_id),
            parent_id: Set(Some(parent.id)),
            name: Set(name),
            zone: Set(parent.zone),
            system_key: Set(None),
            created_by: Set(Some(access.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    txn.commit().await?;
    Ok(created)
}

/// A folder staff may change: visible, and not a standard one.
async fn changeable<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<folder::Model> {
    let row = get_visible(conn, access, id).await?;
    rules::require_staff(access)?;
    if row.system_key.is_some() {
        return Err(ApiError::bad_field(
            "id",
            "standard folders cannot be renamed, moved or deleted",
        ));
    }
    Ok(row)
}

/// Renames a subfolder (staff).
pub async fn rename(
    db: &Db,
    access: &WorkspaceAccess,
    id: Uuid,
    name: &str,
) -> ApiResult<folder::Model> {
    let name = display_name("name", name)?;
    let txn = db.begin().await?;
    let row = changeable(&*txn, access, id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let renamed = scoped
        .update(folder::ActiveModel {
            id: Set(row.id),
            name: Set(name),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    txn.commit().await?;
    Ok(renamed)
}

/// Deletes an empty subfolder (staff): no subfolder, no file, not even in the trash.
pub async fn delete(db: &Db, access: &WorkspaceAccess, id: Uuid) -> ApiResult<()> {
    let txn = db.begin().await?;
    let row = changeable(&*txn, access, id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let children = scoped
        .find::<folder::Entity>()
        .filter(folder::Column::ParentId.eq(row.id))
        .count(&*txn)
        .await?;
    let files = scoped
        .find::<file::Entity>()
        .filter(file::Column::FolderId.eq(row.id))
        .count(&*txn)
        .await?;
    if children + files > 0 {
        return Err(ApiError::conflict(
            "the folder is not empty (its trash counts too)",
        ));
    }
    scoped
        .delete_many::<folder::Entity>()
        .filter(folder::Column::Id.eq(row.id))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
