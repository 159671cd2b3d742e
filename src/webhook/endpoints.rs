//! A workspace's webhook endpoints: saved with a checked URL and a list of event kinds, a signing
//! secret shown once (kept sealed, because signing needs it back), turned off and on, deleted.

use super::{Webhooks, target};
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use chrono::Utc;
use entity::webhook_endpoint::{self, Column, Entity};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// The event kinds an endpoint may ask for: every domain event but those addressed to one
/// person (`NOTIFICATION_ADDED`) or kept for the audit log (`FILE_URL_MINTED`).
pub const KINDS: &[&str] = &[
    "TASK_CREATED",
    "TASK_UPDATED",
    "TASK_MOVED",
    "TASK_DELETED",
    "TICKET_CREATED",
    "TICKET_STATUS_CHANGED",
    "MESSAGE_ADDED",
    "MESSAGE_UPDATED",
    "ACTIVITY",
    "PAYMENT_STATUS_CHANGED",
    "FILE_UPLOADED",
    "FILE_VERSION_ADDED",
    "FILE_DELETED",
    "FILE_RESTORED",
];

/// What an endpoint is saved with.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub url: Option<String>,
    pub kinds: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

async fn checked_url(w: &Webhooks, url: &str) -> ApiResult<String> {
    let parsed = target::parse(url).map_err(|e| ApiError::bad_field("url", e.to_string()))?;
    target::resolve(&parsed, w.settings.allow_private)
        .await
        .map_err(|e| ApiError::bad_field("url", e.to_string()))?;
    Ok(parsed.to_string())
}

fn checked_kinds(kinds: &[String]) -> ApiResult<String> {
    if kinds.is_empty() {
        return Err(ApiError::bad_field("kinds", "name at least one event kind"));
    }
    let mut sorted: Vec<&str> = Vec::new();
    for kind in kinds {
        let Some(known) = KINDS.iter().find(|k| **k == kind.as_str()) else {
            return Err(ApiError::bad_field(
                "kinds",
                format!("unknown event kind `{kind}`; known: {}", KINDS.join(", ")),
            ));
        };
        if !sorted.contains(known) {
            sorted.push(known);
        }
    }
    serde_json::to_string(&sorted).map_err(ApiError::internal)
}

fn checked_description(description: Option<String>) -> ApiResult<Option<String>> {
    description
        .map(|d| crate::types::text::required("description", &d, 500))
        .transpose()
}

/// The kinds an endpoint listens to.
pub fn kinds_of(endpoint: &webhook_endpoint::Model) -> Vec<String> {
    serde_json::from_str(&endpoint.kinds).unwrap_or_default()
}

/// Saves a new endpoint; answers it with its secret, shown this once.
pub async fn create(
    w: &Webhooks,
    caller: &WorkspaceAccess,
    url: &str,
    kinds: &[String],
    description: Option<String>,
) -> ApiResult<(webhook_endpoint::Model, String)> {
    let url = checked_url(w, url).await?;
    let kinds = checked_kinds(kinds)?;
    let description = checked_description(description)?;
    let secret = super::signing::new_secret();
    let sealed = w
        .sealing
        .seal(secret.as_bytes())
        .map_err(ApiError::internal)?;
    let now = Utc::now();
    let saved = Scoped::new(w.db.conn(), caller.workspace_id)
        .insert(webhook_endpoint::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(caller.workspace_id),
            url: Set(url),
            kinds: Set(kinds),
            description: Set(description),
            sealed_secret: Set(sealed),
            enabled: Set(true),
            disabled_reason: Set(None),
            consecutive_failures: Set(0),
            created_by: Set(caller.user_id),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    Ok((saved, secret))
}

/// The workspace's endpoints, oldest first.
pub async fn list(
    w: &Webhooks,
    caller: &WorkspaceAccess,
) -> ApiResult<Vec<webhook_endpoint::Model>> {
    Ok(Scoped::new(w.db.conn(), caller.workspace_id)
        .find::<Entity>()
        .order_by_asc(Column::Id)
        .all(w.db.conn())
        .await?)
}

/// One endpoint of the workspace (another workspace's answers NOT_FOUND, like a missing one).
pub async fn get(w: &Webhooks, workspace_id: Uuid, id: Uuid) -> ApiResult<webhook_endpoint::Model> {
    Scoped::new(w.db.conn(), workspace_id)
        .find_by_id::<Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("webhook endpoint"))
}

/// Changes an endpoint. Turning it on again clears its failure count.
pub async fn update(
    w: &Webhooks,
    caller: &WorkspaceAccess,
    id: Uuid,
    changes: Changes,
) -> ApiResult<webhook_endpoint::Model> {
    let found = get(w, caller.workspace_id, id).await?;
    let mut model: webhook_endpoint::ActiveModel = found.into();
    if let Some(url) = changes.url {
        model.url = Set(checked_url(w, &url).await?);
    }
    if let Some(kinds) = changes.kinds {
        model.kinds = Set(checked_kinds(&kinds)?);
    }
    if let Some(description) = changes.description {
        model.description = Set(checked_description(description)?);
    }
    if let Some(enabled) = changes.enabled {
        model.enabled = Set(enabled);
        model.disabled_reason = Set((!enabled).then(|| "turned off by an admin".to_owned()));
        if enabled {
            model.consecutive_failures = Set(0);
        }
    }
    model.updated_at = Set(Utc::now());
    Ok(Scoped::new(w.db.conn(), caller.workspace_id)
        .update(model)
        .await?)
}

/// Deletes an endpoint and its delivery log.
pub async fn delete(w: &Webhooks, caller: &WorkspaceAccess, id: Uuid) -> ApiResult<()> {
    get(w, caller.workspace_id, id).await?;
    let txn = w.db.begin().await?;
    let scoped = txn.scoped(caller.workspace_id);
    scoped
        .delete_many::<entity::webhook_delivery::Entity>()
        .filter(entity::webhook_delivery::Column::EndpointId.eq(id))
        .exec(&*txn)
        .await?;
    scoped
        .delete_many::<Entity>()
        .filter(Column::Id.eq(id))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
