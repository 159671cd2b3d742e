//! A project's balance per currency: requested (pending + paid), paid (net of partial refunds),
//! remaining (pending), in one statement.

use super::types::{PaymentStatus, ProjectBalance};
use crate::app::App;
use crate::db::Scoped;
use crate::error::ApiResult;
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility as projects;
use crate::types::MinorUnits;
use entity::payment_request;
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A project's balance per currency, in one statement.
pub async fn balance(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
) -> ApiResult<Vec<ProjectBalance>> {
    let conn = app.db.conn();
    projects::get_visible(conn, access, project_id).await?;
    let rows: Vec<(String, String, i64, i64)> = Scoped::new(conn, access.workspace_id)
        .find::<payment_request::Entity>()
        .select_only()
        .column(payment_request::Column::Currency)
        .column(payment_request::Column::Status)
        // SUM of a BIGINT is NUMERIC on Postgres: cast back so both backends decode an i64.
        .column_as(
            Expr::col(payment_request::Column::AmountMinor)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "amount",
        )
        .column_as(
            Expr::col(payment_request::Column::AmountRefundedMinor)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "refunded",
        )
        .filter(payment_request::Column::ProjectId.eq(project_id))
        .group_by(payment_request::Column::Currency)
        .group_by(payment_request::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(fold_balance(rows))
}

/// Sums per currency: requested = pending + paid; paid = paid net of partial refunds;
/// remaining = pending. Cancelled, expired and refunded requests are not owed.
pub fn fold_balance(rows: Vec<(String, String, i64, i64)>) -> Vec<ProjectBalance> {
    let mut by_currency: BTreeMap<String, ProjectBalance> = BTreeMap::new();
    for (currency, status, amount, refunded) in rows {
        let entry = by_currency
            .entry(currency.clone())
            .or_insert_with(|| ProjectBalance {
                currency,
                requested_minor: MinorUnits(0),
                paid_minor: MinorUnits(0),
                remaining_minor: MinorUnits(0),
            });
        match PaymentStatus::parse(&status) {
            PaymentStatus::Pending => {
                entry.requested_minor += amount;
                entry.remaining_minor += amount;
            }
            PaymentStatus::Paid => {
                entry.requested_minor += amount;
                entry.paid_minor += amount - refunded;
            }
            PaymentStatus::Cancelled | PaymentStatus::Expired | PaymentStatus::Refunded => {}
        }
    }
    by_currency.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_is_per_currency_and_ignores_what_is_not_owed() {
        let rows = vec![
            ("EUR".to_owned(), "PENDING".to_owned(), 30_000, 0),
            ("EUR".to_owned(), "PAID".to_owned(), 50_000, 5_000),
            ("EUR".to_owned(), "CANCELLED".to_owned(), 99_999, 0),
            ("USD".to_owned(), "PAID".to_owned(), 1_000, 0),
            ("USD".to_owned(), "REFUNDED".to_owned(), 7_000, 7_000),
            ("USD".to_owned(), "EXPIRED".to_owned(), 4_000, 0),
        ];
        let balance = fold_balance(rows);
        assert_eq!(
            balance,
            vec![
                ProjectBalance {
                    currency: "EUR".into(),
                    requested_minor: MinorUnits(80_000),
                    paid_minor: MinorUnits(45_000),
                    remaining_minor: MinorUnits(30_000),
                },
                ProjectBalance {
                    currency: "USD".into(),
                    requested_minor: MinorUnits(1_000),
                    paid_minor: MinorUnits(1_000),
                    remaining_minor: MinorUnits(0),
                },
            ]
        );
    }
}
