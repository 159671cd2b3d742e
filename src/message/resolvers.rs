//! Message types, the `messages` query and the message mutations.

use super::service;
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::pagination::{Page, encode_cursor};
use crate::identity::User;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::message;
use uuid::Uuid;

/// A message of a project's conversation.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Message {
    /// Message ID (also its cursor).
    pub id: ID,
    /// The project whose conversation it belongs to.
    pub project_id: ID,
    /// Plain text or markdown source; `null` once deleted.
    pub body: Option<String>,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// When the author last edited it (then it shows as edited).
    pub edited_at: Option<DateTime<Utc>>,
    /// When the author deleted it.
    pub deleted_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub author_id: Uuid,
    #[graphql(skip)]
    pub uuid: Uuid,
}

impl From<message::Model> for Message {
    fn from(m: message::Model) -> Self {
        let deleted = m.deleted_at.is_some();
        Self {
            id: ID(m.id.to_string()),
            project_id: ID(m.project_id.to_string()),
            body: (!deleted).then_some(m.body),
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted_at: m.deleted_at,
            author_id: m.author_id,
            uuid: m.id,
        }
    }
}

#[ComplexObject]
impl Message {
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.author_id).await?)
    }

    /// Whether it was edited after posting.
    async fn edited(&self) -> bool {
        self.edited_at.is_some()
    }

    /// Whether the author deleted it.
    async fn deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Files attached to it (none once it is deleted).
    async fn attachments(&self, ctx: &Context<'_>) -> Result<Vec<crate::file::File>> {
        if self.deleted_at.is_some() {
            return Ok(Vec::new());
        }
        Ok(crate::file::attachments(RequestContext::of(ctx)?, self.uuid).await?)
    }
}

/// Conversation queries.
#[derive(Debug, Default)]
pub struct MessageQuery;

#[Object]
impl MessageQuery {
    /// A project's conversation, newest first. Scroll back with `before` (the cursor of the
    /// oldest message shown).
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Only messages older than this cursor.")] before: Option<String>,
    ) -> Result<Option<Connection<String, Message, EmptyFields>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let page = Page::new(first, before.as_deref())?;
        let access = rc.access().await?;
        let (rows, has_older) = service::page(rc.app.db.conn(), access, project_id, page).await?;
        let mut connection = Connection::new(page.after.is_some(), has_older);
        connection.edges.extend(
            rows.into_iter()
                .map(|m| Edge::new(encode_cursor(m.id), Message::from(m))),
        );
        Ok(Some(connection))
    }

    /// Messages of others in a project's conversation the caller has not read.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn unread_message_count(&self, ctx: &Context<'_>, project_id: ID) -> Result<Option<u64>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let access = rc.access().await?;
        crate::rbac::visibility::get_visible(rc.app.db.conn(), access, project_id).await?;
        Ok(Some(
            service::unread_count(rc.app.db.conn(), access, project_id).await?,
        ))
    }
}

/// Conversation mutations.
#[derive(Debug, Default)]
pub struct MessageMutation;

#[Object]
impl MessageMutation {
    /// Posts a message (1 to 10,000 characters) in a project's conversation.
    #[graphql(directive = requires::apply(Permission::MessageWrite))]
    async fn post_message(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        body: String,
    ) -> Result<Option<Message>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let created = service::post(&rc.app, rc.access().await?, project_id, &body).await?;
        Ok(Some(created.into()))
    }

    /// The author edits their message, within 15 minutes of posting.
    #[graphql(directive = requires::apply(Permission::MessageWrite))]
    async fn edit_message(
        &self,
        ctx: &Context<'_>,
        id: ID,
        body: String,
    ) -> Result<Option<Message>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::edit(&rc.app, rc.access().await?, id, &body)
                .await?
                .into(),
        ))
    }

    /// The author deletes their message, within 15 minutes of posting. It stays in the
    /// conversation as deleted, without its body.
    #[graphql(directive = requires::apply(Permission::MessageWrite))]
    async fn delete_message(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Message>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::delete(&rc.app, rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// Marks the conversation read up to `upTo` (default: its newest message). Read positions
    /// only move forward. Returns the unread count afterwards.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        up_to: Option<ID>,
    ) -> Result<Option<u64>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let up_to = up_to.as_ref().map(|id| parse_id("upTo", id)).transpose()?;
        let unread = service::mark_read(&rc.app, rc.access().await?, project_id, up_to).await?;
        Ok(Some(unread))
    }
}
