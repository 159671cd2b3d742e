//! `messageAdded` and `messageUpdated`: a project's conversation, live. Each event is re-checked
//! against the subscriber's current rights ([`Watch`]).

use super::Message;
use super::service::{MESSAGE_ADDED, MESSAGE_UPDATED};
use crate::graphql::directives::requires;
use crate::graphql::live::project_stream;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{Context, ID, Result, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde_json::Value;
use uuid::Uuid;

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
        messages(ctx, project_id, &[MESSAGE_ADDED]).await
    }

    /// Edited and deleted messages of a project's conversation.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn message_updated(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        messages(ctx, project_id, &[MESSAGE_UPDATED]).await
    }
}

async fn messages(
    ctx: &Context<'_>,
    project_id: ID,
    kinds: &'static [&'static str],
) -> Result<impl Stream<Item = Result<Message>> + use<>> {
    let project_id = parse_id("projectId", &project_id)?;
    Ok(project_stream(
        ctx,
        Permission::ProjectView,
        project_id,
        kinds,
        move |event, _| message_of(project_id, &event["message"]),
    )
    .await?)
}

fn message_of(project_id: Uuid, m: &Value) -> Option<Message> {
    let time = |v: &Value| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok();
    let deleted_at = time(&m["deletedAt"]);
    Some(Message {
        id: ID(m["id"].as_str()?.to_owned()),
        project_id: ID(project_id.to_string()),
        body: match deleted_at {
            Some(_) => None,
            None => Some(m["body"].as_str()?.to_owned()),
        },
        created_at: time(&m["createdAt"])?,
        edited_at: time(&m["editedAt"]),
        deleted_at,
        author_id: m["authorId"].as_str()?.parse().ok()?,
    })
}
