//! The in-process cache of the embedded default.

use super::{Bucket, BucketState, Cache};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Entries beyond this count trigger a sweep of expired ones.
const SWEEP_AT: usize = 100_000;

/// A process-local TTL map.
#[derive(Debug, Default)]
pub struct MemoryCache {
    entries: RwLock<HashMap<String, (Instant, String)>>,
}

impl MemoryCache {
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> anyhow::Error {
    anyhow::anyhow!("memory cache lock poisoned")
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        let entries = self.entries.read().map_err(|_| poisoned())?;
        Ok(entries
            .get(key)
            .filter(|(expires, _)| *expires > Instant::now())
            .map(|(_, value)| value.clone()))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()> {
        let mut entries = self.entries.write().map_err(|_| poisoned())?;
        let now = Instant::now();
        if entries.len() >= SWEEP_AT {
            entries.retain(|_, (expires, _)| *expires > now);
        }
        entries.insert(key.to_owned(), (now + ttl, value.to_owned()));
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        let mut entries = self.entries.write().map_err(|_| poisoned())?;
        let now = Instant::now();
        if entries.get(key).is_some_and(|(expires, _)| *expires > now) {
            return Ok(false);
        }
        entries.insert(key.to_owned(), (now + ttl, value.to_owned()));
        Ok(true)
    }

    async fn incr(&self, key: &str, window: Duration) -> anyhow::Result<(u64, Duration)> {
        let mut entries = self.entries.write().map_err(|_| poisoned())?;
        let now = Instant::now();
        let (expires, count) = match entries.get(key) {
            Some((expires, value)) if *expires > now => {
                (*expires, value.parse::<u64>().unwrap_or(0) + 1)
            }
            _ => (now + window, 1),
        };
        entries.insert(key.to_owned(), (expires, count.to_string()));
        Ok((count, expires.saturating_duration_since(now)))
    }

    async fn take(&self, key: &str, bucket: Bucket, cost: u64) -> anyhow::Result<BucketState> {
        let mut entries = self.entries.write().map_err(|_| poisoned())?;
        let now = Instant::now();
        let now_ms = unix_millis();
        // Stored as "tokens@unix_ms"; the entry expires once the bucket would be full again.
        let (tokens, elapsed_ms) = match entries.get(key) {
            Some((expires, value)) if *expires > now => {
                let (tokens, at) = value.split_once('@').unwrap_or(("0", "0"));
                let at: u64 = at.parse().unwrap_or(now_ms);
                (
                    tokens.parse::<f64>().unwrap_or(0.0),
                    now_ms.saturating_sub(at),
                )
            }
            _ => (bucket.capacity as f64, 0),
        };
        let (left, state) = bucket.apply(tokens, elapsed_ms, cost);
        let ttl = Duration::from_secs(state.reset_secs + 1);
        entries.insert(key.to_owned(), (now + ttl, format!("{left}@{now_ms}")));
        Ok(state)
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.entries.write().map_err(|_| poisoned())?.remove(key);
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> anyhow::Result<()> {
        self.entries
            .write()
            .map_err(|_| poisoned())?
            .retain(|key, _| !key.starts_with(prefix));
        Ok(())
    }
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn set_get_expire_delete() {
        let cache = MemoryCache::new();
        cache
            .set("a:1", "x", Duration::from_secs(60))
            .await
            .unwrap();
        cache
            .set("a:2", "y", Duration::from_secs(60))
            .await
            .unwrap();
        cache
            .set("b:1", "z", Duration::from_millis(0))
            .await
            .unwrap();
        assert_eq!(cache.get("a:1").await.unwrap().as_deref(), Some("x"));
        assert_eq!(cache.get("b:1").await.unwrap(), None);
        cache.delete_prefix("a:").await.unwrap();
        assert_eq!(cache.get("a:2").await.unwrap(), None);
    }

    #[tokio::test]
    async fn set_if_absent_keeps_a_live_entry_and_replaces_an_expired_one() {
        let cache = MemoryCache::new();
        let ttl = Duration::from_secs(60);
        assert!(cache.set_if_absent("k", "first", ttl).await.unwrap());
        assert!(!cache.set_if_absent("k", "second", ttl).await.unwrap());
        assert_eq!(cache.get("k").await.unwrap().as_deref(), Some("first"));
        cache.set("gone", "x", Duration::ZERO).await.unwrap();
        assert!(cache.set_if_absent("gone", "y", ttl).await.unwrap());
        assert_eq!(cache.get("gone").await.unwrap().as_deref(), Some("y"));
    }
}
