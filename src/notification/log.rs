//! The email log of a workspace, for its admins: every email queued for its people, newest first,
//! with its status, attempts, the server's answer and the last error.

use crate::db::Scoped;
use crate::error::ApiResult;
use crate::graphql::pagination::{Direction, Page, fetch};
use crate::rbac::WorkspaceAccess;
use entity::email_delivery;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

/// A page of the workspace's emails, newest first, optionally of one status.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    status: Option<&str>,
    page: Page,
) -> ApiResult<(Vec<email_delivery::Model>, u64, bool)> {
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut query = scoped.find::<email_delivery::Entity>();
    if let Some(status) = status {
        query = query.filter(email_delivery::Column::Status.eq(status));
    }
    fetch(
        conn,
        query,
        email_delivery::Column::Id,
        Direction::Backward,
        page,
    )
    .await
}
