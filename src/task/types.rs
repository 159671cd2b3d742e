//! GraphQL types of the task domain, and the hashable filter used as a DataLoader key.

use super::loaders::TaskBatch;
use crate::error::{ApiError, ApiResult};
use crate::graphql::RequestContext;
use crate::graphql::flat::{Cursor, Flat, Preloaded};
use crate::graphql::pagination::MAX_PAGE;
use crate::identity::User;
use crate::types::parse_id;
use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use entity::task;
use std::sync::Arc;
use uuid::Uuid;

/// A kanban column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum TaskColumn {
    /// Not started.
    Backlog,
    /// Being worked on.
    InProgress,
    /// Waiting for the client.
    WaitingClient,
    /// Finished.
    Done,
}

impl TaskColumn {
    pub const ALL: [TaskColumn; 4] = [
        Self::Backlog,
        Self::InProgress,
        Self::WaitingClient,
        Self::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backlog => "BACKLOG",
            Self::InProgress => "IN_PROGRESS",
            Self::WaitingClient => "WAITING_CLIENT",
            Self::Done => "DONE",
        }
    }

    pub fn parse(stored: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == stored)
            .unwrap_or(Self::Backlog)
    }

    /// Board order of the column.
    pub fn rank(self) -> i16 {
        match self {
            Self::Backlog => 0,
            Self::InProgress => 1,
            Self::WaitingClient => 2,
            Self::Done => 3,
        }
    }

    /// "In progress", for activity texts.
    pub fn label(self) -> &'static str {
        match self {
            Self::Backlog => "Backlog",
            Self::InProgress => "In progress",
            Self::WaitingClient => "Waiting client",
            Self::Done => "Done",
        }
    }
}

/// Where a task came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TaskOrigin {
    /// Created by staff on the project.
    Project,
    /// Converted from a client ticket.
    Ticket,
}

impl TaskOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Project => "PROJECT",
            Self::Ticket => "TICKET",
        }
    }

    pub fn parse(stored: &str) -> Self {
        if stored == "TICKET" {
            Self::Ticket
        } else {
            Self::Project
        }
    }
}

/// A kanban card.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Task {
    /// Task ID.
    pub id: ID,
    /// The project it belongs to.
    pub project_id: ID,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Column.
    pub column: TaskColumn,
    /// Order within the column (ascending; gapped, not contiguous).
    pub position: f64,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Whether the client is blocking this task.
    pub blocked_by_client: bool,
    /// Why the client is blocking it.
    pub blocked_reason: Option<String>,
    /// Where the task came from.
    pub origin: TaskOrigin,
    /// The ticket it was converted from, if any.
    pub ticket_id: Option<ID>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: Uuid,
    #[graphql(skip)]
    pub workspace_id: Uuid,
    #[graphql(skip)]
    pub assignee_id: Option<Uuid>,
    /// The tasks resolved with this one (labels and assignees load for all at once).
    #[graphql(skip)]
    pub batch: Arc<TaskBatch>,
    /// The assignee, when it was loaded with the page (see `loaders::pages`).
    #[graphql(skip)]
    pub assignee_loaded: Preloaded<User>,
}

crate::plain_fields!(Task {
    "id" => id,
    "projectId" => project_id,
    "title" => title,
    "description" => description,
    "position" => position,
    "dueDate" => due_date,
    "blockedByClient" => blocked_by_client,
    "blockedReason" => blocked_reason,
    "ticketId" => ticket_id,
    "createdAt" => created_at,
    "updatedAt" => updated_at;
    enums "column" => column, "origin" => origin;
    objects "assignee" => assignee_loaded: User
});

impl Cursor for Task {
    fn cursor(&self) -> String {
        TaskCursor {
            rank: self.column.rank(),
            // Exact: `position` came from an i64 far below 2^53 (see `with_batch`).
            #[allow(clippy::cast_possible_truncation)]
            position: self.position as i64,
            id: self.uuid,
        }
        .encode()
    }
}

impl From<task::Model> for Task {
    fn from(t: task::Model) -> Self {
        let batch = TaskBatch::new(t.workspace_id, &[&t]);
        Task::with_batch(t, batch)
    }
}

impl Task {
    /// A task resolved with the others of `batch`.
    pub fn with_batch(t: task::Model, batch: Arc<TaskBatch>) -> Self {
        Self {
            id: ID(t.id.to_string()),
            project_id: ID(t.project_id.to_string()),
            title: t.title,
            description: t.description,
            column: TaskColumn::parse(&t.board_column),
            // Positions stay far below 2^53, where f64 is exact.
            #[allow(clippy::cast_precision_loss)]
            position: t.position as f64,
            due_date: t.due_date,
            blocked_by_client: t.blocked_by_client,
            blocked_reason: t.blocked_reason,
            origin: TaskOrigin::parse(&t.origin),
            ticket_id: t.ticket_id.map(|id| ID(id.to_string())),
            created_at: t.created_at,
            updated_at: t.updated_at,
            uuid: t.id,
            workspace_id: t.workspace_id,
            assignee_id: t.assignee_id,
            batch,
            assignee_loaded: Preloaded::No,
        }
    }
}

#[ComplexObject]
impl Task {
    /// The workspace member it is assigned to.
    async fn assignee(&self, ctx: &Context<'_>) -> Result<Option<Flat<User>>> {
        match &self.assignee_loaded {
            Preloaded::No => {}
            Preloaded::Null => return Ok(None),
            Preloaded::Object(user) => return Ok(Some(Flat(User::clone(user)))),
        }
        let Some(id) = self.assignee_id else {
            return Ok(None);
        };
        let db = &RequestContext::of(ctx)?.app.db;
        let tasks = &self.batch;
        let users = tasks
            .batch
            .load("assignees".into(), || {
                super::loaders::users(db, &tasks.assignees)
            })
            .await?;
        Ok(users.get(&id).cloned().map(Flat))
    }

    /// Labels, alphabetically.
    async fn labels(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let db = &RequestContext::of(ctx)?.app.db;
        let batch = &self.batch.batch;
        let labels = batch
            .load("labels".into(), || {
                super::loaders::labels(db, batch.workspace_id, &batch.ids)
            })
            .await?;
        Ok(labels.get(&self.uuid).cloned().unwrap_or_default())
    }
}

/// Where a page of tasks starts: after this (column rank, position, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskCursor {
    pub rank: i16,
    pub position: i64,
    pub id: Uuid,
}

impl TaskCursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}:{}", self.rank, self.position, self.id))
    }

    pub fn decode(raw: &str) -> ApiResult<Self> {
        let invalid = || ApiError::bad_field("after", "invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.splitn(3, ':');
        let (Some(rank), Some(position), Some(id)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        Ok(Self {
            rank: rank.parse().map_err(|_| invalid())?,
            position: position.parse().map_err(|_| invalid())?,
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

/// What a task list asks for; hashable, so it is part of the loader key and identical lists of
/// several projects share one statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskFilter {
    pub first: u64,
    pub after: Option<TaskCursor>,
    pub column: Option<TaskColumn>,
    pub assignee: Option<Uuid>,
    pub label: Option<String>,
    pub search: Option<String>,
}

impl TaskFilter {
    /// Validates list arguments.
    pub fn new(
        first: i32,
        after: Option<&str>,
        column: Option<TaskColumn>,
        assignee: Option<&ID>,
        label: Option<String>,
        search: Option<String>,
    ) -> ApiResult<Self> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::bad_field(
                "first",
                format!("`first` must be between 1 and {MAX_PAGE}"),
            ));
        }
        Ok(Self {
            first: u64::try_from(first).unwrap_or(1),
            after: after.map(TaskCursor::decode).transpose()?,
            column,
            assignee: assignee.map(|a| parse_id("assigneeId", a)).transpose()?,
            label: label
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty()),
            search: search
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        })
    }

    /// The same filter without pagination (for counts).
    pub fn unpaged(&self) -> Self {
        Self {
            first: 0,
            after: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = TaskCursor {
            rank: 2,
            position: -65_536,
            id: Uuid::now_v7(),
        };
        assert_eq!(TaskCursor::decode(&cursor.encode()).unwrap(), cursor);
        assert!(TaskCursor::decode("nope").is_err());
        assert!(TaskCursor::decode(&URL_SAFE_NO_PAD.encode("1:x:y")).is_err());
    }

    #[test]
    fn columns_round_trip_in_board_order() {
        for (i, column) in TaskColumn::ALL.into_iter().enumerate() {
            assert_eq!(TaskColumn::parse(column.as_str()), column);
            assert_eq!(usize::try_from(column.rank()).unwrap(), i);
        }
    }
}
