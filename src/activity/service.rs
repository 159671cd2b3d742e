//! Writing and reading timeline entries.

use crate::db::Scoped;
use crate::error::ApiResult;
use crate::events::{ActivityRecorded, DomainEvent};
use crate::graphql::pagination::Page;
use crate::rbac::{Permission, WorkspaceAccess};
use chrono::Utc;
use entity::activity;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

/// One timeline entry to write.
#[derive(Debug, Clone)]
pub struct Entry {
    pub project_id: Uuid,
    pub actor_id: Uuid,
    /// Machine-readable action, e.g. `task.moved`.
    pub action: &'static str,
    /// `task`, `ticket`, `project`, …
    pub subject_type: &'static str,
    pub subject_id: Uuid,
    /// Human-readable, e.g. "Task moved to In progress".
    pub summary: String,
    /// A small JSON object with the details.
    pub payload: Value,
    /// Hidden from principals without `note:private`.
    pub staff_only: bool,
}

/// Writes `entry` on `conn` (pass the change's transaction).
pub async fn record<C: ConnectionTrait>(scoped: &Scoped<'_, C>, entry: Entry) -> ApiResult<()> {
    let summary: String = entry.summary.chars().take(500).collect();
    let created = scoped
        .insert(activity::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(scoped.workspace_id()),
            project_id: Set(entry.project_id),
            actor_id: Set(entry.actor_id),
            action: Set(entry.action.to_owned()),
            subject_type: Set(entry.subject_type.to_owned()),
            subject_id: Set(entry.subject_id),
            summary: Set(summary),
            payload: Set(entry.payload.to_string()),
            staff_only: Set(entry.staff_only),
            created_at: Set(Utc::now()),
        })
        .await?;
    // `projectActivity` subscribers hear of it once the change commits.
    scoped.emit(DomainEvent::Activity(ActivityRecorded {
        project_id: created.project_id,
        activity_id: created.id,
        actor_id: created.actor_id,
        action: created.action,
        subject_type: created.subject_type,
        subject_id: created.subject_id,
        summary: created.summary,
        payload: entry.payload,
        staff_only: created.staff_only,
        created_at: created.created_at,
    }));
    Ok(())
}

/// A page of a project's timeline, newest first. Staff-only entries only with `note:private`.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    project_id: Uuid,
    page: Page,
) -> ApiResult<(Vec<activity::Model>, bool)> {
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut query = scoped
        .find::<activity::Entity>()
        .filter(activity::Column::ProjectId.eq(project_id))
        .order_by_desc(activity::Column::Id);
    if !access.has(Permission::NotePrivate) {
        query = query.filter(activity::Column::StaffOnly.eq(false));
    }
    if let Some(before) = page.after {
        query = query.filter(activity::Column::Id.lt(before));
    }
    let mut rows = query.limit(page.limit + 1).all(conn).await?;
    let has_next = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    Ok((rows, has_next))
}

/// The latest entry of each project the caller may see, in one statement.
pub async fn latest(
    db: &crate::db::Db,
    access: &WorkspaceAccess,
    projects: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, activity::Model>> {
    use sea_orm::sea_query::{Expr, Order};
    let scoped = Scoped::new(db.conn(), access.workspace_id);
    let mut filter = sea_orm::Condition::all();
    if !access.has(Permission::NotePrivate) {
        filter = filter.add(activity::Column::StaffOnly.eq(false));
    }
    let rows = scoped
        .top_n_per_parent::<activity::Entity>(
            activity::Column::ProjectId,
            projects,
            vec![(Expr::col(activity::Column::Id), Order::Desc)],
            filter,
            1,
        )
        .await?;
    Ok(rows.into_iter().map(|a| (a.project_id, a)).collect())
}
