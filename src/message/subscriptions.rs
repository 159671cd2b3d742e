//! `messageAdded` and `messageUpdated`: a project's conversation, live. Each event is re-checked
//! against the subscriber's current rights ([`Watch`]).

use super::Message;
use crate::events::{DomainEvent, MessageChanged};
use crate::graphql::directives::requires;
use crate::graphql::live::project_stream;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{Context, ID, Result, Subscription};
use futures_util::Stream;

/// Conversation subscriptions.
#[derive(Debug, Default)]
pub struct MessageSubscription;

#[Subscription]
impl MessageSubscription {
    /// New messages of a project's conversation.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        messages(ctx, project_id, &["MESSAGE_ADDED"]).await
    }

    /// Edited and deleted messages of a project's conversation.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn message_updated(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        messages(ctx, project_id, &["MESSAGE_UPDATED"]).await
    }
}

async fn messages(
    ctx: &Context<'_>,
    project_id: ID,
    kinds: &'static [&'static str],
) -> Result<impl Stream<Item = Result<Message>> + use<>> {
    let project_id = parse_id("projectId", &project_id)?;
    Ok(
        project_stream(ctx, project_id, kinds, |event, _| match event {
            DomainEvent::MessageAdded(m) | DomainEvent::MessageUpdated(m) => Some(message_of(m)),
            _ => None,
        })
        .await?,
    )
}

fn message_of(m: &MessageChanged) -> Message {
    Message {
        id: ID(m.message_id.to_string()),
        project_id: ID(m.project_id.to_string()),
        body: m.deleted_at.is_none().then(|| m.body.clone()),
        created_at: m.created_at,
        edited_at: m.edited_at,
        deleted_at: m.deleted_at,
        author_id: m.author_id,
        uuid: m.message_id,
    }
}
