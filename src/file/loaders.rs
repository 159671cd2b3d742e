//! Batch loads of a list's relations: the versions of many files in one statement per
//! workspace, so a folder's files with their versions cost the same for 1 file or 100.

use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::graphql::RequestContext;
use async_graphql::dataloader::Loader;
use entity::file_version;
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
        let mut by_workspace: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (workspace, file) in keys {
            by_workspace.entry(*workspace).or_default().push(*file);
        }
        let mut found: HashMap<(Uuid, Uuid), Self::Value> = HashMap::new();
        for (workspace, files) in by_workspace {
            let rows = Scoped::new(self.db.conn(), workspace)
                .find::<file_version::Entity>()
                .filter(file_version::Column::FileId.is_in(files))
                .order_by_desc(file_version::Column::Number)
                .all(self.db.conn())
                .await
                .map_err(|e| Arc::new(anyhow::Error::new(e).context("loading file versions")))?;
            for row in rows {
                found.entry((workspace, row.file_id)).or_default().push(row);
            }
        }
        Ok(found)
    }
}
