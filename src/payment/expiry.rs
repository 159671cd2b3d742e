//! The expiry job: PENDING requests whose due date has passed become EXPIRED (and a TICKET
//! request's ticket QUOTED again, `closing`). The job runner runs it once per period across
//! instances; each row also changes in one conditional UPDATE, so a request expires exactly once
//! even if two runs overlap.

use super::closing;
use super::types::PaymentStatus;
use crate::app::{App, AppState};
use crate::db::AcrossTenants;
use chrono::{DateTime, NaiveDate, Utc};
use entity::payment_request::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, QueryFilter};
use std::time::Duration;

const BATCH: u64 = 100;

/// Expires what is due now; returns how many requests expired here.
pub async fn expire_due(app: &App) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let now = Utc::now();
        let txn = app.db.begin().await?;
        let expired = expire_batch(&*txn, now.date_naive(), now, BATCH).await?;
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

/// Expires up to `limit` PENDING requests whose due date is before `today`, in one conditional
/// statement: run on several instances at once, each row still changes exactly once.
async fn expire_batch<C: ConnectionTrait>(
    conn: &C,
    today: NaiveDate,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<payment_request::Model>, DbErr> {
    let (pending, expired) = (
        PaymentStatus::Pending.as_str(),
        PaymentStatus::Expired.as_str(),
    );
    let due = Query::select()
        .column(Column::Id)
        .from(payment_request::Entity)
        .and_where(Expr::col(Column::Status).eq(pending))
        .and_where(Expr::col(Column::DueDate).lt(today))
        .limit(limit)
        .to_owned();
    AcrossTenants::because("the expiry job runs over every workspace's due requests")
        .update_many::<payment_request::Entity>()
        .col_expr(Column::Status, Expr::value(expired))
        .col_expr(Column::ClosedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.in_subquery(due))
        .filter(Column::Status.eq(pending))
        .exec_with_returning(conn)
        .await
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
