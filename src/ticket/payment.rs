//! What payments do to a quoted ticket, in the payment's transaction: a verified payment of its
//! current request settles it (PAID, and its one task); a request cancelled or expired unpaid
//! sends it back to QUOTED, where the client may accept the quote again.

use super::service::{convert_to_task, set_status, ticket_event};
use super::types::TicketStatus;
use super::workflow::{self, Side};
use crate::activity::{self, Entry};
use crate::db::Scoped;
use crate::error::ApiResult;
use crate::events::DomainEvent;
use entity::ticket;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};
use serde_json::json;
use uuid::Uuid;

/// A verified payment settles an AWAITING_PAYMENT ticket: PAID, and its one task. A ticket
/// already PAID, or in a state a payment does not settle, is left as it is (logged): the money is
/// recorded on the payment request either way.
pub async fn settle<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    ticket_id: Uuid,
) -> ApiResult<Option<ticket::Model>> {
    let Some(current) = locked(scoped, ticket_id).await? else {
        return Ok(None);
    };
    let Some(updated) = advance(scoped, current, TicketStatus::Paid).await? else {
        return Ok(None);
    };
    let summary = format!("Ticket #{} paid", updated.number);
    record(scoped, actor_id, &updated, summary).await?;
    let updated = convert_to_task(scoped, actor_id, updated).await?;
    scoped.emit(DomainEvent::TicketStatusChanged(ticket_event(&updated)));
    Ok(Some(updated))
}

/// The ticket's request closed unpaid (cancelled or expired): an AWAITING_PAYMENT ticket is
/// QUOTED again, its quote unchanged. Any other state is left as it is.
pub async fn reopen_quote<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    ticket_id: Uuid,
    why: &str,
) -> ApiResult<Option<ticket::Model>> {
    let Some(current) = locked(scoped, ticket_id).await? else {
        return Ok(None);
    };
    let Some(updated) = advance(scoped, current, TicketStatus::Quoted).await? else {
        return Ok(None);
    };
    let summary = format!(
        "Ticket #{} is quoted again: its payment {why}",
        updated.number
    );
    record(scoped, actor_id, &updated, summary).await?;
    scoped.emit(DomainEvent::TicketStatusChanged(ticket_event(&updated)));
    Ok(Some(updated))
}

/// The ticket, locked for the rest of the transaction (PostgreSQL; SQLite serializes writers).
async fn locked<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    ticket_id: Uuid,
) -> ApiResult<Option<ticket::Model>> {
    let mut query = scoped
        .find::<ticket::Entity>()
        .filter(ticket::Column::Id.eq(ticket_id));
    if scoped.conn().get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.one(scoped.conn()).await?)
}

/// Moves `current` to `to` when a payment may; `None` (logged) when it may not.
async fn advance<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    current: ticket::Model,
    to: TicketStatus,
) -> ApiResult<Option<ticket::Model>> {
    let from = TicketStatus::parse(&current.status);
    if from == to {
        return Ok(None);
    }
    if let Err(err) = workflow::check(current.number, from, to, Side::Payment) {
        tracing::warn!(ticket = %current.id, status = %current.status, to = to.as_str(), error = ?err, "a payment cannot move this ticket");
        return Ok(None);
    }
    Ok(Some(set_status(scoped, current, to).await?))
}

async fn record<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    ticket: &ticket::Model,
    summary: String,
) -> ApiResult<()> {
    activity::service::record(
        scoped,
        Entry {
            project_id: ticket.project_id,
            actor_id,
            action: "ticket.status_changed",
            subject_type: "ticket",
            subject_id: ticket.id,
            summary,
            payload: json!({ "number": ticket.number, "status": ticket.status }),
            staff_only: false,
        },
    )
    .await?;
    Ok(())
}
