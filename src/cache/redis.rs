//! The Redis cache: shared by every instance, so an invalidation is seen everywhere at once.

use super::{Bucket, BucketState, Cache};
use anyhow::Context;
use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use std::time::Duration;

/// Keys are stored as `{prefix}{key}`.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self {
            conn,
            prefix: prefix.into(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        let mut conn = self.conn.clone();
        conn.get(self.key(key)).await.context("redis GET")
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let secs = ttl.as_secs().max(1);
        conn.set_ex::<_, _, ()>(self.key(key), value, secs)
            .await
            .context("redis SET EX")
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        let mut conn = self.conn.clone();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis)
            .query_async(&mut conn)
            .await
            .context("redis SET NX PX")?;
        Ok(set.is_some())
    }

    async fn incr(&self, key: &str, window: Duration) -> anyhow::Result<(u64, Duration)> {
        // One round trip, atomic: the window starts with the first hit.
        const SCRIPT: &str = r"
            local count = redis.call('INCR', KEYS[1])
            if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
            local ttl = redis.call('PTTL', KEYS[1])
            if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
            return {count, ttl}
        ";
        let mut conn = self.conn.clone();
        let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let (count, ttl): (u64, i64) = redis::Script::new(SCRIPT)
            .key(self.key(key))
            .arg(millis)
            .invoke_async(&mut conn)
            .await
            .context("redis INCR script")?;
        Ok((
            count,
            Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
        ))
    }

    async fn take(&self, key: &str, bucket: Bucket, cost: u64) -> anyhow::Result<BucketState> {
        // The same arithmetic as `Bucket::apply`, on Redis's clock, in one atomic script.
        const SCRIPT: &str = r"
            local cap = tonumber(ARGV[1])
            local rate = math.max(tonumber(ARGV[2]) or 0, 0.001)
            local cost = tonumber(ARGV[3])
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
            local tokens = tonumber(v[1]) or cap
            local at = tonumber(v[2]) or now
            tokens = math.min(cap, tokens + math.max(0, now - at) * rate / 1000)
            local allowed = 0
            local retry = 0
            if tokens >= cost then
                tokens = tokens - cost
                allowed = 1
            else
                retry = math.ceil((cost - tokens) / rate)
            end
            redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
            local reset = math.ceil((cap - tokens) / rate)
            redis.call('PEXPIRE', KEYS[1], (reset + 1) * 1000)
            return {allowed, math.floor(tokens), reset, retry}
        ";
        let mut conn = self.conn.clone();
        let (allowed, remaining, reset, retry): (i64, i64, i64, i64) = redis::Script::new(SCRIPT)
            .key(self.key(key))
            .arg(bucket.capacity)
            .arg(bucket.refill_per_sec)
            .arg(cost)
            .invoke_async(&mut conn)
            .await
            .context("redis bucket script")?;
        let positive = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(BucketState {
            allowed: allowed == 1,
            remaining: positive(remaining),
            reset_secs: positive(reset),
            retry_after_secs: positive(retry),
        })
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<()>(&mut conn)
            .await
            .context("redis PING")
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        conn.del::<_, ()>(self.key(key)).await.context("redis DEL")
    }

    async fn delete_prefix(&self, prefix: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}*", self.key(&escape_glob(prefix)));
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .context("redis SCAN")?;
            if !keys.is_empty() {
                conn.del::<_, ()>(keys).await.context("redis DEL")?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
