//! Workspace queries and mutations. Thin: parse arguments, call the service, map the result.

use super::service::{self, WorkspaceChanges};
use super::types::{Invitation, InvitationCreated, Member, MyWorkspace, Role, Workspace};
use crate::graphql::RequestContext;
use crate::graphql::directives::{authenticated, public, requires};
use crate::graphql::input::clearable;
use crate::graphql::pagination::{ConnectionFields, Page, connection};
use crate::identity::AuthPayload;
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};

/// Workspace queries.
#[derive(Debug, Default)]
pub struct WorkspaceQuery;

#[Object]
impl WorkspaceQuery {
    /// The workspaces the signed-in user belongs to, with their role in each.
    #[graphql(directive = authenticated::apply())]
    async fn my_workspaces(&self, ctx: &Context<'_>) -> Result<Option<Vec<MyWorkspace>>> {
        let rc = RequestContext::of(ctx)?;
        let rows = service::my_workspaces(&rc.app, rc.user()?.user_id).await?;
        Ok(Some(
            rows.into_iter()
                .map(|(w, m)| MyWorkspace {
                    workspace_id: w.id,
                    role_id: m.role_id,
                    workspace: w.into(),
                })
                .collect(),
        ))
    }

    /// The caller's permissions in a workspace (a slug or ID; defaults to `X-Workspace`), so a
    /// frontend can derive its UI from the backend.
    #[graphql(directive = authenticated::apply())]
    async fn my_permissions(
        &self,
        ctx: &Context<'_>,
        workspace: Option<String>,
    ) -> Result<Option<Vec<Permission>>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access_to(workspace.as_deref()).await?;
        Ok(Some(access.permissions.iter().collect()))
    }

    /// The selected workspace.
    #[graphql(directive = requires::apply(Permission::WorkspaceRead))]
    async fn workspace(&self, ctx: &Context<'_>) -> Result<Option<Workspace>> {
        let rc = RequestContext::of(ctx)?;
        Ok(Some(
            service::get_workspace(&rc.app, rc.access().await?)
                .await?
                .into(),
        ))
    }

    /// Members of the selected workspace, in join order.
    #[graphql(directive = requires::apply(Permission::MemberRead))]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last member of the previous page.")] after: Option<String>,
    ) -> Result<Option<Connection<String, Member, ConnectionFields>>> {
        let rc = RequestContext::of(ctx)?;
        let page = Page::new(first, after.as_deref())?;
        let (rows, total_count, has_next) =
            service::list_members(&rc.app, rc.access().await?, page).await?;
        Ok(Some(connection(
            page,
            total_count,
            has_next,
            Member::list(rows).into_iter().map(|m| (m.membership_id, m)),
        )))
    }

    /// Roles of the selected workspace, built-in first.
    #[graphql(directive = requires::apply(Permission::MemberRead))]
    async fn roles(&self, ctx: &Context<'_>) -> Result<Option<Vec<Role>>> {
        let rc = RequestContext::of(ctx)?;
        let access = rc.access().await?;
        let scoped = crate::db::Scoped::new(rc.app.db.conn(), access.workspace_id);
        Ok(Some(
            service::load_roles(&scoped, None)
                .await?
                .into_iter()
                .map(Role::from)
                .collect(),
        ))
    }

    /// Invitations of the selected workspace, newest first.
    #[graphql(directive = requires::apply(Permission::MemberManage))]
    async fn invitations(&self, ctx: &Context<'_>) -> Result<Option<Vec<Invitation>>> {
        let rc = RequestContext::of(ctx)?;
        let rows = service::list_invitations(&rc.app, rc.access().await?).await?;
        Ok(Some(rows.into_iter().map(Invitation::from).collect()))
    }
}

/// Changes to the workspace; omitted fields stay, `null` clears a setting.
#[derive(Debug, InputObject)]
pub struct UpdateWorkspaceInput {
    /// New name.
    pub name: Option<String>,
    /// New slug (clients using the old one in `X-Workspace` must switch).
    pub slug: Option<String>,
    /// Name shown in the portal.
    pub display_name: MaybeUndefined<String>,
    /// Logo URL (http or https).
    pub logo_url: MaybeUndefined<String>,
    /// Sender name of emails.
    pub email_sender_name: MaybeUndefined<String>,
    /// Brand colour, `#rrggbb`.
    pub brand_color: MaybeUndefined<String>,
    /// Require MFA of owners and admins (those without it are refused until they enrol).
    pub require_mfa_for_admins: Option<bool>,
}

/// A custom role.
#[derive(Debug, InputObject)]
pub struct RoleInput {
    /// Name, unique in the workspace.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Its permissions: only ones the caller holds.
    pub permissions: Vec<Permission>,
}

/// Changes to a custom role; omitted fields stay.
#[derive(Debug, InputObject)]
pub struct UpdateRoleInput {
    /// New name.
    pub name: Option<String>,
    /// New description; `null` clears it.
    pub description: MaybeUndefined<String>,
    /// New permissions (replacing the old ones): only ones the caller holds.
    pub permissions: Option<Vec<Permission>>,
}

/// Workspace mutations.
#[derive(Debug, Default)]
pub struct WorkspaceMutation;

#[Object]
impl WorkspaceMutation {
    /// Creates a workspace owned by the caller.
    #[graphql(directive = authenticated::apply())]
    async fn create_workspace(
        &self,
        ctx: &Context<'_>,
        name: String,
        slug: Option<String>,
    ) -> Result<Option<Workspace>> {
        let rc = RequestContext::of(ctx)?;
        Ok(Some(
            service::create_workspace(&rc.app, rc.user()?, &name, slug.as_deref())
                .await?
                .into(),
        ))
    }

    /// Changes the selected workspace's name, slug or settings.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn update_workspace(
        &self,
        ctx: &Context<'_>,
        input: UpdateWorkspaceInput,
    ) -> Result<Option<Workspace>> {
        let rc = RequestContext::of(ctx)?;
        let changes = WorkspaceChanges {
            name: input.name,
            slug: input.slug,
            display_name: clearable(input.display_name),
            logo_url: clearable(input.logo_url),
            email_sender_name: clearable(input.email_sender_name),
            brand_color: clearable(input.brand_color),
            require_mfa_for_admins: input.require_mfa_for_admins,
        };
        Ok(Some(
            service::update_workspace(&rc.app, rc.access().await?, changes)
                .await?
                .into(),
        ))
    }

    /// Invites an email address with a role. The single-use code travels only in the invitation
    /// email; nobody else ever sees it. The inviter's own address must be confirmed.
    #[graphql(directive = requires::apply(Permission::MemberManage))]
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        email: String,
        role_id: ID,
    ) -> Result<Option<InvitationCreated>> {
        let rc = RequestContext::of(ctx)?;
        let role_id = parse_id("roleId", &role_id)?;
        let invitation = service::invite(&rc.app, rc.access().await?, &email, role_id).await?;
        Ok(Some(InvitationCreated {
            invitation: invitation.into(),
        }))
    }

    /// Revokes a pending invitation.
    #[graphql(directive = requires::apply(Permission::MemberManage))]
    async fn revoke_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Invitation>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::revoke_invitation(&rc.app, rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// Accepts an invitation as a new person: creates the account (`name` and a new `password`)
    /// and signs in. An invitation for an email that already has an account is refused with one
    /// uniform answer whatever the password: that account signs in (MFA included) and calls
    /// `joinWorkspace`.
    #[graphql(directive = public::apply())]
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        code: String,
        name: Option<String>,
        password: String,
    ) -> Result<AuthPayload> {
        let rc = RequestContext::of(ctx)?;
        crate::identity::brute_force::attempt(
            &rc.app,
            crate::identity::brute_force::Guarded::Invitation,
            rc.client.ip.as_deref(),
            None,
        )
        .await?;
        let issued =
            service::accept_invitation(&rc.app, &code, name.as_deref(), &password, &rc.client)
                .await?;
        Ok(issued.into())
    }

    /// The signed-in user accepts an invitation addressed to their own email and joins its
    /// workspace with the invited role. A code for another email answers like an unknown one.
    #[graphql(directive = authenticated::apply())]
    async fn join_workspace(&self, ctx: &Context<'_>, code: String) -> Result<Option<MyWorkspace>> {
        let rc = RequestContext::of(ctx)?;
        crate::identity::brute_force::attempt(
            &rc.app,
            crate::identity::brute_force::Guarded::Invitation,
            rc.client.ip.as_deref(),
            None,
        )
        .await?;
        let (workspace, member) = service::join_workspace(&rc.app, rc.user()?, &code).await?;
        Ok(Some(MyWorkspace {
            workspace_id: workspace.id,
            role_id: member.role_id,
            workspace: workspace.into(),
        }))
    }

    /// Gives a member another role.
    #[graphql(directive = requires::apply(Permission::MemberManage))]
    async fn update_member_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role_id: ID,
    ) -> Result<Option<Member>> {
        let rc = RequestContext::of(ctx)?;
        let (user_id, role_id) = (parse_id("userId", &user_id)?, parse_id("roleId", &role_id)?);
        Ok(Some(
            service::update_member_role(&rc.app, rc.access().await?, user_id, role_id)
                .await?
                .into(),
        ))
    }

    /// Removes a member from the workspace.
    #[graphql(directive = requires::apply(Permission::MemberManage))]
    async fn remove_member(&self, ctx: &Context<'_>, user_id: ID) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let user_id = parse_id("userId", &user_id)?;
        service::remove_member(&rc.app, rc.access().await?, user_id).await?;
        Ok(Some(true))
    }

    /// Ends a member's access to this workspace: every session they opened before now is refused
    /// here (other workspaces are not affected), on every instance at once, and their
    /// subscriptions here end at the next event. They sign in again to come back. Returns how many
    /// of their sessions lost access.
    #[graphql(directive = requires::apply(Permission::MemberManage))]
    async fn end_member_sessions(&self, ctx: &Context<'_>, user_id: ID) -> Result<Option<u64>> {
        let rc = RequestContext::of(ctx)?;
        let user_id = parse_id("userId", &user_id)?;
        Ok(Some(
            service::end_member_sessions(&rc.app, rc.access().await?, user_id).await?,
        ))
    }

    /// Makes another member the owner; the caller becomes an admin.
    #[graphql(directive = requires::apply(Permission::WorkspaceTransfer))]
    async fn transfer_ownership(&self, ctx: &Context<'_>, user_id: ID) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let user_id = parse_id("userId", &user_id)?;
        service::transfer_ownership(&rc.app, rc.access().await?, user_id).await?;
        Ok(Some(true))
    }

    /// Creates a custom role from permissions the caller holds.
    #[graphql(directive = requires::apply(Permission::RoleManage))]
    async fn create_role(&self, ctx: &Context<'_>, input: RoleInput) -> Result<Option<Role>> {
        let rc = RequestContext::of(ctx)?;
        let role = service::create_role(
            &rc.app,
            rc.access().await?,
            &input.name,
            input.description,
            &input.permissions,
        )
        .await?;
        Ok(Some(role.into()))
    }

    /// Edits a custom role.
    #[graphql(directive = requires::apply(Permission::RoleManage))]
    async fn update_role(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateRoleInput,
    ) -> Result<Option<Role>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let role = service::update_role(
            &rc.app,
            rc.access().await?,
            id,
            input.name.as_deref(),
            clearable(input.description),
            input.permissions.as_deref(),
        )
        .await?;
        Ok(Some(role.into()))
    }

    /// Deletes a custom role that nobody holds.
    #[graphql(directive = requires::apply(Permission::RoleManage))]
    async fn delete_role(&self, ctx: &Context<'_>, id: ID) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        service::delete_role(&rc.app, rc.access().await?, id).await?;
        Ok(Some(true))
    }
}
