//! Redis pub/sub. Each instance holds one subscriber connection; a channel is subscribed on Redis
//! when its first local subscriber arrives, shared by every local subscriber, and unsubscribed when
//! the last one leaves. After a lost connection it reconnects, resubscribes, and tells every
//! subscriber there may be a gap.
//!
//! While Redis is down (a publish failed or timed out, and the [`Breaker`] is open), events are
//! delivered to this instance's subscribers only: one instance keeps working, and subscribers on
//! other instances get a gap when their connection comes back.

use super::{AUTH_CHANGES, BusMessage, EventBus};
use crate::cache::{Breaker, Gate};
use anyhow::Context;
use async_trait::async_trait;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, PubSubSink};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::sync::{Mutex, broadcast};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

struct Shared {
    prefix: String,
    state: Mutex<State>,
    /// See [`EventBus::auth_epoch`]; bumped by the subscriber loop, in stream order.
    epoch: AtomicU64,
    /// Per-subscriber queue length before it lags.
    capacity: usize,
}

#[derive(Default)]
struct State {
    channels: HashMap<String, broadcast::Sender<BusMessage>>,
    /// `None` while the subscriber connection is down.
    sink: Option<PubSubSink>,
}

/// The Redis bus.
#[derive(Clone)]
pub struct RedisBus {
    publisher: ConnectionManager,
    shared: Arc<Shared>,
    breaker: Arc<Breaker>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("prefix", &self.shared.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisBus {
    /// Connects; `prefix` namespaces channel names (`{prefix}bus:{channel}`). Redis being down
    /// does not stop the start: the subscriber keeps reconnecting, and publishes stay local.
    pub async fn connect(
        client: redis::Client,
        publisher: ConnectionManager,
        prefix: &str,
        capacity: usize,
        timeout: Duration,
    ) -> Self {
        let shared = Arc::new(Shared {
            prefix: format!("{prefix}bus:"),
            state: Mutex::new(State::default()),
            epoch: AtomicU64::new(0),
            capacity: capacity.max(1),
        });
        // Subscribed before the first request when Redis is up; reconnects by itself otherwise.
        let first = match tokio::time::timeout(timeout, client.get_async_pubsub()).await {
            Ok(Ok(pubsub)) => Some(pubsub),
            Ok(Err(err)) => {
                tracing::error!(%err, "redis subscriber cannot connect; retrying in the background");
                None
            }
            Err(_) => {
                tracing::error!(
                    "redis subscriber did not connect in time; retrying in the background"
                );
                None
            }
        };
        tokio::spawn(run_subscriber(client, Arc::downgrade(&shared), first));
        Self {
            publisher,
            shared,
            breaker: Arc::new(Breaker::new(Duration::from_secs(2))),
            timeout,
        }
    }

    /// Uses `breaker` (its cooldown) instead of the default one.
    pub fn with_breaker(mut self, breaker: Arc<Breaker>) -> Self {
        self.breaker = breaker;
        self
    }

    /// Publishes on Redis unless the breaker is open; `Err` means it was not published there.
    async fn publish_remote(&self, channel: String, payload: &str) -> anyhow::Result<()> {
        let gate = self.breaker.gate();
        if gate == Gate::Skip {
            anyhow::bail!("redis skipped: the breaker is open");
        }
        let mut conn = self.publisher.clone();
        let call = conn.publish::<_, _, ()>(channel, payload);
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.context("redis PUBLISH"),
            Err(_) => Err(anyhow::anyhow!("redis PUBLISH timed out")),
        };
        match &result {
            Ok(()) if gate == Gate::Probe => {
                self.breaker.recovered();
            }
            Ok(()) => {}
            Err(err) => self.breaker.failed(err),
        }
        result
    }

    /// Delivers to this instance's subscribers only (Redis is down).
    async fn deliver_locally(&self, channel: &str, payload: String) {
        let state = self.shared.state.lock().await;
        if let Some(sender) = state.channels.get(channel) {
            let _ = sender.send(BusMessage::Event(Arc::from(payload)));
        }
    }
}

/// How long one reconnection of the subscriber may take.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(2);

async fn run_subscriber(
    client: redis::Client,
    shared: Weak<Shared>,
    mut first: Option<redis::aio::PubSub>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let connection = match first.take() {
            Some(c) => Ok(c),
            None => {
                match tokio::time::timeout(RECONNECT_TIMEOUT, client.get_async_pubsub()).await {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(err)) => Err(err.to_string()),
                    Err(_) => Err("timed out".to_owned()),
                }
            }
        };
        let Some(bus) = shared.upgrade() else { return };
        match connection {
            Ok(pubsub) => {
                backoff = Duration::from_millis(100);
                let (mut sink, mut stream) = pubsub.split();
                {
                    let mut state = bus.state.lock().await;
                    if let Err(err) = sink
                        .subscribe(format!("{}{AUTH_CHANGES}", bus.prefix))
                        .await
                    {
                        tracing::warn!(%err, "redis subscribe to authorization changes failed");
                    }
                    // Announcements may have been missed while disconnected.
                    bus.epoch.fetch_add(1, Ordering::AcqRel);
                    for channel in state.channels.keys() {
                        if let Err(err) = sink.subscribe(format!("{}{channel}", bus.prefix)).await {
                            tracing::warn!(%err, "redis resubscribe failed");
                        }
                    }
                    // Whatever was published while we were away is lost: say so.
                    for sender in state.channels.values() {
                        let _ = sender.send(BusMessage::Gap);
                    }
                    state.sink = Some(sink);
                }
                drop(bus);
                while let Some(message) = stream.next().await {
                    let Some(bus) = shared.upgrade() else { return };
                    let Some(channel) = message.get_channel_name().strip_prefix(&bus.prefix) else {
                        continue;
                    };
                    if channel == AUTH_CHANGES {
                        // Before any later message is dispatched: a subscription that receives an
                        // event published after the change sees the new epoch and re-checks.
                        bus.epoch.fetch_add(1, Ordering::AcqRel);
                        continue;
                    }
                    let payload: String = match message.get_payload() {
                        Ok(p) => p,
                        Err(err) => {
                            tracing::warn!(%err, "non-text payload on the bus ignored");
                            continue;
                        }
                    };
                    let state = bus.state.lock().await;
                    if let Some(sender) = state.channels.get(channel) {
                        let _ = sender.send(BusMessage::Event(Arc::from(payload)));
                    }
                }
                let Some(bus) = shared.upgrade() else { return };
                bus.state.lock().await.sink = None;
                tracing::warn!("redis subscriber connection lost; reconnecting");
            }
            Err(err) => {
                drop(bus);
                tracing::warn!(%err, "redis subscriber cannot connect; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, channel: &str, payload: String) -> anyhow::Result<()> {
        let remote = format!("{}{channel}", self.shared.prefix);
        if let Err(err) = self.publish_remote(remote, &payload).await {
            tracing::debug!(error = ?err, channel, "published to this instance only");
            self.deliver_locally(channel, payload).await;
        }
        Ok(())
    }

    async fn announce_auth_change(&self) -> anyhow::Result<()> {
        // This instance re-checks at once; others bump their epoch when their subscriber
        // reconnects after an outage, so a lost announcement is never missed for good.
        self.shared.epoch.fetch_add(1, Ordering::AcqRel);
        let remote = format!("{}{AUTH_CHANGES}", self.shared.prefix);
        if let Err(err) = self.publish_remote(remote, "1").await {
            tracing::warn!(error = ?err, "authorization change announced on this instance only");
        }
        Ok(())
    }

    fn auth_epoch(&self) -> u64 {
        self.shared.epoch.load(Ordering::Acquire)
    }

    async fn local_subscribers(&self, channel: &str) -> usize {
        let state = self.shared.state.lock().await;
        state
            .channels
            .get(channel)
            .map_or(0, |sender| sender.receiver_count())
    }

    async fn subscribe(&self, channel: &str) -> anyhow::Result<BoxStream<'static, BusMessage>> {
        let mut state = self.shared.state.lock().await;
        let receiver = match state.channels.get(channel) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(self.shared.capacity);
                if let Some(sink) = state.sink.as_mut() {
                    sink.subscribe(format!("{}{channel}", self.shared.prefix))
                        .await
                        .context("redis SUBSCRIBE")?;
                }
                state.channels.insert(channel.to_owned(), sender);
                receiver
            }
        };
        Ok(Subscription {
            inner: BroadcastStream::new(receiver),
            channel: channel.to_owned(),
            shared: Arc::downgrade(&self.shared),
        }
        .boxed())
    }
}

/// One local subscriber; leaving may unsubscribe the instance from Redis.
struct Subscription {
    inner: BroadcastStream<BusMessage>,
    channel: String,
    shared: Weak<Shared>,
}

impl Stream for Subscription {
    type Item = BusMessage;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<BusMessage>> {
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => Poll::Ready(Some(message)),
            Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(n)))) => {
                Poll::Ready(Some(BusMessage::Lagged(n)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let channel = std::mem::take(&mut self.channel);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Runs after this receiver is gone, so the count below is exact.
        runtime.spawn(async move {
            let mut state = shared.state.lock().await;
            let idle = state
                .channels
                .get(&channel)
                .is_some_and(|sender| sender.receiver_count() == 0);
            if idle {
                state.channels.remove(&channel);
                if let Some(sink) = state.sink.as_mut()
                    && let Err(err) = sink
                        .unsubscribe(format!("{}{channel}", shared.prefix))
                        .await
                {
                    tracing::warn!(%err, "redis UNSUBSCRIBE failed");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn bus(prefix: &str) -> Option<RedisBus> {
        let url = std::env::var("PORTICO_TEST_REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let client = redis::Client::open(url).unwrap();
        let manager = ConnectionManager::new(client.clone()).await.unwrap();
        Some(RedisBus::connect(client, manager, prefix, 256, Duration::from_secs(1)).await)
    }

    async fn numsub(bus: &RedisBus, channel: &str) -> i64 {
        let mut conn = bus.publisher.clone();
        let reply: (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(format!("{}{channel}", bus.shared.prefix))
            .query_async(&mut conn)
            .await
            .unwrap();
        reply.1
    }

    #[tokio::test]
    async fn instances_share_one_redis_subscription_per_channel() {
        let prefix = format!("portico-test:{}:", uuid::Uuid::new_v4().simple());
        let (Some(a), Some(b)) = (bus(&prefix).await, bus(&prefix).await) else {
            eprintln!("PORTICO_TEST_REDIS_URL unset: skipped");
            return;
        };
        let mut first = a.subscribe("ws:1").await.unwrap();
        let mut second = a.subscribe("ws:1").await.unwrap();
        assert_eq!(
            numsub(&a, "ws:1").await,
            1,
            "one Redis subscription for two local subscribers"
        );

        b.publish("ws:1", "hello".into()).await.unwrap();
        for stream in [&mut first, &mut second] {
            let got = tokio::time::timeout(Duration::from_secs(5), stream.next())
                .await
                .unwrap();
            assert_eq!(got, Some(BusMessage::Event(Arc::from("hello"))));
        }

        drop(first);
        drop(second);
        for _ in 0..50 {
            if numsub(&a, "ws:1").await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the instance did not leave the channel after its last subscriber");
    }
}
