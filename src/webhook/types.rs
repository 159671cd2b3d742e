//! GraphQL types of outbound webhooks, built from entity models.

use crate::graphql::RequestContext;
use crate::identity::User;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_endpoint};
use uuid::Uuid;

/// Where a workspace's events are posted.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct WebhookEndpoint {
    /// Endpoint ID.
    pub id: ID,
    /// Where deliveries are posted.
    pub url: String,
    /// The event kinds it receives (`TICKET_CREATED`, …).
    pub kinds: Vec<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether deliveries are posted; off when an admin turned it off or after repeated failures.
    pub enabled: bool,
    /// Why it is off.
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub created_by: Uuid,
}

impl From<webhook_endpoint::Model> for WebhookEndpoint {
    fn from(e: webhook_endpoint::Model) -> Self {
        Self {
            id: ID(e.id.to_string()),
            kinds: super::endpoints::kinds_of(&e),
            url: e.url,
            description: e.description,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            consecutive_failures: e.consecutive_failures,
            created_at: e.created_at,
            updated_at: e.updated_at,
            created_by: e.created_by,
        }
    }
}

#[ComplexObject]
impl WebhookEndpoint {
    /// Who saved it: payloads show what this person may see.
    async fn created_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(crate::identity::load_user(RequestContext::of(ctx)?, self.created_by).await?)
    }
}

/// A new endpoint and its signing secret, shown only this once.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookEndpointCreated {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// Verifies the `Portico-Signature` header of every delivery. Not shown again.
    pub secret: String,
}

/// A new endpoint.
#[derive(Debug, InputObject)]
pub struct CreateWebhookEndpointInput {
    /// An `http(s)` URL whose host resolves to public addresses only.
    pub url: String,
    /// The event kinds to receive.
    pub kinds: Vec<String>,
    /// What it is for.
    pub description: Option<String>,
}

/// Changes to an endpoint; omitted fields stay.
#[derive(Debug, InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// A new URL.
    pub url: Option<String>,
    /// A new list of event kinds.
    pub kinds: Option<Vec<String>>,
    /// A new description.
    pub description: Option<String>,
    /// Turn it off, or on again (which clears its failure count).
    pub enabled: Option<bool>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum WebhookDeliveryStatus {
    /// Not tried yet.
    Pending,
    /// Failed; tried again at `nextAttemptAt`.
    Retrying,
    /// Answered with a 2xx.
    Succeeded,
    /// Not sent: the endpoint is off, or its creator may no longer see the event.
    Skipped,
    /// Failed for about three days; replay it to try again.
    Dead,
}

impl WebhookDeliveryStatus {
    pub fn as_str(self) -> &'static str {
        use super::delivery::{DEAD, PENDING, RETRYING, SKIPPED, SUCCEEDED};
        match self {
            Self::Pending => PENDING,
            Self::Retrying => RETRYING,
            Self::Succeeded => SUCCEEDED,
            Self::Skipped => SKIPPED,
            Self::Dead => DEAD,
        }
    }

    fn parse(status: &str) -> Self {
        [
            Self::Pending,
            Self::Retrying,
            Self::Succeeded,
            Self::Skipped,
            Self::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == status)
        .unwrap_or(Self::Pending)
    }
}

/// One event posted (or to be posted) to one endpoint.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookDelivery {
    /// Delivery ID (the `Portico-Delivery` header).
    pub id: ID,
    /// The endpoint.
    pub endpoint_id: ID,
    /// The event (the body's `id`; a replay repeats it).
    pub event_id: ID,
    /// The event kind.
    pub kind: String,
    /// Where it stands.
    pub status: WebhookDeliveryStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// The last answer's HTTP status.
    pub response_status: Option<i32>,
    /// The last attempt's duration, in milliseconds.
    pub latency_ms: Option<i32>,
    /// Why the last attempt failed, or why it was skipped.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it succeeded.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it is tried next, while pending or retrying.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<webhook_delivery::Model> for WebhookDelivery {
    fn from(d: webhook_delivery::Model) -> Self {
        let status = WebhookDeliveryStatus::parse(&d.status);
        let waiting = matches!(
            status,
            WebhookDeliveryStatus::Pending | WebhookDeliveryStatus::Retrying
        );
        Self {
            id: ID(d.id.to_string()),
            endpoint_id: ID(d.endpoint_id.to_string()),
            event_id: ID(d.event_id.to_string()),
            kind: d.kind,
            status,
            attempts: d.attempts,
            response_status: d.response_status,
            latency_ms: d.latency_ms,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            next_attempt_at: waiting.then_some(d.available_at),
        }
    }
}
