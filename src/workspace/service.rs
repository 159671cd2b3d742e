//! Workspace rules: creation (with its built-in roles and owner), settings, registration, and
//! the caller's own memberships. Members, roles and invitations have their own files.

pub use super::invitations::{
    accept_invitation, invite, join_workspace, list_invitations, revoke_invitation,
};
pub use super::members::{
    end_member_sessions, list_members, remove_member, transfer_ownership, update_member_role,
};
pub use super::roles::{builtin_role, create_role, delete_role, load_roles, update_role};

use crate::app::App;
use crate::auth::UserPrincipal;
use crate::db::AcrossTenants;
use crate::db::{Global, Scoped};
use crate::error::{ApiError, ApiResult, is_unique_violation};
use crate::graphql::context::ClientInfo;
use crate::identity::service::{self as identity, Issued};
use crate::rbac::{BuiltinRole, WorkspaceAccess};
use crate::types::{Email, Password, Slug, text};
use chrono::Utc;
use entity::user::UserStatus;
use entity::{membership, role, workspace};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

/// Creates a workspace with its built-in roles, owned by `owner_id`.
pub async fn create_workspace_in<C: ConnectionTrait>(
    conn: &C,
    owner_id: Uuid,
    name: &str,
    slug: Option<&str>,
) -> ApiResult<workspace::Model> {
    let name = text::required("name", name, 200)?;
    let slug = match slug {
        Some(s) => Slug::parse(s)?,
        None => Slug::from_name(&name),
    };
    let now = Utc::now();
    let id = Uuid::now_v7();
    let created = Global::new(conn)
        .insert(workspace::ActiveModel {
            id: Set(id),
            name: Set(name),
            slug: Set(slug.into_inner()),
            display_name: Set(None),
            logo_url: Set(None),
            email_sender_name: Set(None),
            brand_color: Set(None),
            require_mfa_for_admins: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                ApiError::conflict("this slug is taken")
            } else {
                err.into()
            }
        })?;
    let scoped = Scoped::new(conn, id);
    let mut owner_role = None;
    for builtin in BuiltinRole::ALL {
        let role_id = Uuid::now_v7();
        scoped
            .insert(role::ActiveModel {
                id: Set(role_id),
                workspace_id: Set(id),
                name: Set(builtin.display_name().to_owned()),
                builtin: Set(Some(builtin.key().to_owned())),
                description: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .await?;
        if builtin == BuiltinRole::Owner {
            owner_role = Some(role_id);
        }
    }
    let owner_role =
        owner_role.ok_or_else(|| ApiError::internal(anyhow::anyhow!("owner role not created")))?;
    add_member(&scoped, owner_id, owner_role).await?;
    Ok(created)
}

/// Adds `user_id` with `role_id` (no checks: callers enforce the rules).
pub async fn add_member<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    user_id: Uuid,
    role_id: Uuid,
) -> ApiResult<membership::Model> {
    let now = Utc::now();
    scoped
        .insert(membership::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(scoped.workspace_id()),
            user_id: Set(user_id),
            role_id: Set(role_id),
            created_at: Set(now),
            updated_at: Set(now),
            sessions_not_before: Set(None),
        })
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                ApiError::conflict("already a member of this workspace")
            } else {
                err.into()
            }
        })
}

/// Creates a workspace owned by the caller.
pub async fn create_workspace(
    app: &App,
    caller: &UserPrincipal,
    name: &str,
    slug: Option<&str>,
) -> ApiResult<workspace::Model> {
    let txn = app.db.begin().await?;
    let created = create_workspace_in(&*txn, caller.user_id, name, slug).await?;
    txn.commit().await?;
    Ok(created)
}

/// Creates an account with its first workspace and signs in (when registration is enabled).
pub async fn register(
    app: &App,
    email: &str,
    name: &str,
    password: &str,
    workspace_name: &str,
    client: &ClientInfo,
) -> ApiResult<Issued> {
    if !app.config.allow_registration {
        return Err(ApiError::forbidden(
            "registration is disabled on this server",
        ));
    }
    let email = Email::parse(email)?;
    let password = Password::parse_new(password, "password")?;
    let hash = app.hasher.hash(password.expose()).await?;
    let txn = app.db.begin().await?;
    let user =
        identity::create_user(&*txn, &email, name, hash, UserStatus::Active, false, false).await?;
    create_workspace_in(&*txn, user.id, workspace_name, None).await?;
    // The address is unproved until the emailed link is opened (see `identity::recovery`).
    crate::identity::recovery::queue_verification(app, &*txn, &user).await?;
    let issued = identity::open_session(app, &*txn, user, client).await?;
    txn.commit().await?;
    Ok(issued)
}

/// The workspace of `access`.
pub async fn get_workspace(app: &App, access: &WorkspaceAccess) -> ApiResult<workspace::Model> {
    Global::new(app.db.conn())
        .find_by_id::<workspace::Entity>(access.workspace_id)
        .await?
        .ok_or(ApiError::NotFound("workspace"))
}

/// Changes to a workspace's name, slug and settings. `Some(None)` clears a setting.
#[derive(Debug, Default)]
pub struct WorkspaceChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub display_name: Option<Option<String>>,
    pub logo_url: Option<Option<String>>,
    pub email_sender_name: Option<Option<String>>,
    pub brand_color: Option<Option<String>>,
    pub require_mfa_for_admins: Option<bool>,
}

fn parse_color(value: Option<String>) -> ApiResult<Option<String>> {
    match text::optional("brandColor", value, 7)? {
        Some(c)
            if c.len() == 7
                && c.starts_with('#')
                && c[1..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(Some(c.to_lowercase()))
        }
        Some(_) => Err(ApiError::bad_field(
            "brandColor",
            "a colour is written #rrggbb",
        )),
        None => Ok(None),
    }
}

fn parse_logo_url(value: Option<String>) -> ApiResult<Option<String>> {
    match text::optional("logoUrl", value, 2048)? {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => Ok(Some(url)),
        Some(_) => Err(ApiError::bad_field(
            "logoUrl",
            "the logo URL must be http(s)",
        )),
        None => Ok(None),
    }
}

/// Updates the workspace.
pub async fn update_workspace(
    app: &App,
    access: &WorkspaceAccess,
    changes: WorkspaceChanges,
) -> ApiResult<workspace::Model> {
    if changes.require_mfa_for_admins == Some(true)
        && crate::identity::service::get_user(app.db.conn(), access.user_id)
            .await?
            .mfa_enabled_at
            .is_none()
    {
        return Err(ApiError::bad_field(
            "requireMfaForAdmins",
            "enable MFA on your own account first (enrolMfa, confirmMfa)",
        ));
    }
    let txn = app.db.begin().await?;
    let global = Global::new(&*txn);
    let current = global
        .find_by_id::<workspace::Entity>(access.workspace_id)
        .await?
        .ok_or(ApiError::NotFound("workspace"))?;
    let old_slug = current.slug.clone();
    let current_mfa = current.require_mfa_for_admins;
    let before = current.clone();
    let mut model: workspace::ActiveModel = current.into();
    if let Some(name) = changes.name {
        model.name = Set(text::required("name", &name, 200)?);
    }
    if let Some(slug) = changes.slug {
        model.slug = Set(Slug::parse(&slug)?.into_inner());
    }
    if let Some(v) = changes.display_name {
        model.display_name = Set(text::optional("displayName", v, 200)?);
    }
    if let Some(v) = changes.logo_url {
        model.logo_url = Set(parse_logo_url(v)?);
    }
    if let Some(v) = changes.email_sender_name {
        model.email_sender_name = Set(text::optional("emailSenderName", v, 200)?);
    }
    if let Some(v) = changes.brand_color {
        model.brand_color = Set(parse_color(v)?);
    }
    let mfa_changed = changes
        .require_mfa_for_admins
        .is_some_and(|v| v != current_mfa);
    if let Some(v) = changes.require_mfa_for_admins {
        model.require_mfa_for_admins = Set(v);
    }
    model.updated_at = Set(Utc::now());
    let updated = global.update(model).await.map_err(|err| {
        if is_unique_violation(&err) {
            ApiError::conflict("this slug is taken")
        } else {
            err.into()
        }
    })?;
    txn.scoped(updated.id)
        .record_change("workspace", &before, &updated);
    txn.commit().await?;
    if mfa_changed {
        // Whether owners and admins may act changed: every cached access of the workspace goes.
        app.access.invalidate_workspace(updated.id).await?;
    }
    for slug in [old_slug.as_str(), updated.slug.as_str()] {
        app.cache
            .delete(&crate::rbac::workspace_slug_cache_key(slug))
            .await
            .map_err(ApiError::from)?;
    }
    Ok(updated)
}

/// The caller's workspaces with their membership in each, by name (two statements).
pub async fn my_workspaces(
    app: &App,
    user_id: Uuid,
) -> ApiResult<Vec<(workspace::Model, membership::Model)>> {
    let conn = app.db.conn();
    let global = Global::new(conn);
    let memberships = AcrossTenants::because("a user's own memberships, in every workspace")
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user_id))
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = memberships.iter().map(|m| m.workspace_id).collect();
    let mut workspaces: HashMap<Uuid, workspace::Model> = global
        .find::<workspace::Entity>()
        .filter(workspace::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|w| (w.id, w))
        .collect();
    let mut out: Vec<_> = memberships
        .into_iter()
        .filter_map(|m| workspaces.remove(&m.workspace_id).map(|w| (w, m)))
        .collect();
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(out)
}
