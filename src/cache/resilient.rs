//! The production cache: Redis behind a [`Breaker`], with an in-process cache as the fallback.
//!
//! Every call to Redis is bounded by a timeout; a failure opens the breaker, and until a probe
//! succeeds every operation goes to the in-process cache at once. What that means per use:
//! - session and permission caches: entries cached here during the outage live at most their TTL,
//!   the same bound as a failed invalidation; readers that miss go to the database;
//! - brute-force counters and the cost budget: counted per instance (limits hold per instance);
//! - MFA challenges and persisted queries: kept per instance (a challenge started on another
//!   instance answers "expired"; a client resends a query Redis had stored).
//!
//! Writes made during the outage (`set`, `delete`, `delete_prefix`) are remembered, and the probe
//! deletes those keys in Redis before anyone reads it again, so no invalidation is lost and no
//! entry older than the outage survives it. Past [`MAX_PENDING`] keys the probe clears every key
//! of the instance's prefix instead.

use super::breaker::{Breaker, Gate};
use super::{Bucket, BucketState, Cache, MemoryCache, RedisCache};
use async_trait::async_trait;
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Invalidations remembered during an outage before the probe clears everything instead.
pub const MAX_PENDING: usize = 10_000;

#[derive(Debug, Default)]
struct Pending {
    keys: HashSet<String>,
    prefixes: HashSet<String>,
    overflow: bool,
}

/// What a write touched, to replay as a deletion after an outage.
enum Touch<'a> {
    Key(&'a str),
    Prefix(&'a str),
}

/// Redis with a breaker and an in-process fallback.
#[derive(Debug)]
pub struct ResilientCache {
    redis: RedisCache,
    local: MemoryCache,
    breaker: Arc<Breaker>,
    timeout: Duration,
    pending: Mutex<Pending>,
}

impl ResilientCache {
    pub fn new(redis: RedisCache, breaker: Arc<Breaker>, timeout: Duration) -> Self {
        Self {
            redis,
            local: MemoryCache::new(),
            breaker,
            timeout,
            pending: Mutex::new(Pending::default()),
        }
    }

    fn remember(&self, touch: Option<Touch<'_>>) {
        let Some(touch) = touch else { return };
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        if pending.keys.len() + pending.prefixes.len() >= MAX_PENDING {
            pending.overflow = true;
            return;
        }
        match touch {
            Touch::Key(key) => pending.keys.insert(key.to_owned()),
            Touch::Prefix(prefix) => pending.prefixes.insert(prefix.to_owned()),
        };
    }

    /// Deletes in Redis what changed during the outage; runs in the probe, before other readers.
    async fn replay(&self) -> anyhow::Result<()> {
        let pending = match self.pending.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => Pending {
                overflow: true,
                ..Pending::default()
            },
        };
        let result = async {
            if pending.overflow {
                return self.redis.delete_prefix("").await;
            }
            for prefix in &pending.prefixes {
                self.redis.delete_prefix(prefix).await?;
            }
            for key in &pending.keys {
                self.redis.delete(key).await?;
            }
            Ok(())
        }
        .await;
        if result.is_err()
            && let Ok(mut left) = self.pending.lock()
        {
            // Not replayed: keep it for the next probe.
            left.overflow |= pending.overflow;
            left.keys.extend(pending.keys);
            left.prefixes.extend(pending.prefixes);
        }
        result
    }

    async fn bounded<T>(&self, call: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "redis did not answer within {} ms",
                self.timeout.as_millis()
            )),
        }
    }

    /// Runs `remote` on Redis when the breaker lets it, `local` otherwise or when it fails.
    /// `remote` and `local` make their future only when it runs: the one not taken costs nothing
    /// (each is a boxed future of an `async_trait` method).
    async fn run<T, R, L>(
        &self,
        touch: Option<Touch<'_>>,
        remote: impl FnOnce() -> R,
        local: impl FnOnce() -> L,
    ) -> anyhow::Result<T>
    where
        R: Future<Output = anyhow::Result<T>>,
        L: Future<Output = anyhow::Result<T>>,
    {
        let gate = self.breaker.gate();
        if gate == Gate::Skip {
            self.remember(touch);
            return local().await;
        }
        let result = if gate == Gate::Probe {
            match self.bounded(self.replay()).await {
                Ok(()) => self.bounded(remote()).await,
                Err(err) => Err(err),
            }
        } else {
            self.bounded(remote()).await
        };
        match result {
            Ok(value) => {
                if gate == Gate::Probe && self.breaker.recovered() {
                    // Entries of the outage must not come back at the next one.
                    let _ = self.local.delete_prefix("").await;
                }
                Ok(value)
            }
            Err(err) => {
                self.breaker.failed(&err);
                self.remember(touch);
                local().await
            }
        }
    }
}

#[async_trait]
impl Cache for ResilientCache {
    async fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        self.run(None, || self.redis.get(key), || self.local.get(key))
            .await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()> {
        self.run(
            Some(Touch::Key(key)),
            || self.redis.set(key, value, ttl),
            || self.local.set(key, value, ttl),
        )
        .await
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        // A fill, not a change: nothing to replay.
        self.run(
            None,
            || self.redis.set_if_absent(key, value, ttl),
            || self.local.set_if_absent(key, value, ttl),
        )
        .await
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.run(
            Some(Touch::Key(key)),
            || self.redis.delete(key),
            || self.local.delete(key),
        )
        .await
    }

    async fn incr(&self, key: &str, window: Duration) -> anyhow::Result<(u64, Duration)> {
        self.run(
            None,
            || self.redis.incr(key, window),
            || self.local.incr(key, window),
        )
        .await
    }

    async fn delete_prefix(&self, prefix: &str) -> anyhow::Result<()> {
        self.run(
            Some(Touch::Prefix(prefix)),
            || self.redis.delete_prefix(prefix),
            || self.local.delete_prefix(prefix),
        )
        .await
    }

    async fn take(&self, key: &str, bucket: Bucket, cost: u64) -> anyhow::Result<BucketState> {
        self.run(
            None,
            || self.redis.take(key, bucket, cost),
            || self.local.take(key, bucket, cost),
        )
        .await
    }

    async fn ping(&self) -> anyhow::Result<()> {
        // Readiness asks Redis itself, whatever the breaker says.
        self.bounded(self.redis.ping()).await
    }

    fn degraded(&self) -> bool {
        self.breaker.is_open()
    }
}
