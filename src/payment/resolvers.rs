//! Payment queries and mutations. Thin: parse arguments, call the service, map the result.

use super::closing;
use super::service::{self, NewPaymentRequest};
use super::types::{CheckoutSession, PaymentKind, PaymentRequest, PaymentStatus, ProjectBalance};
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::pagination::{ConnectionFields, Page, connection};
use crate::rbac::Permission;
use crate::types::{MinorUnits, Money, parse_id};
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::NaiveDate;

/// Payment queries.
#[derive(Debug, Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// A project's payment requests, oldest first.
    #[graphql(directive = requires::apply(Permission::PaymentRead))]
    async fn payment_requests(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last request of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only this status.")] status: Option<PaymentStatus>,
    ) -> Result<Option<Connection<String, PaymentRequest, ConnectionFields>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        let page = Page::new(first, after.as_deref())?;
        let (rows, total_count, has_next) =
            service::list(&rc.app, rc.access().await?, project_id, page, status).await?;
        Ok(Some(connection(
            page,
            total_count,
            has_next,
            rows.into_iter().map(|p| (p.id, PaymentRequest::from(p))),
        )))
    }

    /// One payment request, if the caller may see its project.
    #[graphql(directive = requires::apply(Permission::PaymentRead))]
    async fn payment_request(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PaymentRequest>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            service::get_visible(rc.app.db.conn(), rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// What a project's client was asked to pay, has paid, and has left to pay, per currency.
    #[graphql(directive = requires::apply(Permission::PaymentRead))]
    async fn project_balance(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<Option<Vec<ProjectBalance>>> {
        let rc = RequestContext::of(ctx)?;
        let project_id = parse_id("projectId", &project_id)?;
        Ok(Some(
            super::balance::balance(&rc.app, rc.access().await?, project_id).await?,
        ))
    }
}

/// A new payment request.
#[derive(Debug, InputObject)]
pub struct CreatePaymentRequestInput {
    /// The project.
    pub project_id: ID,
    /// DEPOSIT, MILESTONE or BALANCE (TICKET requests come from accepted quotes).
    pub kind: PaymentKind,
    /// Title, shown on the checkout page (1 to 200 characters).
    pub title: String,
    /// Details.
    pub description: Option<String>,
    /// Amount in minor units (cents), positive.
    pub amount_minor: MinorUnits,
    /// ISO 4217 currency code, e.g. EUR.
    pub currency: String,
    /// Unpaid after this date, the request expires.
    pub due_date: Option<NaiveDate>,
    /// A milestone of the same project it pays for.
    pub milestone_id: Option<ID>,
}

/// Payment mutations.
#[derive(Debug, Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
    /// Asks a project's client for money.
    #[graphql(directive = requires::apply(Permission::PaymentManage))]
    async fn create_payment_request(
        &self,
        ctx: &Context<'_>,
        input: CreatePaymentRequestInput,
    ) -> Result<Option<PaymentRequest>> {
        let rc = RequestContext::of(ctx)?;
        let new = NewPaymentRequest {
            project_id: parse_id("projectId", &input.project_id)?,
            kind: input.kind,
            title: input.title,
            description: input.description,
            amount: Money::parse(input.amount_minor.0, &input.currency)?,
            due_date: input.due_date,
            milestone_id: input
                .milestone_id
                .as_ref()
                .map(|id| parse_id("milestoneId", id))
                .transpose()?,
        };
        let created = service::create(&rc.app, rc.access().await?, new).await?;
        Ok(Some(created.into()))
    }

    /// Cancels a PENDING payment request.
    #[graphql(directive = requires::apply(Permission::PaymentManage))]
    async fn cancel_payment_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<PaymentRequest>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Some(
            closing::cancel(&rc.app, rc.access().await?, id)
                .await?
                .into(),
        ))
    }

    /// Opens the checkout of a PENDING request (a client of its project). Asked again while the
    /// session is open, it answers the same one. The request becomes PAID only when Stripe
    /// confirms the payment, never because the browser came back.
    #[graphql(directive = requires::apply(Permission::PaymentPay))]
    async fn pay_payment_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<CheckoutSession>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let checkout = service::pay(&rc.app, rc.access().await?, id).await?;
        Ok(Some(CheckoutSession {
            url: checkout.url,
            expires_at: checkout.expires_at,
            test_mode: checkout.test_mode,
        }))
    }
}
