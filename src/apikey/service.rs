//! API key rules: creation within the creator's own permissions, listing, rotation with a grace
//! period, revocation on every instance at once, and authentication (cached like sessions, with
//! stale marks on every change).

use crate::app::App;
use crate::auth::key_token as token;
use crate::config::Mode;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::rbac::visibility as projects;
use crate::rbac::{Permission, PermissionSet, WorkspaceAccess};
use chrono::{DateTime, Duration, Utc};
use entity::{api_key, project};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// What a new key may do.
#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<Permission>,
    pub project_ids: Option<Vec<Uuid>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Restricted to its registered trusted documents.
    pub trusted_documents_only: bool,
}

/// The `<env>` part of keys: `dev` in the embedded default, `live` otherwise.
pub fn env_of(app: &App) -> &'static str {
    if app.config.mode() == Mode::Embedded {
        "dev"
    } else {
        "live"
    }
}

/// Creates a key; returns it with its value, shown this once.
pub async fn create(
    app: &App,
    access: &WorkspaceAccess,
    input: NewApiKey,
) -> ApiResult<(api_key::Model, String)> {
    let name = crate::types::text::required("name", &input.name, 100)?;
    if input.scopes.is_empty() {
        return Err(ApiError::bad_field(
            "scopes",
            "a key needs at least one scope",
        ));
    }
    // Nobody grants what they lack.
    for scope in &input.scopes {
        if !access.has(*scope) {
            return Err(ApiError::forbidden(format!(
                "you cannot give a key `{}`, which you do not hold",
                scope.as_str()
            )));
        }
    }
    if input.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::bad_field("expiresAt", "must be in the future"));
    }
    let txn = app.db.begin().await?;
    if let Some(ids) = &input.project_ids {
        if ids.is_empty() {
            return Err(ApiError::bad_field(
                "projectIds",
                "give at least one project, or none for every project",
            ));
        }
        let scoped = txn.scoped(access.workspace_id);
        let visible = scoped
            .find::<project::Entity>()
            .filter(project::Column::Id.is_in(ids.iter().copied()))
            .filter(projects::visible(&scoped, access))
            .all(&*txn)
            .await?;
        if visible.len() != ids.len() {
            return Err(ApiError::NotFound("project"));
        }
    }
    let minted = token::mint(env_of(app), None);
    let created = txn
        .scoped(access.workspace_id)
        .insert(api_key::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            name: Set(name),
            public_id: Set(minted.public_id.clone()),
            secret_hash: Set(minted.secret_hash.clone()),
            previous_secret_hash: Set(None),
            previous_valid_until: Set(None),
            scopes: Set(PermissionSet::from_iter(input.scopes.iter().copied())
                .names()
                .join(",")),
            project_ids: Set(input.project_ids.map(|ids| {
                ids.iter()
                    .map(Uuid::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            })),
            created_by: Set(access.user_id),
            created_at: Set(Utc::now()),
            expires_at: Set(input.expires_at),
            revoked_at: Set(None),
            last_used_at: Set(None),
            last_used_ip: Set(None),
            trusted_documents_only: Set(input.trusted_documents_only),
        })
        .await?;
    txn.commit().await?;
    Ok((created, minted.value))
}

/// The workspace's keys, newest first.
pub async fn list(app: &App, access: &WorkspaceAccess) -> ApiResult<Vec<api_key::Model>> {
    Ok(Scoped::new(app.db.conn(), access.workspace_id)
        .find::<api_key::Entity>()
        .order_by_desc(api_key::Column::Id)
        .all(app.db.conn())
        .await?)
}

pub(super) async fn live_key(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<api_key::Model> {
    let key = Scoped::new(app.db.conn(), access.workspace_id)
        .find_by_id::<api_key::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("API key"))?;
    if key.revoked_at.is_some() {
        return Err(ApiError::bad_field("id", "this key is revoked"));
    }
    Ok(key)
}

/// Issues a new secret; the old one keeps working for `grace` (0 ends it now).
pub async fn rotate(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
    grace: Duration,
) -> ApiResult<(api_key::Model, String)> {
    let key = live_key(app, access, id).await?;
    let minted = token::mint(env_of(app), Some(&key.public_id));
    let public_id = key.public_id.clone();
    let previous = key.secret_hash.clone();
    let mut model: api_key::ActiveModel = key.into();
    model.secret_hash = Set(minted.secret_hash);
    model.previous_secret_hash = Set((grace > Duration::zero()).then_some(previous));
    model.previous_valid_until = Set((grace > Duration::zero()).then(|| Utc::now() + grace));
    let updated = Scoped::new(app.db.conn(), access.workspace_id)
        .update(model)
        .await?;
    app.auth.forget_api_key(&public_id).await;
    Ok((updated, minted.value))
}

/// Revokes a key, on every instance at once.
pub async fn revoke(app: &App, access: &WorkspaceAccess, id: Uuid) -> ApiResult<api_key::Model> {
    let key = live_key(app, access, id).await?;
    let public_id = key.public_id.clone();
    let mut model: api_key::ActiveModel = key.into();
    model.revoked_at = Set(Some(Utc::now()));
    let updated = Scoped::new(app.db.conn(), access.workspace_id)
        .update(model)
        .await?;
    app.auth.forget_api_key(&public_id).await;
    Ok(updated)
}
