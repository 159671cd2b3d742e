//! `notificationAdded`: the caller's new notifications in the selected workspace, live, on their
//! own channel. Each event is re-checked against the subscriber's current rights ([`Watch`]:
//! token, membership, role); a staff-only notification also needs `note:private` at that moment.
//!
//! [`Watch`]: crate::graphql::live::Watch

use super::types::{Notification, NotificationKind};
use crate::events::{DomainEvent, NotificationAdded};
use crate::graphql::directives::requires;
use crate::graphql::live::user_stream;
use crate::rbac::{Permission, WorkspaceAccess};
use async_graphql::{Context, ID, Result, Subscription};
use futures_util::Stream;

/// Notification subscriptions.
#[derive(Debug, Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// Each new notification of the caller in the selected workspace, as it is written.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Notification>> + use<>> {
        Ok(user_stream(ctx, &["NOTIFICATION_ADDED"], notification_of).await?)
    }
}

fn notification_of(event: &DomainEvent, access: &WorkspaceAccess) -> Option<Notification> {
    let DomainEvent::NotificationAdded(n) = event else {
        return None;
    };
    if n.user_id != access.user_id || (n.staff_only && !access.has(Permission::NotePrivate)) {
        return None;
    }
    Some(from_event(n))
}

fn from_event(n: &NotificationAdded) -> Notification {
    Notification {
        id: ID(n.notification_id.to_string()),
        kind: NotificationKind::parse(&n.kind),
        project_id: ID(n.project_id.to_string()),
        subject_id: n.subject_id.map(|id| ID(id.to_string())),
        summary: n.summary.clone(),
        created_at: n.created_at,
        read_at: None,
        actor_id: n.actor_id,
    }
}
