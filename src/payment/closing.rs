//! A payment request that closes unpaid, and what follows: staff cancel one (or the expiry job
//! expires it, `expiry`); the timeline says so, a TICKET request gives its ticket back to
//! QUOTED in the same transaction, and the outbox consumer [`CheckoutCloser`] expires its open
//! Stripe Checkout session, so a late payment is rare. One that still lands is recorded and
//! flagged (`events`).

use super::events;
use super::service;
use super::stripe::{Expiry, Gateway};
use super::types::{PaymentKind, PaymentStatus};
use crate::app::App;
use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::events::{DomainEvent, Envelope};
use crate::outbox::Consumer;
use crate::rbac::WorkspaceAccess;
use chrono::Utc;
use entity::payment_request;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use std::sync::Arc;
use uuid::Uuid;

/// Staff cancel a PENDING request. Only a still-pending row changes: a payment that lands at the
/// same moment wins, and the cancellation answers with the new status.
pub async fn cancel(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<payment_request::Model> {
    let txn = app.db.begin().await?;
    let current = service::get_visible(&*txn, access, id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let now = Utc::now();
    let changed = scoped
        .update_many::<payment_request::Entity>()
        .col_expr(
            payment_request::Column::Status,
            Expr::value(PaymentStatus::Cancelled.as_str()),
        )
        .col_expr(payment_request::Column::ClosedAt, Expr::value(now))
        .col_expr(payment_request::Column::UpdatedAt, Expr::value(now))
        .filter(payment_request::Column::Id.eq(id))
        .filter(payment_request::Column::Status.eq(PaymentStatus::Pending.as_str()))
        .exec(&*txn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(ApiError::bad_field(
            "id",
            format!(
                "\"{}\" is {}; only a PENDING request can be cancelled",
                current.title, current.status
            ),
        ));
    }
    let cancelled = scoped
        .find_by_id::<payment_request::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("payment request"))?;
    let summary = format!("Payment \"{}\" cancelled", cancelled.title);
    closed_unpaid(
        &scoped,
        access.user_id,
        &cancelled,
        "payment.cancelled",
        summary,
    )
    .await?;
    txn.commit().await?;
    Ok(cancelled)
}

/// Records that `request` closed unpaid (`action`: `payment.cancelled` or `payment.expired`) and,
/// for a TICKET request, sends its ticket back to QUOTED.
pub(super) async fn closed_unpaid<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    request: &payment_request::Model,
    action: &'static str,
    summary: String,
) -> ApiResult<()> {
    events::record(scoped, actor_id, request, action, summary).await?;
    if PaymentKind::parse(&request.kind) == PaymentKind::Ticket
        && let Some(ticket_id) = request.ticket_id
    {
        let why = match PaymentStatus::parse(&request.status) {
            PaymentStatus::Expired => "expired unpaid",
            _ => "was cancelled",
        };
        crate::ticket::payment::reopen_quote(scoped, actor_id, ticket_id, why).await?;
    }
    Ok(())
}

/// The outbox consumer that expires at Stripe the open Checkout session of every request that
/// closed unpaid. At least once: a session already closed is fine, a transport failure is tried
/// again by the dispatcher.
pub struct CheckoutCloser {
    pub db: Db,
    pub gateway: Arc<Gateway>,
}

impl std::fmt::Debug for CheckoutCloser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckoutCloser")
    }
}

#[async_trait::async_trait]
impl Consumer for CheckoutCloser {
    fn name(&self) -> &'static str {
        "payment.checkout_closer"
    }

    async fn deliver(&self, envelope: &Envelope, _raw: &str) -> anyhow::Result<()> {
        let DomainEvent::PaymentStatusChanged(change) = &envelope.event else {
            return Ok(());
        };
        let closed = |status: &str| {
            matches!(
                PaymentStatus::parse(status),
                PaymentStatus::Cancelled | PaymentStatus::Expired
            )
        };
        if !closed(&change.status) {
            return Ok(());
        }
        // Read again: paid late since, or its session already past its own expiry, needs nothing.
        let Some(request) = Scoped::new(self.db.conn(), envelope.workspace_id)
            .find_by_id::<payment_request::Entity>(change.payment_request_id)
            .await?
        else {
            return Ok(());
        };
        let (Some(session), Some(expires_at)) =
            (&request.checkout_session_id, request.checkout_expires_at)
        else {
            return Ok(());
        };
        if !closed(&request.status) || expires_at <= Utc::now() {
            return Ok(());
        }
        let outcome = self.gateway.expire_checkout(session).await?;
        if outcome != Expiry::NotStripe {
            tracing::info!(request = %request.id, ?outcome, "checkout session of a closed request expired");
        }
        Ok(())
    }
}
