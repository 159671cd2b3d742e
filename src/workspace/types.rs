//! GraphQL types of the workspace domain.

use crate::graphql::RequestContext;
use crate::graphql::batch::Batch;
use crate::identity::User;
use crate::rbac::{BuiltinRole, Permission, PermissionSet};
use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{invitation, membership, workspace};
use std::sync::Arc;
use uuid::Uuid;

/// A workspace: an agency or freelancer, with its members and clients.
#[derive(Debug, Clone, SimpleObject)]
pub struct Workspace {
    /// Workspace ID.
    pub id: ID,
    /// Name.
    pub name: String,
    /// Unique slug, usable in `X-Workspace`.
    pub slug: String,
    /// Branding settings.
    pub settings: WorkspaceSettings,
    /// When the workspace was created.
    pub created_at: DateTime<Utc>,
}

/// Branding shown to clients.
#[derive(Debug, Clone, SimpleObject)]
pub struct WorkspaceSettings {
    /// Name shown in the portal (defaults to the workspace name).
    pub display_name: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Sender name of emails.
    pub email_sender_name: Option<String>,
    /// Brand colour, `#rrggbb`.
    pub brand_color: Option<String>,
    /// Owners and admins must use MFA to act in this workspace.
    pub require_mfa_for_admins: bool,
}

impl From<workspace::Model> for Workspace {
    fn from(w: workspace::Model) -> Self {
        Self {
            id: ID(w.id.to_string()),
            name: w.name,
            slug: w.slug,
            settings: WorkspaceSettings {
                display_name: w.display_name,
                logo_url: w.logo_url,
                email_sender_name: w.email_sender_name,
                brand_color: w.brand_color,
                require_mfa_for_admins: w.require_mfa_for_admins,
            },
            created_at: w.created_at,
        }
    }
}

/// A role with its permissions (domain value, loaded in batches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleView {
    pub id: Uuid,
    pub name: String,
    pub builtin: Option<BuiltinRole>,
    pub description: Option<String>,
    pub permissions: PermissionSet,
}

/// A role: built-in or custom.
#[derive(Debug, Clone, SimpleObject)]
pub struct Role {
    /// Role ID.
    pub id: ID,
    /// Name, unique in the workspace.
    pub name: String,
    /// The built-in role this is, or null for a custom role.
    pub builtin: Option<BuiltinRole>,
    /// What the role is for.
    pub description: Option<String>,
    /// What members with this role may do.
    pub permissions: Vec<Permission>,
}

impl From<RoleView> for Role {
    fn from(r: RoleView) -> Self {
        Self {
            id: ID(r.id.to_string()),
            name: r.name,
            builtin: r.builtin,
            description: r.description,
            permissions: r.permissions.iter().collect(),
        }
    }
}

/// A member of the workspace.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Member {
    /// Membership ID.
    pub id: ID,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    #[graphql(skip)]
    pub workspace_id: Uuid,
    #[graphql(skip)]
    pub user_id: Uuid,
    #[graphql(skip)]
    pub role_id: Uuid,
    #[graphql(skip)]
    pub membership_id: Uuid,
    /// The members resolved with this one, keyed by user (notes load for all at once).
    #[graphql(skip)]
    pub batch: Arc<Batch>,
}

impl Member {
    /// Members of one list, sharing a batch.
    pub fn list(rows: Vec<membership::Model>) -> Vec<Member> {
        let workspace_id = rows.first().map(|m| m.workspace_id).unwrap_or_default();
        let batch = Batch::new(workspace_id, rows.iter().map(|m| m.user_id).collect());
        rows.into_iter()
            .map(|m| Member::with_batch(m, batch.clone()))
            .collect()
    }

    fn with_batch(m: membership::Model, batch: Arc<Batch>) -> Self {
        Self {
            id: ID(m.id.to_string()),
            joined_at: m.created_at,
            workspace_id: m.workspace_id,
            user_id: m.user_id,
            role_id: m.role_id,
            membership_id: m.id,
            batch,
        }
    }
}

impl From<membership::Model> for Member {
    fn from(m: membership::Model) -> Self {
        let batch = Batch::new(m.workspace_id, vec![m.user_id]);
        Member::with_batch(m, batch)
    }
}

#[ComplexObject]
impl Member {
    /// The member's user.
    async fn user(&self, ctx: &Context<'_>) -> Result<User> {
        load_user(ctx, self.user_id).await
    }

    /// The member's role.
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        load_role(ctx, self.workspace_id, self.role_id).await
    }

    /// Staff-only private note about this member.
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
                    crate::note::NoteSubject::Member,
                    &batch.ids,
                )
            })
            .await?;
        Ok(notes.get(&self.user_id).cloned())
    }
}

/// A workspace the signed-in user belongs to, with their role there.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct MyWorkspace {
    /// The workspace.
    pub workspace: Workspace,
    #[graphql(skip)]
    pub workspace_id: Uuid,
    #[graphql(skip)]
    pub role_id: Uuid,
}

#[ComplexObject]
impl MyWorkspace {
    /// The caller's role in it.
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        load_role(ctx, self.workspace_id, self.role_id).await
    }
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum InvitationStatus {
    /// Can be accepted.
    Pending,
    /// Accepted.
    Accepted,
    /// Revoked by an admin.
    Revoked,
    /// Past its expiry.
    Expired,
}

/// An invitation to join the workspace.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Invitation {
    /// Invitation ID.
    pub id: ID,
    /// Invited email address.
    pub email: String,
    /// Status now.
    pub status: InvitationStatus,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    #[graphql(skip)]
    pub workspace_id: Uuid,
    #[graphql(skip)]
    pub role_id: Uuid,
    #[graphql(skip)]
    pub invited_by: Uuid,
}

impl From<invitation::Model> for Invitation {
    fn from(i: invitation::Model) -> Self {
        let status = if i.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if i.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if i.expires_at <= Utc::now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        Self {
            id: ID(i.id.to_string()),
            email: i.email,
            status,
            created_at: i.created_at,
            expires_at: i.expires_at,
            workspace_id: i.workspace_id,
            role_id: i.role_id,
            invited_by: i.invited_by,
        }
    }
}

#[ComplexObject]
impl Invitation {
    /// The role the invitee will get.
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        load_role(ctx, self.workspace_id, self.role_id).await
    }

    /// Who sent it.
    async fn invited_by(&self, ctx: &Context<'_>) -> Result<User> {
        load_user(ctx, self.invited_by).await
    }
}

/// A new invitation; its code went to the invited address by email.
#[derive(Debug, Clone, SimpleObject)]
pub struct InvitationCreated {
    /// The invitation.
    pub invitation: Invitation,
}

async fn load_user(ctx: &Context<'_>, id: Uuid) -> Result<User> {
    crate::identity::load_user(RequestContext::of(ctx)?, id)
        .await?
        .ok_or_else(|| crate::ApiError::NotFound("user").into())
}

async fn load_role(ctx: &Context<'_>, workspace_id: Uuid, id: Uuid) -> Result<Role> {
    RequestContext::of(ctx)?
        .loader::<super::loader::RoleLoader>()
        .load_one((workspace_id, id))
        .await
        .map_err(|e| crate::ApiError::internal(anyhow::anyhow!("{e:#}")))?
        .map(Role::from)
        .ok_or_else(|| crate::ApiError::NotFound("role").into())
}
