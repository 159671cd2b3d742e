//! The expiry job: PENDING requests whose due date has passed become EXPIRED. Every instance runs
//! it; each row changes in one conditional UPDATE, so a request expires exactly once.

use super::events;
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
            events::record(
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

/// Runs [`expire_due`] every `period` until the process stops.
pub fn spawn(app: AppState, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period.max(Duration::from_secs(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match expire_due(&app).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "payment requests expired"),
                Err(err) => tracing::warn!(error = ?err, "payment expiry run failed"),
            }
        }
    })
}
