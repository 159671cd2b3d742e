//! Milestone rules and transactions.

use super::resolvers::{MilestoneKind, MilestoneStatus};
use crate::activity::{self, Entry};
use crate::app::App;
use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility as projects;
use chrono::Utc;
use entity::milestone;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// Milestones of several projects, oldest first, in one statement.
pub async fn by_projects(
    db: &Db,
    workspace_id: Uuid,
    projects: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<milestone::Model>>> {
    let rows = Scoped::new(db.conn(), workspace_id)
        .find::<milestone::Entity>()
        .filter(milestone::Column::ProjectId.is_in(projects.iter().copied()))
        .order_by_asc(milestone::Column::Id)
        .all(db.conn())
        .await?;
    let mut out: HashMap<Uuid, Vec<milestone::Model>> = HashMap::new();
    for row in rows {
        out.entry(row.project_id).or_default().push(row);
    }
    Ok(out)
}

/// Staff ask the client to validate a milestone.
pub async fn request(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
    kind: MilestoneKind,
    title: Option<&str>,
) -> ApiResult<milestone::Model> {
    let title = title
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(kind.label())
        .to_owned();
    if title.chars().count() > 200 {
        return Err(ApiError::bad_field("title", "at most 200 characters"));
    }
    let txn = app.db.begin().await?;
    projects::get_visible(&*txn, access, project_id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let created = scoped
        .insert(milestone::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            project_id: Set(project_id),
            kind: Set(kind.as_str().to_owned()),
            title: Set(title.clone()),
            status: Set(MilestoneStatus::Pending.as_str().to_owned()),
            requested_by: Set(access.user_id),
            requested_at: Set(Utc::now()),
            decided_by: Set(None),
            decided_at: Set(None),
            comment: Set(None),
        })
        .await?;
    record(
        &scoped,
        access,
        &created,
        "milestone.requested",
        format!("Validation of {title} requested"),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// The client validates or rejects a pending milestone. A decided milestone stays decided.
pub async fn decide(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
    validate: bool,
    comment: Option<&str>,
) -> ApiResult<milestone::Model> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 5_000) {
        return Err(ApiError::bad_field("comment", "at most 5000 characters"));
    }
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(access.workspace_id);
    let current = scoped
        .find_by_id::<milestone::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("milestone"))?;
    projects::get_visible(&*txn, access, current.project_id)
        .await
        .map_err(|_| ApiError::NotFound("milestone"))?;
    if access.is_staff() {
        return Err(ApiError::forbidden(
            "only the project's client validates its milestones",
        ));
    }
    if current.status != MilestoneStatus::Pending.as_str() {
        return Err(ApiError::bad_field(
            "id",
            format!(
                "\"{}\" is already {}; a new validation request is needed",
                current.title, current.status
            ),
        ));
    }
    let status = if validate {
        MilestoneStatus::Validated
    } else {
        MilestoneStatus::Rejected
    };
    // Only a still-pending row changes: a concurrent decision makes this one fail.
    let mut model: milestone::ActiveModel = current.into();
    model.status = Set(status.as_str().to_owned());
    model.decided_by = Set(Some(access.user_id));
    model.decided_at = Set(Some(Utc::now()));
    model.comment = Set(comment.map(str::to_owned));
    let updated = scoped.update(model).await?;
    let verb = if validate { "validated" } else { "rejected" };
    record(
        &scoped,
        access,
        &updated,
        "milestone.decided",
        format!("Milestone {} {verb}", updated.title),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

async fn record<C: sea_orm::ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    access: &WorkspaceAccess,
    m: &milestone::Model,
    action: &'static str,
    summary: String,
) -> ApiResult<()> {
    activity::service::record(
        scoped,
        Entry {
            project_id: m.project_id,
            actor_id: access.user_id,
            action,
            subject_type: "milestone",
            subject_id: m.id,
            summary,
            payload: json!({ "kind": m.kind, "status": m.status }),
            staff_only: false,
        },
    )
    .await
}
