//! `payment_requests`: money asked of a project's client (deposit, milestone, balance, paid
//! ticket), with the Stripe Checkout session opened to pay it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "payment_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    /// `DEPOSIT`, `MILESTONE`, `BALANCE` or `TICKET`.
    pub kind: String,
    pub title: String,
    pub description: Option<String>,
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub due_date: Option<Date>,
    /// `PENDING`, `PAID`, `CANCELLED`, `EXPIRED` or `REFUNDED`.
    pub status: String,
    pub ticket_id: Option<Uuid>,
    pub milestone_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    /// When it was cancelled, expired or refunded.
    pub closed_at: Option<DateTimeUtc>,
    /// The open (or last) checkout session.
    pub checkout_session_id: Option<String>,
    pub checkout_url: Option<String>,
    pub checkout_expires_at: Option<DateTimeUtc>,
    /// Checkout sessions opened so far (part of the idempotency key of the next one).
    pub checkout_attempts: i32,
    /// The client who opened the current checkout session.
    pub checkout_opened_by: Option<Uuid>,
    /// The client whose checkout paid it.
    pub paid_by: Option<Uuid>,
    pub payment_intent_id: Option<String>,
    pub amount_refunded_minor: i64,
    /// The last failed payment attempt, as Stripe described it.
    pub last_failure: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
