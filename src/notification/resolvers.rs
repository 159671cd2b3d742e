//! The notification center's queries and mutations. Thin: parse arguments, call the inbox,
//! map the result. Signed-in people only: an API key has no inbox.

use super::types::{
    DeliveryMode, EmailDelivery, EmailStatus, Notification, NotificationChannel, NotificationKind,
    NotificationPreference,
};
use super::{inbox, log, preferences};
use crate::error::ApiError;
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::pagination::{ConnectionFields, Page, connection};
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, Result};

/// Most IDs one `markNotificationsRead` takes.
const MAX_IDS: usize = 100;

/// Notification queries.
#[derive(Debug, Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The caller's notifications in the selected workspace, newest first; those of projects
    /// they no longer see drop out.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last notification of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Only those not read yet.", default = false)] unread_only: bool,
    ) -> Result<Option<Connection<String, Notification, ConnectionFields>>> {
        let rc = RequestContext::of(ctx)?;
        rc.user()?;
        let page = Page::new(first, after.as_deref())?;
        let (rows, total, has_next) =
            inbox::list(rc.app.db.conn(), rc.access().await?, unread_only, page).await?;
        Ok(Some(connection(
            page,
            total,
            has_next,
            rows.into_iter().map(|n| (n.id, Notification::from(n))),
        )))
    }

    /// The workspace's email log, newest first: what was queued for whom, and how it went.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn email_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last email of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only emails in this status.")] status: Option<EmailStatus>,
    ) -> Result<Option<Connection<String, EmailDelivery, ConnectionFields>>> {
        let rc = RequestContext::of(ctx)?;
        let page = Page::new(first, after.as_deref())?;
        let status = status.map(EmailStatus::as_str);
        let (rows, total, has_next) =
            log::list(rc.app.db.conn(), rc.access().await?, status, page).await?;
        Ok(Some(connection(
            page,
            total,
            has_next,
            rows.into_iter().map(|e| (e.id, EmailDelivery::from(e))),
        )))
    }

    /// How the caller hears of each kind of event on each channel in the selected workspace.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn notification_preferences(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<NotificationPreference>>> {
        let rc = RequestContext::of(ctx)?;
        rc.user()?;
        let all = preferences::all(rc.app.db.conn(), rc.access().await?).await?;
        Ok(Some(
            all.into_iter()
                .map(|(kind, channel, mode)| NotificationPreference::new(kind, channel, &mode))
                .collect(),
        ))
    }

    /// How many of the caller's notifications in the selected workspace are unread.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        let rc = RequestContext::of(ctx)?;
        rc.user()?;
        let count = inbox::unread_count(rc.app.db.conn(), rc.access().await?).await?;
        Ok(Some(int(count)))
    }
}

/// Notification mutations.
#[derive(Debug, Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks some of the caller's notifications read (at most 100 IDs); answers how many were
    /// unread. IDs that are not the caller's change nothing.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> Result<Option<i32>> {
        let rc = RequestContext::of(ctx)?;
        rc.user()?;
        if ids.len() > MAX_IDS {
            return Err(ApiError::bad_field("ids", "at most 100 IDs at once").into());
        }
        let ids = ids
            .iter()
            .map(|id| parse_id("ids", id))
            .collect::<Result<Vec<_>, _>>()?;
        let marked = inbox::mark_read(&rc.app.db, rc.access().await?, Some(ids)).await?;
        Ok(Some(int(marked)))
    }

    /// Sets how the caller hears of one kind of event on one channel in the selected workspace.
    /// Payment receipts by email stay `ALWAYS`; in the portal a notification is `ALWAYS` or
    /// `NEVER` shown (BAD_USER_INPUT otherwise); `DAILY_DIGEST` is for email.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn set_notification_preference(
        &self,
        ctx: &Context<'_>,
        kind: NotificationKind,
        channel: NotificationChannel,
        mode: DeliveryMode,
    ) -> Result<Option<NotificationPreference>> {
        let rc = RequestContext::of(ctx)?;
        rc.user()?;
        let Some(action) = kind.as_action() else {
            return Err(
                ApiError::bad_field("kind", "not a kind of notification one can set").into(),
            );
        };
        let (channel, mode) = (channel.as_str(), mode.as_str());
        preferences::set(&rc.app.db, rc.access().await?, action, channel, mode).await?;
        Ok(Some(NotificationPreference::new(action, channel, mode)))
    }

    /// Marks every notification of the caller in the selected workspace read; answers how many
    /// were unread.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn mark_all_notifications_read(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        let rc = RequestContext::of(ctx)?;
        rc.user()?;
        let marked = inbox::mark_read(&rc.app.db, rc.access().await?, None).await?;
        Ok(Some(int(marked)))
    }
}

/// A count as a GraphQL `Int` (32-bit), saturating.
fn int(count: u64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}
