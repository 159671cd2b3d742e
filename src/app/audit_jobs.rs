//! The audit log's periodic jobs, bound to the container here: sealing new events into their
//! chains, creating next months' partitions
//! ahead of time (PostgreSQL), so no event ever lands in the default partition, writing the
//! exports people asked for, and archiving the months past `AUDIT_RETENTION_MONTHS`.

use super::AppState;
use async_trait::async_trait;
use chrono::Utc;
use std::time::Duration;

/// Creates this month's and the next two months' audit partitions where missing.
#[derive(Debug)]
pub struct AuditPartitions;

#[async_trait]
impl crate::jobs::Job for AuditPartitions {
    fn name(&self) -> &'static str {
        "audit.partitions"
    }

    fn every(&self, _app: &AppState) -> Duration {
        Duration::from_secs(24 * 3600)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        crate::db::audit_read::ensure_partitions(app.db.conn())
            .await
            .map(|_| 0)
            .map_err(anyhow::Error::from)
    }
}

/// Writes the audit exports that are due.
#[derive(Debug)]
pub struct ExportAudit;

#[async_trait]
impl crate::jobs::Job for ExportAudit {
    fn name(&self) -> &'static str {
        "audit.export"
    }

    fn every(&self, _app: &AppState) -> Duration {
        Duration::from_secs(5)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        crate::audit::export::run_due(&app.db, &app.storage, Utc::now())
            .await
            .map_err(crate::error::ApiError::into_anyhow)
    }
}

/// Links the events written since the last run into their chains.
#[derive(Debug)]
pub struct SealAudit;

#[async_trait]
impl crate::jobs::Job for SealAudit {
    fn name(&self) -> &'static str {
        "audit.seal"
    }

    fn every(&self, _app: &AppState) -> Duration {
        Duration::from_secs(1)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        crate::db::audit_seal::seal(&app.db)
            .await
            .map_err(anyhow::Error::from)
    }
}

/// Archives and removes the months older than `AUDIT_RETENTION_MONTHS` (nothing when 0).
#[derive(Debug)]
pub struct RetainAudit;

#[async_trait]
impl crate::jobs::Job for RetainAudit {
    fn name(&self) -> &'static str {
        "audit.retention"
    }

    fn every(&self, _app: &AppState) -> Duration {
        Duration::from_secs(3600)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        let months = app.config.observability.audit_retention_months;
        let actor = crate::db::audit::Actor::system(crate::db::audit::Source::Job);
        let done =
            crate::audit::retention::run(&app.db, &app.storage, months, Utc::now(), actor).await?;
        Ok(done.iter().map(|m| m.events).sum())
    }
}
