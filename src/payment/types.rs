//! GraphQL types of the payment domain. Amounts carry their own `payment:read` rule: a guest who
//! reaches a payment request some other way still gets null and FORBIDDEN for them.

use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::identity::User;
use crate::rbac::Permission;
use crate::types::MinorUnits;
use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::payment_request;
use uuid::Uuid;

/// What a payment request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PaymentKind {
    /// A deposit before work starts.
    Deposit,
    /// A milestone payment.
    Milestone,
    /// The balance at delivery.
    Balance,
    /// A paid ticket (created when the client accepts a quote).
    Ticket,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deposit => "DEPOSIT",
            Self::Milestone => "MILESTONE",
            Self::Balance => "BALANCE",
            Self::Ticket => "TICKET",
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "DEPOSIT" => Self::Deposit,
            "MILESTONE" => Self::Milestone,
            "TICKET" => Self::Ticket,
            _ => Self::Balance,
        }
    }
}

/// Where a payment request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PaymentStatus {
    /// Awaiting payment.
    Pending,
    /// Paid (confirmed by Stripe, never by a browser redirect).
    Paid,
    /// Cancelled by staff before it was paid.
    Cancelled,
    /// Its due date passed before it was paid.
    Expired,
    /// Paid, then refunded in full.
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Paid => "PAID",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
            Self::Refunded => "REFUNDED",
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "PAID" => Self::Paid,
            "CANCELLED" => Self::Cancelled,
            "EXPIRED" => Self::Expired,
            "REFUNDED" => Self::Refunded,
            _ => Self::Pending,
        }
    }

    /// How far along the money went. Stripe events only ever move a request to a higher rank, so
    /// events arriving out of order never regress it (PAID never goes back to PENDING).
    pub fn rank(self) -> u8 {
        match self {
            Self::Pending | Self::Cancelled | Self::Expired => 0,
            Self::Paid => 1,
            Self::Refunded => 2,
        }
    }
}

/// Money asked of a project's client.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct PaymentRequest {
    /// Payment request ID.
    pub id: ID,
    /// The project.
    pub project_id: ID,
    /// What it is for.
    pub kind: PaymentKind,
    /// Title, shown on the checkout page.
    pub title: String,
    /// Details.
    pub description: Option<String>,
    /// Amount in minor units (cents).
    #[graphql(
        directive = requires::apply(Permission::PaymentRead),
        visible = "crate::graphql::visibility::payment_read"
    )]
    pub amount_minor: Option<MinorUnits>,
    /// ISO 4217 currency code.
    #[graphql(
        directive = requires::apply(Permission::PaymentRead),
        visible = "crate::graphql::visibility::payment_read"
    )]
    pub currency: Option<String>,
    /// Refunded so far, in minor units (a partial refund keeps the request PAID).
    #[graphql(
        directive = requires::apply(Permission::PaymentRead),
        visible = "crate::graphql::visibility::payment_read"
    )]
    pub amount_refunded_minor: Option<MinorUnits>,
    /// Due date: unpaid after it, the request expires.
    pub due_date: Option<NaiveDate>,
    /// Status.
    pub status: PaymentStatus,
    /// The ticket it pays, for TICKET requests.
    pub ticket_id: Option<ID>,
    /// The milestone it pays, if any.
    pub milestone_id: Option<ID>,
    /// Why the last payment attempt failed, as Stripe said.
    #[graphql(
        directive = requires::apply(Permission::PaymentRead),
        visible = "crate::graphql::visibility::payment_read"
    )]
    pub last_failure: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was cancelled, expired or refunded.
    pub closed_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub created_by: Uuid,
    #[graphql(skip)]
    pub paid_by: Option<Uuid>,
}

impl From<payment_request::Model> for PaymentRequest {
    fn from(p: payment_request::Model) -> Self {
        Self {
            id: ID(p.id.to_string()),
            project_id: ID(p.project_id.to_string()),
            kind: PaymentKind::parse(&p.kind),
            title: p.title,
            description: p.description,
            amount_minor: Some(p.amount_minor.into()),
            currency: Some(p.currency),
            amount_refunded_minor: Some(p.amount_refunded_minor.into()),
            due_date: p.due_date,
            status: PaymentStatus::parse(&p.status),
            ticket_id: p.ticket_id.map(|id| ID(id.to_string())),
            milestone_id: p.milestone_id.map(|id| ID(id.to_string())),
            last_failure: p.last_failure,
            created_at: p.created_at,
            paid_at: p.paid_at,
            closed_at: p.closed_at,
            created_by: p.created_by,
            paid_by: p.paid_by,
        }
    }
}

#[ComplexObject]
impl PaymentRequest {
    /// Who asked for it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.created_by).await?)
    }

    /// The client who paid it.
    async fn paid_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.paid_by else {
            return Ok(None);
        };
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, id).await?)
    }
}

/// A project's money in one currency.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct ProjectBalance {
    /// ISO 4217 currency code.
    pub currency: String,
    /// Requested: pending and paid requests (cancelled, expired and refunded ones are not owed).
    pub requested_minor: MinorUnits,
    /// Paid, net of partial refunds.
    pub paid_minor: MinorUnits,
    /// Still to pay: the pending requests ("reste à payer").
    pub remaining_minor: MinorUnits,
}

/// Where the client goes to pay.
#[derive(Debug, Clone, SimpleObject)]
pub struct CheckoutSession {
    /// The hosted checkout page.
    pub url: String,
    /// When the page stops accepting the payment.
    pub expires_at: Option<DateTime<Utc>>,
    /// True on the embedded default's local test page (no real payment happens).
    pub test_mode: bool,
}
