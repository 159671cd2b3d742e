//! One background-job runner for every periodic job (payment expiry, outbox purge, run-record
//! purge; digests, usage resets and exports next). Every instance runs it; each period a job runs
//! on one instance only, the holder of its lease (`db::jobs::take_lease`). Every run is recorded
//! in `job_runs` (job, instance, status, timings, rows changed, error) for the back office.
//! A job is also written to be safe if two runs overlap (conditional updates), so a lease that
//! lapses mid-run costs a little work, never a double effect.
//!
//! The outbox dispatcher is the one continuous worker beside it (`crate::outbox`): it is woken by
//! commits rather than by a clock.

use crate::app::AppState;
use crate::db::audit::{self, Actor, Frame, Source};
use crate::db::jobs;
use async_trait::async_trait;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

/// A periodic job.
#[async_trait]
pub trait Job: Send + Sync + 'static {
    /// A stable name: `domain.verb` (`payment.expire`).
    fn name(&self) -> &'static str;
    /// How often it runs (across all instances).
    fn every(&self, app: &AppState) -> Duration;
    /// One run; returns the rows it changed.
    async fn run(&self, app: &AppState) -> anyhow::Result<u64>;
}

/// Runs `job` once now if this instance can take its lease for the period; records the run.
/// Returns `None` when another instance holds the lease.
pub async fn run_once(
    app: &AppState,
    job: &dyn Job,
    instance: &str,
) -> anyhow::Result<Option<Result<u64, String>>> {
    let period = chrono::Duration::from_std(job.every(app)).unwrap_or(chrono::Duration::minutes(1));
    // The lease covers the period, less a margin so the next tick of the same holder renews it.
    let until =
        Utc::now() + period - chrono::Duration::milliseconds(period.num_milliseconds() / 10);
    if !jobs::take_lease(&app.db, job.name(), instance, until).await? {
        return Ok(None);
    }
    let started_at = Utc::now();
    let id = jobs::started(&app.db, job.name(), instance).await?;
    // Commits of the run that emit domain events are audited as the system's.
    let frame = Frame::new(
        Actor::system(Source::Job),
        job.name().to_owned(),
        false,
        serde_json::json!({}),
    );
    let outcome = audit::within(Arc::new(frame), job.run(app))
        .await
        .map_err(|err| format!("{err:#}"));
    let status = if outcome.is_ok() {
        "succeeded"
    } else {
        "failed"
    };
    let labels = crate::telemetry::metrics::JobLabels {
        job: job.name().to_owned(),
        status: status.to_owned(),
    };
    app.metrics.jobs.get_or_create(&labels).inc();
    match &outcome {
        Ok(0) => {}
        Ok(n) => tracing::info!(job = job.name(), changed = n, "job ran"),
        Err(error) => tracing::warn!(job = job.name(), %error, "job failed"),
    }
    jobs::finished(&app.db, id, started_at, outcome.clone()).await?;
    Ok(Some(outcome))
}

/// Starts one task per job; they stop when the handles are aborted.
pub fn spawn(app: &AppState, all: Vec<Arc<dyn Job>>) -> Vec<tokio::task::JoinHandle<()>> {
    let instance = uuid::Uuid::new_v4().simple().to_string();
    all.into_iter()
        .map(|job| {
            let app = app.clone();
            let instance = instance.clone();
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(job.every(&app).max(Duration::from_secs(1)));
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticker.tick().await;
                    if let Err(err) = run_once(&app, job.as_ref(), &instance).await {
                        tracing::warn!(job = job.name(), error = ?err, "job runner failed");
                    }
                }
            })
        })
        .collect()
}

/// Deletes dispatched outbox events older than `OUTBOX_RETENTION_SECS`.
#[derive(Debug)]
pub struct OutboxPurge;

#[async_trait]
impl Job for OutboxPurge {
    fn name(&self) -> &'static str {
        "outbox.purge"
    }

    fn every(&self, _: &AppState) -> Duration {
        Duration::from_secs(600)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        let retention = chrono::Duration::seconds(
            i64::try_from(app.config.outbox_retention_secs).unwrap_or(i64::MAX / 4),
        );
        Ok(crate::db::outbox::purge(&app.db, Utc::now() - retention).await?)
    }
}

/// Deletes expired `Idempotency-Key` records.
#[derive(Debug)]
pub struct IdempotencyPurge;

#[async_trait]
impl Job for IdempotencyPurge {
    fn name(&self) -> &'static str {
        "idempotency.purge"
    }

    fn every(&self, _: &AppState) -> Duration {
        Duration::from_secs(600)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        Ok(crate::db::idempotency::purge(&app.db).await?)
    }
}

/// Deletes run records older than 30 days.
#[derive(Debug)]
pub struct RunPurge;

#[async_trait]
impl Job for RunPurge {
    fn name(&self) -> &'static str {
        "jobs.purge"
    }

    fn every(&self, _: &AppState) -> Duration {
        Duration::from_secs(3600)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        Ok(jobs::purge_runs(&app.db, Utc::now() - chrono::Duration::days(30)).await?)
    }
}
