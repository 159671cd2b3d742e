//! The DataLoaders of one request, for relations reached one object at a time (a member's user, a
//! role). They are built per request (never stored in schema data, where their cache would be
//! shared across requests and tenants), cache per request, and tenant-owned keys carry the
//! workspace. Relations of lists use `graphql::batch`, which batches deterministically.

use crate::app::AppState;
use crate::identity::UserLoader;
use crate::workspace::RoleLoader;
use async_graphql::dataloader::{DataLoader, HashMapCache};

/// One request's loaders.
#[allow(missing_debug_implementations)]
pub struct Loaders {
    /// Users by ID.
    pub users: DataLoader<UserLoader, HashMapCache>,
    /// Roles by (workspace, role ID), with their permissions.
    pub roles: DataLoader<RoleLoader, HashMapCache>,
}

impl Loaders {
    pub fn new(app: &AppState) -> Self {
        Self {
            users: DataLoader::with_cache(
                UserLoader::new(app.db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            roles: DataLoader::with_cache(
                RoleLoader::new(app.db.clone()),
                tokio::spawn,
                HashMapCache::default(),
            ),
        }
    }

    /// Loaders of a websocket connection: they still batch, but keep nothing between loads, since
    /// the connection lives for hours (a cache would serve an author's old name to every later
    /// event, and grow with every key it ever saw).
    pub fn for_connection(app: &AppState) -> Self {
        let loaders = Self::new(app);
        loaders.users.enable_all_cache(false);
        loaders.roles.enable_all_cache(false);
        loaders
    }
}
