//! Roles: listing, and custom roles made from permissions their creator holds.

use super::types::RoleView;
use crate::app::App;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult, is_unique_violation};
use crate::rbac::{BuiltinRole, Permission, PermissionSet, WorkspaceAccess};
use crate::types::text;
use chrono::Utc;
use entity::{membership, role, role_permission};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Loads roles (all, or those in `ids`) with their permissions, in two statements.
pub async fn load_roles<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    ids: Option<&[Uuid]>,
) -> ApiResult<Vec<RoleView>> {
    let mut query = scoped
        .find::<role::Entity>()
        .order_by_asc(role::Column::CreatedAt)
        .order_by_asc(role::Column::Id);
    if let Some(ids) = ids {
        query = query.filter(role::Column::Id.is_in(ids.iter().copied()));
    }
    let roles = query.all(scoped.conn()).await?;
    let custom: Vec<Uuid> = roles
        .iter()
        .filter(|r| r.builtin.is_none())
        .map(|r| r.id)
        .collect();
    let mut granted: HashMap<Uuid, PermissionSet> = HashMap::new();
    if !custom.is_empty() {
        let rows = scoped
            .find::<role_permission::Entity>()
            .filter(role_permission::Column::RoleId.is_in(custom))
            .all(scoped.conn())
            .await?;
        for row in rows {
            if let Some(p) = Permission::from_name(&row.permission) {
                granted.entry(row.role_id).or_default().insert(p);
            }
        }
    }
    Ok(roles
        .into_iter()
        .map(|r| {
            let builtin = r.builtin.as_deref().and_then(BuiltinRole::from_key);
            let permissions = match builtin {
                Some(b) => b.permissions(),
                None => granted.get(&r.id).copied().unwrap_or_default(),
            };
            RoleView {
                id: r.id,
                name: r.name,
                builtin,
                description: r.description,
                permissions,
            }
        })
        .collect())
}

/// Loads one role of the workspace; another workspace's role answers NOT_FOUND.
pub async fn get_role<C: ConnectionTrait>(scoped: &Scoped<'_, C>, id: Uuid) -> ApiResult<RoleView> {
    load_roles(scoped, Some(&[id]))
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("role"))
}

/// Fails unless the caller holds every permission of `permissions` (nobody grants what they lack).
pub fn ensure_can_grant(caller: &WorkspaceAccess, permissions: PermissionSet) -> ApiResult<()> {
    match permissions.difference(caller.permissions).iter().next() {
        None => Ok(()),
        Some(missing) => Err(ApiError::forbidden(format!(
            "you cannot grant `{}`, which you do not hold",
            missing.as_str()
        ))),
    }
}

fn conflict_on_duplicate(err: sea_orm::DbErr) -> ApiError {
    if is_unique_violation(&err) {
        ApiError::conflict("a role with this name already exists")
    } else {
        err.into()
    }
}

/// Creates a custom role.
pub async fn create_role(
    app: &App,
    caller: &WorkspaceAccess,
    name: &str,
    description: Option<String>,
    permissions: &[Permission],
) -> ApiResult<RoleView> {
    let name = text::required("name", name, 64)?;
    let set = PermissionSet::from_iter(permissions.iter().copied());
    ensure_can_grant(caller, set)?;
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(caller.workspace_id);
    let now = Utc::now();
    let id = Uuid::now_v7();
    scoped
        .insert(role::ActiveModel {
            id: Set(id),
            workspace_id: Set(caller.workspace_id),
            name: Set(name),
            builtin: Set(None),
            description: Set(description),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await
        .map_err(conflict_on_duplicate)?;
    write_permissions(&scoped, id, set).await?;
    let view = get_role(&scoped, id).await?;
    txn.commit().await?;
    Ok(view)
}

async fn write_permissions<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    role_id: Uuid,
    set: PermissionSet,
) -> ApiResult<()> {
    scoped
        .delete_many::<role_permission::Entity>()
        .filter(role_permission::Column::RoleId.eq(role_id))
        .exec(scoped.conn())
        .await?;
    let rows = set
        .iter()
        .map(|p| role_permission::ActiveModel {
            role_id: Set(role_id),
            permission: Set(p.as_str().to_owned()),
            workspace_id: Set(scoped.workspace_id()),
        })
        .collect();
    scoped.insert_many(rows).await?;
    Ok(())
}

/// Edits a custom role. Built-in roles and roles holding permissions the caller lacks ("above"
/// them) cannot be edited.
pub async fn update_role(
    app: &App,
    caller: &WorkspaceAccess,
    role_id: Uuid,
    name: Option<&str>,
    description: Option<Option<String>>,
    permissions: Option<&[Permission]>,
) -> ApiResult<RoleView> {
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(caller.workspace_id);
    let current = get_role(&scoped, role_id).await?;
    if current.builtin.is_some() {
        return Err(ApiError::forbidden("built-in roles cannot be edited"));
    }
    if !current.permissions.is_subset_of(caller.permissions) {
        return Err(ApiError::forbidden(
            "you cannot edit a role with permissions you do not hold",
        ));
    }
    let row = scoped
        .find_by_id::<role::Entity>(role_id)
        .await?
        .ok_or(ApiError::NotFound("role"))?;
    let mut model: role::ActiveModel = row.into();
    if let Some(name) = name {
        model.name = Set(text::required("name", name, 64)?);
    }
    if let Some(description) = description {
        model.description = Set(description);
    }
    model.updated_at = Set(Utc::now());
    scoped.update(model).await.map_err(conflict_on_duplicate)?;
    if let Some(permissions) = permissions {
        let set = PermissionSet::from_iter(permissions.iter().copied());
        ensure_can_grant(caller, set)?;
        write_permissions(&scoped, role_id, set).await?;
    }
    let view = get_role(&scoped, role_id).await?;
    txn.commit().await?;
    app.access.invalidate_workspace(caller.workspace_id).await?;
    Ok(view)
}

/// Deletes a custom role nobody holds.
pub async fn delete_role(app: &App, caller: &WorkspaceAccess, role_id: Uuid) -> ApiResult<()> {
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(caller.workspace_id);
    let current = get_role(&scoped, role_id).await?;
    if current.builtin.is_some() {
        return Err(ApiError::forbidden("built-in roles cannot be deleted"));
    }
    if !current.permissions.is_subset_of(caller.permissions) {
        return Err(ApiError::forbidden(
            "you cannot delete a role with permissions you do not hold",
        ));
    }
    let holders = scoped
        .find::<membership::Entity>()
        .filter(membership::Column::RoleId.eq(role_id))
        .count(scoped.conn())
        .await?;
    if holders > 0 {
        return Err(ApiError::conflict(format!(
            "{holders} member(s) still hold this role; re-role them first"
        )));
    }
    scoped
        .delete_many::<role_permission::Entity>()
        .filter(role_permission::Column::RoleId.eq(role_id))
        .exec(scoped.conn())
        .await?;
    scoped
        .delete_many::<role::Entity>()
        .filter(role::Column::Id.eq(role_id))
        .exec(scoped.conn())
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The built-in role row of a workspace.
pub async fn builtin_role<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    which: BuiltinRole,
) -> ApiResult<role::Model> {
    scoped
        .find::<role::Entity>()
        .filter(role::Column::Builtin.eq(which.key()))
        .one(scoped.conn())
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "workspace {} lacks built-in role {}",
                scoped.workspace_id(),
                which.key()
            ))
        })
}
