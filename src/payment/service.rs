//! Payment request rules and transactions: creation (by staff, or when a client accepts a quote)
//! and opening a checkout. Closing one unpaid is in `closing`, the balance in `balance`.

use super::events;
use super::stripe::CheckoutRequest;
use super::types::{PaymentKind, PaymentStatus};
use crate::app::App;
use crate::db::{Global, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::graphql::pagination::{Direction, Page, fetch};
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility as projects;
use crate::types::{Money, text};
use chrono::{Duration, NaiveDate, Utc};
use entity::{milestone, payment_request, ticket, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, QueryFilter};
use uuid::Uuid;

/// How long a checkout session accepts the payment (Stripe allows 30 minutes to 24 hours).
const CHECKOUT_TTL: Duration = Duration::hours(1);

/// A payment request the caller may see (its project is visible to them); NOT_FOUND otherwise.
pub async fn get_visible<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<payment_request::Model> {
    let found = Scoped::new(conn, access.workspace_id)
        .find_by_id::<payment_request::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("payment request"))?;
    projects::get_visible(conn, access, found.project_id)
        .await
        .map_err(|_| ApiError::NotFound("payment request"))?;
    Ok(found)
}

/// A project's payment requests, oldest first, optionally of one status.
pub async fn list(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
    page: Page,
    status: Option<PaymentStatus>,
) -> ApiResult<(Vec<payment_request::Model>, u64, bool)> {
    let conn = app.db.conn();
    projects::get_visible(conn, access, project_id).await?;
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut condition = Condition::all().add(payment_request::Column::ProjectId.eq(project_id));
    if let Some(status) = status {
        condition = condition.add(payment_request::Column::Status.eq(status.as_str()));
    }
    let query = scoped.find::<payment_request::Entity>().filter(condition);
    fetch(
        conn,
        query,
        payment_request::Column::Id,
        Direction::Forward,
        page,
    )
    .await
}

/// A new payment request, as staff ask for it.
#[derive(Debug)]
pub struct NewPaymentRequest {
    pub project_id: Uuid,
    pub kind: PaymentKind,
    pub title: String,
    pub description: Option<String>,
    pub amount: Money,
    pub due_date: Option<NaiveDate>,
    pub milestone_id: Option<Uuid>,
}

/// Staff ask the project's client for money.
pub async fn create(
    app: &App,
    access: &WorkspaceAccess,
    new: NewPaymentRequest,
) -> ApiResult<payment_request::Model> {
    if new.kind == PaymentKind::Ticket {
        return Err(ApiError::bad_field(
            "kind",
            "TICKET requests are created when the client accepts a quote",
        ));
    }
    let title = text::required("title", &new.title, 200)?;
    let description = text::optional("description", new.description, 5_000)?;
    if new.due_date.is_some_and(|d| d < Utc::now().date_naive()) {
        return Err(ApiError::bad_field(
            "dueDate",
            "the due date is in the past",
        ));
    }
    let txn = app.db.begin().await?;
    projects::get_visible(&*txn, access, new.project_id).await?;
    let scoped = txn.scoped(access.workspace_id);
    if let Some(milestone_id) = new.milestone_id {
        let found = scoped
            .find_by_id::<milestone::Entity>(milestone_id)
            .await?
            .filter(|m| m.project_id == new.project_id);
        if found.is_none() {
            return Err(ApiError::NotFound("milestone"));
        }
    }
    let created = scoped
        .insert(pending(
            access.workspace_id,
            access.user_id,
            Draft {
                project_id: new.project_id,
                kind: new.kind,
                title,
                description,
                amount_minor: new.amount.amount_minor(),
                currency: new.amount.currency().to_owned(),
                due_date: new.due_date,
                ticket_id: None,
                milestone_id: new.milestone_id,
            },
        ))
        .await?;
    events::record(
        &scoped,
        access.user_id,
        &created,
        "payment.requested",
        format!("Payment \"{}\" requested", created.title),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// What a new request is made of.
struct Draft {
    project_id: Uuid,
    kind: PaymentKind,
    title: String,
    description: Option<String>,
    amount_minor: i64,
    currency: String,
    due_date: Option<NaiveDate>,
    ticket_id: Option<Uuid>,
    milestone_id: Option<Uuid>,
}

/// A new PENDING request, without a checkout yet.
fn pending(workspace_id: Uuid, created_by: Uuid, d: Draft) -> payment_request::ActiveModel {
    let now = Utc::now();
    payment_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(workspace_id),
        project_id: Set(d.project_id),
        kind: Set(d.kind.as_str().to_owned()),
        title: Set(d.title),
        description: Set(d.description),
        amount_minor: Set(d.amount_minor),
        currency: Set(d.currency),
        due_date: Set(d.due_date),
        status: Set(PaymentStatus::Pending.as_str().to_owned()),
        ticket_id: Set(d.ticket_id),
        milestone_id: Set(d.milestone_id),
        created_by: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
        paid_at: Set(None),
        closed_at: Set(None),
        checkout_session_id: Set(None),
        checkout_url: Set(None),
        checkout_expires_at: Set(None),
        checkout_attempts: Set(0),
        checkout_opened_by: Set(None),
        paid_by: Set(None),
        payment_intent_id: Set(None),
        amount_refunded_minor: Set(0),
        last_failure: Set(None),
    }
}

/// The TICKET request of an accepted quote, in the acceptance's transaction. Idempotent: a
/// ticket has at most one PENDING request (a unique index says so); one cancelled or expired
/// earlier stays as it was, and a new one is asked.
pub async fn request_for_ticket<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    actor_id: Uuid,
    ticket: &ticket::Model,
) -> ApiResult<payment_request::Model> {
    if let Some(existing) = scoped
        .find::<payment_request::Entity>()
        .filter(payment_request::Column::TicketId.eq(ticket.id))
        .filter(payment_request::Column::Status.eq(PaymentStatus::Pending.as_str()))
        .one(scoped.conn())
        .await?
    {
        return Ok(existing);
    }
    let (Some(amount_minor), Some(currency)) = (ticket.quote_amount_minor, &ticket.quote_currency)
    else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "ticket {} accepted without a quote",
            ticket.id
        )));
    };
    let created = scoped
        .insert(pending(
            scoped.workspace_id(),
            actor_id,
            Draft {
                project_id: ticket.project_id,
                kind: PaymentKind::Ticket,
                title: format!("Ticket #{}: {}", ticket.number, ticket.title)
                    .chars()
                    .take(200)
                    .collect(),
                description: ticket.quote_description.clone(),
                amount_minor,
                currency: currency.clone(),
                due_date: None,
                ticket_id: Some(ticket.id),
                milestone_id: None,
            },
        ))
        .await?;
    events::record(
        scoped,
        actor_id,
        &created,
        "payment.requested",
        format!("Payment \"{}\" requested", created.title),
    )
    .await?;
    Ok(created)
}

/// Where the client pays.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub url: String,
    pub expires_at: Option<chrono::DateTime<Utc>>,
    pub test_mode: bool,
}

/// A client of the project opens (or gets back) the checkout of a PENDING request. Asked twice,
/// even concurrently, it answers the same open session: the idempotency key is the request and
/// its attempt number, so Stripe itself returns one session for one attempt, and only the first
/// answer is stored.
pub async fn pay(app: &App, access: &WorkspaceAccess, id: Uuid) -> ApiResult<Checkout> {
    let current = get_visible(app.db.conn(), access, id).await?;
    if access.is_staff() {
        return Err(ApiError::forbidden(
            "only the project's client pays its payment requests",
        ));
    }
    let status = PaymentStatus::parse(&current.status);
    if status != PaymentStatus::Pending {
        return Err(ApiError::bad_field(
            "id",
            format!(
                "\"{}\" is {}; only a PENDING request can be paid",
                current.title, current.status
            ),
        ));
    }
    let now = Utc::now();
    if let Some(open) = open_checkout(&current, now) {
        return Ok(open.with_mode(app));
    }
    let payer = Global::new(app.db.conn())
        .find_by_id::<user::Entity>(access.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("sign in first"))?;
    let attempt = current.checkout_attempts;
    let base = app.config.base_url();
    let base = base.trim_end_matches('/');
    let opened = app
        .payments
        .open_checkout(&CheckoutRequest {
            request_id: current.id,
            workspace_id: current.workspace_id,
            project_id: current.project_id,
            title: current.title.clone(),
            description: current.description.clone(),
            amount_minor: current.amount_minor,
            currency: current.currency.clone(),
            customer_email: payer.email,
            idempotency_key: format!("portico-checkout-{}-{attempt}", current.id),
            success_url: format!("{base}/payments/{}/done", current.id),
            cancel_url: format!("{base}/payments/{}/cancelled", current.id),
            expires_at: now + CHECKOUT_TTL,
        })
        .await?;
    // Only the first answer for this attempt is stored; a concurrent twin got the same session.
    let scoped = Scoped::new(app.db.conn(), access.workspace_id);
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = app.db.writer().await;
    scoped
        .update_many::<payment_request::Entity>()
        .col_expr(
            payment_request::Column::CheckoutSessionId,
            Expr::value(opened.session_id.clone()),
        )
        .col_expr(
            payment_request::Column::CheckoutUrl,
            Expr::value(opened.url.clone()),
        )
        .col_expr(
            payment_request::Column::CheckoutExpiresAt,
            Expr::value(opened.expires_at),
        )
        .col_expr(
            payment_request::Column::CheckoutAttempts,
            Expr::value(attempt + 1),
        )
        .col_expr(
            payment_request::Column::CheckoutOpenedBy,
            Expr::value(access.user_id),
        )
        .col_expr(payment_request::Column::UpdatedAt, Expr::value(now))
        .filter(payment_request::Column::Id.eq(id))
        .filter(payment_request::Column::CheckoutAttempts.eq(attempt))
        .filter(payment_request::Column::Status.eq(PaymentStatus::Pending.as_str()))
        .exec(app.db.conn())
        .await?;
    drop(turn);
    let stored = get_visible(app.db.conn(), access, id).await?;
    match open_checkout(&stored, now) {
        Some(open) => Ok(open.with_mode(app)),
        None => Err(ApiError::conflict(format!(
            "\"{}\" changed while its checkout opened (now {}); try again",
            stored.title, stored.status
        ))),
    }
}

fn open_checkout(request: &payment_request::Model, now: chrono::DateTime<Utc>) -> Option<Checkout> {
    // A session about to expire is not handed out: the client would not finish in time.
    let fresh = request
        .checkout_expires_at
        .is_none_or(|at| at > now + Duration::minutes(5));
    match (&request.checkout_url, fresh) {
        (Some(url), true) if request.status == PaymentStatus::Pending.as_str() => Some(Checkout {
            url: url.clone(),
            expires_at: request.checkout_expires_at,
            test_mode: false,
        }),
        _ => None,
    }
}

impl Checkout {
    fn with_mode(self, app: &App) -> Self {
        Self {
            test_mode: app.payments.is_local_test(),
            ..self
        }
    }
}
