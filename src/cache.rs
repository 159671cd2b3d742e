//! A small key-value cache with TTLs: in process by default, Redis when `REDIS_URL` is set (so
//! every instance sees the same entries and the same invalidations).

mod memory;
mod redis;

pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;

use async_trait::async_trait;
use std::time::Duration;

/// The cache operations Portico needs.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    async fn get(&self, key: &str) -> anyhow::Result<Option<String>>;
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()>;
    /// Sets `key` only if it holds nothing (or only an expired entry); returns whether it did.
    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool>;
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Adds one to the counter at `key`, which starts a `window` when created. Returns the count
    /// and the time left in the window. Atomic (one Lua script on Redis), so it holds across
    /// instances and concurrent requests.
    async fn incr(&self, key: &str, window: Duration) -> anyhow::Result<(u64, Duration)>;
    /// Deletes every key starting with `prefix`.
    async fn delete_prefix(&self, prefix: &str) -> anyhow::Result<()>;
}
