//! The DataLoaders of one request. They are built per request (never stored in schema data, where
//! their cache would be shared across requests and tenants), and tenant-owned keys carry the
//! workspace.

use crate::app::AppState;
use crate::identity::UserLoader;
use crate::workspace::RoleLoader;
use async_graphql::dataloader::DataLoader;

/// One request's loaders.
#[allow(missing_debug_implementations)]
pub struct Loaders {
    /// Users by ID.
    pub users: DataLoader<UserLoader>,
    /// Roles by (workspace, role ID), with their permissions.
    pub roles: DataLoader<RoleLoader>,
}

impl Loaders {
    pub fn new(app: &AppState) -> Self {
        Self {
            users: DataLoader::new(UserLoader::new(app.db.clone()), tokio::spawn),
            roles: DataLoader::new(RoleLoader::new(app.db.clone()), tokio::spawn),
        }
    }
}
