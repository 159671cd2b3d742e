//! The event bus: one trait, fanned out per channel (a workspace or a project, never a user), so
//! an event costs one publish whatever the number of listeners. In process in the embedded
//! default; Redis pub/sub across instances in production.

mod memory;
mod redis;

pub use self::redis::RedisBus;
pub use memory::MemoryBus;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use std::sync::Arc;

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusMessage {
    /// One published payload (JSON).
    Event(Arc<str>),
    /// The subscriber was too slow and this many events were dropped for it: resync with a query.
    Lagged(u64),
    /// The bus lost its connection and events may have been missed meanwhile: resync with a query.
    Gap,
}

/// Publish/subscribe by channel name.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes `payload` to everyone subscribed to `channel`, on every instance.
    async fn publish(&self, channel: &str, payload: String) -> anyhow::Result<()>;
    /// Subscribes to `channel`; the stream ends when the bus shuts down.
    async fn subscribe(&self, channel: &str) -> anyhow::Result<BoxStream<'static, BusMessage>>;

    /// How many subscriptions of this instance are attached to `channel` now (with Redis, once
    /// Redis acknowledged the channel): a subscription counted here receives every event
    /// published afterwards. For tests that wait for a subscription to be live, and for metrics.
    async fn local_subscribers(&self, channel: &str) -> usize;

    /// Tells every instance that sessions, memberships, roles or permissions changed (call after
    /// the change committed and its caches were invalidated). Bumps [`auth_epoch`](Self::auth_epoch)
    /// here at once, and on other instances before any event published after this call.
    async fn announce_auth_change(&self) -> anyhow::Result<()>;

    /// A counter that moves whenever an authorization change was announced (or the bus may have
    /// missed announcements). Subscriptions reuse their last check while it stays the same.
    fn auth_epoch(&self) -> u64;
}

/// The channel of authorization-change announcements.
pub const AUTH_CHANGES: &str = "auth:changes";

/// Channel names.
pub mod channel {
    use uuid::Uuid;

    /// Events of one project (board, messages, activity).
    pub fn project(workspace_id: Uuid, project_id: Uuid) -> String {
        format!("ws:{workspace_id}:project:{project_id}")
    }

    /// Events for one person in one workspace (their notifications).
    pub fn user(workspace_id: Uuid, user_id: Uuid) -> String {
        format!("ws:{workspace_id}:user:{user_id}")
    }
}
