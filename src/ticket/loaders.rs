//! Batch loads of a ticket list's relations: the threads of many tickets in one statement per
//! workspace, so a page of tickets with their comments costs the same for 2 tickets or 50.

use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::graphql::RequestContext;
use crate::graphql::loaders::{RequestLoader, per_workspace};
use async_graphql::dataloader::Loader;
use entity::ticket_comment;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Loads the comments of tickets, oldest first, keyed by (workspace, ticket). Internal ones are
/// loaded too; [`thread`] keeps them for holders of `note:private` only.
#[derive(Debug, Clone)]
pub struct CommentLoader {
    db: Db,
}

impl RequestLoader for CommentLoader {
    fn new(db: Db) -> Self {
        Self { db }
    }
}

/// The thread of a ticket the caller already reached: internal comments only with
/// `note:private`.
pub async fn thread(rc: &RequestContext, ticket_id: Uuid) -> ApiResult<Vec<ticket_comment::Model>> {
    let access = rc.access().await?;
    let internal = super::types::sees_internal(access.permissions);
    let rows = rc
        .loader::<CommentLoader>()
        .load_one((access.workspace_id, ticket_id))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e:#}")))?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter(|c| internal || !c.internal)
        .collect())
}

impl Loader<(Uuid, Uuid)> for CommentLoader {
    type Value = Vec<ticket_comment::Model>;
    type Error = Arc<anyhow::Error>;

    async fn load(
        &self,
        keys: &[(Uuid, Uuid)],
    ) -> Result<HashMap<(Uuid, Uuid), Self::Value>, Self::Error> {
        let db = self.db.clone();
        per_workspace(
            keys,
            "loading ticket comments",
            move |workspace, tickets| {
                let db = db.clone();
                async move {
                    Scoped::new(db.conn(), workspace)
                        .find::<ticket_comment::Entity>()
                        .filter(ticket_comment::Column::TicketId.is_in(tickets))
                        .order_by_asc(ticket_comment::Column::Id)
                        .all(db.conn())
                        .await
                }
            },
            |c| Some(c.ticket_id),
        )
        .await
    }
}
