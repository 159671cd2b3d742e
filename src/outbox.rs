//! The outbox dispatcher: every instance runs one. It claims committed events (never the same row
//! as another instance), hands each to every [`Consumer`] in order, and marks it dispatched, or
//! records the failure (and which consumers took the event already: a retry skips them) and tries
//! again later with backoff. Delivery is at least once: a crash between delivery and the mark
//! delivers again, with the same event id, so consumers drop duplicates by id.
//!
//! Events committed on this instance are dispatched at once (the commit wakes the dispatcher);
//! the poll picks up what another instance or a crash left. Dispatched rows are purged after the
//! retention period by a job of the runner (`crate::jobs::OutboxPurge`).

use crate::db::Db;
use crate::db::outbox::{self, Claimed};
use crate::events::Envelope;
use crate::pubsub::EventBus;
use async_trait::async_trait;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

/// Rows claimed at once.
const BATCH: u64 = 100;
/// How long a claim lasts: longer than any delivery of a batch.
const LEASE: Duration = Duration::from_secs(30);
/// Failed attempts after which a row is parked (kept, not tried again until an operator retries).
pub const MAX_ATTEMPTS: i32 = 25;

/// Receives every event once it is committed (at least once: it drops duplicates by event id).
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// For logs and the failure record.
    fn name(&self) -> &'static str;
    /// Delivers one event; an error makes the dispatcher try again later.
    async fn deliver(&self, envelope: &Envelope, raw: &str) -> anyhow::Result<()>;
}

/// Live subscriptions: each event is published on its project's bus channel (a notification on
/// its recipient's).
pub struct Live(pub Arc<dyn EventBus>);

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Live")
    }
}

#[async_trait]
impl Consumer for Live {
    fn name(&self) -> &'static str {
        "live"
    }

    async fn deliver(&self, envelope: &Envelope, raw: &str) -> anyhow::Result<()> {
        use crate::events::DomainEvent;
        use crate::pubsub::channel;
        let channel = match &envelope.event {
            DomainEvent::NotificationAdded(n) => channel::user(envelope.workspace_id, n.user_id),
            event => channel::project(envelope.workspace_id, event.project_id()),
        };
        self.0.publish(&channel, raw.to_owned()).await
    }
}

/// The dispatcher's settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub poll: Duration,
}

/// One instance's dispatcher.
pub struct Dispatcher {
    /// Counts the events dispatched, by kind.
    metrics: Arc<crate::telemetry::metrics::Metrics>,
    db: Db,
    consumers: Vec<Arc<dyn Consumer>>,
    settings: Settings,
    /// Names this instance's claims.
    instance: String,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("instance", &self.instance)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub fn new(
        metrics: Arc<crate::telemetry::metrics::Metrics>,
        db: Db,
        consumers: Vec<Arc<dyn Consumer>>,
        settings: Settings,
    ) -> Self {
        Self {
            metrics,
            db,
            consumers,
            settings,
            instance: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// One round: claims a batch, delivers it, records the outcome. Returns the rows handled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let until = Utc::now() + LEASE;
        let claimed = outbox::claim(&self.db, &self.instance, BATCH, until).await?;
        let mut delivered = Vec::with_capacity(claimed.len());
        for row in &claimed {
            let mut taken: Vec<&str> = row.delivered_to.iter().map(String::as_str).collect();
            match self.deliver(row, &mut taken).await {
                Ok(()) => delivered.push(row.id),
                Err(err) => self.record_failure(row, &err, &taken).await?,
            }
        }
        outbox::dispatched(&self.db, &delivered).await?;
        Ok(claimed.len())
    }

    /// Hands the event to every consumer not in `taken` yet, adding each that takes it: a consumer
    /// that fails stops the round, and the retry starts from it.
    async fn deliver(&self, row: &Claimed, taken: &mut Vec<&str>) -> anyhow::Result<()> {
        let envelope: Envelope = serde_json::from_str(&row.payload)?;
        for consumer in &self.consumers {
            if taken.contains(&consumer.name()) {
                continue;
            }
            consumer
                .deliver(&envelope, &row.payload)
                .await
                .map_err(|err| err.context(consumer.name()))?;
            taken.push(consumer.name());
        }
        let kind = crate::telemetry::metrics::KindLabels {
            kind: envelope.event.kind().to_owned(),
        };
        self.metrics.domain_events.get_or_create(&kind).inc();
        Ok(())
    }

    async fn record_failure(
        &self,
        row: &Claimed,
        err: &anyhow::Error,
        taken: &[&str],
    ) -> anyhow::Result<()> {
        let attempts = row.attempts.saturating_add(1);
        let wait = if attempts >= MAX_ATTEMPTS {
            chrono::Duration::days(36_500)
        } else {
            chrono::Duration::seconds(1_i64 << attempts.clamp(0, 12))
        };
        tracing::warn!(event = %row.id, attempts, error = ?err, "outbox delivery failed");
        outbox::failed(
            &self.db,
            row.id,
            attempts,
            &format!("{err:#}"),
            Utc::now() + wait,
            taken,
        )
        .await?;
        Ok(())
    }

    /// Runs until the task is aborted: drains what is deliverable, then waits for a commit of
    /// this instance or the next poll.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let ready = self.db.outbox_ready();
            loop {
                match self.run_once().await {
                    Ok(n) if n as u64 >= BATCH => continue,
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = ?err, "outbox dispatch round failed"),
                }
                tokio::select! {
                    () = ready.notified() => {}
                    () = tokio::time::sleep(self.settings.poll) => {}
                }
            }
        })
    }
}
