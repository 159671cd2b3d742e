//! Moving a task on the board: to a column, after a task or to the top. One row is written,
//! unless the gap at the target is exhausted and the column is renumbered; moves within a project
//! serialize on the project row (PostgreSQL; SQLite writes are serialized anyway).

use super::position::{self, GAP};
use super::service::{board_event, get_visible, lock_project, record};
use super::types::TaskColumn;
use crate::app::App;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult, is_unique_violation};
use crate::events::DomainEvent;
use crate::rbac::WorkspaceAccess;
use chrono::Utc;
use entity::task;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Moves a task to `column`, right after `after` (a task of that column), or to the top.
/// Writes one row, unless the gap there is exhausted and the column is renumbered.
pub async fn move_task(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
    column: TaskColumn,
    after: Option<Uuid>,
) -> ApiResult<task::Model> {
    if after == Some(id) {
        return Err(ApiError::bad_field(
            "after",
            "a task cannot be placed after itself",
        ));
    }
    let txn = app.db.begin().await?;
    let moving = get_visible(&*txn, access, id).await?;
    lock_project(&*txn, access, moving.project_id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let in_column = || {
        scoped
            .find::<task::Entity>()
            .filter(task::Column::ProjectId.eq(moving.project_id))
            .filter(task::Column::BoardColumn.eq(column.as_str()))
            .filter(task::Column::Id.ne(id))
    };
    let prev = match after {
        None => None,
        Some(after_id) => Some(
            in_column()
                .filter(task::Column::Id.eq(after_id))
                .one(&*txn)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_field(
                        "after",
                        format!("`after` must be a task of the {} column", column.label()),
                    )
                })?
                .position,
        ),
    };
    let next_query = match prev {
        Some(p) => in_column().filter(task::Column::Position.gt(p)),
        None => in_column(),
    };
    let next = next_query
        .order_by_asc(task::Column::Position)
        .one(&*txn)
        .await?
        .map(|t| t.position);
    let position = match position::between(prev, next) {
        Some(p) => p,
        None => renumber_and_place(&scoped, &moving, column, after).await?,
    };
    let entering_waiting =
        column == TaskColumn::WaitingClient && moving.board_column != column.as_str();
    let mut model: task::ActiveModel = moving.into();
    model.board_column = Set(column.as_str().to_owned());
    model.position = Set(position);
    model.updated_at = Set(Utc::now());
    let moved = scoped.update(model).await.map_err(|err| {
        if is_unique_violation(&err) {
            ApiError::conflict("the board changed meanwhile; retry the move")
        } else {
            err.into()
        }
    })?;
    record(
        &scoped,
        access,
        &moved,
        "task.moved",
        format!("Task \"{}\" moved to {}", moved.title, column.label()),
    )
    .await?;
    if entering_waiting && !moved.blocked_by_client {
        super::service::record_blocked(&scoped, access, &moved).await?;
    }
    scoped.emit(DomainEvent::TaskMoved(board_event(&moved)));
    txn.commit().await?;
    Ok(moved)
}

/// Renumbers a column (all tasks but the moving one) with fresh gaps, and returns the moving
/// task's position right after `after` (or at the top).
async fn renumber_and_place<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    moving: &task::Model,
    column: TaskColumn,
    after: Option<Uuid>,
) -> ApiResult<i64> {
    let others = scoped
        .find::<task::Entity>()
        .filter(task::Column::ProjectId.eq(moving.project_id))
        .filter(task::Column::BoardColumn.eq(column.as_str()))
        .filter(task::Column::Id.ne(moving.id))
        .order_by_asc(task::Column::Position)
        .all(scoped.conn())
        .await?;
    let max_existing = others
        .iter()
        .map(|t| t.position)
        .chain(std::iter::once(moving.position))
        .max()
        .unwrap_or(0);
    // Leave one free slot for the moving task: right after `after`, or first.
    let slot = match after {
        None => 0,
        Some(a) => others.iter().position(|t| t.id == a).map_or(0, |i| i + 1),
    };
    let positions = position::renumbered(max_existing, others.len() + 1)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("column positions exhausted")))?;
    let mut targets = positions.iter().copied();
    let mut placed = None;
    for (i, task) in others.iter().enumerate() {
        if i == slot {
            placed = targets.next();
        }
        let target = targets.next().unwrap_or(task.position + GAP);
        scoped
            .update_many::<task::Entity>()
            .col_expr(task::Column::Position, Expr::value(target))
            .filter(task::Column::Id.eq(task.id))
            .exec(scoped.conn())
            .await?;
    }
    placed
        .or_else(|| targets.next())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no slot after renumbering")))
}
