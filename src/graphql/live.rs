//! Subscriptions that stay authorized: every event is re-checked against the subscriber's
//! current rights before it is delivered (async-graphql runs a guard only once, at subscribe).
//!
//! On each event: the session is still live and the access token unexpired, the user may still
//! act in the workspace, still holds the permission, and still sees the project. Every change
//! that could revoke one of these (sessions ended, accounts disabled, memberships and roles
//! changed, project members removed) is announced on the bus after it commits, which moves the
//! bus's authorization epoch on every instance before any later event arrives; a subscription
//! reuses its last check only while the epoch has not moved (and for 30 s at most), so a revoked
//! subscriber is still refused at the next event, without a cache round trip per event. The first
//! failure ends the stream with an error that says why. A subscriber that fell behind (its queue
//! overflowed) or a bus that lost its connection also ends the stream with an explicit CONFLICT
//! error: the client resyncs with a query and subscribes again; nothing is lost silently.

use super::RequestContext;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::events::{DomainEvent, Envelope};
use crate::pubsub::{BusMessage, channel};
use crate::rbac::visibility as projects;
use crate::rbac::{Permission, PermissionSet, WorkspaceAccess};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use uuid::Uuid;

/// The credentials a websocket connection was opened with, kept for per-event checks.
pub struct LiveCredentials {
    /// The access token of `connection_init`.
    pub token: String,
    /// Its expiry (Unix seconds).
    pub expires_at: i64,
    /// Active subscriptions of this connection.
    pub subscriptions: Arc<AtomicUsize>,
    /// At most this many at once.
    pub max_subscriptions: usize,
}

impl std::fmt::Debug for LiveCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCredentials")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Held by a running subscription; frees its slot (and its place in `subscriptions_active`)
/// when the stream is dropped.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>, Arc<crate::telemetry::metrics::Metrics>);

impl Slot {
    fn new(taken: Arc<AtomicUsize>, metrics: Arc<crate::telemetry::metrics::Metrics>) -> Self {
        metrics.subscriptions.inc();
        Self(taken, metrics)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        self.1.subscriptions.dec();
    }
}

/// The future of [`project_stream`].
pub type Subscribing<'a, T> = Pin<
    Box<dyn Future<Output = ApiResult<BoxStream<'static, async_graphql::Result<T>>>> + Send + 'a>,
>;

/// Subscribes to a project's events for a subscription resolver: checks now, then re-checks on
/// every event (see [`Watch`]). Boxed on purpose: the resolver's future is kept for the life of
/// the subscription by async-graphql, and an inline subscribe-time check would keep its (large)
/// state there for every idle subscriber.
pub fn project_stream<'a, T, F>(
    ctx: &'a async_graphql::Context<'_>,
    project_id: Uuid,
    kinds: &'static [&'static str],
    map: F,
) -> Subscribing<'a, T>
where
    T: Send + 'static,
    F: Fn(&DomainEvent, &WorkspaceAccess) -> Option<T> + Send + Sync + 'static,
{
    Box::pin(async move {
        let (watch, access, slot) = Watch::start(ctx, Some(project_id)).await?;
        Ok(watch.events(&access, slot, kinds, map).await?.boxed())
    })
}

/// Subscribes to the caller's own channel in the selected workspace (their notifications), for a
/// signed-in user only: checks now, then on every event, like [`project_stream`].
pub fn user_stream<'a, T, F>(
    ctx: &'a async_graphql::Context<'_>,
    kinds: &'static [&'static str],
    map: F,
) -> Subscribing<'a, T>
where
    T: Send + 'static,
    F: Fn(&DomainEvent, &WorkspaceAccess) -> Option<T> + Send + Sync + 'static,
{
    Box::pin(async move {
        RequestContext::of(ctx)?.user()?;
        let (watch, access, slot) = Watch::start(ctx, None).await?;
        Ok(watch.events(&access, slot, kinds, map).await?.boxed())
    })
}

/// The permissions the subscription field's directive states (the policy read from the SDL), so
/// a subscription states its rule once. A subscription field without a permission rule is a bug.
fn required_permissions(ctx: &async_graphql::Context<'_>) -> ApiResult<PermissionSet> {
    let field = ctx.field().name();
    let requirement = ctx
        .data::<super::authz::Authz>()
        .ok()
        .and_then(|authz| authz.policy())
        .and_then(|policy| policy.requirement("Subscription", field))
        .filter(|r| !r.permissions.is_empty())
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "subscription `{field}` states no permission"
            ))
        })?;
    Ok(PermissionSet::from_iter(
        requirement.permissions.iter().copied(),
    ))
}

/// What a subscription needs to re-check.
#[derive(Debug, Clone)]
pub struct Watch {
    rc: Arc<RequestContext>,
    creds: Arc<LiveCredentials>,
    /// What the subscription field's own directive requires, read from the policy.
    permissions: PermissionSet,
    /// The project followed; `None` for the subscriber's own channel.
    project_id: Option<Uuid>,
    /// Set once the subscribe-time check resolved the workspace.
    workspace_id: Option<Uuid>,
    /// The last successful check and the bus's authorization epoch before it ran: while the epoch
    /// stays the same, nothing that could change the outcome happened (see
    /// [`EventBus::auth_epoch`](crate::pubsub::EventBus::auth_epoch)).
    last: Option<(u64, std::time::Instant, WorkspaceAccess)>,
}

/// A reused check is also refreshed after this long, for what is not announced (a session
/// reaching its end of life).
const RECHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

impl Watch {
    /// Checks at subscribe time and takes a subscription slot of the connection.
    pub async fn start(
        ctx: &async_graphql::Context<'_>,
        project_id: Option<Uuid>,
    ) -> ApiResult<(Self, WorkspaceAccess, Slot)> {
        let permissions = required_permissions(ctx)?;
        let rc = ctx
            .data::<Arc<RequestContext>>()
            .map_err(|_| ApiError::unauthenticated("no request context"))?
            .clone();
        let creds = ctx
            .data::<Arc<LiveCredentials>>()
            .map_err(|_| ApiError::bad_input("subscriptions are served on the websocket endpoint"))?
            .clone();
        let taken = creds.subscriptions.fetch_add(1, Ordering::AcqRel);
        let slot = Slot::new(creds.subscriptions.clone(), rc.app.metrics.clone());
        if taken >= creds.max_subscriptions {
            return Err(ApiError::bad_input(format!(
                "at most {} subscriptions per connection",
                creds.max_subscriptions
            )));
        }
        let mut watch = Self {
            rc,
            creds,
            permissions,
            project_id,
            workspace_id: None,
            last: None,
        };
        let access = watch.check().await?;
        if let Some(project_id) = project_id
            && access.has(Permission::ProjectRead)
            && access.projects.is_none()
        {
            // Staff skip the per-event membership check, but a project that is missing or in
            // another workspace answers NOT_FOUND at subscribe, like every query.
            projects::get_visible(watch.rc.app.db.conn(), &access, project_id).await?;
        }
        watch.workspace_id = Some(access.workspace_id);
        Ok((watch, access, slot))
    }

    /// The subscriber's rights now: the token's expiry is checked every time; the rest is read
    /// again whenever an authorization change was announced since the last check.
    pub async fn check(&mut self) -> ApiResult<WorkspaceAccess> {
        if self.creds.expires_at <= chrono::Utc::now().timestamp() {
            return Err(ApiError::unauthenticated(
                "the access token expired; reconnect with a fresh token",
            ));
        }
        let epoch = self.rc.app.bus.auth_epoch();
        if let Some((seen, at, access)) = &self.last
            && *seen == epoch
            && at.elapsed() < RECHECK_AFTER
        {
            return Ok(access.clone());
        }
        let at = std::time::Instant::now();
        let access = self.check_now().await?;
        self.last = Some((epoch, at, access.clone()));
        Ok(access)
    }

    async fn check_now(&self) -> ApiResult<WorkspaceAccess> {
        let user = match self.rc.app.auth.authenticate(&self.creds.token).await {
            Principal::User(user) => user,
            Principal::ApiKey(key) => {
                let access = self.rc.app.access.for_api_key(&key).await?;
                return self.admit(access).await;
            }
            Principal::Rejected(reason) => return Err(ApiError::unauthenticated(reason)),
            Principal::Unverified => {
                return Err(ApiError::unavailable(anyhow::anyhow!(
                    "the credentials could not be checked"
                )));
            }
            Principal::Anonymous => return Err(ApiError::unauthenticated("not signed in")),
        };
        let access = match self.workspace_id {
            // After subscribe, the workspace is known: only membership and role are re-read.
            Some(workspace_id) => self
                .rc
                .app
                .access
                .resolve(workspace_id, user.user_id)
                .await?
                .ok_or(ApiError::NotFound("workspace"))?
                .for_session(user.session_id)?,
            None => self.rc.fresh_access(&user).await?,
        };
        self.admit(access).await
    }

    /// The permission and project checks of an access.
    async fn admit(&self, access: WorkspaceAccess) -> ApiResult<WorkspaceAccess> {
        if let Some(missing) = self.permissions.iter().find(|p| !access.has(*p)) {
            return Err(ApiError::MissingPermission(missing));
        }
        if let Some(project_id) = self.project_id
            && (!access.has(Permission::ProjectRead) || access.projects.is_some())
        {
            // Members only: one indexed query.
            projects::get_visible(self.rc.app.db.conn(), &access, project_id).await?;
        }
        Ok(access)
    }

    /// The project's events of the given `kinds`, each re-checked, mapped by `map` (which sees
    /// the subscriber's access, to filter what that access may not see). Ends after the first
    /// error.
    pub async fn events<T, F>(
        self,
        access: &WorkspaceAccess,
        slot: Slot,
        kinds: &'static [&'static str],
        map: F,
    ) -> ApiResult<impl Stream<Item = async_graphql::Result<T>> + use<T, F>>
    where
        T: Send + 'static,
        F: Fn(&DomainEvent, &WorkspaceAccess) -> Option<T> + Send + Sync + 'static,
    {
        let channel = match self.project_id {
            Some(project_id) => channel::project(access.workspace_id, project_id),
            None => channel::user(access.workspace_id, access.user_id),
        };
        let bus = self
            .rc
            .app
            .bus
            .subscribe(&channel)
            .await
            .map_err(ApiError::internal)?;
        let state = State {
            watch: self,
            bus,
            kinds,
            map: Arc::new(map),
            done: false,
            _slot: slot,
        };
        Ok(futures_util::stream::unfold(state, next_event))
    }
}

struct State<F> {
    watch: Watch,
    bus: BoxStream<'static, BusMessage>,
    /// Event types this subscription delivers; others are skipped before any check.
    kinds: &'static [&'static str],
    map: Arc<F>,
    done: bool,
    _slot: Slot,
}

async fn next_event<T, F>(mut state: State<F>) -> Option<(async_graphql::Result<T>, State<F>)>
where
    F: Fn(&DomainEvent, &WorkspaceAccess) -> Option<T>,
{
    if state.done {
        return None;
    }
    loop {
        let failure = match state.bus.next().await? {
            BusMessage::Event(payload) => {
                let Ok(Envelope {
                    event, occurred_at, ..
                }) = serde_json::from_str::<Envelope>(&payload)
                else {
                    continue;
                };
                if !state.kinds.contains(&event.kind()) {
                    continue;
                }
                // Boxed: the check's state exists only while it runs, so an idle subscription
                // stays small (this future lives as long as the subscription).
                match Box::pin(state.watch.check()).await {
                    Ok(access) => match (state.map)(&event, &access) {
                        Some(item) => {
                            // Its observation also counts the delivery (one write, on
                            // this thread's shard).
                            let metrics = &state.watch.rc.app.metrics;
                            let waited = (chrono::Utc::now() - occurred_at).num_microseconds();
                            #[allow(clippy::cast_precision_loss)]
                            let seconds = waited.unwrap_or(0).max(0) as f64 / 1e6;
                            metrics.publish_to_deliver.observe(seconds);
                            return Some((Ok(item), state));
                        }
                        None => continue,
                    },
                    Err(err) => err,
                }
            }
            BusMessage::Lagged(missed) => ApiError::conflict(format!(
                "this subscription fell behind and {missed} events were dropped; \
                 query the current state and subscribe again"
            )),
            BusMessage::Gap => ApiError::conflict(
                "the event bus reconnected and events may have been missed; \
                 query the current state and subscribe again",
            ),
        };
        state.done = true;
        return Some((Err(failure.into_graphql()), state));
    }
}
