//! The expiry job: PENDING requests whose due date has passed become EXPIRED (and a TICKET
//! request's ticket QUOTED again, `closing`). The job runner runs it once per period across
//! instances; each row also changes in one conditional UPDATE, so a request expires exactly once
//! even if two runs overlap.

use super::closing;
use crate::app::{App, AppState};
use crate::db::Global;
use chrono::Utc;
use std::time::Duration;

const BATCH: u64 = 100;

/// Expires what is due now; returns how many requests expired here.
pub async fn expire_due(app: &App) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let now = Utc::now();
        let txn = app.db.begin().await?;
        let expired = Global::new(&*txn)
            .expire_due_payment_requests(now.date_naive(), now, BATCH)
            .await?;
        for request in &expired {
            closing::closed_unpaid(
                &txn.scoped(request.workspace_id),
                request.created_by,
                request,
                "payment.expired",
                format!("Payment \"{}\" expired unpaid", request.title),
            )
            .await
            .map_err(crate::error::ApiError::into_anyhow)?;
        }
        txn.commit().await?;
        total += expired.len();
        if (expired.len() as u64) < BATCH {
            return Ok(total);
        }
    }
}

/// The job of the runner (`crate::jobs`): every `PAYMENT_EXPIRY_INTERVAL_SECS`.
#[derive(Debug)]
pub struct ExpirePayments;

#[async_trait::async_trait]
impl crate::jobs::Job for ExpirePayments {
    fn name(&self) -> &'static str {
        "payment.expire"
    }

    fn every(&self, app: &AppState) -> Duration {
        Duration::from_secs(app.config.payment_expiry_interval_secs)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        Ok(expire_due(app).await? as u64)
    }
}
