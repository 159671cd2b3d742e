//! Who may do what in which zone, over the access layer's permissions. The internal zone is
//! invisible without `note:private` (it answers NOT_FOUND, like a missing row); the shared zone
//! is staff-written; the client zone is client-written when the workspace allows it.

use super::settings::FileRules;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::rbac::visibility::visible;
use crate::rbac::{Permission, WorkspaceAccess};
use async_graphql::Enum;
use entity::{file, project};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

/// Who sees and writes a folder's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "FileZone")]
pub enum Zone {
    /// Staff only: invisible to clients everywhere (lists, counts, events, the timeline).
    Internal,
    /// Written by staff, read by clients.
    Shared,
    /// Written by clients (when the workspace allows it) and staff.
    Client,
}

impl Zone {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "INTERNAL",
            Self::Shared => "SHARED",
            Self::Client => "CLIENT",
        }
    }

    /// A stored zone; anything unknown is treated as internal (deny by default).
    pub fn parse(stored: &str) -> Self {
        match stored {
            "SHARED" => Self::Shared,
            "CLIENT" => Self::Client,
            _ => Self::Internal,
        }
    }
}

/// Whether `access` may see the internal zone.
pub fn sees_internal(access: &WorkspaceAccess) -> bool {
    access.has(Permission::NotePrivate)
}

/// The stored zones `access` may see.
pub fn visible_zones(access: &WorkspaceAccess) -> Vec<&'static str> {
    let mut zones = vec![Zone::Shared.as_str(), Zone::Client.as_str()];
    if sees_internal(access) {
        zones.push(Zone::Internal.as_str());
    }
    zones
}

/// Rows `access` may see by their `project` column: in a project it may see.
pub fn in_visible_project<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    access: &WorkspaceAccess,
    project: impl ColumnTrait,
) -> Condition {
    Condition::all().add(project.in_subquery(
        scoped.select_column::<project::Entity>(project::Column::Id, visible(scoped, access)),
    ))
}

/// Rows `access` may see by their `project` and `zone` columns (folders, files).
pub fn in_visible_zone<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    access: &WorkspaceAccess,
    project: impl ColumnTrait,
    zone: impl ColumnTrait,
) -> Condition {
    in_visible_project(scoped, access, project).add(zone.is_in(visible_zones(access)))
}

/// Staff who manage files: `file:write` and staff.
pub fn is_file_staff(access: &WorkspaceAccess) -> bool {
    access.has(Permission::FileWrite) && access.is_staff()
}

/// Staff only (moving, renaming, the trash).
pub fn require_staff(access: &WorkspaceAccess) -> ApiResult<()> {
    access.require(Permission::FileWrite)?;
    if access.is_staff() {
        Ok(())
    } else {
        Err(ApiError::forbidden("only staff manage files this way"))
    }
}

/// Uploading into a zone.
pub fn may_upload(access: &WorkspaceAccess, zone: Zone, rules: &FileRules) -> ApiResult<()> {
    access.require(Permission::FileWrite)?;
    match zone {
        _ if access.is_staff() => Ok(()),
        Zone::Client if rules.clients_may_upload => Ok(()),
        Zone::Client => Err(ApiError::forbidden(
            "this workspace does not let clients upload files",
        )),
        _ => Err(ApiError::forbidden(
            "clients upload into their own zone only",
        )),
    }
}

/// Creating a subfolder in a zone.
pub fn may_create_folder(access: &WorkspaceAccess, zone: Zone, rules: &FileRules) -> ApiResult<()> {
    access.require(Permission::FileWrite)?;
    match zone {
        _ if access.is_staff() => Ok(()),
        Zone::Client if rules.clients_may_create_folders => Ok(()),
        _ => Err(ApiError::forbidden(
            "this workspace does not let clients create folders here",
        )),
    }
}

/// Moving a file to the trash: staff, or a client their own upload in their zone when allowed.
pub fn may_delete(access: &WorkspaceAccess, row: &file::Model, rules: &FileRules) -> ApiResult<()> {
    access.require(Permission::FileWrite)?;
    let own_client_upload =
        Zone::parse(&row.zone) == Zone::Client && row.uploaded_by == access.user_id;
    if access.is_staff() || (own_client_upload && rules.clients_may_delete) {
        Ok(())
    } else {
        Err(ApiError::forbidden("you may not delete this file"))
    }
}
