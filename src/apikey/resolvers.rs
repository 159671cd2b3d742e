//! API key types, the `apiKeys` query and the key mutations.

use super::service::{self, NewApiKey};
use super::trusted;
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::identity::User;
use crate::rbac::{Permission, PermissionSet};
use crate::types::parse_id;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use entity::api_key;
use uuid::Uuid;

/// A partner API key (never its secret).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct ApiKey {
    /// Key ID.
    pub id: ID,
    /// A name to recognise it by.
    pub name: String,
    /// The public start of the key, `pk_<env>_<public id>`.
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Permission>,
    /// The projects it is restricted to; `null` for every project.
    pub project_ids: Option<Vec<ID>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (recorded at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// From which IP it was last used.
    pub last_used_ip: Option<String>,
    /// It runs only its registered trusted documents (see `trustedDocuments`).
    pub trusted_documents_only: bool,
    #[graphql(skip)]
    pub created_by: Uuid,
}

impl ApiKey {
    fn of(k: api_key::Model, env: &str) -> Self {
        Self {
            id: ID(k.id.to_string()),
            name: k.name,
            prefix: format!("pk_{env}_{}", k.public_id),
            scopes: PermissionSet::from_names(k.scopes.split(','))
                .iter()
                .collect(),
            project_ids: k
                .project_ids
                .map(|ids| ids.split(',').map(|id| ID(id.to_owned())).collect()),
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            last_used_ip: k.last_used_ip,
            trusted_documents_only: k.trusted_documents_only,
            created_by: k.created_by,
        }
    }
}

#[ComplexObject]
impl ApiKey {
    /// Who created it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.created_by).await?)
    }
}

/// A document a key restricted to trusted documents may run.
#[derive(Debug, Clone, SimpleObject)]
pub struct TrustedDocument {
    /// Trusted document ID.
    pub id: ID,
    /// The key it belongs to.
    pub api_key_id: ID,
    /// A name to recognise it by.
    pub name: String,
    /// Lower-case hex SHA-256 of its exact text (what a persisted-query request sends).
    pub sha256: String,
    /// The document.
    pub document: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl From<entity::trusted_document::Model> for TrustedDocument {
    fn from(d: entity::trusted_document::Model) -> Self {
        Self {
            id: ID(d.id.to_string()),
            api_key_id: ID(d.api_key_id.to_string()),
            name: d.name,
            sha256: d.sha256,
            document: d.body,
            created_at: d.created_at,
        }
    }
}

/// A key as created or rotated: the only time its value is shown.
#[derive(Debug, Clone, SimpleObject)]
pub struct CreatedApiKey {
    /// The whole key. Store it now: it cannot be shown again.
    pub key: String,
    /// The key's details.
    pub api_key: ApiKey,
}

/// A new key.
#[derive(Debug, InputObject)]
pub struct CreateApiKeyInput {
    /// A name to recognise it by (1 to 100 characters).
    pub name: String,
    /// What it may do: a subset of your own permissions.
    pub scopes: Vec<Permission>,
    /// Restrict it to these projects (default: every project you see).
    pub project_ids: Option<Vec<ID>>,
    /// When it stops working (default: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// Run only registered trusted documents (default: any document).
    #[graphql(default)]
    pub trusted_documents_only: bool,
}

/// API key queries.
#[derive(Debug, Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// The workspace's API keys, newest first.
    #[graphql(directive = requires::apply(Permission::ApikeyManage))]
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Option<Vec<ApiKey>>> {
        let rc = RequestContext::of(ctx)?;
        let keys = service::list(&rc.app, rc.access().await?).await?;
        Ok(Some(
            keys.into_iter()
                .map(|k| ApiKey::of(k, service::env_of(&rc.app)))
                .collect(),
        ))
    }

    /// The documents a key may run when restricted to trusted documents, oldest first.
    #[graphql(directive = requires::apply(Permission::ApikeyManage))]
    async fn trusted_documents(
        &self,
        ctx: &Context<'_>,
        api_key_id: ID,
    ) -> Result<Option<Vec<TrustedDocument>>> {
        let rc = RequestContext::of(ctx)?;
        let key_id = parse_id("apiKeyId", &api_key_id)?;
        let docs = trusted::list(&rc.app, rc.access().await?, key_id).await?;
        Ok(Some(docs.into_iter().map(TrustedDocument::from).collect()))
    }
}

/// API key mutations.
#[derive(Debug, Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates a key with a subset of your permissions. Its value is returned this once.
    #[graphql(directive = requires::apply(Permission::ApikeyManage))]
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> Result<Option<CreatedApiKey>> {
        let rc = RequestContext::of(ctx)?;
        let project_ids = input
            .project_ids
            .map(|ids| {
                ids.iter()
                    .map(|id| parse_id("projectIds", id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let (created, key) = service::create(
            &rc.app,
            rc.access().await?,
            NewApiKey {
                name: input.name,
                scopes: input.scopes,
                project_ids,
                expires_at: input.expires_at,
                trusted_documents_only: input.trusted_documents_only,
            },
        )
        .await?;
        Ok(Some(CreatedApiKey {
            key,
            api_key: ApiKey::of(created, service::env_of(&rc.app)),
        }))
    }

    /// Issues a new secret. The old one keeps working for `graceSeconds` (default: the
    /// configured grace period; 0 ends it at once).
    #[graphql(directive = requires::apply(Permission::ApikeyManage))]
    async fn rotate_api_key(
        &self,
        ctx: &Context<'_>,
        id: ID,
        grace_seconds: Option<u32>,
    ) -> Result<Option<CreatedApiKey>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let grace = grace_seconds.map_or(rc.app.config.api_key_rotation_grace_secs, u64::from);
        let grace = Duration::seconds(i64::try_from(grace).unwrap_or(i64::MAX / 1_000));
        let (updated, key) = service::rotate(&rc.app, rc.access().await?, id, grace).await?;
        Ok(Some(CreatedApiKey {
            key,
            api_key: ApiKey::of(updated, service::env_of(&rc.app)),
        }))
    }

    /// Registers a document a key may run (the same text twice answers the same entry).
    #[graphql(directive = requires::apply(Permission::ApikeyManage))]
    async fn register_trusted_document(
        &self,
        ctx: &Context<'_>,
        api_key_id: ID,
        name: String,
        document: String,
    ) -> Result<Option<TrustedDocument>> {
        let rc = RequestContext::of(ctx)?;
        let key_id = parse_id("apiKeyId", &api_key_id)?;
        let created =
            trusted::register(&rc.app, rc.access().await?, key_id, &name, &document).await?;
        Ok(Some(created.into()))
    }

    /// Removes a trusted document: its key can no longer run it.
    #[graphql(directive = requires::apply(Permission::ApikeyManage))]
    async fn remove_trusted_document(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<TrustedDocument>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            trusted::remove(&rc.app, rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// Restricts a key to its trusted documents (`only: true`) or lifts the restriction; takes
    /// effect on every instance at once.
    #[graphql(directive = requires::apply(Permission::ApikeyManage))]
    async fn set_api_key_trusted_documents_only(
        &self,
        ctx: &Context<'_>,
        id: ID,
        only: bool,
    ) -> Result<Option<ApiKey>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let updated = trusted::set_only(&rc.app, rc.access().await?, id, only).await?;
        Ok(Some(ApiKey::of(updated, service::env_of(&rc.app))))
    }

    /// Revokes a key, on every instance at once.
    #[graphql(directive = requires::apply(Permission::ApikeyManage))]
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ApiKey>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let revoked = service::revoke(&rc.app, rc.access().await?, id).await?;
        Ok(Some(ApiKey::of(revoked, service::env_of(&rc.app))))
    }
}
