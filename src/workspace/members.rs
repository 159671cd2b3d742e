//! Members: listing, re-roling, removal and ownership transfer, with the escalation rules.

use super::roles::{builtin_role, ensure_can_grant, get_role};
use crate::app::App;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::graphql::pagination::Page;
use crate::rbac::{BuiltinRole, WorkspaceAccess};
use chrono::Utc;
use entity::membership;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// One page of members, in join order, and the total.
pub async fn list_members(
    app: &App,
    caller: &WorkspaceAccess,
    page: Page,
) -> ApiResult<(Vec<membership::Model>, u64, bool)> {
    let scoped = Scoped::new(app.db.conn(), caller.workspace_id);
    let total = scoped
        .find::<membership::Entity>()
        .count(app.db.conn())
        .await?;
    let mut query = scoped
        .find::<membership::Entity>()
        .order_by_asc(membership::Column::Id);
    if let Some(after) = page.after {
        query = query.filter(membership::Column::Id.gt(after));
    }
    let mut rows = query.limit(page.limit + 1).all(app.db.conn()).await?;
    let has_next = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    Ok((rows, total, has_next))
}

async fn member_of<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    user_id: Uuid,
) -> ApiResult<membership::Model> {
    scoped
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user_id))
        .one(scoped.conn())
        .await?
        .ok_or(ApiError::NotFound("member"))
}

/// Checks the caller may act on `target`: not the owner, and not holding permissions the caller lacks.
async fn ensure_can_manage<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    caller: &WorkspaceAccess,
    target: &membership::Model,
    verb: &str,
) -> ApiResult<()> {
    let role = get_role(scoped, target.role_id).await?;
    if role.builtin == Some(BuiltinRole::Owner) {
        return Err(ApiError::forbidden(format!(
            "you cannot {verb} the owner; ownership must be transferred first"
        )));
    }
    if !role.permissions.is_subset_of(caller.permissions) {
        return Err(ApiError::forbidden(format!(
            "you cannot {verb} a member whose role holds permissions you do not hold"
        )));
    }
    Ok(())
}

/// Gives a member another role.
pub async fn update_member_role(
    app: &App,
    caller: &WorkspaceAccess,
    user_id: Uuid,
    role_id: Uuid,
) -> ApiResult<membership::Model> {
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(caller.workspace_id);
    let target = member_of(&scoped, user_id).await?;
    ensure_can_manage(&scoped, caller, &target, "change the role of").await?;
    let role = get_role(&scoped, role_id).await?;
    if role.builtin == Some(BuiltinRole::Owner) {
        return Err(ApiError::forbidden(
            "ownership changes only through transferOwnership",
        ));
    }
    ensure_can_grant(caller, role.permissions)?;
    let mut model: membership::ActiveModel = target.into();
    model.role_id = Set(role.id);
    model.updated_at = Set(Utc::now());
    let updated = scoped.update(model).await?;
    txn.commit().await?;
    app.access
        .invalidate_user(caller.workspace_id, user_id)
        .await?;
    Ok(updated)
}

/// Removes a member from the workspace.
pub async fn remove_member(app: &App, caller: &WorkspaceAccess, user_id: Uuid) -> ApiResult<()> {
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(caller.workspace_id);
    let target = member_of(&scoped, user_id).await?;
    ensure_can_manage(&scoped, caller, &target, "remove").await?;
    scoped
        .delete_many::<membership::Entity>()
        .filter(membership::Column::Id.eq(target.id))
        .exec(scoped.conn())
        .await?;
    txn.commit().await?;
    app.access
        .invalidate_user(caller.workspace_id, user_id)
        .await?;
    Ok(())
}

/// Signs a member out everywhere (force log-out): every session of theirs ends, on every
/// instance at once. Returns how many sessions ended.
pub async fn end_member_sessions(
    app: &App,
    caller: &WorkspaceAccess,
    user_id: Uuid,
) -> ApiResult<u64> {
    if user_id == caller.user_id {
        return Err(ApiError::bad_field(
            "userId",
            "to sign yourself out, use logout or revokeSession",
        ));
    }
    let scoped = Scoped::new(app.db.conn(), caller.workspace_id);
    let target = member_of(&scoped, user_id).await?;
    ensure_can_manage(&scoped, caller, &target, "sign out").await?;
    // Sessions are global: the workspace refuses those opened before now, and only here.
    let live = crate::identity::service::live_sessions(app.db.conn(), user_id).await?;
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = app.db.writer().await;
    scoped
        .update_many::<membership::Entity>()
        .col_expr(membership::Column::SessionsNotBefore, Utc::now().into())
        .filter(membership::Column::Id.eq(target.id))
        .exec(app.db.conn())
        .await?;
    drop(turn);
    app.access
        .invalidate_user(caller.workspace_id, user_id)
        .await?;
    Ok(live.len() as u64)
}

/// Makes another member the owner; the current owner becomes an admin.
pub async fn transfer_ownership(
    app: &App,
    caller: &WorkspaceAccess,
    user_id: Uuid,
) -> ApiResult<()> {
    if !caller.is_owner() {
        return Err(ApiError::forbidden("only the owner can transfer ownership"));
    }
    if user_id == caller.user_id {
        return Err(ApiError::bad_field(
            "userId",
            "you already own this workspace",
        ));
    }
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(caller.workspace_id);
    let target = member_of(&scoped, user_id).await?;
    let owner_role = builtin_role(&scoped, BuiltinRole::Owner).await?;
    let admin_role = builtin_role(&scoped, BuiltinRole::Admin).await?;
    let now = Utc::now();
    for (member_id, role_id) in [
        (target.id, owner_role.id),
        (caller.membership_id, admin_role.id),
    ] {
        scoped
            .update_many::<membership::Entity>()
            .col_expr(membership::Column::RoleId, role_id.into())
            .col_expr(membership::Column::UpdatedAt, now.into())
            .filter(membership::Column::Id.eq(member_id))
            .exec(scoped.conn())
            .await?;
    }
    txn.commit().await?;
    app.access
        .invalidate_user(caller.workspace_id, user_id)
        .await?;
    app.access
        .invalidate_user(caller.workspace_id, caller.user_id)
        .await?;
    Ok(())
}
