//! Which events notify, and what a notification of each says: timeline entries of the kinds
//! people act on (new ticket, comment, status change, quote and payment, milestone awaiting
//! validation and its decision, uploads, a task waiting for the client, a project's status) and
//! new messages. The line shown is the timeline's own,
//! which every recipient of a non-staff-only entry already reads in the project.

use crate::events::{DomainEvent, Envelope};
use uuid::Uuid;

/// Timeline actions that notify.
pub const ACTIONS: &[&str] = &[
    "ticket.created",
    "ticket.commented",
    "ticket.status_changed",
    "payment.requested",
    "payment.paid",
    "milestone.requested",
    "milestone.decided",
    "file.uploaded",
    "file.version_added",
    "task.blocked",
    "project.status_changed",
];

/// The kind of a new message's notification.
pub const MESSAGE_ADDED: &str = "message.added";

/// Longest excerpt of a message in its notification.
const EXCERPT: usize = 140;

/// What one event tells its audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub kind: String,
    pub project_id: Uuid,
    pub subject_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub summary: String,
    pub staff_only: bool,
}

impl Trigger {
    /// The notification `envelope` gives rise to, if any.
    pub fn of(envelope: &Envelope) -> Option<Self> {
        match &envelope.event {
            DomainEvent::Activity(a) if ACTIONS.contains(&a.action.as_str()) => Some(Self {
                kind: a.action.clone(),
                project_id: a.project_id,
                subject_id: Some(a.subject_id),
                actor_id: Some(a.actor_id),
                summary: a.summary.chars().take(500).collect(),
                staff_only: a.staff_only,
            }),
            DomainEvent::MessageAdded(m) if m.deleted_at.is_none() => Some(Self {
                kind: MESSAGE_ADDED.to_owned(),
                project_id: m.project_id,
                subject_id: Some(m.message_id),
                actor_id: Some(m.author_id),
                summary: format!("New message: {}", excerpt(&m.body)),
                staff_only: false,
            }),
            _ => None,
        }
    }
}

/// The first words of `body`, on one line.
fn excerpt(body: &str) -> String {
    let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= EXCERPT {
        return line;
    }
    let cut: String = line.chars().take(EXCERPT - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{ActivityRecorded, MessageChanged, TaskChanged};

    fn activity(action: &str, staff_only: bool) -> Envelope {
        Envelope::new(
            Uuid::now_v7(),
            DomainEvent::Activity(ActivityRecorded {
                project_id: Uuid::now_v7(),
                activity_id: Uuid::now_v7(),
                actor_id: Uuid::now_v7(),
                action: action.to_owned(),
                subject_type: "ticket".to_owned(),
                subject_id: Uuid::now_v7(),
                summary: "Ticket #1 created: Logo".to_owned(),
                payload: serde_json::Value::Null,
                staff_only,
                created_at: chrono::Utc::now(),
            }),
        )
    }

    #[test]
    fn only_the_listed_actions_and_new_messages_notify() {
        let t = Trigger::of(&activity("ticket.created", false)).unwrap();
        assert_eq!((t.kind.as_str(), t.staff_only), ("ticket.created", false));
        assert!(
            Trigger::of(&activity("ticket.commented", true))
                .unwrap()
                .staff_only
        );
        assert!(Trigger::of(&activity("task.moved", false)).is_none());
        let task = TaskChanged {
            project_id: Uuid::now_v7(),
            task_id: Uuid::now_v7(),
            column: "DONE".into(),
            position: 1,
        };
        assert!(
            Trigger::of(&Envelope::new(Uuid::now_v7(), DomainEvent::TaskMoved(task))).is_none()
        );
        let message = MessageChanged {
            project_id: Uuid::now_v7(),
            message_id: Uuid::now_v7(),
            author_id: Uuid::now_v7(),
            body: format!("Hello\n\n{}", "word ".repeat(100)),
            created_at: chrono::Utc::now(),
            edited_at: None,
            deleted_at: None,
        };
        let t = Trigger::of(&Envelope::new(
            Uuid::now_v7(),
            DomainEvent::MessageAdded(message),
        ))
        .unwrap();
        assert!(t.summary.starts_with("New message: Hello word"));
        assert!(t.summary.ends_with('…') && !t.summary.contains('\n'));
    }
}
