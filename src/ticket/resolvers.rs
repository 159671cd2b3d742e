//! Ticket queries and mutations. Thin: parse arguments, call the service, map the result.

use super::service::{self, QuoteTerms, TicketFilter};
use super::types::{Ticket, TicketComment, TicketKind, TicketStatus};
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::pagination::{ConnectionFields, Page, connection};
use crate::rbac::Permission;
use crate::types::{MinorUnits, Money, parse_id};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, Result};

/// Ticket queries.
#[derive(Debug, Default)]
pub struct TicketQuery;

#[Object]
impl TicketQuery {
    /// A project's tickets, by number.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    #[allow(clippy::too_many_arguments)]
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last ticket of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only this status.")] status: Option<TicketStatus>,
        #[graphql(desc = "Only this kind.")] kind: Option<TicketKind>,
        #[graphql(desc = "Only titles containing this text (case-insensitive).")] search: Option<
            String,
        >,
    ) -> Result<Option<Connection<String, Ticket, ConnectionFields>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let page = Page::new(first, after.as_deref())?;
        let filter = TicketFilter {
            status,
            kind,
            search,
        };
        let (rows, total_count, has_next) =
            service::list(&rc.app, rc.access().await?, project_id, page, filter).await?;
        Ok(Some(connection(
            page,
            total_count,
            has_next,
            rows.into_iter().map(|t| (t.id, Ticket::from(t))),
        )))
    }

    /// One ticket, if the caller may see its project.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn ticket(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Ticket>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::get_visible(rc.app.db.conn(), rc.access().await?, id)
                .await?
                .into(),
        ))
    }
}

/// A new ticket.
#[derive(Debug, InputObject)]
pub struct CreateTicketInput {
    /// The project.
    pub project_id: ID,
    /// Kind.
    pub kind: TicketKind,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
}

/// The price of a QUOTED decision.
#[derive(Debug, InputObject)]
pub struct QuoteInput {
    /// Amount in minor units (cents), positive.
    pub amount_minor: MinorUnits,
    /// ISO 4217 currency code, e.g. EUR.
    pub currency: String,
    /// What the price covers.
    pub description: Option<String>,
    /// Delivery delay in days.
    pub delay_days: Option<i32>,
}

/// Ticket mutations.
#[derive(Debug, Default)]
pub struct TicketMutation;

#[Object]
impl TicketMutation {
    /// Opens a ticket on a project the caller belongs to; it gets the next number (#1, #2, …).
    #[graphql(directive = requires::apply(Permission::TicketCreate))]
    async fn create_ticket(
        &self,
        ctx: &Context<'_>,
        input: CreateTicketInput,
    ) -> Result<Option<Ticket>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &input.project_id)?;
        let created = service::create(
            &rc.app,
            rc.access().await?,
            project_id,
            input.kind,
            &input.title,
            &input.description,
        )
        .await?;
        Ok(Some(created.into()))
    }

    /// Adds a comment to a ticket's thread. `internal` (staff-only) needs `note:private`.
    #[graphql(directive = requires::apply(Permission::TicketCreate))]
    async fn comment_ticket(
        &self,
        ctx: &Context<'_>,
        ticket_id: ID,
        body: String,
        #[graphql(default)] internal: bool,
    ) -> Result<Option<TicketComment>> {
        let rc = RequestContext::of(ctx)?;
        let ticket_id = parse_id("ticketId", &ticket_id)?;
        Ok(Some(
            super::thread::comment(&rc.app, rc.access().await?, ticket_id, &body, internal)
                .await?
                .into(),
        ))
    }

    /// Decides on a NEW ticket: TO_CLARIFY, REFUSED, ACCEPTED (it becomes a task) or QUOTED (with
    /// `quote`). `note` is added to the thread for the client.
    #[graphql(directive = requires::apply(Permission::TicketDecide))]
    async fn decide_ticket(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: TicketStatus,
        quote: Option<QuoteInput>,
        note: Option<String>,
    ) -> Result<Option<Ticket>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let quote = quote
            .map(|q| {
                Ok::<_, crate::ApiError>(QuoteTerms {
                    price: Money::parse(q.amount_minor.0, &q.currency)?,
                    description: q.description,
                    delay_days: q.delay_days,
                })
            })
            .transpose()?;
        Ok(Some(
            service::decide(
                &rc.app,
                rc.access().await?,
                id,
                status,
                quote,
                note.as_deref(),
            )
            .await?
            .into(),
        ))
    }

    /// Accepts (then AWAITING_PAYMENT) or declines a quoted ticket.
    #[graphql(directive = requires::apply(Permission::TicketCreate))]
    async fn answer_quote(
        &self,
        ctx: &Context<'_>,
        id: ID,
        accept: bool,
    ) -> Result<Option<Ticket>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::answer_quote(&rc.app, rc.access().await?, id, accept)
                .await?
                .into(),
        ))
    }
}
