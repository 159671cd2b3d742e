//! Batch-loads users by ID (users are global; who may see which user is decided by the
//! tenant-scoped rows that point at them), for every domain that shows people.

use crate::db::{Db, Global};
use crate::error::{ApiError, ApiResult};
use crate::graphql::RequestContext;
use crate::identity::User;
use async_graphql::dataloader::Loader;
use entity::user;
use sea_orm::{ColumnTrait, QueryFilter};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Loads [`User`]s.
#[derive(Debug, Clone)]
pub struct UserLoader {
    db: Db,
}

impl crate::graphql::loaders::RequestLoader for UserLoader {
    fn new(db: Db) -> Self {
        Self { db }
    }
}

/// A user by ID through the request's loader (for `author`, `actor`, `decidedBy`, …).
pub async fn load_user(rc: &RequestContext, id: Uuid) -> ApiResult<Option<User>> {
    rc.loader::<UserLoader>()
        .load_one(id)
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e:#}")))
}

/// Users by ID through the request's loader, in the order of `ids` (missing ones left out).
pub async fn load_users(rc: &RequestContext, ids: &[Uuid]) -> ApiResult<Vec<User>> {
    let found = rc
        .loader::<UserLoader>()
        .load_many(ids.iter().copied())
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e:#}")))?;
    Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
}

impl Loader<Uuid> for UserLoader {
    type Value = User;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, User>, Self::Error> {
        let rows = Global::new(self.db.conn())
            .find::<user::Entity>()
            .filter(user::Column::Id.is_in(keys.iter().copied()))
            .all(self.db.conn())
            .await
            .map_err(|e| Arc::new(anyhow::Error::new(e).context("loading users")))?;
        Ok(rows.into_iter().map(|u| (u.id, User::from(u))).collect())
    }
}
