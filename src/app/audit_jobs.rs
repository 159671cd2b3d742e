//! The audit log's periodic job, bound to the container here: creating next months' partitions
//! ahead of time (PostgreSQL), so no event ever lands in the default partition.

use super::AppState;
use async_trait::async_trait;
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
