//! Webhook queries and mutations, for holders of `workspace:manage`. Thin: parse, call the
//! service, map.

use super::types::{
    CreateWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookDelivery, WebhookDeliveryStatus,
    WebhookEndpoint, WebhookEndpointCreated,
};
use super::{delivery, endpoints};
use crate::graphql::RequestContext;
use crate::graphql::directives::requires;
use crate::graphql::pagination::{ConnectionFields, Page, connection};
use crate::rbac::Permission;
use crate::types::parse_id;
use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, Result};

/// Webhook queries.
#[derive(Debug, Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The workspace's webhook endpoints, oldest first.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Option<Vec<WebhookEndpoint>>> {
        let rc = RequestContext::of(ctx)?;
        let rows = endpoints::list(&rc.app.webhooks, rc.access().await?).await?;
        Ok(Some(rows.into_iter().map(WebhookEndpoint::from).collect()))
    }

    /// The event kinds an endpoint may receive.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn webhook_event_kinds(&self) -> Option<Vec<String>> {
        Some(endpoints::KINDS.iter().map(|k| (*k).to_owned()).collect())
    }

    /// An endpoint's delivery log, newest first: status, attempts, answer and latency.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] endpoint_id: ID,
        #[graphql(desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "Cursor of the last delivery of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Only deliveries in this status.")] status: Option<WebhookDeliveryStatus>,
    ) -> Result<Option<Connection<String, WebhookDelivery, ConnectionFields>>> {
        let rc = RequestContext::of(ctx)?;
        let endpoint_id = parse_id("endpointId", &endpoint_id)?;
        let page = Page::new(first, after.as_deref())?;
        let status = status.map(WebhookDeliveryStatus::as_str);
        let (rows, total, has_next) = delivery::list(
            &rc.app.webhooks,
            rc.access().await?,
            endpoint_id,
            status,
            page,
        )
        .await?;
        Ok(Some(connection(
            page,
            total,
            has_next,
            rows.into_iter().map(|d| (d.id, WebhookDelivery::from(d))),
        )))
    }
}

/// Webhook mutations.
#[derive(Debug, Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Saves an endpoint. The signing secret is returned once, here.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<Option<WebhookEndpointCreated>> {
        let rc = RequestContext::of(ctx)?;
        let (endpoint, secret) = endpoints::create(
            &rc.app.webhooks,
            rc.access().await?,
            &input.url,
            &input.kinds,
            input.description,
        )
        .await?;
        Ok(Some(WebhookEndpointCreated {
            endpoint: endpoint.into(),
            secret,
        }))
    }

    /// Changes an endpoint: its URL, kinds, description, or whether it is on.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookEndpointInput,
    ) -> Result<Option<WebhookEndpoint>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let changes = endpoints::Changes {
            url: input.url,
            kinds: input.kinds,
            description: input.description.map(Some),
            enabled: input.enabled,
        };
        let saved = endpoints::update(&rc.app.webhooks, rc.access().await?, id, changes).await?;
        Ok(Some(saved.into()))
    }

    /// Deletes an endpoint and its delivery log.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<Option<bool>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        endpoints::delete(&rc.app.webhooks, rc.access().await?, id).await?;
        Ok(Some(true))
    }

    /// Queues a delivery's event again, as a new delivery of the same event (same body `id`).
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn replay_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<WebhookDelivery>> {
        let rc = RequestContext::of(ctx)?;
        let id = parse_id("id", &id)?;
        let queued = delivery::replay(&rc.app.webhooks, rc.access().await?, id).await?;
        Ok(Some(queued.into()))
    }

    /// Posts a `WEBHOOK_TEST` event to an endpoint now and answers how it went.
    #[graphql(directive = requires::apply(Permission::WorkspaceManage))]
    async fn send_test_webhook_event(
        &self,
        ctx: &Context<'_>,
        endpoint_id: ID,
    ) -> Result<Option<WebhookDelivery>> {
        let rc = RequestContext::of(ctx)?;
        let endpoint_id = parse_id("endpointId", &endpoint_id)?;
        let sent = delivery::send_test(&rc.app.webhooks, rc.access().await?, endpoint_id).await?;
        Ok(Some(sent.into()))
    }
}
