//! Typed domain events: one enum, used by producers and consumers alike. A service emits an event
//! on its transaction ([`Scoped::emit`](crate::db::Scoped::emit)); the event is written to the
//! outbox with the change and leaves it one way, through the dispatcher (`crate::outbox`), to
//! live subscriptions today and to email, webhooks and audit exports next.
//!
//! Events carry stored values and IDs only. Consumers apply the recipient's field rules before
//! showing anything (a subscription resolves its selection through the usual guards).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DomainEvent {
    TaskCreated(TaskChanged),
    TaskUpdated(TaskChanged),
    TaskMoved(TaskChanged),
    TaskDeleted(TaskChanged),
    TicketCreated(TicketChanged),
    TicketStatusChanged(TicketChanged),
    MessageAdded(MessageChanged),
    MessageUpdated(MessageChanged),
    Activity(ActivityRecorded),
    PaymentStatusChanged(PaymentChanged),
    FileUploaded(FileChanged),
    FileVersionAdded(FileChanged),
    FileDeleted(FileChanged),
    FileRestored(FileChanged),
    FileUrlMinted(FileUrlMinted),
    NotificationAdded(NotificationAdded),
}

/// A task after its change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskChanged {
    pub project_id: Uuid,
    pub task_id: Uuid,
    pub column: String,
    pub position: i64,
}

/// A ticket after its change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketChanged {
    pub project_id: Uuid,
    pub ticket_id: Uuid,
    pub number: i32,
    pub status: String,
}

/// A message after its change (a deleted one keeps no body for readers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageChanged {
    pub project_id: Uuid,
    pub message_id: Uuid,
    pub author_id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A timeline entry. Staff-only entries reach only holders of `note:private`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRecorded {
    pub project_id: Uuid,
    pub activity_id: Uuid,
    pub actor_id: Uuid,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub summary: String,
    pub payload: serde_json::Value,
    pub staff_only: bool,
    pub created_at: DateTime<Utc>,
}

/// A payment request's new status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentChanged {
    pub project_id: Uuid,
    pub payment_request_id: Uuid,
    pub status: String,
}

/// A file after its change. Files of the internal zone reach staff with `note:private` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChanged {
    pub project_id: Uuid,
    pub file_id: Uuid,
    /// `None` for an attachment.
    pub folder_id: Option<Uuid>,
    /// The version concerned (the new one, for an upload).
    pub version: i32,
    pub actor_id: Uuid,
    pub staff_only: bool,
}

/// A notification was written for one person; it travels on their own channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationAdded {
    pub project_id: Uuid,
    pub user_id: Uuid,
    pub notification_id: Uuid,
    pub kind: String,
    pub subject_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub summary: String,
    pub staff_only: bool,
    pub created_at: DateTime<Utc>,
}

/// A download or preview URL was handed out (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUrlMinted {
    pub project_id: Uuid,
    pub file_id: Uuid,
    pub version: i32,
    pub actor_id: Uuid,
    pub inline: bool,
    /// The URL is of the version's thumbnail, not of the file itself.
    #[serde(default)]
    pub thumbnail: bool,
    pub staff_only: bool,
}

impl DomainEvent {
    /// The event's type, as serialized in `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TaskCreated(_) => "TASK_CREATED",
            Self::TaskUpdated(_) => "TASK_UPDATED",
            Self::TaskMoved(_) => "TASK_MOVED",
            Self::TaskDeleted(_) => "TASK_DELETED",
            Self::TicketCreated(_) => "TICKET_CREATED",
            Self::TicketStatusChanged(_) => "TICKET_STATUS_CHANGED",
            Self::MessageAdded(_) => "MESSAGE_ADDED",
            Self::MessageUpdated(_) => "MESSAGE_UPDATED",
            Self::Activity(_) => "ACTIVITY",
            Self::PaymentStatusChanged(_) => "PAYMENT_STATUS_CHANGED",
            Self::FileUploaded(_) => "FILE_UPLOADED",
            Self::FileVersionAdded(_) => "FILE_VERSION_ADDED",
            Self::FileDeleted(_) => "FILE_DELETED",
            Self::FileRestored(_) => "FILE_RESTORED",
            Self::FileUrlMinted(_) => "FILE_URL_MINTED",
            Self::NotificationAdded(_) => "NOTIFICATION_ADDED",
        }
    }

    /// What the event is about, for the audit log: a resource type and its id.
    pub fn subject(&self) -> (&'static str, Uuid) {
        match self {
            Self::TaskCreated(e)
            | Self::TaskUpdated(e)
            | Self::TaskMoved(e)
            | Self::TaskDeleted(e) => ("task", e.task_id),
            Self::TicketCreated(e) | Self::TicketStatusChanged(e) => ("ticket", e.ticket_id),
            Self::MessageAdded(e) | Self::MessageUpdated(e) => ("message", e.message_id),
            Self::Activity(e) => ("project", e.project_id),
            Self::PaymentStatusChanged(e) => ("paymentRequest", e.payment_request_id),
            Self::FileUploaded(e)
            | Self::FileVersionAdded(e)
            | Self::FileDeleted(e)
            | Self::FileRestored(e) => ("file", e.file_id),
            Self::FileUrlMinted(e) => ("file", e.file_id),
            Self::NotificationAdded(e) => ("notification", e.notification_id),
        }
    }

    /// The project the event belongs to.
    pub fn project_id(&self) -> Uuid {
        match self {
            Self::TaskCreated(e)
            | Self::TaskUpdated(e)
            | Self::TaskMoved(e)
            | Self::TaskDeleted(e) => e.project_id,
            Self::TicketCreated(e) | Self::TicketStatusChanged(e) => e.project_id,
            Self::MessageAdded(e) | Self::MessageUpdated(e) => e.project_id,
            Self::Activity(e) => e.project_id,
            Self::PaymentStatusChanged(e) => e.project_id,
            Self::FileUploaded(e)
            | Self::FileVersionAdded(e)
            | Self::FileDeleted(e)
            | Self::FileRestored(e) => e.project_id,
            Self::FileUrlMinted(e) => e.project_id,
            Self::NotificationAdded(e) => e.project_id,
        }
    }
}

/// An event with its identity: the id stays the same when the outbox delivers it again, so a
/// consumer drops duplicates by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// UUID v7, time-ordered.
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: DomainEvent,
}

impl Envelope {
    /// A new event of `workspace_id`, now.
    pub fn new(workspace_id: Uuid, event: DomainEvent) -> Self {
        Self {
            id: Uuid::now_v7(),
            workspace_id,
            occurred_at: Utc::now(),
            event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_the_serialized_type_and_round_trips() {
        let project_id = Uuid::now_v7();
        let task = TaskChanged {
            project_id,
            task_id: Uuid::now_v7(),
            column: "BACKLOG".into(),
            position: 1024,
        };
        let ticket = TicketChanged {
            project_id,
            ticket_id: Uuid::now_v7(),
            number: 3,
            status: "NEW".into(),
        };
        let message = MessageChanged {
            project_id,
            message_id: Uuid::now_v7(),
            author_id: Uuid::now_v7(),
            body: "hello".into(),
            created_at: Utc::now(),
            edited_at: None,
            deleted_at: None,
        };
        let file = FileChanged {
            project_id,
            file_id: Uuid::now_v7(),
            folder_id: Some(Uuid::now_v7()),
            version: 2,
            actor_id: Uuid::now_v7(),
            staff_only: true,
        };
        let events = [
            DomainEvent::TaskCreated(task.clone()),
            DomainEvent::TaskUpdated(task.clone()),
            DomainEvent::TaskMoved(task.clone()),
            DomainEvent::TaskDeleted(task),
            DomainEvent::TicketCreated(ticket.clone()),
            DomainEvent::TicketStatusChanged(ticket),
            DomainEvent::MessageAdded(message.clone()),
            DomainEvent::MessageUpdated(message),
            DomainEvent::Activity(ActivityRecorded {
                project_id,
                activity_id: Uuid::now_v7(),
                actor_id: Uuid::now_v7(),
                action: "task.created".into(),
                subject_type: "task".into(),
                subject_id: Uuid::now_v7(),
                summary: "Task created".into(),
                payload: serde_json::json!({ "column": "BACKLOG" }),
                staff_only: false,
                created_at: Utc::now(),
            }),
            DomainEvent::PaymentStatusChanged(PaymentChanged {
                project_id,
                payment_request_id: Uuid::now_v7(),
                status: "PAID".into(),
            }),
            DomainEvent::FileUploaded(file.clone()),
            DomainEvent::FileVersionAdded(file.clone()),
            DomainEvent::FileDeleted(file.clone()),
            DomainEvent::FileRestored(file),
            DomainEvent::FileUrlMinted(FileUrlMinted {
                project_id,
                file_id: Uuid::now_v7(),
                version: 1,
                actor_id: Uuid::now_v7(),
                inline: true,
                thumbnail: true,
                staff_only: false,
            }),
            DomainEvent::NotificationAdded(NotificationAdded {
                project_id,
                user_id: Uuid::now_v7(),
                notification_id: Uuid::now_v7(),
                kind: "ticket.created".into(),
                subject_id: None,
                actor_id: None,
                summary: "Ticket #1 created".into(),
                staff_only: false,
                created_at: Utc::now(),
            }),
        ];
        for event in events {
            let envelope = Envelope::new(Uuid::now_v7(), event);
            let json = serde_json::to_value(&envelope).unwrap();
            assert_eq!(json["type"], envelope.event.kind());
            assert_eq!(json["projectId"], project_id.to_string());
            let back: Envelope = serde_json::from_value(json).unwrap();
            assert_eq!(back, envelope);
        }
    }
}
