//! Who may be told about something that happened in a project: the access layer's answer for
//! notifications, asked when an event fans out and again when each email is sent (someone who
//! lost access in between gets nothing). The audience is the project's members and the staff
//! whose role sees every project (`project:read`); each must still be an active member who may
//! see the project, not held back by a missing MFA, and, for a staff-only event, hold
//! `note:private`.

use super::{Permission, WorkspaceAccess, access, visibility};
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use entity::{membership, project_member};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use std::collections::BTreeSet;
use uuid::Uuid;

/// What is being told: a project's event, staff-only or not.
#[derive(Debug, Clone, Copy)]
pub struct Told {
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    pub staff_only: bool,
}

/// Everyone who may be told, but `except` (the person who did it).
pub async fn audience<C: ConnectionTrait>(
    conn: &C,
    told: Told,
    except: Option<Uuid>,
) -> ApiResult<Vec<WorkspaceAccess>> {
    let scoped = Scoped::new(conn, told.workspace_id);
    let mut candidates: BTreeSet<Uuid> = scoped
        .find::<project_member::Entity>()
        .filter(project_member::Column::ProjectId.eq(told.project_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let members = scoped.find::<membership::Entity>().all(conn).await?;
    let mut seeing_all = BTreeSet::new();
    for role_id in members.iter().map(|m| m.role_id).collect::<BTreeSet<_>>() {
        let role = scoped
            .find_by_id::<entity::role::Entity>(role_id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("role {role_id} is missing")))?;
        if access::role_permissions(&scoped, &role)
            .await?
            .contains(Permission::ProjectRead)
        {
            seeing_all.insert(role_id);
        }
    }
    candidates.extend(
        members
            .iter()
            .filter(|m| seeing_all.contains(&m.role_id))
            .map(|m| m.user_id),
    );
    let mut told_ones = Vec::new();
    for user_id in candidates {
        if Some(user_id) == except {
            continue;
        }
        if let Some(access) = may_be_told(conn, told, user_id).await? {
            told_ones.push(access);
        }
    }
    Ok(told_ones)
}

/// `user_id`'s access when they may be told, `None` otherwise.
pub async fn may_be_told<C: ConnectionTrait>(
    conn: &C,
    told: Told,
    user_id: Uuid,
) -> ApiResult<Option<WorkspaceAccess>> {
    let Some(access) = access::load(conn, told.workspace_id, user_id).await? else {
        return Ok(None);
    };
    if !access.user_active || access.mfa_missing {
        return Ok(None);
    }
    if told.staff_only && !access.has(Permission::NotePrivate) {
        return Ok(None);
    }
    match visibility::get_visible(conn, &access, told.project_id).await {
        Ok(_) => Ok(Some(access)),
        Err(ApiError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
