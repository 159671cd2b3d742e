//! `boardChanged`: a project's kanban board, live (tasks created, updated, moved or deleted;
//! tickets created or changing status). Events carry IDs and positions; clients fetch details
//! with a query, through the usual field rules. Each event is re-checked ([`Watch`]).

use super::TaskColumn;
use crate::graphql::directives::requires;
use crate::graphql::live::project_stream;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{Context, Enum, ID, Result, SimpleObject, Subscription};
use futures_util::Stream;
use serde_json::Value;

/// What changed on a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum BoardChange {
    /// A task was created.
    TaskCreated,
    /// A task's fields changed.
    TaskUpdated,
    /// A task moved (column or position).
    TaskMoved,
    /// A task was deleted.
    TaskDeleted,
    /// A client created a ticket.
    TicketCreated,
    /// A ticket's status changed.
    TicketStatusChanged,
}

impl BoardChange {
    fn parse(kind: &str) -> Option<Self> {
        Some(match kind {
            "TASK_CREATED" => Self::TaskCreated,
            "TASK_UPDATED" => Self::TaskUpdated,
            "TASK_MOVED" => Self::TaskMoved,
            "TASK_DELETED" => Self::TaskDeleted,
            "TICKET_CREATED" => Self::TicketCreated,
            "TICKET_STATUS_CHANGED" => Self::TicketStatusChanged,
            _ => return None,
        })
    }
}

/// One change of a board.
#[derive(Debug, Clone, SimpleObject)]
pub struct BoardEvent {
    /// What changed.
    pub change: BoardChange,
    /// The project.
    pub project_id: ID,
    /// The task, for task changes.
    pub task_id: Option<ID>,
    /// The task's column after the change.
    pub column: Option<TaskColumn>,
    /// The task's position after the change.
    pub position: Option<f64>,
    /// The ticket, for ticket changes.
    pub ticket_id: Option<ID>,
    /// The ticket's number.
    pub ticket_number: Option<i32>,
    /// The ticket's status after the change (a `TicketStatus` name).
    pub ticket_status: Option<String>,
}

impl BoardEvent {
    fn of(event: &Value) -> Option<Self> {
        let id = |key: &str| event[key].as_str().map(|s| ID(s.to_owned()));
        Some(Self {
            change: BoardChange::parse(event["type"].as_str()?)?,
            project_id: id("projectId")?,
            task_id: id("taskId"),
            column: event["column"].as_str().map(TaskColumn::parse),
            #[allow(clippy::cast_precision_loss)]
            position: event["position"].as_i64().map(|p| p as f64),
            ticket_id: id("ticketId"),
            ticket_number: event["number"].as_i64().and_then(|n| i32::try_from(n).ok()),
            ticket_status: event["status"].as_str().map(str::to_owned),
        })
    }
}

/// The bus event types `boardChanged` delivers.
const BOARD_EVENTS: &[&str] = &[
    "TASK_CREATED",
    "TASK_UPDATED",
    "TASK_MOVED",
    "TASK_DELETED",
    "TICKET_CREATED",
    "TICKET_STATUS_CHANGED",
];

/// Board subscriptions.
#[derive(Debug, Default)]
pub struct BoardSubscription;

#[Subscription]
impl BoardSubscription {
    /// Changes of a project's board.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn board_changed(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<impl Stream<Item = Result<BoardEvent>> + use<>> {
        let project_id = parse_id("projectId", &project_id)?;
        Ok(project_stream(
            ctx,
            Permission::ProjectView,
            project_id,
            BOARD_EVENTS,
            |event, _| BoardEvent::of(event),
        )
        .await?)
    }
}
