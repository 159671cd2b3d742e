//! Whether a person is active in the portal right now: a key per user in the shared cache (Redis
//! across instances), set by their requests and by their open websockets' keepalive, expiring
//! after `NOTIFY_ACTIVE_SECS`. Emails in "when not active" mode are skipped while it is set.
//! Writes are throttled per instance (at most one per user per quarter window), so a busy user
//! costs one cache write a minute, not one per request.

use super::Cache;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Users remembered per instance before old entries are dropped.
const REMEMBERED: usize = 50_000;

/// The presence of people, shared by every instance through the cache.
pub struct Presence {
    cache: Arc<dyn Cache>,
    window: Duration,
    written: Mutex<HashMap<Uuid, Instant>>,
}

impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presence")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

fn key(user_id: Uuid) -> String {
    format!("presence:{user_id}")
}

impl Presence {
    /// Presence kept for `window`; a zero window means nobody is ever counted active.
    pub fn new(cache: Arc<dyn Cache>, window: Duration) -> Self {
        Self {
            cache,
            window,
            written: Mutex::new(HashMap::new()),
        }
    }

    /// Records that `user_id` is active now. A cache failure is logged and ignored: at worst an
    /// email is sent that could have been skipped.
    pub async fn touch(&self, user_id: Uuid) {
        if self.window.is_zero() || !self.due(user_id) {
            return;
        }
        if let Err(error) = self.cache.set(&key(user_id), "1", self.window).await {
            tracing::debug!(%error, "presence not recorded");
        }
    }

    /// Whether `user_id` was active within the window (on any instance). When the cache cannot
    /// tell, the answer is no, so the email goes.
    pub async fn is_active(&self, user_id: Uuid) -> bool {
        if self.window.is_zero() {
            return false;
        }
        matches!(self.cache.get(&key(user_id)).await, Ok(Some(_)))
    }

    /// Whether this instance should write `user_id`'s key again (and notes that it will).
    fn due(&self, user_id: Uuid) -> bool {
        let now = Instant::now();
        let Ok(mut written) = self.written.lock() else {
            return true;
        };
        if written.len() >= REMEMBERED {
            let window = self.window;
            written.retain(|_, at| now.duration_since(*at) < window / 4);
        }
        match written.get(&user_id) {
            Some(at) if now.duration_since(*at) < self.window / 4 => false,
            _ => {
                written.insert(user_id, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::MemoryCache;

    #[tokio::test]
    async fn a_touch_makes_one_active_and_writes_are_throttled() {
        let presence = Presence::new(Arc::new(MemoryCache::new()), Duration::from_secs(300));
        let (ana, bob) = (Uuid::now_v7(), Uuid::now_v7());
        presence.touch(ana).await;
        assert!(presence.is_active(ana).await);
        assert!(!presence.is_active(bob).await);
        assert!(
            !presence.due(ana),
            "a second write within a quarter window is skipped"
        );
        assert!(presence.due(bob));
    }

    #[tokio::test]
    async fn a_zero_window_counts_nobody_active() {
        let presence = Presence::new(Arc::new(MemoryCache::new()), Duration::ZERO);
        let ana = Uuid::now_v7();
        presence.touch(ana).await;
        assert!(!presence.is_active(ana).await);
    }
}
