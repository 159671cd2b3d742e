//! GraphQL types of the notification center, built from entity models.

use super::preferences;
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::identity::User;
use crate::rbac::Permission;
use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{email_delivery, notification};
use uuid::Uuid;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NotificationKind {
    /// A new ticket.
    TicketCreated,
    /// A comment on a ticket (internal ones reach staff only).
    TicketCommented,
    /// A ticket changed status (a quote sent, accepted, done, …).
    TicketStatusChanged,
    /// A payment was requested.
    PaymentRequested,
    /// A payment was received.
    PaymentPaid,
    /// A milestone awaits the client's validation.
    MilestoneRequested,
    /// A milestone was validated or refused.
    MilestoneDecided,
    /// A file was uploaded.
    FileUploaded,
    /// A file got a new version.
    FileVersionAdded,
    /// A message was posted.
    MessageAdded,
    /// A task waits for the client.
    TaskBlocked,
    /// The project's status changed.
    ProjectStatusChanged,
    /// Anything else.
    Other,
}

impl NotificationKind {
    /// The event's action, for the kinds one can set preferences for.
    pub(super) fn as_action(self) -> Option<&'static str> {
        Some(match self {
            Self::TicketCreated => "ticket.created",
            Self::TicketCommented => "ticket.commented",
            Self::TicketStatusChanged => "ticket.status_changed",
            Self::PaymentRequested => "payment.requested",
            Self::PaymentPaid => "payment.paid",
            Self::MilestoneRequested => "milestone.requested",
            Self::MilestoneDecided => "milestone.decided",
            Self::FileUploaded => "file.uploaded",
            Self::FileVersionAdded => "file.version_added",
            Self::MessageAdded => "message.added",
            Self::TaskBlocked => "task.blocked",
            Self::ProjectStatusChanged => "project.status_changed",
            Self::Other => return None,
        })
    }

    pub(super) fn parse(kind: &str) -> Self {
        match kind {
            "ticket.created" => Self::TicketCreated,
            "ticket.commented" => Self::TicketCommented,
            "ticket.status_changed" => Self::TicketStatusChanged,
            "payment.requested" => Self::PaymentRequested,
            "payment.paid" => Self::PaymentPaid,
            "milestone.requested" => Self::MilestoneRequested,
            "milestone.decided" => Self::MilestoneDecided,
            "file.uploaded" => Self::FileUploaded,
            "file.version_added" => Self::FileVersionAdded,
            "message.added" => Self::MessageAdded,
            "task.blocked" => Self::TaskBlocked,
            "project.status_changed" => Self::ProjectStatusChanged,
            _ => Self::Other,
        }
    }
}

/// Something that happened in one of the caller's projects.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Notification {
    /// Notification ID.
    pub id: ID,
    /// What it is about.
    pub kind: NotificationKind,
    /// The project.
    pub project_id: ID,
    /// The ticket, message, file, milestone or payment request concerned.
    pub subject_id: Option<ID>,
    /// One line saying what happened.
    pub summary: String,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// When the caller marked it read; null while unread.
    pub read_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub actor_id: Option<Uuid>,
}

impl From<notification::Model> for Notification {
    fn from(n: notification::Model) -> Self {
        Self {
            id: ID(n.id.to_string()),
            kind: NotificationKind::parse(&n.kind),
            project_id: ID(n.project_id.to_string()),
            subject_id: n.subject_id.map(|id| ID(id.to_string())),
            summary: n.summary,
            created_at: n.created_at,
            read_at: n.read_at,
            actor_id: n.actor_id,
        }
    }
}

#[ComplexObject]
impl Notification {
    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(actor) = self.actor_id else {
            return Ok(None);
        };
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, actor).await?)
    }
}

/// A way of hearing about things.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NotificationChannel {
    /// An email.
    Email,
    /// The notification center in the portal.
    InApp,
}

impl NotificationChannel {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Email => preferences::EMAIL,
            Self::InApp => preferences::IN_APP,
        }
    }

    fn parse(channel: &str) -> Self {
        if channel == preferences::IN_APP {
            Self::InApp
        } else {
            Self::Email
        }
    }
}

/// When a channel is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DeliveryMode {
    /// Every time.
    Always,
    /// Only while the person is not in the portal (no open page, no request lately); email only.
    WhenNotActive,
    /// Never.
    Never,
    /// Once a day, with everything else chosen so, at `NOTIFY_DIGEST_HOUR` (UTC); email only.
    DailyDigest,
}

impl DeliveryMode {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Always => preferences::ALWAYS,
            Self::WhenNotActive => preferences::WHEN_NOT_ACTIVE,
            Self::Never => preferences::NEVER,
            Self::DailyDigest => preferences::DAILY_DIGEST,
        }
    }

    fn parse(mode: &str) -> Self {
        match mode {
            preferences::ALWAYS => Self::Always,
            preferences::NEVER => Self::Never,
            preferences::DAILY_DIGEST => Self::DailyDigest,
            _ => Self::WhenNotActive,
        }
    }
}

/// How the caller hears of one kind of event on one channel.
#[derive(Debug, Clone, SimpleObject)]
pub struct NotificationPreference {
    /// The kind of event.
    pub kind: NotificationKind,
    /// The channel.
    pub channel: NotificationChannel,
    /// When it is used.
    pub mode: DeliveryMode,
    /// Fixed: payment receipts are always sent by email.
    pub locked: bool,
}

impl NotificationPreference {
    pub fn new(kind: &str, channel: &str, mode: &str) -> Self {
        Self {
            kind: NotificationKind::parse(kind),
            channel: NotificationChannel::parse(channel),
            mode: DeliveryMode::parse(mode),
            locked: preferences::locked(kind, channel),
        }
    }
}

/// Where an email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum EmailStatus {
    /// Waiting for its first attempt.
    Queued,
    /// Failed at least once; tried again after a backoff.
    Retrying,
    /// Accepted by the mail server (or written to the mail folder).
    Sent,
    /// Not sent: the recipient could no longer see what it was about.
    Skipped,
    /// Given up: refused for good, or failed too many times.
    Dead,
}

impl EmailStatus {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Retrying => "RETRYING",
            Self::Sent => "SENT",
            Self::Skipped => "SKIPPED",
            Self::Dead => "DEAD",
        }
    }

    fn parse(status: &str) -> Self {
        match status {
            "RETRYING" => Self::Retrying,
            "SENT" => Self::Sent,
            "SKIPPED" => Self::Skipped,
            "DEAD" => Self::Dead,
            _ => Self::Queued,
        }
    }
}

/// One email of the workspace's log.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct EmailDelivery {
    /// Email ID.
    pub id: ID,
    /// What it is about.
    pub kind: NotificationKind,
    /// Where it stands.
    pub status: EmailStatus,
    /// Failed attempts so far.
    pub attempts: i32,
    /// The address it went to, once sent (a member's email: `member:email` only, as on `User`).
    #[graphql(directive = requires::apply(Permission::MemberEmail))]
    pub to_address: Option<String>,
    /// The mail server's answer (`250 … queued as …`) or the file it was written to.
    pub provider_id: Option<String>,
    /// Why the last attempt failed, or why it was skipped.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due (while queued or retrying).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub user_id: Uuid,
}

impl From<email_delivery::Model> for EmailDelivery {
    fn from(e: email_delivery::Model) -> Self {
        let status = EmailStatus::parse(&e.status);
        Self {
            id: ID(e.id.to_string()),
            kind: NotificationKind::parse(&e.kind),
            status,
            attempts: e.attempts,
            to_address: e.to_address,
            provider_id: e.provider_id,
            last_error: e.last_error,
            created_at: e.created_at,
            next_attempt_at: matches!(status, EmailStatus::Queued | EmailStatus::Retrying)
                .then_some(e.available_at),
            sent_at: e.sent_at,
            user_id: e.user_id,
        }
    }
}

#[ComplexObject]
impl EmailDelivery {
    /// Who it is for.
    async fn recipient(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.user_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::NotificationKind;

    #[test]
    fn every_notifying_action_has_its_kind() {
        for action in crate::notification::triggers::ACTIONS
            .iter()
            .chain([&crate::notification::triggers::MESSAGE_ADDED])
        {
            let kind = NotificationKind::parse(action);
            assert_ne!(kind, NotificationKind::Other, "{action}");
            assert_eq!(kind.as_action(), Some(*action));
        }
    }
}
