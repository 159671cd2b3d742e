//! A small key-value cache with TTLs: in process by default, Redis when `REDIS_URL` is set (so
//! every instance sees the same entries and the same invalidations).

mod breaker;
mod memory;
pub mod presence;
mod redis;
mod resilient;

pub use self::breaker::{Breaker, Gate};
pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;
pub use self::resilient::ResilientCache;

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
    /// Takes `cost` points from the leaky bucket at `key` (full when new, refilling continuously),
    /// or nothing when they are not all there. Atomic (one Lua script on Redis).
    async fn take(&self, key: &str, bucket: Bucket, cost: u64) -> anyhow::Result<BucketState>;
    /// Whether the shared store answers (for `/readyz`); the in-process cache always does.
    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Whether the cache is serving from its in-process fallback (Redis is down).
    fn degraded(&self) -> bool {
        false
    }
}

/// A leaky bucket's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Points when full.
    pub capacity: u64,
    /// Points added back per second; fractions allowed (0.01: one point every 100 s), at least
    /// [`Bucket::MIN_REFILL_PER_SEC`].
    pub refill_per_sec: f64,
}

/// What a [`Cache::take`] did and left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketState {
    /// The points were taken.
    pub allowed: bool,
    /// Points left.
    pub remaining: u64,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until the refused cost would fit (0 when allowed).
    pub retry_after_secs: u64,
}

impl Bucket {
    /// The slowest refill: one point in 1,000 s (the Redis script uses the same floor).
    pub const MIN_REFILL_PER_SEC: f64 = 0.001;

    /// Refills `tokens` for `elapsed_ms`, then takes `cost` if it fits: the arithmetic both
    /// stores share (the Redis script mirrors it).
    pub fn apply(self, tokens: f64, elapsed_ms: u64, cost: u64) -> (f64, BucketState) {
        let capacity = self.capacity as f64;
        let rate = self.refill_per_sec.max(Self::MIN_REFILL_PER_SEC);
        let mut tokens = (tokens + elapsed_ms as f64 * rate / 1000.0).min(capacity);
        let cost_f = cost as f64;
        let allowed = tokens >= cost_f;
        let retry_after_secs = if allowed {
            0
        } else {
            ((cost_f - tokens) / rate).ceil() as u64
        };
        if allowed {
            tokens -= cost_f;
        }
        let state = BucketState {
            allowed,
            remaining: tokens.floor() as u64,
            reset_secs: ((capacity - tokens) / rate).ceil() as u64,
            retry_after_secs,
        };
        (tokens, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_and_refuses_what_does_not_fit() {
        let bucket = Bucket {
            capacity: 1_000,
            refill_per_sec: 50.0,
        };
        let (left, state) = bucket.apply(1_000.0, 0, 400);
        assert!(state.allowed);
        assert_eq!((state.remaining, state.reset_secs), (600, 8));
        let (left, state) = bucket.apply(left, 0, 700);
        assert!(!state.allowed);
        assert_eq!((state.remaining, state.retry_after_secs), (600, 2));
        // Two seconds later, 100 more points are there.
        let (_, state) = bucket.apply(left, 2_000, 700);
        assert!(state.allowed);
        assert_eq!(state.remaining, 0);
        // Refill never exceeds the capacity.
        let (full, _) = bucket.apply(0.0, 3_600_000, 0);
        assert_eq!(full, 1_000.0);
    }

    #[test]
    fn a_fractional_refill_brings_a_point_back_slowly() {
        let bucket = Bucket {
            capacity: 5,
            refill_per_sec: 0.01,
        };
        let (left, state) = bucket.apply(0.0, 0, 1);
        assert!(!state.allowed);
        assert_eq!(state.retry_after_secs, 100);
        // 99 s later, still short; at 100 s, the point is back.
        assert!(!bucket.apply(left, 99_000, 1).1.allowed);
        assert!(bucket.apply(left, 100_000, 1).1.allowed);
        // Zero or less refills at the floor, one point in 1,000 s.
        let stalled = Bucket {
            refill_per_sec: 0.0,
            ..bucket
        };
        assert_eq!(stalled.apply(0.0, 0, 1).1.retry_after_secs, 1_000);
    }
}
