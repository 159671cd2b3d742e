//! The `projectActivity` query and its entry type.

use super::service;
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::pagination::{Page, encode_cursor};
use crate::identity::User;
use crate::rbac::Permission;
use crate::rbac::visibility as projects;
use crate::types::parse_id;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::activity;
use uuid::Uuid;

/// One entry of a project's timeline.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct ActivityEntry {
    /// Entry ID.
    pub id: ID,
    /// Machine-readable action, e.g. `task.moved`.
    pub action: String,
    /// What it is about: `task`, `ticket`, `project`, …
    pub subject_type: String,
    /// The ID of what it is about.
    pub subject_id: ID,
    /// Human-readable, e.g. "Task moved to In progress".
    pub summary: String,
    /// Details.
    pub payload: Json<serde_json::Value>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub actor_id: Uuid,
}

impl From<activity::Model> for ActivityEntry {
    fn from(a: activity::Model) -> Self {
        Self {
            id: ID(a.id.to_string()),
            action: a.action,
            subject_type: a.subject_type,
            subject_id: ID(a.subject_id.to_string()),
            summary: a.summary,
            payload: Json(serde_json::from_str(&a.payload).unwrap_or(serde_json::Value::Null)),
            created_at: a.created_at,
            actor_id: a.actor_id,
        }
    }
}

#[ComplexObject]
impl ActivityEntry {
    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.actor_id).await?)
    }
}

/// Timeline queries.
#[derive(Debug, Default)]
pub struct ActivityQuery;

#[Object]
impl ActivityQuery {
    /// A project's timeline, newest first.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn project_activity(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last entry of the previous page (older entries follow).")]
        after: Option<String>,
    ) -> Result<Option<Connection<String, ActivityEntry, EmptyFields>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let page = Page::new(first, after.as_deref())?;
        let access = rc.access().await?;
        projects::get_visible(rc.app.db.conn(), access, project_id).await?;
        let (rows, has_next) = service::page(rc.app.db.conn(), access, project_id, page).await?;
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(
            rows.into_iter()
                .map(|a| Edge::new(encode_cursor(a.id), ActivityEntry::from(a))),
        );
        Ok(Some(connection))
    }
}
