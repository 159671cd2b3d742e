//! API-key authentication: a presented `pk_…` key becomes a principal. Keys are cached like
//! sessions (30 s entries; every change marks the entry stale, and readers only fill empty slots,
//! so a revoked key stops on the next request on every instance). Creating, listing, rotating and
//! revoking keys is the `apikey` domain's; this is the access layer's half.

use super::key_token as token;
use super::{ApiKeyPrincipal, Principal};
use crate::cache::Cache;
use crate::db::AcrossTenants;
use crate::db::Db;
use crate::types::permission::PermissionSet;
use chrono::Utc;
use entity::api_key;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};
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
            let row =
                AcrossTenants::because("an API key is authenticated before its workspace is known")
                    .find::<api_key::Entity>()
                    .filter(api_key::Column::PublicId.eq(public_id))
                    .one(db.conn())
                    .await;
            let row = match row {
                Ok(Some(row)) if row.revoked_at.is_none() => row,
                Ok(_) => return Principal::Rejected(INVALID),
                Err(err) => {
                    tracing::error!(error = ?err, "API key lookup failed");
                    return Principal::Unverified;
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
        // SQLite's one writer at a time (see `Authenticator::touch`).
        let _turn = db.writer().await;
        let result =
            AcrossTenants::because("a key's use is recorded by its id, found at authentication")
                .update_many::<api_key::Entity>()
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
