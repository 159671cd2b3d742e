//! GraphQL types of the project domain.

use super::loaders::{self, TaskCounts};
use crate::graphql::RequestContext;
use crate::graphql::batch::Batch;
use crate::graphql::flat::{Cursor, FlatConnection};
use crate::graphql::pagination::encode_cursor;
use crate::rbac::Permission;
use crate::task::{Task, TaskColumn, TaskFilter};
use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{project, project_phase};
use std::sync::Arc;
use uuid::Uuid;

/// Where a project stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ProjectStatus {
    /// Work is going on.
    InProgress,
    /// Waiting for the client (see `clientAction`).
    WaitingClient,
    /// Delivered.
    Done,
}

impl ProjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::WaitingClient => "WAITING_CLIENT",
            Self::Done => "DONE",
        }
    }

    /// "Waiting for the client", for timeline lines.
    pub fn label(self) -> &'static str {
        match self {
            Self::InProgress => "In progress",
            Self::WaitingClient => "Waiting for the client",
            Self::Done => "Done",
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "WAITING_CLIENT" => Self::WaitingClient,
            "DONE" => Self::Done,
            _ => Self::InProgress,
        }
    }
}

/// A phase of the timeline.
#[derive(Debug, Clone, SimpleObject)]
pub struct Phase {
    /// Phase ID.
    pub id: ID,
    /// Name (Design, Development, …).
    pub name: String,
    /// Order in the timeline, from 0.
    pub position: i32,
    /// Whether this is the current phase.
    pub current: bool,
}

impl Phase {
    pub fn from_model(p: project_phase::Model, current: Option<Uuid>) -> Self {
        Self {
            current: current == Some(p.id),
            id: ID(p.id.to_string()),
            name: p.name,
            position: p.position,
        }
    }
}

/// A client project.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Project {
    /// Project ID.
    pub id: ID,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Status.
    pub status: ProjectStatus,
    /// The next step.
    pub next_step: Option<String>,
    /// What the client is expected to do (shown while the project waits on them).
    pub client_action: Option<String>,
    /// Estimated delivery date.
    pub estimated_delivery: Option<NaiveDate>,
    /// When the project was created.
    pub created_at: DateTime<Utc>,
    /// When the project itself was last edited.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: Uuid,
    #[graphql(skip)]
    pub workspace_id: Uuid,
    #[graphql(skip)]
    pub current_phase_id: Option<Uuid>,
    #[graphql(skip)]
    pub progress_override: Option<i16>,
    /// The projects resolved with this one (relations load for all of them at once).
    #[graphql(skip)]
    pub batch: Arc<Batch>,
}

crate::plain_fields!(Project {
    "id" => id,
    "name" => name,
    "description" => description,
    "nextStep" => next_step,
    "clientAction" => client_action,
    "estimatedDelivery" => estimated_delivery,
    "createdAt" => created_at,
    "updatedAt" => updated_at;
    enums "status" => status
});

impl Cursor for Project {
    fn cursor(&self) -> String {
        encode_cursor(self.uuid)
    }
}

impl Project {
    /// Projects of one list, sharing a batch.
    pub fn list(rows: Vec<project::Model>) -> Vec<Project> {
        let workspace_id = rows.first().map(|p| p.workspace_id).unwrap_or_default();
        let batch = Batch::new(workspace_id, rows.iter().map(|p| p.id).collect());
        rows.into_iter()
            .map(|p| Project::with_batch(p, batch.clone()))
            .collect()
    }

    fn with_batch(p: project::Model, batch: Arc<Batch>) -> Self {
        Self {
            id: ID(p.id.to_string()),
            name: p.name,
            description: p.description,
            status: ProjectStatus::parse(&p.status),
            next_step: p.next_step,
            client_action: p.client_action,
            estimated_delivery: p.estimated_delivery,
            created_at: p.created_at,
            updated_at: p.updated_at,
            uuid: p.id,
            workspace_id: p.workspace_id,
            current_phase_id: p.current_phase_id,
            progress_override: p.progress_override,
            batch,
        }
    }
}

impl From<project::Model> for Project {
    fn from(p: project::Model) -> Self {
        let batch = Batch::new(p.workspace_id, vec![p.id]);
        Project::with_batch(p, batch)
    }
}

#[ComplexObject]
impl Project {
    /// Progress in percent: set by staff, or derived from the share of tasks done.
    async fn progress(&self, ctx: &Context<'_>) -> Result<i32> {
        if let Some(p) = self.progress_override {
            return Ok(i32::from(p));
        }
        let db = &RequestContext::of(ctx)?.app.db;
        let batch = &self.batch;
        let counts = batch
            .load("progress".into(), || {
                loaders::progress(db, batch.workspace_id, &batch.ids)
            })
            .await?;
        Ok(counts
            .get(&self.uuid)
            .copied()
            .unwrap_or(TaskCounts::default())
            .percent())
    }

    /// The phases timeline, in order.
    async fn phases(&self, ctx: &Context<'_>) -> Result<Vec<Phase>> {
        let db = &RequestContext::of(ctx)?.app.db;
        let batch = &self.batch;
        let phases = batch
            .load("phases".into(), || {
                loaders::phases(db, batch.workspace_id, &batch.ids)
            })
            .await?;
        Ok(phases
            .get(&self.uuid)
            .into_iter()
            .flatten()
            .map(|p| Phase::from_model(p.clone(), self.current_phase_id))
            .collect())
    }

    /// Staff-only private note.
    #[graphql(
        directive = crate::graphql::directives::requires::apply(Permission::NotePrivate),
        visible = "crate::graphql::visibility::note_private"
    )]
    async fn private_note(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let db = &RequestContext::of(ctx)?.app.db;
        let batch = &self.batch;
        let notes = batch
            .load("notes".into(), || {
                crate::note::service::many(
                    db,
                    batch.workspace_id,
                    crate::note::NoteSubject::Project,
                    &batch.ids,
                )
            })
            .await?;
        Ok(notes.get(&self.uuid).cloned())
    }

    /// The board's "client requests" lane: tickets awaiting a decision (NEW, TO_CLARIFY).
    async fn client_requests(&self, ctx: &Context<'_>) -> Result<Vec<crate::ticket::Ticket>> {
        let db = &RequestContext::of(ctx)?.app.db;
        let batch = &self.batch;
        let all = batch
            .load("client-requests".into(), || {
                crate::ticket::service::awaiting_decision(db, batch.workspace_id, &batch.ids)
            })
            .await?;
        Ok(all
            .get(&self.uuid)
            .into_iter()
            .flatten()
            .cloned()
            .map(Into::into)
            .collect())
    }

    /// The latest change the caller may see (from the activity timeline).
    async fn last_update(&self, ctx: &Context<'_>) -> Result<Option<super::dashboard::LastUpdate>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let batch = &self.batch;
        let staff = access.has(Permission::NotePrivate);
        let latest = batch
            .load(format!("last-update:{staff}"), || {
                crate::activity::service::latest(&rc.app.db, access, &batch.ids)
            })
            .await?;
        Ok(latest.get(&self.uuid).cloned().map(Into::into))
    }

    /// Milestones to validate, oldest first.
    async fn milestones(&self, ctx: &Context<'_>) -> Result<Vec<crate::milestone::Milestone>> {
        let db = &RequestContext::of(ctx)?.app.db;
        let batch = &self.batch;
        let all = batch
            .load("milestones".into(), || {
                crate::milestone::service::by_projects(db, batch.workspace_id, &batch.ids)
            })
            .await?;
        Ok(all
            .get(&self.uuid)
            .into_iter()
            .flatten()
            .cloned()
            .map(Into::into)
            .collect())
    }

    /// The current phase.
    async fn current_phase(&self, ctx: &Context<'_>) -> Result<Option<Phase>> {
        Ok(self.phases(ctx).await?.into_iter().find(|p| p.current))
    }

    /// The project's tasks, board order (column, then position).
    #[allow(clippy::too_many_arguments)]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last task of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only this column.")] column: Option<TaskColumn>,
        #[graphql(desc = "Only tasks assigned to this user.")] assignee_id: Option<ID>,
        #[graphql(desc = "Only tasks with this label.")] label: Option<String>,
        #[graphql(desc = "Only tasks whose title contains this text (case-insensitive).")]
        search: Option<String>,
    ) -> Result<FlatConnection<Task>> {
        let filter = TaskFilter::new(
            first,
            after.as_deref(),
            column,
            assignee_id.as_ref(),
            label,
            search,
        )?;
        let with_total = ctx.look_ahead().field("totalCount").exists();
        crate::task::connection_for_project(ctx, &self.batch, self.uuid, filter, with_total).await
    }
}
