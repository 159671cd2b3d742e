//! What a user may do in one workspace: their membership, role and resolved permissions, cached
//! under `rbac:ws:{workspace}:user:{user}` and invalidated on every role or membership change.

use super::{BuiltinRole, Permission, PermissionSet};
use crate::auth::ApiKeyPrincipal;
use crate::cache::Cache;
use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::pubsub::EventBus;
use entity::{membership, role, role_permission};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// A verified membership with its resolved permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceAccess {
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    pub membership_id: Uuid,
    pub role_id: Uuid,
    /// The built-in role, if the member holds one.
    pub builtin: Option<BuiltinRole>,
    pub permissions: PermissionSet,
    /// Only these projects (an API key restricted to some projects); `None` for members.
    pub projects: Option<Arc<[Uuid]>>,
    /// An owner or admin without MFA in a workspace that requires it: refused until enrolled.
    pub mfa_missing: bool,
    /// The member's account is ACTIVE (their API keys stop otherwise).
    pub user_active: bool,
    /// Sessions opened before this time (Unix milliseconds) are refused in this workspace: an
    /// admin ended the member's access here (`endMemberSessions`).
    pub sessions_not_before: Option<i64>,
}

impl WorkspaceAccess {
    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// Fails with FORBIDDEN naming `permission` unless it is held.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(ApiError::MissingPermission(permission))
        }
    }

    /// Whether a session may act in this workspace: sessions are global, so a workspace ends a
    /// member's access by refusing the sessions opened before its cut-off. Session IDs are UUID v7,
    /// which carry their creation time.
    pub fn admits_session(&self, session_id: Uuid) -> bool {
        let Some(not_before) = self.sessions_not_before else {
            return true;
        };
        session_id.get_timestamp().is_some_and(|ts| {
            let (secs, nanos) = ts.to_unix();
            let millis = i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000)
                + i64::from(nanos / 1_000_000);
            millis >= not_before
        })
    }

    /// The access a signed-in session gets: refused when the workspace ended this member's
    /// sessions after this one opened (UNAUTHENTICATED: sign in again), or requires MFA they lack.
    pub fn for_session(self, session_id: Uuid) -> ApiResult<Self> {
        if !self.admits_session(session_id) {
            return Err(ApiError::unauthenticated(
                "your access to this workspace was ended by an admin; sign in again",
            ));
        }
        if self.mfa_missing {
            return Err(ApiError::forbidden(
                "this workspace requires owners and admins to use MFA: enable it with enrolMfa and confirmMfa, then sign in again",
            ));
        }
        Ok(self)
    }

    pub fn is_owner(&self) -> bool {
        self.builtin == Some(BuiltinRole::Owner)
    }

    /// Staff (owner, admin, collaborator, or a custom role with `project:read`), as opposed to
    /// clients and guests.
    pub fn is_staff(&self) -> bool {
        match self.builtin {
            Some(role) => role.is_staff(),
            None => self.has(Permission::ProjectRead),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Cached {
    m: Uuid,
    r: Uuid,
    b: Option<String>,
    p: Vec<String>,
    #[serde(default)]
    x: bool,
    /// The account is active.
    #[serde(default)]
    a: bool,
    /// Sessions not before (Unix ms).
    #[serde(default)]
    n: Option<i64>,
}

/// Resolves and caches [`WorkspaceAccess`].
#[derive(Clone)]
pub struct AccessResolver {
    db: Db,
    cache: Arc<dyn Cache>,
    /// Where invalidations are announced to running subscriptions.
    bus: Arc<dyn EventBus>,
    ttl: Duration,
}

impl std::fmt::Debug for AccessResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessResolver")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The cache key of one user's access to one workspace.
pub fn cache_key(workspace_id: Uuid, user_id: Uuid) -> String {
    format!("rbac:ws:{workspace_id}:user:{user_id}")
}

impl AccessResolver {
    pub fn new(db: Db, cache: Arc<dyn Cache>, bus: Arc<dyn EventBus>, ttl: Duration) -> Self {
        Self {
            db,
            cache,
            bus,
            ttl,
        }
    }

    /// The access of `user_id` to `workspace_id`, or `None` when they are not a member.
    pub async fn resolve(
        &self,
        workspace_id: Uuid,
        user_id: Uuid,
    ) -> ApiResult<Option<WorkspaceAccess>> {
        let key = cache_key(workspace_id, user_id);
        match self.cache.get(&key).await {
            Ok(Some(raw)) => match serde_json::from_str::<Cached>(&raw) {
                Ok(c) => {
                    return Ok(Some(WorkspaceAccess {
                        workspace_id,
                        user_id,
                        membership_id: c.m,
                        role_id: c.r,
                        builtin: c.b.as_deref().and_then(BuiltinRole::from_key),
                        permissions: PermissionSet::from_names(c.p.iter().map(String::as_str)),
                        projects: None,
                        mfa_missing: c.x,
                        user_active: c.a,
                        sessions_not_before: c.n,
                    }));
                }
                Err(err) => tracing::warn!(%err, "corrupt rbac cache entry ignored"),
            },
            Ok(None) => {}
            Err(err) => tracing::warn!(error = ?err, "rbac cache read failed; using the database"),
        }
        let access = load(self.db.conn(), workspace_id, user_id).await?;
        if let Some(a) = &access {
            let cached = Cached {
                m: a.membership_id,
                r: a.role_id,
                b: a.builtin.map(|b| b.key().to_owned()),
                p: a.permissions
                    .names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                x: a.mfa_missing,
                a: a.user_active,
                n: a.sessions_not_before,
            };
            let raw = serde_json::to_string(&cached).map_err(anyhow::Error::from)?;
            if let Err(err) = self.cache.set(&key, &raw, self.ttl).await {
                tracing::warn!(error = ?err, "rbac cache write failed");
            }
        }
        Ok(access)
    }

    /// The access of an API key: its scopes within its creator's current permissions, restricted
    /// to its projects. The creator leaving the workspace, or an account that is not ACTIVE, ends
    /// the key; a creator the workspace refuses until they enable MFA suspends it.
    pub async fn for_api_key(&self, key: &ApiKeyPrincipal) -> ApiResult<WorkspaceAccess> {
        let creator = self
            .resolve(key.workspace_id, key.created_by)
            .await?
            .ok_or_else(|| {
                ApiError::unauthenticated("the member who created this API key left the workspace")
            })?;
        if !creator.user_active {
            return Err(ApiError::unauthenticated(
                "the member who created this API key is not active",
            ));
        }
        if creator.mfa_missing {
            return Err(ApiError::forbidden(
                "this workspace requires MFA of owners and admins, and this key's creator has not enabled it",
            ));
        }
        let permissions = PermissionSet::from_iter(
            Permission::ALL
                .iter()
                .copied()
                .filter(|p| key.scopes.contains(*p) && creator.has(*p)),
        );
        Ok(WorkspaceAccess {
            builtin: None,
            permissions,
            projects: key.projects.clone(),
            ..creator
        })
    }

    /// Forgets one user's cached access (membership added, changed or removed).
    pub async fn invalidate_user(&self, workspace_id: Uuid, user_id: Uuid) -> ApiResult<()> {
        self.cache
            .delete(&cache_key(workspace_id, user_id))
            .await
            .map_err(ApiError::from)?;
        self.announce().await
    }

    /// Forgets a user's cached access in every workspace they belong to (their account status or
    /// MFA changed, which access depends on), and announces it once.
    pub async fn invalidate_user_everywhere(&self, user_id: Uuid) -> ApiResult<()> {
        let memberships =
            crate::db::AcrossTenants::because("a user's own memberships, in every workspace")
                .find::<membership::Entity>()
                .filter(membership::Column::UserId.eq(user_id))
                .all(self.db.conn())
                .await?;
        for membership in memberships {
            self.cache
                .delete(&cache_key(membership.workspace_id, user_id))
                .await
                .map_err(ApiError::from)?;
        }
        self.announce().await
    }

    /// Tells running subscriptions to re-check (see [`EventBus::announce_auth_change`]).
    pub async fn announce(&self) -> ApiResult<()> {
        self.bus
            .announce_auth_change()
            .await
            .map_err(ApiError::internal)
    }

    /// Forgets every cached access of a workspace (a role's permissions changed).
    pub async fn invalidate_workspace(&self, workspace_id: Uuid) -> ApiResult<()> {
        self.cache
            .delete_prefix(&format!("rbac:ws:{workspace_id}:"))
            .await
            .map_err(ApiError::from)?;
        self.announce().await
    }
}

/// Loads access from the database (three indexed lookups).
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    workspace_id: Uuid,
    user_id: Uuid,
) -> ApiResult<Option<WorkspaceAccess>> {
    let scoped = Scoped::new(conn, workspace_id);
    let Some(member) = scoped
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let role = scoped
        .find_by_id::<role::Entity>(member.role_id)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("membership {} has no role", member.id))
        })?;
    let permissions = role_permissions(&scoped, &role).await?;
    let builtin = role.builtin.as_deref().and_then(BuiltinRole::from_key);
    let global = crate::db::Global::new(conn);
    let user = global.find_by_id::<entity::user::Entity>(user_id).await?;
    let user_active = user
        .as_ref()
        .is_some_and(|u| u.status == entity::user::UserStatus::Active);
    // Only owners and admins are concerned: one more lookup for them, none for the others.
    let mfa_missing = if matches!(builtin, Some(BuiltinRole::Owner | BuiltinRole::Admin)) {
        let required = global
            .find_by_id::<entity::workspace::Entity>(workspace_id)
            .await?
            .is_some_and(|w| w.require_mfa_for_admins);
        required && user.is_some_and(|u| u.mfa_enabled_at.is_none())
    } else {
        false
    };
    Ok(Some(WorkspaceAccess {
        workspace_id,
        user_id,
        membership_id: member.id,
        role_id: role.id,
        builtin,
        permissions,
        projects: None,
        mfa_missing,
        user_active,
        sessions_not_before: member.sessions_not_before.map(|t| t.timestamp_millis()),
    }))
}

/// The permissions of a role: from code for built-in roles, from `role_permissions` otherwise.
pub async fn role_permissions<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    role: &role::Model,
) -> ApiResult<PermissionSet> {
    if let Some(builtin) = role.builtin.as_deref().and_then(BuiltinRole::from_key) {
        return Ok(builtin.permissions());
    }
    let rows = scoped
        .find::<role_permission::Entity>()
        .filter(role_permission::Column::RoleId.eq(role.id))
        .all(scoped.conn())
        .await?;
    Ok(PermissionSet::from_names(
        rows.iter().map(|r| r.permission.as_str()),
    ))
}
