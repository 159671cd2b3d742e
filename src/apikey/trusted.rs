//! Trusted documents: a partner key can be restricted to a registered set of GraphQL documents,
//! identified by the SHA-256 of their exact text. Staff with `apikey:manage` register, list and
//! remove them; the [`TrustedDocuments`] extension refuses any other document for such a key,
//! whether sent as text or as a persisted-query hash.

use super::service::live_key;
use crate::app::App;
use crate::auth::Principal;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult, is_unique_violation};
use crate::graphql::RequestContext;
use crate::graphql::limits::DocumentLimits;
use crate::rbac::WorkspaceAccess;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerResult};
use chrono::Utc;
use entity::{api_key, trusted_document};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use uuid::Uuid;

/// The lower-case hex SHA-256 of a document's exact text (what APQ clients send too).
pub fn hash(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// Registers `document` for a key. It must parse and stay within the document limits. Registering
/// the same text again answers the existing entry.
pub async fn register(
    app: &App,
    access: &WorkspaceAccess,
    key_id: Uuid,
    name: &str,
    document: &str,
) -> ApiResult<trusted_document::Model> {
    let name = crate::types::text::required("name", name, 100)?;
    if !DocumentLimits::default().within_tokens(document) {
        return Err(ApiError::bad_field("document", "the document is too large"));
    }
    if let Err(err) = async_graphql::parser::parse_query(document) {
        return Err(ApiError::bad_field(
            "document",
            format!("the document does not parse: {err}"),
        ));
    }
    let key = live_key(app, access, key_id).await?;
    let sha256 = hash(document);
    let scoped = Scoped::new(app.db.conn(), access.workspace_id);
    let inserted = scoped
        .insert(trusted_document::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            api_key_id: Set(key.id),
            sha256: Set(sha256.clone()),
            name: Set(name),
            body: Set(document.to_owned()),
            created_by: Set(access.user_id),
            created_at: Set(Utc::now()),
        })
        .await;
    match inserted {
        Ok(created) => Ok(created),
        Err(err) if is_unique_violation(&err) => find(app, access.workspace_id, key.id, &sha256)
            .await?
            .ok_or(ApiError::NotFound("trusted document")),
        Err(err) => Err(err.into()),
    }
}

/// A key's trusted documents, oldest first.
pub async fn list(
    app: &App,
    access: &WorkspaceAccess,
    key_id: Uuid,
) -> ApiResult<Vec<trusted_document::Model>> {
    let scoped = Scoped::new(app.db.conn(), access.workspace_id);
    scoped
        .find_by_id::<api_key::Entity>(key_id)
        .await?
        .ok_or(ApiError::NotFound("API key"))?;
    Ok(scoped
        .find::<trusted_document::Entity>()
        .filter(trusted_document::Column::ApiKeyId.eq(key_id))
        .order_by_asc(trusted_document::Column::Id)
        .all(app.db.conn())
        .await?)
}

/// Removes a trusted document: the key can no longer run it.
pub async fn remove(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<trusted_document::Model> {
    let scoped = Scoped::new(app.db.conn(), access.workspace_id);
    let found = scoped
        .find_by_id::<trusted_document::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("trusted document"))?;
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = app.db.writer().await;
    scoped
        .delete_many::<trusted_document::Entity>()
        .filter(trusted_document::Column::Id.eq(id))
        .exec(app.db.conn())
        .await?;
    drop(turn);
    Ok(found)
}

/// Restricts a key to its trusted documents, or lifts the restriction; effective at once on
/// every instance (the cached key is marked stale).
pub async fn set_only(
    app: &App,
    access: &WorkspaceAccess,
    key_id: Uuid,
    only: bool,
) -> ApiResult<api_key::Model> {
    let key = live_key(app, access, key_id).await?;
    let public_id = key.public_id.clone();
    let mut model: api_key::ActiveModel = key.into();
    model.trusted_documents_only = Set(only);
    let updated = Scoped::new(app.db.conn(), access.workspace_id)
        .update(model)
        .await?;
    app.auth.forget_api_key(&public_id).await;
    Ok(updated)
}

async fn find(
    app: &App,
    workspace_id: Uuid,
    key_id: Uuid,
    sha256: &str,
) -> ApiResult<Option<trusted_document::Model>> {
    Ok(Scoped::new(app.db.conn(), workspace_id)
        .find::<trusted_document::Entity>()
        .filter(trusted_document::Column::ApiKeyId.eq(key_id))
        .filter(trusted_document::Column::Sha256.eq(sha256))
        .one(app.db.conn())
        .await?)
}

/// Refuses, for keys restricted to trusted documents, every document that is not registered for
/// them. Runs before APQ: a hash-only request is answered from the key's own documents, never
/// from the shared APQ store.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustedDocuments;

impl ExtensionFactory for TrustedDocuments {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(TrustedDocuments)
    }
}

#[async_trait::async_trait]
impl Extension for TrustedDocuments {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let Some(rc) = RequestContext::of_request(&request) else {
            return next.run(ctx, request).await;
        };
        let Principal::ApiKey(key) = &rc.principal else {
            return next.run(ctx, request).await;
        };
        if !key.trusted_documents_only {
            return next.run(ctx, request).await;
        }
        let sent_hash = request
            .extensions
            .get("persistedQuery")
            .and_then(|p| match p {
                async_graphql::Value::Object(o) => o.get("sha256Hash").cloned(),
                _ => None,
            })
            .and_then(|h| match h {
                async_graphql::Value::String(s) => Some(s.to_ascii_lowercase()),
                _ => None,
            });
        let sha256 = match (&sent_hash, request.query.is_empty()) {
            (Some(h), true) => h.clone(),
            _ => hash(&request.query),
        };
        let found = find(&rc.app, key.workspace_id, key.key_id, &sha256)
            .await
            .map_err(ApiError::into_server_error)?;
        let Some(document) = found else {
            let refusal = ApiError::forbidden(format!(
                "this API key runs only its trusted documents; {sha256} is not one of them"
            ));
            rc.log_denial(&refusal, "(document)", &sha256);
            crate::graphql::authz::audit::refusal(&rc, "graphql.document".into(), &refusal).await;
            return Err(refusal.into_server_error());
        };
        rc.ran_as_trusted_document(document.name);
        request.query = document.body;
        request.extensions.remove("persistedQuery");
        next.run(ctx, request).await
    }
}
