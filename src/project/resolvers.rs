//! Project queries and mutations. Thin: parse arguments, call the service, map the result.

use super::service::{self, NewProject, ProjectChanges, ProjectFilter};
use super::types::{Project, ProjectStatus};
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::flat::FlatConnection;
use crate::graphql::input::clearable;
use crate::graphql::pagination::Page;
use crate::identity::User;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::NaiveDate;

/// Project queries.
#[derive(Debug, Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// Projects the caller may see: all of them with `project:read`, otherwise those they are a
    /// member of.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last project of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only projects with this status.")] status: Option<ProjectStatus>,
        #[graphql(desc = "Only projects whose name contains this text (case-insensitive).")] search: Option<String>,
    ) -> Result<Option<FlatConnection<Project>>> {
        let rc = RequestContext::of(ctx)?;
        let page = Page::new(first, after.as_deref())?;
        let with_total = ctx.look_ahead().field("totalCount").exists();
        let (rows, total_count, has_next) = service::list(
            &rc.app,
            rc.access().await?,
            page,
            ProjectFilter { status, search },
            with_total,
        )
        .await?;
        Ok(Some(FlatConnection::new(
            Project::list(rows).into(),
            page.after.is_some(),
            has_next,
            total_count,
        )))
    }

    /// One project, if the caller may see it.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn project(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Project>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::get_visible(rc.app.db.conn(), rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// The 10-second view of a project: status, phase, progress, next step, last update, what
    /// awaits the client, and open tickets.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn project_dashboard(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<Option<super::dashboard::ProjectDashboard>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        Ok(Some(
            super::dashboard::load(rc.app.db.conn(), rc.access().await?, project_id).await?,
        ))
    }

    /// The members of a project.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn project_members(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<Option<Vec<User>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let access = rc.access().await?;
        service::get_visible(rc.app.db.conn(), access, project_id).await?;
        let ids = service::member_ids(&rc.app, access, project_id).await?;
        Ok(Some(crate::identity::load_users(rc, &ids).await?))
    }
}

/// A new project.
#[derive(Debug, InputObject)]
pub struct CreateProjectInput {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Estimated delivery date.
    pub estimated_delivery: Option<NaiveDate>,
    /// Phases in order (default: Design, Development, Review, Delivery); the first is current.
    pub phases: Option<Vec<String>>,
    /// Workspace members to add (clients see only the projects they belong to).
    #[graphql(default)]
    pub member_ids: Vec<ID>,
}

/// Changes to a project; omitted fields stay, `null` clears.
#[derive(Debug, InputObject)]
pub struct UpdateProjectInput {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: MaybeUndefined<String>,
    /// Status.
    pub status: Option<ProjectStatus>,
    /// Progress set by staff (0–100); `null` derives it from tasks again.
    pub progress: MaybeUndefined<i32>,
    /// The next step.
    pub next_step: MaybeUndefined<String>,
    /// What the client is expected to do.
    pub client_action: MaybeUndefined<String>,
    /// Estimated delivery date.
    pub estimated_delivery: MaybeUndefined<NaiveDate>,
    /// The current phase (one of the project's phases).
    pub current_phase_id: Option<ID>,
}

/// Project mutations.
#[derive(Debug, Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// Creates a project with its phases.
    #[graphql(directive = requires::apply(Permission::ProjectWrite))]
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> Result<Option<Project>> {
        let rc = RequestContext::of(ctx)?;
        let member_ids = input
            .member_ids
            .iter()
            .map(|id| parse_id("memberIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let new = NewProject {
            name: input.name,
            description: input.description,
            estimated_delivery: input.estimated_delivery,
            phases: input.phases,
            member_ids,
        };
        Ok(Some(
            service::create(&rc.app, rc.access().await?, new)
                .await?
                .into(),
        ))
    }

    /// Edits a project.
    #[graphql(directive = requires::apply(Permission::ProjectWrite))]
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProjectInput,
    ) -> Result<Option<Project>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let changes = ProjectChanges {
            name: input.name,
            description: clearable(input.description),
            status: input.status,
            progress: clearable(input.progress),
            next_step: clearable(input.next_step),
            client_action: clearable(input.client_action),
            estimated_delivery: clearable(input.estimated_delivery),
            current_phase_id: input
                .current_phase_id
                .as_ref()
                .map(|p| parse_id("currentPhaseId", p))
                .transpose()?,
        };
        Ok(Some(
            service::update(&rc.app, rc.access().await?, id, changes)
                .await?
                .into(),
        ))
    }

    /// Adds a workspace member to a project.
    #[graphql(directive = requires::apply(Permission::ProjectWrite))]
    async fn add_project_member(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        user_id: ID,
    ) -> Result<Option<Project>> {
        let rc = RequestContext::of(ctx)?;
        let (project_id, user_id) = (
            parse_id("projectId", &project_id)?,
            parse_id("userId", &user_id)?,
        );
        Ok(Some(
            service::add_member(&rc.app, rc.access().await?, project_id, user_id)
                .await?
                .into(),
        ))
    }

    /// Removes someone from a project.
    #[graphql(directive = requires::apply(Permission::ProjectWrite))]
    async fn remove_project_member(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        user_id: ID,
    ) -> Result<Option<Project>> {
        let rc = RequestContext::of(ctx)?;
        let (project_id, user_id) = (
            parse_id("projectId", &project_id)?,
            parse_id("userId", &user_id)?,
        );
        Ok(Some(
            service::remove_member(&rc.app, rc.access().await?, project_id, user_id)
                .await?
                .into(),
        ))
    }
}
