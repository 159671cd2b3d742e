//! Batch-loads users by ID (users are global; who may see which user is decided by the
//! tenant-scoped rows that point at them).

use crate::db::{Db, Global};
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

impl UserLoader {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
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
