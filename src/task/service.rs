//! Task rules and transactions: create, edit and delete, each publishing a board event (moves are
//! in `moves`). Writes within a project are serialized by locking the project row (PostgreSQL;
//! SQLite writes are serialized anyway), and a unique index on (project, column, position) backs
//! it up.

use super::position;
use super::types::TaskColumn;
use crate::activity::{self, Entry};
use crate::app::App;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::events::{DomainEvent, TaskChanged};
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility as projects;
use crate::types::text;
use chrono::{NaiveDate, Utc};
use entity::{project, task, task_label};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

/// A task the caller may see (its project is visible to them); NOT_FOUND otherwise.
pub async fn get_visible<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<task::Model> {
    let found = Scoped::new(conn, access.workspace_id)
        .find_by_id::<task::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("task"))?;
    projects::get_visible(conn, access, found.project_id)
        .await
        .map_err(|_| ApiError::NotFound("task"))?;
    Ok(found)
}

/// Locks the project row for the rest of the transaction (PostgreSQL), so board changes of one
/// project happen one at a time; other projects are unaffected.
pub async fn lock_project<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    project_id: Uuid,
) -> ApiResult<project::Model> {
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut query = scoped
        .find::<project::Entity>()
        .filter(project::Column::Id.eq(project_id))
        .filter(projects::visible(&scoped, access));
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    query.one(conn).await?.ok_or(ApiError::NotFound("project"))
}

fn validate_labels(labels: Vec<String>) -> ApiResult<Vec<String>> {
    let mut clean: Vec<String> = labels
        .into_iter()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    clean.sort();
    clean.dedup();
    if clean.len() > 20 || clean.iter().any(|l| l.chars().count() > 50) {
        return Err(ApiError::bad_field(
            "labels",
            "at most 20 labels of up to 50 characters",
        ));
    }
    Ok(clean)
}

/// The last position in a column, if any.
async fn last_position<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    project_id: Uuid,
    column: TaskColumn,
) -> ApiResult<Option<i64>> {
    Ok(scoped
        .find::<task::Entity>()
        .filter(task::Column::ProjectId.eq(project_id))
        .filter(task::Column::BoardColumn.eq(column.as_str()))
        .order_by_desc(task::Column::Position)
        .one(scoped.conn())
        .await?
        .map(|t| t.position))
}

async fn write_labels<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    task_id: Uuid,
    labels: &[String],
) -> ApiResult<()> {
    scoped
        .delete_many::<task_label::Entity>()
        .filter(task_label::Column::TaskId.eq(task_id))
        .exec(scoped.conn())
        .await?;
    let rows = labels
        .iter()
        .map(|label| task_label::ActiveModel {
            task_id: Set(task_id),
            label: Set(label.clone()),
            workspace_id: Set(scoped.workspace_id()),
        })
        .collect();
    scoped.insert_many(rows).await.map_err(ApiError::from)
}

/// What board subscribers learn of a task after its change.
pub(crate) fn board_event(task: &task::Model) -> TaskChanged {
    TaskChanged {
        project_id: task.project_id,
        task_id: task.id,
        column: task.board_column.clone(),
        position: task.position,
    }
}

/// A new task.
#[derive(Debug, Default)]
pub struct NewTask {
    pub project_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub column: Option<TaskColumn>,
    pub assignee_id: Option<Uuid>,
    pub due_date: Option<NaiveDate>,
    pub labels: Vec<String>,
    pub blocked_by_client: bool,
    pub blocked_reason: Option<String>,
}

/// Creates a task at the bottom of its column.
pub async fn create(app: &App, access: &WorkspaceAccess, input: NewTask) -> ApiResult<task::Model> {
    let title = text::required("title", &input.title, 300)?;
    let labels = validate_labels(input.labels)?;
    let blocked_reason = text::optional("blockedReason", input.blocked_reason, 500)?;
    let column = input.column.unwrap_or(TaskColumn::Backlog);
    let txn = app.db.begin().await?;
    lock_project(&*txn, access, input.project_id).await?;
    let scoped = txn.scoped(access.workspace_id);
    if let Some(assignee) = input.assignee_id {
        projects::ensure_workspace_member(&scoped, assignee).await?;
    }
    let position = position::between(
        last_position(&scoped, input.project_id, column).await?,
        None,
    )
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("column positions exhausted")))?;
    let now = Utc::now();
    let created = scoped
        .insert(task::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            project_id: Set(input.project_id),
            title: Set(title),
            description: Set(input
                .description
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty())),
            board_column: Set(column.as_str().to_owned()),
            position: Set(position),
            assignee_id: Set(input.assignee_id),
            due_date: Set(input.due_date),
            blocked_by_client: Set(input.blocked_by_client),
            blocked_reason: Set(blocked_reason),
            origin: Set(super::TaskOrigin::Project.as_str().to_owned()),
            ticket_id: Set(None),
            created_by: Set(access.user_id),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    write_labels(&scoped, created.id, &labels).await?;
    record(
        &scoped,
        access,
        &created,
        "task.created",
        format!("Task \"{}\" created", created.title),
    )
    .await?;
    scoped.emit(DomainEvent::TaskCreated(board_event(&created)));
    txn.commit().await?;
    Ok(created)
}

/// Changes to a task; `Some(None)` clears.
#[derive(Debug, Default)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub assignee_id: Option<Option<Uuid>>,
    pub due_date: Option<Option<NaiveDate>>,
    pub labels: Option<Vec<String>>,
    pub blocked_by_client: Option<bool>,
    pub blocked_reason: Option<Option<String>>,
}

/// Edits a task (not its column or position: see [`move_task`]).
pub async fn update(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
    changes: TaskChanges,
) -> ApiResult<task::Model> {
    let txn = app.db.begin().await?;
    let current = get_visible(&*txn, access, id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let was_blocked = current.blocked_by_client;
    let mut model: task::ActiveModel = current.into();
    if let Some(title) = changes.title {
        model.title = Set(text::required("title", &title, 300)?);
    }
    if let Some(description) = changes.description {
        model.description = Set(description
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty()));
    }
    if let Some(assignee) = changes.assignee_id {
        if let Some(user) = assignee {
            projects::ensure_workspace_member(&scoped, user).await?;
        }
        model.assignee_id = Set(assignee);
    }
    if let Some(due) = changes.due_date {
        model.due_date = Set(due);
    }
    if let Some(blocked) = changes.blocked_by_client {
        model.blocked_by_client = Set(blocked);
        if !blocked {
            model.blocked_reason = Set(None);
        }
    }
    if let Some(reason) = changes.blocked_reason {
        model.blocked_reason = Set(text::optional("blockedReason", reason, 500)?);
    }
    model.updated_at = Set(Utc::now());
    let updated = scoped.update(model).await?;
    if let Some(labels) = changes.labels {
        write_labels(&scoped, id, &validate_labels(labels)?).await?;
    }
    record(
        &scoped,
        access,
        &updated,
        "task.updated",
        format!("Task \"{}\" updated", updated.title),
    )
    .await?;
    if updated.blocked_by_client && !was_blocked {
        record_blocked(&scoped, access, &updated).await?;
    }
    scoped.emit(DomainEvent::TaskUpdated(board_event(&updated)));
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a task.
pub async fn delete(app: &App, access: &WorkspaceAccess, id: Uuid) -> ApiResult<()> {
    let txn = app.db.begin().await?;
    let current = get_visible(&*txn, access, id).await?;
    let scoped = txn.scoped(access.workspace_id);
    scoped
        .delete_many::<task::Entity>()
        .filter(task::Column::Id.eq(id))
        .exec(&*txn)
        .await?;
    record(
        &scoped,
        access,
        &current,
        "task.deleted",
        format!("Task \"{}\" deleted", current.title),
    )
    .await?;
    scoped.emit(DomainEvent::TaskDeleted(board_event(&current)));
    txn.commit().await?;
    Ok(())
}

/// The timeline entry (a notifying one) of a task that now waits for the client.
pub(super) async fn record_blocked<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    access: &WorkspaceAccess,
    task: &task::Model,
) -> ApiResult<()> {
    let summary = format!("Task \"{}\" is waiting for the client", task.title);
    record(scoped, access, task, "task.blocked", summary).await
}

/// Writes the timeline entry of a task change, in the change's transaction.
pub(super) async fn record<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    access: &WorkspaceAccess,
    task: &task::Model,
    action: &'static str,
    summary: String,
) -> ApiResult<()> {
    record_as(scoped, access.user_id, task, action, summary).await
}

async fn record_as<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    task: &task::Model,
    action: &'static str,
    summary: String,
) -> ApiResult<()> {
    activity::service::record(
        scoped,
        Entry {
            project_id: task.project_id,
            actor_id,
            action,
            subject_type: "task",
            subject_id: task.id,
            summary,
            payload: json!({ "column": task.board_column, "title": task.title }),
            staff_only: false,
        },
    )
    .await
}

/// Creates the BACKLOG task of a ticket, at the bottom of the column, in the caller's
/// transaction (which holds the project lock).
pub async fn insert_from_ticket<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    ticket: &entity::ticket::Model,
) -> ApiResult<task::Model> {
    let column = TaskColumn::Backlog;
    let position = position::between(
        last_position(scoped, ticket.project_id, column).await?,
        None,
    )
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("column positions exhausted")))?;
    let now = Utc::now();
    let created = scoped
        .insert(task::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(scoped.workspace_id()),
            project_id: Set(ticket.project_id),
            title: Set(format!("#{} {}", ticket.number, ticket.title)
                .chars()
                .take(300)
                .collect()),
            description: Set(Some(ticket.description.clone())),
            board_column: Set(column.as_str().to_owned()),
            position: Set(position),
            assignee_id: Set(None),
            due_date: Set(None),
            blocked_by_client: Set(false),
            blocked_reason: Set(None),
            origin: Set(super::TaskOrigin::Ticket.as_str().to_owned()),
            ticket_id: Set(Some(ticket.id)),
            created_by: Set(actor_id),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    record_as(
        scoped,
        actor_id,
        &created,
        "task.created",
        format!("Task created from ticket #{}", ticket.number),
    )
    .await?;
    // Board subscribers hear of it once the transaction commits.
    scoped.emit(DomainEvent::TaskCreated(board_event(&created)));
    Ok(created)
}
