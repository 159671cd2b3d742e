//! Batch loads of a list's relations, in one statement per workspace: the versions of many
//! files, and the attachments of many tickets, comments or messages, so a list costs the same
//! for 1 item or 100.

use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::graphql::RequestContext;
use crate::graphql::loaders::per_workspace;
use async_graphql::dataloader::Loader;
use entity::{file, file_version};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Loads a file's versions, newest first, keyed by (workspace, file).
#[derive(Debug, Clone)]
pub struct VersionLoader {
    db: Db,
}

impl crate::graphql::loaders::RequestLoader for VersionLoader {
    fn new(db: Db) -> Self {
        Self { db }
    }
}

/// The versions of a file the caller already reached, through the request's loader.
pub async fn versions(
    rc: &RequestContext,
    workspace_id: Uuid,
    file_id: Uuid,
) -> ApiResult<Vec<file_version::Model>> {
    Ok(rc
        .loader::<VersionLoader>()
        .load_one((workspace_id, file_id))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e:#}")))?
        .unwrap_or_default())
}

impl Loader<(Uuid, Uuid)> for VersionLoader {
    type Value = Vec<file_version::Model>;
    type Error = Arc<anyhow::Error>;

    async fn load(
        &self,
        keys: &[(Uuid, Uuid)],
    ) -> Result<HashMap<(Uuid, Uuid), Self::Value>, Self::Error> {
        let db = self.db.clone();
        per_workspace(
            keys,
            "loading file versions",
            move |workspace, files| {
                let db = db.clone();
                async move {
                    Scoped::new(db.conn(), workspace)
                        .find::<file_version::Entity>()
                        .filter(file_version::Column::FileId.is_in(files))
                        .order_by_desc(file_version::Column::Number)
                        .all(db.conn())
                        .await
                }
            },
            |v| Some(v.file_id),
        )
        .await
    }
}

/// Loads the attachments of tickets, comments and messages, keyed by (workspace, target).
#[derive(Debug, Clone)]
pub struct AttachmentLoader {
    db: Db,
}

impl crate::graphql::loaders::RequestLoader for AttachmentLoader {
    fn new(db: Db) -> Self {
        Self { db }
    }
}

/// The attachments of a ticket, comment or message the caller already reached: those in zones
/// it may see, not in the trash, oldest first.
pub async fn attachments(
    rc: &RequestContext,
    target_id: Uuid,
) -> ApiResult<Vec<super::types::File>> {
    let access = rc.access().await?;
    let zones = super::rules::visible_zones(access);
    let rows = rc
        .loader::<AttachmentLoader>()
        .load_one((access.workspace_id, target_id))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e:#}")))?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter(|f| f.deleted_at.is_none() && zones.contains(&f.zone.as_str()))
        .map(super::types::File::from)
        .collect())
}

impl Loader<(Uuid, Uuid)> for AttachmentLoader {
    type Value = Vec<file::Model>;
    type Error = Arc<anyhow::Error>;

    async fn load(
        &self,
        keys: &[(Uuid, Uuid)],
    ) -> Result<HashMap<(Uuid, Uuid), Self::Value>, Self::Error> {
        let db = self.db.clone();
        per_workspace(
            keys,
            "loading attachments",
            move |workspace, targets| {
                let db = db.clone();
                async move {
                    Scoped::new(db.conn(), workspace)
                        .find::<file::Entity>()
                        .filter(file::Column::AttachedId.is_in(targets))
                        .order_by_asc(file::Column::Id)
                        .all(db.conn())
                        .await
                }
            },
            |f| f.attached_id,
        )
        .await
    }
}
