//! Task queries and mutations. Thin: parse arguments, call the service, map the result.

use super::service::{self, NewTask, TaskChanges};
use super::types::{Task, TaskColumn};
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::input::clearable;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::NaiveDate;

/// Task queries.
#[derive(Debug, Default)]
pub struct TaskQuery;

#[Object]
impl TaskQuery {
    /// One task, if the caller may see its project.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn task(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Task>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::get_visible(rc.app.db.conn(), rc.access().await?, id)
                .await?
                .into(),
        ))
    }
}

/// A new task.
#[derive(Debug, InputObject)]
pub struct CreateTaskInput {
    /// The project.
    pub project_id: ID,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Column (default BACKLOG); the task goes to its bottom.
    pub column: Option<TaskColumn>,
    /// A workspace member to assign.
    pub assignee_id: Option<ID>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Labels.
    #[graphql(default)]
    pub labels: Vec<String>,
    /// Whether the client is blocking it.
    #[graphql(default)]
    pub blocked_by_client: bool,
    /// Why.
    pub blocked_reason: Option<String>,
}

/// Changes to a task; omitted fields stay, `null` clears.
#[derive(Debug, InputObject)]
pub struct UpdateTaskInput {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: MaybeUndefined<String>,
    /// Assignee.
    pub assignee_id: MaybeUndefined<ID>,
    /// Due date.
    pub due_date: MaybeUndefined<NaiveDate>,
    /// Labels (replacing the current ones).
    pub labels: Option<Vec<String>>,
    /// Whether the client is blocking it (false clears the reason).
    pub blocked_by_client: Option<bool>,
    /// Why.
    pub blocked_reason: MaybeUndefined<String>,
}

/// Task mutations.
#[derive(Debug, Default)]
pub struct TaskMutation;

#[Object]
impl TaskMutation {
    /// Creates a task at the bottom of its column.
    #[graphql(directive = requires::apply(Permission::TaskWrite))]
    async fn create_task(&self, ctx: &Context<'_>, input: CreateTaskInput) -> Result<Option<Task>> {
        let rc = RequestContext::of(ctx)?;
        let new = NewTask {
            project_id: parse_id("projectId", &input.project_id)?,
            title: input.title,
            description: input.description,
            column: input.column,
            assignee_id: input
                .assignee_id
                .as_ref()
                .map(|a| parse_id("assigneeId", a))
                .transpose()?,
            due_date: input.due_date,
            labels: input.labels,
            blocked_by_client: input.blocked_by_client,
            blocked_reason: input.blocked_reason,
        };
        Ok(Some(
            service::create(&rc.app, rc.access().await?, new)
                .await?
                .into(),
        ))
    }

    /// Edits a task.
    #[graphql(directive = requires::apply(Permission::TaskWrite))]
    async fn update_task(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTaskInput,
    ) -> Result<Option<Task>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let assignee_id = match clearable(input.assignee_id) {
            Some(Some(a)) => Some(Some(parse_id("assigneeId", &a)?)),
            Some(None) => Some(None),
            None => None,
        };
        let changes = TaskChanges {
            title: input.title,
            description: clearable(input.description),
            assignee_id,
            due_date: clearable(input.due_date),
            labels: input.labels,
            blocked_by_client: input.blocked_by_client,
            blocked_reason: clearable(input.blocked_reason),
        };
        Ok(Some(
            service::update(&rc.app, rc.access().await?, id, changes)
                .await?
                .into(),
        ))
    }

    /// Deletes a task.
    #[graphql(directive = requires::apply(Permission::TaskWrite))]
    async fn delete_task(&self, ctx: &Context<'_>, id: ID) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        service::delete(&rc.app, rc.access().await?, id).await?;
        Ok(Some(true))
    }

    /// Moves a task to `column`, right after the task `after` of that column (or to the top when
    /// `after` is null).
    #[graphql(directive = requires::apply(Permission::TaskMove))]
    async fn move_task(
        &self,
        ctx: &Context<'_>,
        id: ID,
        column: TaskColumn,
        after: Option<ID>,
    ) -> Result<Option<Task>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let after = after.as_ref().map(|a| parse_id("after", a)).transpose()?;
        Ok(Some(
            super::moves::move_task(&rc.app, rc.access().await?, id, column, after)
                .await?
                .into(),
        ))
    }
}
