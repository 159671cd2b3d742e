//! Per-request context: the caller, the selected workspace (verified lazily, once per request,
//! never carried over from an earlier request), and the request's own DataLoaders.

use super::loaders::Loaders;
use super::policy::Requirement;
use crate::app::AppState;
use crate::auth::{Principal, UserPrincipal};
use crate::config::Mode;
use crate::db::Global;
use crate::error::{ApiError, ApiResult};
use crate::rbac::{Permission, WorkspaceAccess};
use entity::workspace;
use sea_orm::{ColumnTrait, QueryFilter};
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Metadata about the HTTP request or websocket connection.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// The request came from Portico's GraphiQL page (`X-Portico-Client: graphiql`, or
    /// `"client": "graphiql"` in a socket's init payload). A label for the audit log's source,
    /// never a permission: any client may send it.
    pub via_graphiql: bool,
}

/// Everything a resolver knows about its request.
pub struct RequestContext {
    pub app: AppState,
    pub principal: Principal,
    pub client: ClientInfo,
    /// The `X-Workspace` header: a slug or an ID.
    workspace_selector: Option<String>,
    access: OnceCell<WorkspaceAccess>,
    /// DataLoaders of this request only.
    loaders: Loaders,
    /// The rate-limit state left by this request's last operation.
    rate: std::sync::Mutex<Option<super::cost::RateReport>>,
    /// A GET request: no operation may mutate ([`super::safe_methods`]).
    read_only: std::sync::atomic::AtomicBool,
    /// An operation was refused for its method (the HTTP layer answers 405).
    method_refused: std::sync::atomic::AtomicBool,
    /// The name of the operation being run (for denial logs).
    operation: std::sync::Mutex<Option<String>>,
    /// A websocket connection's context (for the audit log's source).
    websocket: bool,
    /// The registered name of the trusted document the operation ran as (labels metrics).
    trusted_document: std::sync::OnceLock<String>,
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("principal", &self.principal)
            .field("workspace_selector", &self.workspace_selector)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    pub fn new(
        app: AppState,
        principal: Principal,
        workspace_selector: Option<String>,
        client: ClientInfo,
    ) -> Self {
        let loaders = Loaders::new(app.db.clone());
        Self::with_loaders(app, principal, workspace_selector, client, loaders)
    }

    /// The context of a websocket connection, which outlives any one request: its loaders keep
    /// nothing between loads (see [`Loaders::for_connection`]).
    pub fn for_connection(
        app: AppState,
        principal: Principal,
        workspace_selector: Option<String>,
        client: ClientInfo,
    ) -> Self {
        let loaders = Loaders::for_connection(app.db.clone());
        let mut rc = Self::with_loaders(app, principal, workspace_selector, client, loaders);
        rc.websocket = true;
        rc
    }

    fn with_loaders(
        app: AppState,
        principal: Principal,
        workspace_selector: Option<String>,
        client: ClientInfo,
        loaders: Loaders,
    ) -> Self {
        Self {
            app,
            principal,
            client,
            workspace_selector: workspace_selector.filter(|s| !s.trim().is_empty()),
            access: OnceCell::new(),
            loaders,
            rate: std::sync::Mutex::new(None),
            read_only: std::sync::atomic::AtomicBool::new(false),
            method_refused: std::sync::atomic::AtomicBool::new(false),
            operation: std::sync::Mutex::new(None),
            websocket: false,
            trusted_document: std::sync::OnceLock::new(),
        }
    }

    /// Marks the request as sent with a safe method (GET): mutations are refused.
    pub fn set_read_only(&self) {
        self.read_only
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether mutations are refused for this request.
    pub fn read_only(&self) -> bool {
        self.read_only.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records that an operation was refused for its method.
    pub fn refuse_method(&self) {
        self.method_refused
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether an operation of this request was refused for its method.
    pub fn method_refused(&self) -> bool {
        self.method_refused
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records the name of the operation about to run (`None` for an anonymous one).
    pub fn set_operation(&self, name: Option<String>) {
        if let Ok(mut operation) = self.operation.lock() {
            *operation = name;
        }
    }

    /// The name of the operation being run.
    pub fn operation_name(&self) -> Option<String> {
        self.operation.lock().ok().and_then(|o| o.clone())
    }

    /// Records that the operation runs as the registered trusted document `name`.
    pub fn ran_as_trusted_document(&self, name: String) {
        let _ = self.trusted_document.set(name);
    }

    /// The registered name of the trusted document the operation ran as.
    pub fn trusted_document(&self) -> Option<&str> {
        self.trusted_document.get().map(String::as_str)
    }

    /// Whether this is a websocket connection's context.
    pub fn over_websocket(&self) -> bool {
        self.websocket
    }

    /// The workspace, once this request's access to it was checked.
    pub fn selected_workspace(&self) -> Option<Uuid> {
        self.access.get().map(|access| access.workspace_id)
    }

    /// Keeps what the last operation of this request cost and left (for `X-RateLimit-*`).
    pub fn record_rate(&self, report: super::cost::RateReport) {
        if let Ok(mut rate) = self.rate.lock() {
            *rate = Some(report);
        }
    }

    /// What the last operation of this request cost and left.
    pub fn rate_report(&self) -> Option<super::cost::RateReport> {
        self.rate.lock().ok().and_then(|rate| *rate)
    }

    /// The context a request carries, before the query environment exists (extensions'
    /// `prepare_request`).
    pub fn of_request(request: &async_graphql::Request) -> Option<Arc<RequestContext>> {
        request
            .data
            .get(&std::any::TypeId::of::<Arc<RequestContext>>())
            .and_then(|d| d.downcast_ref::<Arc<RequestContext>>())
            .cloned()
    }

    /// The context of a resolver.
    pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> ApiResult<&'a RequestContext> {
        ctx.data::<Arc<RequestContext>>()
            .map(|rc| rc.as_ref())
            .map_err(|_| ApiError::internal(anyhow::anyhow!("request context missing")))
    }

    /// This request's loader `T` (a domain's, found by type; see [`super::loaders`]).
    pub fn loader<T: super::loaders::RequestLoader>(&self) -> super::loaders::Shared<T> {
        self.loaders.get::<T>()
    }

    /// The signed-in user, or UNAUTHENTICATED (FORBIDDEN for an API key: keys act in one
    /// workspace, not as a user).
    pub fn user(&self) -> ApiResult<&UserPrincipal> {
        match &self.principal {
            Principal::User(user) => Ok(user),
            Principal::ApiKey(_) => Err(ApiError::forbidden(
                "API keys act within their workspace; this operation needs a signed-in user",
            )),
            Principal::Anonymous => Err(ApiError::unauthenticated("sign in first")),
            Principal::Rejected(reason) => Err(ApiError::unauthenticated(*reason)),
            Principal::Unverified => Err(ApiError::unavailable(anyhow::anyhow!(
                "the credentials could not be checked"
            ))),
        }
    }

    /// The verified access to the workspace selected by `X-Workspace` (for an API key: its own
    /// workspace, which `X-Workspace` may name but not change).
    pub async fn access(&self) -> ApiResult<&WorkspaceAccess> {
        if let Principal::ApiKey(key) = &self.principal {
            return self
                .access
                .get_or_try_init(|| async {
                    if let Some(selector) = self.workspace_selector.as_deref() {
                        let named = match Uuid::parse_str(selector) {
                            Ok(id) => id,
                            Err(_) => self
                                .workspace_id_by_slug(&selector.trim().to_lowercase())
                                .await
                                .unwrap_or_default(),
                        };
                        if named != key.workspace_id {
                            return Err(ApiError::NotFound("workspace"));
                        }
                    }
                    self.app.access.for_api_key(key).await
                })
                .await;
        }
        let user = self.user()?;
        self.access
            .get_or_try_init(|| async {
                let selector = self.workspace_selector.as_deref().ok_or_else(|| {
                    ApiError::bad_input(
                        "select a workspace with the X-Workspace header (slug or ID)",
                    )
                })?;
                self.resolve_access(user, selector).await
            })
            .await
    }

    /// The workspace access, if this request already resolved it.
    pub fn resolved_access(&self) -> Option<&WorkspaceAccess> {
        self.access.get()
    }

    /// The caller's access to the workspace named by an argument (`slug` or ID). Uses the
    /// request's selected workspace when they are the same.
    pub async fn access_to(&self, selector: Option<&str>) -> ApiResult<WorkspaceAccess> {
        match selector {
            None => self.access().await.cloned(),
            Some(s) if Some(s) == self.workspace_selector.as_deref() => {
                self.access().await.cloned()
            }
            Some(_) if matches!(self.principal, Principal::ApiKey(_)) => {
                self.access().await.cloned()
            }
            Some(s) => self.resolve_access(self.user()?, s).await,
        }
    }

    /// The selected workspace's access of `user_id`, resolved again (not the per-request memo):
    /// for subscriptions, which re-check on every event.
    pub async fn fresh_access(&self, user: &UserPrincipal) -> ApiResult<WorkspaceAccess> {
        let selector = self.workspace_selector.as_deref().ok_or_else(|| {
            ApiError::bad_input("select a workspace with the `workspace` field of connection_init")
        })?;
        self.resolve_access(user, selector).await
    }

    async fn resolve_access(
        &self,
        user: &UserPrincipal,
        selector: &str,
    ) -> ApiResult<WorkspaceAccess> {
        let workspace_id = match Uuid::parse_str(selector) {
            Ok(id) => id,
            Err(_) => {
                self.workspace_id_by_slug(&selector.trim().to_lowercase())
                    .await?
            }
        };
        // Membership is verified here on every request. A workspace the caller is not a member of
        // answers exactly like one that does not exist.
        self.app
            .access
            .resolve(workspace_id, user.user_id)
            .await?
            .ok_or(ApiError::NotFound("workspace"))?
            .for_session(user.session_id)
    }

    /// Slug to ID, cached (`ws:slug:{slug}`) and forgotten when a slug changes. A stale entry
    /// could only point at a workspace whose membership is then checked anyway.
    async fn workspace_id_by_slug(&self, slug: &str) -> ApiResult<Uuid> {
        let key = crate::rbac::workspace_slug_cache_key(slug);
        if let Ok(Some(cached)) = self.app.cache.get(&key).await
            && let Ok(id) = Uuid::parse_str(&cached)
        {
            return Ok(id);
        }
        let workspace = Global::new(self.app.db.conn())
            .find::<workspace::Entity>()
            .filter(workspace::Column::Slug.eq(slug))
            .one(self.app.db.conn())
            .await?
            .ok_or(ApiError::NotFound("workspace"))?;
        let ttl = std::time::Duration::from_secs(self.app.config.rbac_cache_ttl_secs);
        if let Err(err) = self
            .app
            .cache
            .set(&key, &workspace.id.to_string(), ttl)
            .await
        {
            tracing::warn!(error = ?err, "workspace slug cache write failed");
        }
        Ok(workspace.id)
    }

    /// Checks a field's requirement. `mutation` adds the rule that only ACTIVE users change things.
    pub async fn authorize(&self, requirement: &Requirement, mutation: bool) -> ApiResult<()> {
        if let Principal::ApiKey(_) = &self.principal {
            // Exactly the key's scopes: nothing that needs a user or an operator.
            if requirement.platform_admin || requirement.permissions.is_empty() {
                return Err(ApiError::forbidden(
                    "API keys act within their workspace; this operation needs a signed-in user",
                ));
            }
            let access = self.access().await?;
            for permission in &requirement.permissions {
                access.require(*permission)?;
            }
            return Ok(());
        }
        let user = self.user()?;
        if mutation && !user.may_mutate() {
            return Err(ApiError::forbidden(format!(
                "accounts with status {:?} cannot make changes",
                user.status
            )));
        }
        if requirement.platform_admin && !user.is_platform_admin {
            return Err(ApiError::forbidden("platform operators only"));
        }
        if !requirement.permissions.is_empty() {
            let access = self.access().await?;
            for permission in &requirement.permissions {
                access.require(*permission)?;
            }
        }
        Ok(())
    }

    /// Introspection (and so GraphiQL) is for principals with `schema:explore` in the selected
    /// workspace, platform operators, or anyone in the embedded default.
    pub async fn authorize_introspection(&self) -> ApiResult<()> {
        if self.app.config.mode() == Mode::Embedded {
            // Open to all; resolve access anyway, so fields hidden by `visible` show to those
            // who may use them.
            let _ = self.access().await;
            return Ok(());
        }
        if let Principal::User(user) = &self.principal
            && user.is_platform_admin
        {
            return Ok(());
        }
        if matches!(
            self.principal,
            Principal::Anonymous | Principal::Rejected(_) | Principal::Unverified
        ) {
            self.user()?;
        }
        self.access().await?.require(Permission::SchemaExplore)
    }
}
