//! GraphQL types of the ticket domain.

use crate::graphql::RequestContext;
use crate::identity::User;
use crate::rbac::Permission;
use crate::types::MinorUnits;
use async_graphql::{ComplexObject, Context, Enum, ID, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{ticket, ticket_comment};
use uuid::Uuid;

/// What a ticket asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TicketKind {
    /// Something is broken.
    Bug,
    /// Change something that exists.
    Change,
    /// Make something better.
    Improvement,
    /// A question.
    Question,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bug => "BUG",
            Self::Change => "CHANGE",
            Self::Improvement => "IMPROVEMENT",
            Self::Question => "QUESTION",
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "BUG" => Self::Bug,
            "CHANGE" => Self::Change,
            "IMPROVEMENT" => Self::Improvement,
            _ => Self::Question,
        }
    }
}

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TicketStatus {
    /// Awaiting a decision.
    New,
    /// Staff asked the client for details.
    ToClarify,
    /// Refused.
    Refused,
    /// Accepted: it became a task.
    Accepted,
    /// Priced: the client accepts or declines.
    Quoted,
    /// The client accepted the quote; payment pending.
    AwaitingPayment,
    /// The client declined the quote.
    Declined,
    /// Paid: it became a task.
    Paid,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 8] = [
        Self::New,
        Self::ToClarify,
        Self::Refused,
        Self::Accepted,
        Self::Quoted,
        Self::AwaitingPayment,
        Self::Declined,
        Self::Paid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::ToClarify => "TO_CLARIFY",
            Self::Refused => "REFUSED",
            Self::Accepted => "ACCEPTED",
            Self::Quoted => "QUOTED",
            Self::AwaitingPayment => "AWAITING_PAYMENT",
            Self::Declined => "DECLINED",
            Self::Paid => "PAID",
        }
    }

    pub fn parse(stored: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == stored)
            .unwrap_or(Self::New)
    }
}

/// A price proposed for a ticket.
#[derive(Debug, Clone, SimpleObject)]
pub struct Quote {
    /// Amount in minor units (cents).
    pub amount_minor: MinorUnits,
    /// ISO 4217 currency code.
    pub currency: String,
    /// What the price covers.
    pub description: Option<String>,
    /// Delivery delay in days, if given.
    pub delay_days: Option<i32>,
}

/// A client request on a project.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Ticket {
    /// Ticket ID.
    pub id: ID,
    /// The project.
    pub project_id: ID,
    /// Sequential number within the project (#1, #2, …).
    pub number: i32,
    /// Kind.
    pub kind: TicketKind,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: TicketStatus,
    /// The quote, once priced (an amount: `payment:read`, never shown to guests).
    #[graphql(
        directive = crate::graphql::directives::requires::apply(Permission::PaymentRead),
        visible = "crate::graphql::visibility::payment_read"
    )]
    pub quote: Option<Quote>,
    /// The task it became, once accepted or paid.
    pub task_id: Option<ID>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: Uuid,
    #[graphql(skip)]
    pub workspace_id: Uuid,
    #[graphql(skip)]
    pub created_by: Uuid,
}

impl From<ticket::Model> for Ticket {
    fn from(t: ticket::Model) -> Self {
        let quote = match (t.quote_amount_minor, t.quote_currency) {
            (Some(amount_minor), Some(currency)) => Some(Quote {
                amount_minor: amount_minor.into(),
                currency,
                description: t.quote_description,
                delay_days: t.quote_delay_days,
            }),
            _ => None,
        };
        Self {
            id: ID(t.id.to_string()),
            project_id: ID(t.project_id.to_string()),
            number: t.number,
            kind: TicketKind::parse(&t.kind),
            title: t.title,
            description: t.description,
            status: TicketStatus::parse(&t.status),
            quote,
            task_id: t.task_id.map(|id| ID(id.to_string())),
            created_at: t.created_at,
            updated_at: t.updated_at,
            uuid: t.id,
            workspace_id: t.workspace_id,
            created_by: t.created_by,
        }
    }
}

#[ComplexObject]
impl Ticket {
    /// Who opened it.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.created_by).await?)
    }

    /// Files attached to the ticket.
    async fn attachments(&self, ctx: &Context<'_>) -> Result<Vec<crate::file::File>> {
        Ok(crate::file::attachments(RequestContext::of(ctx)?, self.uuid).await?)
    }

    /// The thread, oldest first. Internal comments appear only to staff with `note:private`.
    async fn comments(&self, ctx: &Context<'_>) -> Result<Vec<TicketComment>> {
        let rows = super::loaders::thread(RequestContext::of(ctx)?, self.uuid).await?;
        Ok(rows.into_iter().map(TicketComment::from).collect())
    }
}

/// A comment of a ticket's thread.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct TicketComment {
    /// Comment ID.
    pub id: ID,
    /// Text.
    pub body: String,
    /// Staff-only comment (never shown to clients).
    pub internal: bool,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub author_id: Uuid,
    #[graphql(skip)]
    pub uuid: Uuid,
}

impl From<ticket_comment::Model> for TicketComment {
    fn from(c: ticket_comment::Model) -> Self {
        Self {
            id: ID(c.id.to_string()),
            body: c.body,
            internal: c.internal,
            created_at: c.created_at,
            author_id: c.author_id,
            uuid: c.id,
        }
    }
}

#[ComplexObject]
impl TicketComment {
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.author_id).await?)
    }

    /// Files attached to the comment (internal with an internal comment).
    async fn attachments(&self, ctx: &Context<'_>) -> Result<Vec<crate::file::File>> {
        Ok(crate::file::attachments(RequestContext::of(ctx)?, self.uuid).await?)
    }
}

/// Whether `permission` lets a caller see internal comments.
pub fn sees_internal(permissions: crate::rbac::PermissionSet) -> bool {
    permissions.contains(Permission::NotePrivate)
}
