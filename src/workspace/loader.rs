//! Batch-loads roles (with their permissions) by `(workspace, role)`: two statements per batch,
//! one per workspace in the batch, each through the tenant scope.

use super::roles::load_roles;
use super::types::RoleView;
use crate::db::{Db, Scoped};
use async_graphql::dataloader::Loader;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// Loads [`RoleView`]s.
#[derive(Debug, Clone)]
pub struct RoleLoader {
    db: Db,
}

impl crate::graphql::loaders::RequestLoader for RoleLoader {
    fn new(db: Db) -> Self {
        Self { db }
    }
}

impl Loader<(Uuid, Uuid)> for RoleLoader {
    type Value = RoleView;
    type Error = Arc<anyhow::Error>;

    async fn load(
        &self,
        keys: &[(Uuid, Uuid)],
    ) -> Result<HashMap<(Uuid, Uuid), RoleView>, Self::Error> {
        let mut by_workspace: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        for (workspace_id, role_id) in keys {
            by_workspace
                .entry(*workspace_id)
                .or_default()
                .push(*role_id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (workspace_id, ids) in by_workspace {
            let scoped = Scoped::new(self.db.conn(), workspace_id);
            let roles = load_roles(&scoped, Some(&ids))
                .await
                .map_err(|e| Arc::new(e.into_anyhow().context("loading roles")))?;
            out.extend(roles.into_iter().map(|r| ((workspace_id, r.id), r)));
        }
        Ok(out)
    }
}
