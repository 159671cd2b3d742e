//! The notification center's reads and writes: a person's own notifications in the selected
//! workspace, newest first, re-authorized at read time (a project they no longer see, or a
//! staff-only notification once they lost `note:private`, drops out of the list and the count).

use crate::db::{Db, Scoped};
use crate::error::ApiResult;
use crate::graphql::pagination::{Direction, Page, fetch};
use crate::rbac::visibility::visible;
use crate::rbac::{Permission, WorkspaceAccess};
use chrono::Utc;
use entity::{notification, project};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// The caller's notifications they may still see.
fn mine(scoped: &Scoped<'_, impl ConnectionTrait>, access: &WorkspaceAccess) -> Condition {
    let mut condition = Condition::all()
        .add(notification::Column::UserId.eq(access.user_id))
        .add(notification::Column::ProjectId.in_subquery(
            scoped.select_column::<project::Entity>(project::Column::Id, visible(scoped, access)),
        ));
    if !access.has(Permission::NotePrivate) {
        condition = condition.add(notification::Column::StaffOnly.eq(false));
    }
    condition
}

/// A page of the caller's notifications, newest first: (rows, total, has next).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    unread_only: bool,
    page: Page,
) -> ApiResult<(Vec<notification::Model>, u64, bool)> {
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut condition = mine(&scoped, access);
    if unread_only {
        condition = condition.add(notification::Column::ReadAt.is_null());
    }
    let query = scoped.find::<notification::Entity>().filter(condition);
    fetch(
        conn,
        query,
        notification::Column::Id,
        Direction::Backward,
        page,
    )
    .await
}

/// How many of the caller's notifications are unread.
pub async fn unread_count<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
) -> ApiResult<u64> {
    let scoped = Scoped::new(conn, access.workspace_id);
    Ok(scoped
        .find::<notification::Entity>()
        .filter(mine(&scoped, access))
        .filter(notification::Column::ReadAt.is_null())
        .count(conn)
        .await?)
}

/// Marks the caller's unread notifications among `ids` (all of them when `None`) read; returns
/// how many changed. Someone else's IDs change nothing.
pub async fn mark_read(
    db: &Db,
    access: &WorkspaceAccess,
    ids: Option<Vec<Uuid>>,
) -> ApiResult<u64> {
    let conn = db.conn();
    let scoped = Scoped::new(conn, access.workspace_id);
    // SQLite's one writer at a time (see `Db::writer`).
    let _turn = db.writer().await;
    let mut update = scoped
        .update_many::<notification::Entity>()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::UserId.eq(access.user_id))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(notification::Column::Id.is_in(ids));
    }
    Ok(update.exec(conn).await?.rows_affected)
}
