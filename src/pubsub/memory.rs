//! In-process bus: one tokio broadcast channel per bus channel, created on the first subscriber and
//! dropped with the last.

use super::{BusMessage, EventBus};
use async_trait::async_trait;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

/// Per-subscriber queue length before it lags, unless configured.
pub const CAPACITY: usize = 256;

/// The in-process bus.
#[derive(Debug, Clone)]
pub struct MemoryBus {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<Arc<str>>>>>,
    epoch: Arc<AtomicU64>,
    /// Per-subscriber queue length.
    capacity: usize,
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// A bus whose subscribers lag after `capacity` unread events.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            channels: Arc::default(),
            epoch: Arc::default(),
            capacity: capacity.max(1),
        }
    }
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, channel: &str, payload: String) -> anyhow::Result<()> {
        let mut channels = self
            .channels
            .lock()
            .map_err(|_| anyhow::anyhow!("bus lock poisoned"))?;
        if let Some(sender) = channels.get(channel)
            && sender.send(Arc::from(payload)).is_err()
        {
            // Every receiver is gone: forget the channel.
            channels.remove(channel);
        }
        Ok(())
    }

    async fn announce_auth_change(&self) -> anyhow::Result<()> {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    fn auth_epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    async fn local_subscribers(&self, channel: &str) -> usize {
        self.channels
            .lock()
            .ok()
            .and_then(|channels| channels.get(channel).map(|s| s.receiver_count()))
            .unwrap_or(0)
    }

    async fn subscribe(&self, channel: &str) -> anyhow::Result<BoxStream<'static, BusMessage>> {
        let mut channels = self
            .channels
            .lock()
            .map_err(|_| anyhow::anyhow!("bus lock poisoned"))?;
        let receiver = match channels.get(channel) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(self.capacity);
                channels.insert(channel.to_owned(), sender);
                receiver
            }
        };
        Ok(BroadcastStream::new(receiver)
            .map(|item| match item {
                Ok(payload) => BusMessage::Event(payload),
                Err(BroadcastStreamRecvError::Lagged(n)) => BusMessage::Lagged(n),
            })
            .boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_to_subscribers_of_the_channel_only() {
        let bus = MemoryBus::new();
        let mut a = bus.subscribe("a").await.unwrap();
        let mut b = bus.subscribe("b").await.unwrap();
        bus.publish("a", "1".into()).await.unwrap();
        bus.publish("b", "2".into()).await.unwrap();
        assert_eq!(a.next().await, Some(BusMessage::Event(Arc::from("1"))));
        assert_eq!(b.next().await, Some(BusMessage::Event(Arc::from("2"))));
    }

    #[tokio::test]
    async fn slow_consumers_are_told_they_lagged() {
        let bus = MemoryBus::new();
        let mut slow = bus.subscribe("c").await.unwrap();
        for i in 0..(CAPACITY + 10) {
            bus.publish("c", i.to_string()).await.unwrap();
        }
        assert_eq!(slow.next().await, Some(BusMessage::Lagged(10)));
    }
}
