//! Automatic persisted queries (Apollo's protocol): a client sends `extensions.persistedQuery`
//! with the query's SHA-256; unknown hashes answer `PersistedQueryNotFound` and the client
//! resends the text once. Texts are kept in the shared cache (Redis in production), so every
//! instance knows a query registered on any of them.
//!
//! Unlike async-graphql's own extension, a stored query goes back into the request as *text*, so
//! it is parsed and limited (tokens, aliases, root fields, depth, complexity) exactly like any
//! other document. APQ only saves bandwidth: it is not an allow-list (trusted documents are).

use super::limits::{DocumentLimits, refuse};
use crate::graphql::RequestContext;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerError, ServerResult};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// How long a registered query is kept after its last registration.
const TTL: Duration = Duration::from_secs(24 * 3600);

/// The APQ extension.
#[derive(Debug, Clone, Copy)]
pub struct PersistedQueries {
    /// Texts longer than the token limit are not stored.
    pub limits: DocumentLimits,
}

impl ExtensionFactory for PersistedQueries {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_trait::async_trait]
impl Extension for PersistedQueries {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let Some(persisted) = request.extensions.remove("persistedQuery") else {
            return next.run(ctx, request).await;
        };
        let persisted = persisted.into_json().unwrap_or_default();
        if persisted["version"] != 1 {
            return Err(refuse("only version 1 of persistedQuery is supported"));
        }
        let Some(hash) = persisted["sha256Hash"]
            .as_str()
            .map(str::to_ascii_lowercase)
        else {
            return Err(refuse("persistedQuery needs a sha256Hash"));
        };
        // The request's own data: the query environment does not exist yet at this stage.
        let rc = RequestContext::of_request(&request)
            .or_else(|| ctx.data_opt::<Arc<RequestContext>>().cloned());
        let Some(rc) = rc else {
            return Err(refuse("persisted queries are not available here"));
        };
        let key = format!("apq:{hash}");
        if request.query.is_empty() {
            let stored = rc.app.cache.get(&key).await.unwrap_or_else(|err| {
                tracing::warn!(error = ?err, "APQ cache read failed");
                None
            });
            // The protocol's own message: clients resend the text when they see it.
            let text = stored.ok_or_else(|| ServerError::new("PersistedQueryNotFound", None))?;
            request.query = text;
        } else {
            let actual = hex::encode(Sha256::digest(request.query.as_bytes()));
            if actual != hash {
                return Err(refuse("provided sha256Hash does not match the query"));
            }
            if !self.limits.within_tokens(&request.query) {
                // Not stored; parsing refuses it with the limit's message.
                return next.run(ctx, request).await;
            }
            if let Err(err) = rc.app.cache.set(&key, &request.query, TTL).await {
                tracing::warn!(error = ?err, "APQ cache write failed");
            }
        }
        next.run(ctx, request).await
    }
}
