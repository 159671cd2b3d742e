//! Project rules: creation with the default phases, edits, and project membership (visibility is
//! the access layer's, `rbac::visibility`, re-exported here).

use super::types::ProjectStatus;
use crate::app::App;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::graphql::pagination::Page;
use crate::rbac::WorkspaceAccess;
use crate::types::text;
use chrono::{NaiveDate, Utc};
use entity::{project, project_member, project_phase};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

pub use crate::rbac::visibility::{ensure_workspace_member, get_visible, visible};

/// The phases every new project starts with.
pub const DEFAULT_PHASES: [&str; 4] = ["Design", "Development", "Review", "Delivery"];

/// Filters of the projects list.
#[derive(Debug, Default, Clone)]
pub struct ProjectFilter {
    pub status: Option<ProjectStatus>,
    pub search: Option<String>,
}

/// A page of visible projects, by creation, with the total when `with_total`.
pub async fn list(
    app: &App,
    access: &WorkspaceAccess,
    page: Page,
    filter: ProjectFilter,
    with_total: bool,
) -> ApiResult<(Vec<project::Model>, u64, bool)> {
    let conn = app.db.conn();
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut condition = visible(&scoped, access);
    if let Some(status) = filter.status {
        condition = condition.add(project::Column::Status.eq(status.as_str()));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        condition = condition.add(crate::db::contains_ci(project::Column::Name, search));
    }
    let total = if with_total {
        scoped
            .find::<project::Entity>()
            .filter(condition.clone())
            .count(conn)
            .await?
    } else {
        0
    };
    let mut query = scoped
        .find::<project::Entity>()
        .filter(condition)
        .order_by_asc(project::Column::Id);
    if let Some(after) = page.after {
        query = query.filter(project::Column::Id.gt(after));
    }
    let mut rows = query.limit(page.limit + 1).all(conn).await?;
    let has_next = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    Ok((rows, total, has_next))
}

/// New project input.
#[derive(Debug, Default)]
pub struct NewProject {
    pub name: String,
    pub description: Option<String>,
    pub estimated_delivery: Option<NaiveDate>,
    /// Phases, in order; the default timeline when `None`.
    pub phases: Option<Vec<String>>,
    /// Workspace members to add to the project (clients see only their projects).
    pub member_ids: Vec<Uuid>,
}

/// Creates a project with its phases (the first one current) and members.
pub async fn create(
    app: &App,
    access: &WorkspaceAccess,
    input: NewProject,
) -> ApiResult<project::Model> {
    let name = text::required("name", &input.name, 200)?;
    let description = text::optional("description", input.description, 10_000)?;
    let phases: Vec<String> = match input.phases {
        Some(p) => p.into_iter().map(|n| n.trim().to_owned()).collect(),
        None => DEFAULT_PHASES.iter().map(|s| (*s).to_owned()).collect(),
    };
    if phases.is_empty()
        || phases.len() > 20
        || phases
            .iter()
            .any(|p| p.is_empty() || p.chars().count() > 100)
    {
        return Err(ApiError::bad_field(
            "phases",
            "1 to 20 phases of 1 to 100 characters",
        ));
    }
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(access.workspace_id);
    let now = Utc::now();
    let id = Uuid::now_v7();
    let phase_ids: Vec<Uuid> = phases.iter().map(|_| Uuid::now_v7()).collect();
    let created = scoped
        .insert(project::ActiveModel {
            id: Set(id),
            workspace_id: Set(access.workspace_id),
            name: Set(name),
            description: Set(description),
            status: Set(ProjectStatus::InProgress.as_str().to_owned()),
            progress_override: Set(None),
            next_step: Set(None),
            client_action: Set(None),
            current_phase_id: Set(phase_ids.first().copied()),
            next_ticket_number: Set(1),
            estimated_delivery: Set(input.estimated_delivery),
            created_by: Set(access.user_id),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    let rows = phases
        .into_iter()
        .zip(phase_ids)
        .enumerate()
        .map(|(position, (name, phase_id))| project_phase::ActiveModel {
            id: Set(phase_id),
            workspace_id: Set(access.workspace_id),
            project_id: Set(id),
            name: Set(name),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        })
        .collect();
    scoped.insert_many(rows).await?;
    for user_id in input.member_ids {
        add_member_in(&scoped, id, user_id).await?;
    }
    crate::file::folders::create_standard(&scoped, id).await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes to a project; `Some(None)` clears an optional field.
#[derive(Debug, Default)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<ProjectStatus>,
    pub progress: Option<Option<i32>>,
    pub next_step: Option<Option<String>>,
    pub client_action: Option<Option<String>>,
    pub estimated_delivery: Option<Option<NaiveDate>>,
    pub current_phase_id: Option<Uuid>,
}

/// Edits a project.
pub async fn update(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
    changes: ProjectChanges,
) -> ApiResult<project::Model> {
    let txn = app.db.begin().await?;
    let current = get_visible(&*txn, access, id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let previous_status = current.status.clone();
    let mut model: project::ActiveModel = current.into();
    if let Some(name) = changes.name {
        model.name = Set(text::required("name", &name, 200)?);
    }
    if let Some(v) = changes.description {
        model.description = Set(text::optional("description", v, 10_000)?);
    }
    if let Some(status) = changes.status {
        model.status = Set(status.as_str().to_owned());
    }
    if let Some(progress) = changes.progress {
        let checked = match progress {
            Some(p) if (0..=100).contains(&p) => Some(i16::try_from(p).unwrap_or(100)),
            Some(_) => {
                return Err(ApiError::bad_field(
                    "progress",
                    "progress is between 0 and 100",
                ));
            }
            None => None,
        };
        model.progress_override = Set(checked);
    }
    if let Some(v) = changes.next_step {
        model.next_step = Set(text::optional("nextStep", v, 500)?);
    }
    if let Some(v) = changes.client_action {
        model.client_action = Set(text::optional("clientAction", v, 500)?);
    }
    if let Some(v) = changes.estimated_delivery {
        model.estimated_delivery = Set(v);
    }
    if let Some(phase_id) = changes.current_phase_id {
        let phase = scoped
            .find_by_id::<project_phase::Entity>(phase_id)
            .await?
            .filter(|p| p.project_id == id)
            .ok_or(ApiError::NotFound("phase"))?;
        model.current_phase_id = Set(Some(phase.id));
    }
    model.updated_at = Set(Utc::now());
    let updated = scoped.update(model).await?;
    if updated.status != previous_status {
        // Everyone on the project hears of it (a notifying timeline entry).
        let label = ProjectStatus::parse(&updated.status).label();
        crate::activity::service::record(
            &scoped,
            crate::activity::Entry {
                project_id: updated.id,
                actor_id: access.user_id,
                action: "project.status_changed",
                subject_type: "project",
                subject_id: updated.id,
                summary: format!("Project status: {label}"),
                payload: serde_json::json!({ "from": previous_status, "to": updated.status }),
                staff_only: false,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(updated)
}

async fn add_member_in<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    project_id: Uuid,
    user_id: Uuid,
) -> ApiResult<()> {
    ensure_workspace_member(scoped, user_id).await?;
    let exists = scoped
        .find::<project_member::Entity>()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .filter(project_member::Column::UserId.eq(user_id))
        .one(scoped.conn())
        .await?;
    if exists.is_none() {
        scoped
            .insert(project_member::ActiveModel {
                id: Set(Uuid::now_v7()),
                workspace_id: Set(scoped.workspace_id()),
                project_id: Set(project_id),
                user_id: Set(user_id),
                created_at: Set(Utc::now()),
            })
            .await?;
    }
    Ok(())
}

/// Adds a workspace member to a project (idempotent).
pub async fn add_member(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
    user_id: Uuid,
) -> ApiResult<project::Model> {
    let txn = app.db.begin().await?;
    let project = get_visible(&*txn, access, project_id).await?;
    add_member_in(&txn.scoped(access.workspace_id), project_id, user_id).await?;
    txn.commit().await?;
    Ok(project)
}

/// Removes someone from a project.
pub async fn remove_member(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
    user_id: Uuid,
) -> ApiResult<project::Model> {
    let txn = app.db.begin().await?;
    let project = get_visible(&*txn, access, project_id).await?;
    let removed = txn
        .scoped(access.workspace_id)
        .delete_many::<project_member::Entity>()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .filter(project_member::Column::UserId.eq(user_id))
        .exec(&*txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(ApiError::NotFound("project member"));
    }
    txn.commit().await?;
    // Their subscriptions to this project stop at the next event.
    app.access.announce().await?;
    Ok(project)
}

/// The user IDs of a project's members.
pub async fn member_ids(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
) -> ApiResult<Vec<Uuid>> {
    let scoped = Scoped::new(app.db.conn(), access.workspace_id);
    Ok(scoped
        .find::<project_member::Entity>()
        .filter(project_member::Column::ProjectId.eq(project_id))
        .order_by_asc(project_member::Column::CreatedAt)
        .all(app.db.conn())
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect())
}
