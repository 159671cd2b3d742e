//! `boardChanged`: a project's kanban board, live (tasks created, updated, moved or deleted;
//! tickets created or changing status). Events carry IDs and positions; clients fetch details
//! with a query, through the usual field rules. Each event is re-checked ([`Watch`]).

use super::TaskColumn;
use crate::events::DomainEvent;
use crate::graphql::directives::requires;
use crate::graphql::live::project_stream;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{Context, Enum, ID, Result, SimpleObject, Subscription};
use futures_util::Stream;

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
    fn of(event: &DomainEvent) -> Option<Self> {
        let id = |id: uuid::Uuid| ID(id.to_string());
        let task = |change, t: &crate::events::TaskChanged| Self {
            change,
            project_id: id(t.project_id),
            task_id: Some(id(t.task_id)),
            column: Some(TaskColumn::parse(&t.column)),
            #[allow(clippy::cast_precision_loss)]
            position: Some(t.position as f64),
            ticket_id: None,
            ticket_number: None,
            ticket_status: None,
        };
        let ticket = |change, t: &crate::events::TicketChanged| Self {
            change,
            project_id: id(t.project_id),
            task_id: None,
            column: None,
            position: None,
            ticket_id: Some(id(t.ticket_id)),
            ticket_number: Some(t.number),
            ticket_status: Some(t.status.clone()),
        };
        Some(match event {
            DomainEvent::TaskCreated(t) => task(BoardChange::TaskCreated, t),
            DomainEvent::TaskUpdated(t) => task(BoardChange::TaskUpdated, t),
            DomainEvent::TaskMoved(t) => task(BoardChange::TaskMoved, t),
            DomainEvent::TaskDeleted(t) => task(BoardChange::TaskDeleted, t),
            DomainEvent::TicketCreated(t) => ticket(BoardChange::TicketCreated, t),
            DomainEvent::TicketStatusChanged(t) => ticket(BoardChange::TicketStatusChanged, t),
            _ => return None,
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
        Ok(project_stream(ctx, project_id, BOARD_EVENTS, |event, _| {
            BoardEvent::of(event)
        })
        .await?)
    }
}
