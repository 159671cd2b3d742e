//! API key rules: creation within the creator's own permissions, listing, rotation with a grace
//! period, revocation on every instance at once, and authentication (cached like sessions, with
//! stale marks on every change).

use super::token;
use crate::app::App;
use crate::auth::{ApiKeyPrincipal, Principal};
use crate::cache::Cache;
use crate::config::Mode;
use crate::db::{Db, Global, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::project::service as projects;
use crate::rbac::{Permission, PermissionSet, WorkspaceAccess};
use chrono::{DateTime, Duration, Utc};
use entity::{api_key, project};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a live key is served from cache.
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// `last_used_at` is written at most this often.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// The cache key of a key, by public id.
pub fn cache_key(public_id: &str) -> String {
    format!("auth:apikey:{public_id}")
}

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

/// What the cache keeps about a live key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    id: Uuid,
    ws: Uuid,
    by: Uuid,
    scopes: String,
    projects: Option<String>,
    hash: String,
    prev: Option<String>,
    prev_until: Option<i64>,
    expires: Option<i64>,
    #[serde(default)]
    trusted: bool,
}

impl From<&api_key::Model> for Cached {
    fn from(k: &api_key::Model) -> Self {
        Self {
            id: k.id,
            ws: k.workspace_id,
            by: k.created_by,
            scopes: k.scopes.clone(),
            projects: k.project_ids.clone(),
            hash: k.secret_hash.clone(),
            prev: k.previous_secret_hash.clone(),
            prev_until: k.previous_valid_until.map(|t| t.timestamp()),
            expires: k.expires_at.map(|t| t.timestamp()),
            trusted: k.trusted_documents_only,
        }
    }
}

/// Resolves a presented key. Unknown, malformed, revoked, expired and rotated-out keys are all
/// refused with the same reason.
pub async fn authenticate(
    db: &Db,
    cache: &dyn Cache,
    presented: &str,
    ip: Option<&str>,
) -> Principal {
    const INVALID: &str = "invalid, expired or revoked API key";
    let Some((public_id, secret)) = token::parse(presented) else {
        return Principal::Rejected(INVALID);
    };
    let key = cache_key(public_id);
    // A stale mark does not parse: the database is read, and the mark stays (fills use NX).
    let cached = match cache.get(&key).await {
        Ok(Some(raw)) => serde_json::from_str::<Cached>(&raw).ok(),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(error = ?err, "API key cache unavailable; reading the database");
            None
        }
    };
    let from_cache = cached.is_some();
    let found = match cached {
        Some(found) => found,
        None => {
            let row = Global::new(db.conn())
                .api_key_by_public_id(public_id)
                .one(db.conn())
                .await;
            let row = match row {
                Ok(Some(row)) if row.revoked_at.is_none() => row,
                Ok(_) => return Principal::Rejected(INVALID),
                Err(err) => {
                    tracing::error!(error = ?err, "API key lookup failed");
                    return Principal::Rejected("could not verify the API key");
                }
            };
            let stale = row
                .last_used_at
                .is_none_or(|at| (Utc::now() - at).num_seconds() >= LAST_USED_GRANULARITY_SECS);
            if stale {
                touch(db, row.id, ip);
            }
            Cached::from(&row)
        }
    };
    let now = Utc::now().timestamp();
    if found.expires.is_some_and(|at| at <= now) {
        return Principal::Rejected(INVALID);
    }
    let current = token::matches(secret, &found.hash);
    let previous = found.prev.as_deref().is_some_and(|prev| {
        found.prev_until.is_some_and(|until| until > now) && token::matches(secret, prev)
    });
    if !current && !previous {
        return Principal::Rejected(INVALID);
    }
    if !from_cache {
        // Only fills an empty slot: a stale mark written by a revocation stays.
        if let Ok(raw) = serde_json::to_string(&found)
            && let Err(err) = cache.set_if_absent(&key, &raw, CACHE_TTL).await
        {
            tracing::warn!(error = ?err, "could not cache the API key");
        }
    }
    Principal::ApiKey(ApiKeyPrincipal {
        key_id: found.id,
        workspace_id: found.ws,
        created_by: found.by,
        scopes: PermissionSet::from_names(found.scopes.split(',')),
        projects: found.projects.map(|ids| {
            ids.split(',')
                .filter_map(|id| id.parse().ok())
                .collect::<Vec<Uuid>>()
                .into()
        }),
        expires_at: found.expires,
        trusted_documents_only: found.trusted,
    })
}

/// Records a key's use (time and IP) without delaying the request.
fn touch(db: &Db, id: Uuid, ip: Option<&str>) {
    let db = db.clone();
    let ip = ip.map(str::to_owned);
    tokio::spawn(async move {
        let result = Global::new(db.conn())
            .api_key_touch()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(Utc::now()))
            .col_expr(api_key::Column::LastUsedIp, Expr::value(ip))
            .filter(api_key::Column::Id.eq(id))
            .exec(db.conn())
            .await;
        if let Err(err) = result {
            tracing::warn!(error = ?err, "could not record API key use");
        }
    });
}

/// The access of a key: its scopes within its creator's current permissions, restricted to its
/// projects. The creator leaving the workspace, or an account that is not ACTIVE, ends the key; a
/// creator the workspace refuses until they enable MFA suspends it.
pub async fn access_of(app: &App, key: &ApiKeyPrincipal) -> ApiResult<WorkspaceAccess> {
    let creator = app
        .access
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
