//! Payment events, whoever reports them (a verified Stripe webhook, or the embedded default's
//! local test checkout), and the one transaction that applies them. Each event id is stored
//! before anything is acted on, so a duplicate delivery is a no-op; statuses only move forward
//! (see [`PaymentStatus::rank`]), so events arriving out of order never regress a request.

use super::types::{PaymentKind, PaymentStatus};
use crate::activity::{self, Entry};
use crate::app::App;
use crate::db::AcrossTenants;
use crate::db::{Global, Scoped};
use crate::error::ApiResult;
use crate::events::{DomainEvent, PaymentChanged};
use chrono::Utc;
use entity::{payment_request, stripe_event};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, QueryFilter, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

pub use super::incoming::{CheckoutFacts, EventBody, Incoming, Outcome, RefundFacts};

/// Applies `incoming` in one transaction: the event id, the request's change, the ticket it
/// settles (and its task), the timeline entries, and the events published after commit.
pub async fn apply(app: &App, incoming: Incoming) -> ApiResult<Outcome> {
    let txn = app.db.begin().await?;
    let global = Global::new(&*txn);
    let claimed = global
        .insert_new::<stripe_event::Entity, _>(stripe_event::ActiveModel {
            id: Set(incoming.id.clone()),
            event_type: Set(incoming.kind.chars().take(100).collect()),
            object_ref: Set(incoming.body.object_ref()),
            outcome: Set("received".to_owned()),
            detail: Set(None),
            payment_request_id: Set(None),
            received_at: Set(Utc::now()),
        })
        .await?;
    if !claimed {
        return Ok(Outcome::Duplicate);
    }
    let (outcome, request_id, detail) = match &incoming.body {
        EventBody::CheckoutCompleted(facts) => {
            match locate(&*txn, Some(&facts.session_id), facts.request_id, None).await? {
                Some(request) => {
                    let id = request.id;
                    (completed(&txn, request, facts).await?, Some(id), None)
                }
                None => (Outcome::Unmatched, None, None),
            }
        }
        EventBody::CheckoutExpired(facts) => {
            match locate(&*txn, Some(&facts.session_id), facts.request_id, None).await? {
                Some(request) => {
                    let id = request.id;
                    (expired_session(&txn, request, facts).await?, Some(id), None)
                }
                None => (Outcome::Unmatched, None, None),
            }
        }
        EventBody::PaymentFailed {
            request_id,
            payment_intent,
            message,
        } => match locate(&*txn, None, *request_id, payment_intent.as_deref()).await? {
            Some(request) => {
                let id = request.id;
                (failed(&txn, request, message).await?, Some(id), None)
            }
            None => (Outcome::Unmatched, None, None),
        },
        EventBody::ChargeRefunded(refund) => {
            let found = match refund.payment_intent.as_deref() {
                Some(intent) => locate(&*txn, None, None, Some(intent)).await?,
                None => None,
            };
            match found {
                Some(request) => {
                    let id = request.id;
                    (refunded(&txn, request, refund).await?, Some(id), None)
                }
                // Kept, to apply once its payment lands (events may arrive in any order).
                None => (Outcome::Unmatched, None, serde_json::to_string(refund).ok()),
            }
        }
        EventBody::Other => (Outcome::Ignored, None, None),
    };
    global
        .update_many::<stripe_event::Entity>()
        .col_expr(stripe_event::Column::Outcome, Expr::value(outcome.as_str()))
        .col_expr(
            stripe_event::Column::PaymentRequestId,
            Expr::value(request_id),
        )
        .col_expr(stripe_event::Column::Detail, Expr::value(detail))
        .filter(stripe_event::Column::Id.eq(incoming.id.as_str()))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    tracing::info!(event = %incoming.id, kind = %incoming.kind, outcome = outcome.as_str(), request = ?request_id, "payment event");
    Ok(outcome)
}

/// The request an event is about, locked for the rest of the transaction (Postgres; SQLite
/// serializes writers). Matched by checkout session, then by payment intent, then by the
/// request id in the metadata Portico set.
async fn locate<C: ConnectionTrait>(
    conn: &C,
    session_id: Option<&str>,
    request_id: Option<Uuid>,
    payment_intent: Option<&str>,
) -> ApiResult<Option<payment_request::Model>> {
    let mut condition = sea_orm::Condition::any();
    if let Some(session) = session_id {
        condition = condition.add(payment_request::Column::CheckoutSessionId.eq(session));
    }
    if let Some(intent) = payment_intent {
        condition = condition.add(payment_request::Column::PaymentIntentId.eq(intent));
    }
    if let Some(id) = request_id {
        condition = condition.add(payment_request::Column::Id.eq(id));
    }
    if condition.is_empty() {
        return Ok(None);
    }
    let mut query =
        AcrossTenants::because("a verified Stripe webhook names no workspace we could trust more")
            .find::<payment_request::Entity>()
            .filter(condition);
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.one(conn).await?)
}

async fn completed(
    txn: &crate::db::Tx,
    request: payment_request::Model,
    facts: &CheckoutFacts,
) -> ApiResult<Outcome> {
    let status = PaymentStatus::parse(&request.status);
    if status.rank() >= PaymentStatus::Paid.rank() {
        return Ok(Outcome::Stale);
    }
    let amount_matches = facts.amount_total == Some(request.amount_minor)
        && facts.currency.as_deref() == Some(request.currency.as_str());
    if !amount_matches {
        tracing::error!(
            request = %request.id,
            expected = request.amount_minor,
            currency = %request.currency,
            got = ?facts.amount_total,
            got_currency = ?facts.currency,
            "a checkout completed with another amount than its payment request: not marked paid"
        );
        return Ok(Outcome::Mismatch);
    }
    let scoped = txn.scoped(request.workspace_id);
    if !facts.paid {
        // A delayed payment method (bank debit): PAID comes with async_payment_succeeded.
        let mut model: payment_request::ActiveModel = request.into();
        model.payment_intent_id = Set(facts.payment_intent.clone());
        model.updated_at = Set(Utc::now());
        scoped.update(model).await?;
        return Ok(Outcome::AwaitingPayment);
    }
    let actor = request.checkout_opened_by.unwrap_or(request.created_by);
    let late = match status {
        PaymentStatus::Cancelled => " after it was cancelled: refund or reconcile it",
        PaymentStatus::Expired => " after it expired: refund or reconcile it",
        _ => "",
    };
    let now = Utc::now();
    let mut model: payment_request::ActiveModel = request.clone().into();
    model.status = Set(PaymentStatus::Paid.as_str().to_owned());
    model.paid_at = Set(Some(now));
    model.paid_by = Set(request.checkout_opened_by);
    model.closed_at = Set(None);
    model.payment_intent_id = Set(facts.payment_intent.clone());
    model.last_failure = Set(None);
    model.updated_at = Set(now);
    let mut paid = scoped.update(model).await?;
    record(
        &scoped,
        actor,
        &paid,
        "payment.paid",
        format!("Payment \"{}\" received{late}", paid.title),
    )
    .await?;
    // Only the ticket's current request settles it: a late payment of one cancelled or expired
    // (its ticket went back to QUOTED, maybe accepted again since) is recorded and flagged.
    if late.is_empty()
        && PaymentKind::parse(&paid.kind) == PaymentKind::Ticket
        && let Some(ticket_id) = paid.ticket_id
    {
        crate::ticket::payment::settle(&scoped, actor, ticket_id).await?;
    }
    // A refund reported before this payment landed applies now.
    if let Some(intent) = facts.payment_intent.as_deref() {
        let pending = Global::new(&**txn)
            .find::<stripe_event::Entity>()
            .filter(stripe_event::Column::ObjectRef.eq(intent))
            .filter(stripe_event::Column::Outcome.eq(Outcome::Unmatched.as_str()))
            .filter(stripe_event::Column::EventType.eq("charge.refunded"))
            .all(&**txn)
            .await?;
        for event in pending {
            let Some(refund) = event
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str::<RefundFacts>(d).ok())
            else {
                continue;
            };
            if refunded(txn, paid.clone(), &refund).await? == Outcome::Applied {
                paid = reload(&scoped, paid.id).await?.unwrap_or(paid);
            }
            Global::new(&**txn)
                .update_many::<stripe_event::Entity>()
                .col_expr(
                    stripe_event::Column::Outcome,
                    Expr::value(Outcome::Applied.as_str()),
                )
                .col_expr(stripe_event::Column::PaymentRequestId, Expr::value(paid.id))
                .filter(stripe_event::Column::Id.eq(event.id))
                .exec(&**txn)
                .await?;
        }
    }
    Ok(Outcome::Applied)
}

async fn reload<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    id: Uuid,
) -> ApiResult<Option<payment_request::Model>> {
    Ok(scoped.find_by_id::<payment_request::Entity>(id).await?)
}

async fn expired_session(
    txn: &crate::db::Tx,
    request: payment_request::Model,
    facts: &CheckoutFacts,
) -> ApiResult<Outcome> {
    if request.checkout_session_id.as_deref() != Some(facts.session_id.as_str())
        || PaymentStatus::parse(&request.status) != PaymentStatus::Pending
    {
        return Ok(Outcome::Stale);
    }
    // The next payPaymentRequest opens a new session.
    let mut model: payment_request::ActiveModel = request.clone().into();
    model.checkout_session_id = Set(None);
    model.checkout_url = Set(None);
    model.checkout_expires_at = Set(None);
    model.updated_at = Set(Utc::now());
    txn.scoped(request.workspace_id).update(model).await?;
    Ok(Outcome::Applied)
}

async fn failed(
    txn: &crate::db::Tx,
    request: payment_request::Model,
    message: &str,
) -> ApiResult<Outcome> {
    if PaymentStatus::parse(&request.status) != PaymentStatus::Pending {
        return Ok(Outcome::Stale);
    }
    let scoped = txn.scoped(request.workspace_id);
    let actor = request.checkout_opened_by.unwrap_or(request.created_by);
    let mut model: payment_request::ActiveModel = request.into();
    model.last_failure = Set(Some(message.chars().take(500).collect()));
    model.updated_at = Set(Utc::now());
    let updated = scoped.update(model).await?;
    record(
        &scoped,
        actor,
        &updated,
        "payment.failed",
        format!("Payment attempt for \"{}\" failed", updated.title),
    )
    .await?;
    Ok(Outcome::Applied)
}

async fn refunded(
    txn: &crate::db::Tx,
    request: payment_request::Model,
    refund: &RefundFacts,
) -> ApiResult<Outcome> {
    let status = PaymentStatus::parse(&request.status);
    if refund.currency != request.currency {
        tracing::error!(request = %request.id, "a refund in another currency than its payment request");
        return Ok(Outcome::Mismatch);
    }
    let to = if refund.fully {
        PaymentStatus::Refunded
    } else {
        status
    };
    // Refunded amounts only grow; a full refund is final.
    if refund.amount_refunded_minor <= request.amount_refunded_minor && to.rank() <= status.rank() {
        return Ok(Outcome::Stale);
    }
    let scoped = txn.scoped(request.workspace_id);
    let actor = request.paid_by.unwrap_or(request.created_by);
    let now = Utc::now();
    let mut model: payment_request::ActiveModel = request.clone().into();
    model.amount_refunded_minor = Set(refund
        .amount_refunded_minor
        .max(request.amount_refunded_minor));
    if to.rank() > status.rank() {
        model.status = Set(to.as_str().to_owned());
        model.closed_at = Set(Some(now));
    }
    model.updated_at = Set(now);
    let updated = scoped.update(model).await?;
    let what = if to == PaymentStatus::Refunded {
        "refunded"
    } else {
        "partially refunded"
    };
    record(
        &scoped,
        actor,
        &updated,
        "payment.refunded",
        format!("Payment \"{}\" {what}", updated.title),
    )
    .await?;
    Ok(Outcome::Applied)
}

/// A timeline entry (without amounts: guests of the project see the timeline) and a project
/// event, both published after the transaction commits.
pub(super) async fn record<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    request: &payment_request::Model,
    action: &'static str,
    summary: String,
) -> ApiResult<()> {
    activity::service::record(
        scoped,
        Entry {
            project_id: request.project_id,
            actor_id,
            action,
            subject_type: "payment_request",
            subject_id: request.id,
            summary,
            payload: json!({ "kind": request.kind, "status": request.status }),
            staff_only: false,
        },
    )
    .await?;
    scoped.emit(DomainEvent::PaymentStatusChanged(PaymentChanged {
        project_id: request.project_id,
        payment_request_id: request.id,
        status: request.status.clone(),
    }));
    Ok(())
}
