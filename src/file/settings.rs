//! A workspace's file rules: what clients may do, the size limit and the quota. No stored row
//! means the defaults, with limits from the configuration.

use crate::config::FilesConfig;
use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::{Permission, WorkspaceAccess};
use chrono::Utc;
use entity::file_setting;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

/// The rules in force in a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRules {
    pub clients_may_upload: bool,
    pub clients_may_delete: bool,
    pub clients_may_create_folders: bool,
    pub max_file_bytes: u64,
    pub quota_bytes: u64,
}

/// Changes to the rules; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct RulesChange {
    pub clients_may_upload: Option<bool>,
    pub clients_may_delete: Option<bool>,
    pub clients_may_create_folders: Option<bool>,
    pub max_file_bytes: Option<u64>,
    pub quota_bytes: Option<u64>,
}

fn effective(row: Option<file_setting::Model>, config: &FilesConfig) -> FileRules {
    let limit = |stored: Option<i64>, default: u64| {
        stored
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(default)
    };
    match row {
        Some(r) => FileRules {
            clients_may_upload: r.clients_may_upload,
            clients_may_delete: r.clients_may_delete,
            clients_may_create_folders: r.clients_may_create_folders,
            max_file_bytes: limit(r.max_file_bytes, config.file_max_bytes),
            quota_bytes: limit(r.quota_bytes, config.file_quota_bytes),
        },
        None => FileRules {
            clients_may_upload: true,
            clients_may_delete: false,
            clients_may_create_folders: false,
            max_file_bytes: config.file_max_bytes,
            quota_bytes: config.file_quota_bytes,
        },
    }
}

/// The rules of `workspace_id`.
pub async fn rules<C: ConnectionTrait>(
    conn: &C,
    workspace_id: Uuid,
    config: &FilesConfig,
) -> ApiResult<FileRules> {
    let row = Scoped::new(conn, workspace_id)
        .find_by_id::<file_setting::Entity>(workspace_id)
        .await?;
    Ok(effective(row, config))
}

/// Changes the rules of the caller's workspace (`workspace:manage`).
pub async fn update(
    db: &Db,
    config: &FilesConfig,
    access: &WorkspaceAccess,
    change: RulesChange,
) -> ApiResult<FileRules> {
    access.require(Permission::WorkspaceManage)?;
    for (field, value) in [
        ("maxFileBytes", change.max_file_bytes),
        ("quotaBytes", change.quota_bytes),
    ] {
        if value.is_some_and(|v| v == 0 || v > i64::MAX as u64) {
            return Err(ApiError::bad_field(field, "a positive number of bytes"));
        }
    }
    if change
        .max_file_bytes
        .is_some_and(|v| v > config.file_max_bytes)
    {
        return Err(ApiError::bad_field(
            "maxFileBytes",
            format!(
                "at most {} bytes, this installation's limit",
                config.file_max_bytes
            ),
        ));
    }
    let txn = db.begin().await?;
    let scoped = txn.scoped(access.workspace_id);
    let stored = scoped
        .find_by_id::<file_setting::Entity>(access.workspace_id)
        .await?;
    let exists = stored.is_some();
    let current = effective(stored, config);
    let bytes = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let row = file_setting::ActiveModel {
        workspace_id: Set(access.workspace_id),
        clients_may_upload: Set(change
            .clients_may_upload
            .unwrap_or(current.clients_may_upload)),
        clients_may_delete: Set(change
            .clients_may_delete
            .unwrap_or(current.clients_may_delete)),
        clients_may_create_folders: Set(change
            .clients_may_create_folders
            .unwrap_or(current.clients_may_create_folders)),
        max_file_bytes: Set(Some(bytes(
            change.max_file_bytes.unwrap_or(current.max_file_bytes),
        ))),
        quota_bytes: Set(Some(bytes(
            change.quota_bytes.unwrap_or(current.quota_bytes),
        ))),
        updated_at: Set(Utc::now()),
    };
    let saved = if exists {
        scoped.update(row).await?
    } else {
        scoped.insert(row).await?
    };
    txn.commit().await?;
    Ok(effective(Some(saved), config))
}
