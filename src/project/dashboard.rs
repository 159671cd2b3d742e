//! `projectDashboard`: the 10-second view of a project: where it stands, and what awaits the
//! client.

use super::service as projects;
use super::types::Project;
use crate::db::Scoped;
use crate::error::ApiResult;
use crate::graphql::RequestContext;
use crate::identity::User;
use crate::milestone::{Milestone, MilestoneStatus};
use crate::rbac::{Permission, WorkspaceAccess};
use crate::task::{Task, TaskColumn};
use crate::ticket::{Ticket, TicketStatus};
use async_graphql::{ComplexObject, Context, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{activity, milestone, task, ticket};
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// The latest change of a project.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct LastUpdate {
    /// When.
    pub at: DateTime<Utc>,
    /// What, e.g. "Task moved to In progress".
    pub summary: String,
    #[graphql(skip)]
    pub actor_id: Uuid,
}

impl From<activity::Model> for LastUpdate {
    fn from(a: activity::Model) -> Self {
        Self {
            at: a.created_at,
            summary: a.summary,
            actor_id: a.actor_id,
        }
    }
}

#[ComplexObject]
impl LastUpdate {
    /// Who.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.actor_id).await?)
    }
}

/// What the project waits on the client for.
#[derive(Debug, Clone, SimpleObject)]
pub struct AwaitingClient {
    /// Milestones to validate.
    pub milestones: Vec<Milestone>,
    /// Quotes to answer.
    pub quotes: Vec<Ticket>,
    /// Tasks the client is blocking (not done).
    pub blocked_tasks: Vec<Task>,
}

/// The 10-second view of a project.
#[derive(Debug, Clone, SimpleObject)]
pub struct ProjectDashboard {
    /// The project: status, current phase, progress, next step.
    pub project: Project,
    /// The latest change the caller may see.
    pub last_update: Option<LastUpdate>,
    /// What awaits the client.
    pub awaiting_client: AwaitingClient,
    /// Tickets not settled yet (new, to clarify, quoted, awaiting payment).
    pub open_tickets: u64,
    /// Messages of others in the project's conversation the caller has not read.
    pub unread_messages: u64,
}

const OPEN: [TicketStatus; 4] = [
    TicketStatus::New,
    TicketStatus::ToClarify,
    TicketStatus::Quoted,
    TicketStatus::AwaitingPayment,
];

/// Builds the dashboard (eight indexed statements).
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    project_id: Uuid,
) -> ApiResult<ProjectDashboard> {
    let project = projects::get_visible(conn, access, project_id).await?;
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut last = scoped
        .find::<activity::Entity>()
        .filter(activity::Column::ProjectId.eq(project_id))
        .order_by_desc(activity::Column::Id);
    if !access.has(Permission::NotePrivate) {
        last = last.filter(activity::Column::StaffOnly.eq(false));
    }
    let last_update = last.one(conn).await?.map(LastUpdate::from);
    let milestones = scoped
        .find::<milestone::Entity>()
        .filter(milestone::Column::ProjectId.eq(project_id))
        .filter(milestone::Column::Status.eq(MilestoneStatus::Pending.as_str()))
        .order_by_asc(milestone::Column::Id)
        .all(conn)
        .await?;
    let quotes = scoped
        .find::<ticket::Entity>()
        .filter(ticket::Column::ProjectId.eq(project_id))
        .filter(ticket::Column::Status.eq(TicketStatus::Quoted.as_str()))
        .order_by_asc(ticket::Column::Number)
        .all(conn)
        .await?;
    let blocked = scoped
        .find::<task::Entity>()
        .filter(task::Column::ProjectId.eq(project_id))
        .filter(task::Column::BlockedByClient.eq(true))
        .filter(task::Column::BoardColumn.ne(TaskColumn::Done.as_str()))
        .order_by_asc(task::Column::Id)
        .all(conn)
        .await?;
    let open_tickets = scoped
        .find::<ticket::Entity>()
        .filter(ticket::Column::ProjectId.eq(project_id))
        .filter(ticket::Column::Status.is_in(OPEN.map(TicketStatus::as_str)))
        .count(conn)
        .await?;
    let unread_messages = crate::message::service::unread_count(conn, access, project_id).await?;
    Ok(ProjectDashboard {
        project: project.into(),
        last_update,
        awaiting_client: AwaitingClient {
            milestones: milestones.into_iter().map(Into::into).collect(),
            quotes: quotes.into_iter().map(Into::into).collect(),
            blocked_tasks: blocked.into_iter().map(Into::into).collect(),
        },
        open_tickets,
        unread_messages,
    })
}
