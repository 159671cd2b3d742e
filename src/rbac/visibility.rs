//! Which projects and members a caller may reach: the access layer's answer, asked by every
//! domain (never another domain). Staff with `project:read` see every project of the workspace,
//! others only those they are members of, and an API key only its projects when restricted.
//! Anything else answers NOT_FOUND, exactly like a missing row.

use super::{Permission, WorkspaceAccess};
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use entity::{membership, project, project_member};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter};
use uuid::Uuid;

/// Which projects `access` may see: all with `project:read`, otherwise those it is a member of.
pub fn visible(scoped: &Scoped<'_, impl ConnectionTrait>, access: &WorkspaceAccess) -> Condition {
    let restricted = |condition: Condition| match &access.projects {
        Some(only) => condition.add(project::Column::Id.is_in(only.iter().copied())),
        None => condition,
    };
    restricted(if access.has(Permission::ProjectRead) {
        Condition::all()
    } else {
        Condition::all().add(project::Column::Id.in_subquery(
            scoped.select_column::<project_member::Entity>(
                project_member::Column::ProjectId,
                Condition::all().add(project_member::Column::UserId.eq(access.user_id)),
            ),
        ))
    })
}

/// A project `access` may see; NOT_FOUND otherwise (exactly like a missing one).
pub async fn get_visible<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<project::Model> {
    let scoped = Scoped::new(conn, access.workspace_id);
    scoped
        .find::<project::Entity>()
        .filter(project::Column::Id.eq(id))
        .filter(visible(&scoped, access))
        .one(conn)
        .await?
        .ok_or(ApiError::NotFound("project"))
}

/// Checks `user_id` is a member of the workspace.
pub async fn ensure_workspace_member<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    user_id: Uuid,
) -> ApiResult<()> {
    scoped
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user_id))
        .one(scoped.conn())
        .await?
        .map(|_| ())
        .ok_or(ApiError::NotFound("member"))
}
