//! The one place that knows async-stripe: opening Checkout sessions and reading verified webhook
//! events. Everything else speaks the domain types below.

use super::events::{CheckoutFacts, EventBody, Incoming, RefundFacts};
use crate::config::{Config, Mode, Secret};
use crate::error::{ApiError, ApiResult};
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// What a Checkout session is opened with.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub request_id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub customer_email: String,
    /// Stable for one attempt: asking twice (or concurrently) opens one session.
    pub idempotency_key: String,
    pub success_url: String,
    pub cancel_url: String,
    pub expires_at: DateTime<Utc>,
}

/// An opened Checkout session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedCheckout {
    pub session_id: String,
    pub url: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// How payments are taken on this instance.
#[derive(Debug)]
pub enum Gateway {
    /// Stripe (or a stand-in of its API at a configured base URL).
    Stripe(Box<StripeApi>),
    /// The embedded default without Stripe: a clearly labelled local test checkout page, which
    /// completes payments through the same code path as a webhook.
    LocalTest { base_url: String },
    /// Production without Stripe: payment mutations answer a clear error.
    Disabled,
}

/// The Stripe client.
pub struct StripeApi {
    client: stripe::Client,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeApi")
    }
}

impl Gateway {
    /// Stripe when `STRIPE_SECRET_KEY` is set; otherwise the local test page in the embedded
    /// default, and nothing in production.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        match &config.stripe_secret_key {
            Some(key) => Ok(Self::Stripe(Box::new(StripeApi::new(
                key,
                config.stripe_api_base.as_deref(),
            )?))),
            None if config.mode() == Mode::Embedded => Ok(Self::LocalTest {
                base_url: config.base_url(),
            }),
            None => Ok(Self::Disabled),
        }
    }

    /// Whether this is the embedded default's local test checkout.
    pub fn is_local_test(&self) -> bool {
        matches!(self, Self::LocalTest { .. })
    }

    /// Opens a Checkout session for `request`.
    pub async fn open_checkout(&self, request: &CheckoutRequest) -> ApiResult<OpenedCheckout> {
        match self {
            Self::Stripe(api) => api.open_checkout(request).await,
            Self::LocalTest { base_url } => {
                let session_id = format!("local_cs_{}", Uuid::new_v4().simple());
                Ok(OpenedCheckout {
                    url: format!(
                        "{}/dev/checkout/{session_id}",
                        base_url.trim_end_matches('/')
                    ),
                    session_id,
                    expires_at: Some(request.expires_at),
                })
            }
            Self::Disabled => Err(ApiError::BadUserInput {
                message: "online payment is not configured on this server (STRIPE_SECRET_KEY)"
                    .to_owned(),
                field: None,
            }),
        }
    }
}

/// What became of a request to expire a Checkout session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The session is closed now.
    Expired,
    /// Stripe refused: the session was no longer open (completed, or already expired).
    NotOpen,
    /// Nothing to ask: this instance takes no Stripe payments (a local test checkout simply
    /// stops accepting once its request is no longer pending).
    NotStripe,
}

impl Gateway {
    /// Expires the Checkout session `session_id`, so the client can no longer pay through it.
    /// A transport or server failure is an error, for the caller to try again.
    pub async fn expire_checkout(&self, session_id: &str) -> anyhow::Result<Expiry> {
        match self {
            Self::Stripe(api) => api.expire_checkout(session_id).await,
            Self::LocalTest { .. } | Self::Disabled => Ok(Expiry::NotStripe),
        }
    }
}

impl StripeApi {
    async fn expire_checkout(&self, session_id: &str) -> anyhow::Result<Expiry> {
        use stripe_checkout::checkout_session::ExpireCheckoutSession;
        match ExpireCheckoutSession::new(session_id)
            .send(&self.client)
            .await
        {
            Ok(_) => Ok(Expiry::Expired),
            // 400: "only sessions with status open can be expired"; 404: unknown to Stripe.
            Err(stripe::StripeError::Stripe(api, status)) if status == 400 || status == 404 => {
                tracing::info!(session = session_id, status, message = ?api.message, "checkout session not open any more");
                Ok(Expiry::NotOpen)
            }
            Err(err) => Err(anyhow::anyhow!(
                "expiring Stripe checkout {session_id}: {err:?}"
            )),
        }
    }

    fn new(secret: &Secret, base_url: Option<&str>) -> anyhow::Result<Self> {
        let mut builder =
            stripe::ClientBuilder::new(secret.expose()).timeout(Duration::from_secs(15));
        if let Some(base) = base_url {
            builder = builder.url(base.trim_end_matches('/'));
        }
        Ok(Self {
            client: builder.build().context("building the Stripe client")?,
        })
    }

    async fn open_checkout(&self, request: &CheckoutRequest) -> ApiResult<OpenedCheckout> {
        use stripe::StripeRequest;
        use stripe_checkout::checkout_session::{
            CreateCheckoutSession, CreateCheckoutSessionLineItems,
            CreateCheckoutSessionLineItemsPriceData, CreateCheckoutSessionPaymentIntentData,
            ProductData,
        };
        let currency =
            stripe_types::Currency::from_str(&request.currency.to_lowercase()).map_err(|_| {
                ApiError::bad_field(
                    "currency",
                    format!("Stripe does not accept {}", request.currency),
                )
            })?;
        let metadata = metadata(request);
        let mut product = ProductData::new(request.title.clone());
        product.description = request.description.clone().filter(|d| !d.is_empty());
        let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency);
        price.unit_amount = Some(request.amount_minor);
        price.product_data = Some(product);
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price_data = Some(price);
        item.quantity = Some(1);
        let mut intent = CreateCheckoutSessionPaymentIntentData::new();
        intent.metadata = Some(metadata.clone());
        let key = stripe::IdempotencyKey::new(&request.idempotency_key)
            .map_err(|err| ApiError::internal(anyhow::anyhow!("idempotency key: {err}")))?;
        let session = CreateCheckoutSession::new()
            .mode(stripe_shared::CheckoutSessionMode::Payment)
            .line_items(vec![item])
            .customer_email(request.customer_email.clone())
            .client_reference_id(request.request_id.to_string())
            .metadata(metadata)
            .payment_intent_data(intent)
            .success_url(request.success_url.clone())
            .cancel_url(request.cancel_url.clone())
            .expires_at(request.expires_at.timestamp())
            .customize()
            .request_strategy(stripe::RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await
            .map_err(stripe_error)?;
        let url = session.url.ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("Stripe returned a session without a URL"))
        })?;
        Ok(OpenedCheckout {
            session_id: session.id.as_str().to_owned(),
            url,
            expires_at: DateTime::from_timestamp(session.expires_at, 0),
        })
    }
}

fn metadata(request: &CheckoutRequest) -> HashMap<String, String> {
    HashMap::from([
        (
            "payment_request_id".to_owned(),
            request.request_id.to_string(),
        ),
        ("workspace_id".to_owned(), request.workspace_id.to_string()),
        ("project_id".to_owned(), request.project_id.to_string()),
    ])
}

/// Stripe's refusals of the request itself (an idempotency key reused with other parameters,
/// an invalid amount) are CONFLICT or BAD_USER_INPUT; authentication, transport and server
/// failures are logged and answered INTERNAL.
fn stripe_error(err: stripe::StripeError) -> ApiError {
    match err {
        stripe::StripeError::Stripe(ref api, status) if status == 409 || is_idempotency(api) => {
            tracing::warn!(error = ?err, "Stripe refused the checkout: idempotency conflict");
            ApiError::conflict("a checkout is already being opened for this request; try again")
        }
        // 400 and 402 are about the payment itself; 401, 403 and the rest are this server's
        // configuration (a wrong key), which the caller must not see.
        stripe::StripeError::Stripe(ref api, status) if status == 400 || status == 402 => {
            tracing::warn!(error = ?err, "Stripe refused the checkout");
            ApiError::bad_input(format!(
                "the payment provider refused this payment: {}",
                api.message.as_deref().unwrap_or("invalid request")
            ))
        }
        other => ApiError::internal(anyhow::anyhow!("opening a Stripe checkout: {other:?}")),
    }
}

fn is_idempotency(api: &stripe_shared::ApiErrors) -> bool {
    api.type_.as_str() == "idempotency_error"
}

/// Why a webhook delivery was refused (answered 400, never acted on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRejection {
    #[error("missing Stripe-Signature header")]
    MissingSignature,
    #[error("signature does not match")]
    BadSignature,
    #[error("timestamp outside the 300 s tolerance")]
    StaleTimestamp,
    #[error("malformed event: {0}")]
    Malformed(String),
}

/// Verifies a delivery (HMAC-SHA256 over `t.payload` with the endpoint secret, timestamp within
/// 300 s) and reads the event. Unknown event types are read as [`EventBody::Other`].
pub fn verify_webhook(
    payload: &str,
    signature: Option<&str>,
    secret: &Secret,
) -> Result<Incoming, WebhookRejection> {
    use stripe_webhook::{EventObject, Webhook, WebhookError};
    let signature = signature.ok_or(WebhookRejection::MissingSignature)?;
    let event = match Webhook::construct_event(payload, signature, secret.expose()) {
        Ok(event) => event,
        Err(WebhookError::BadTimestamp(_)) => return Err(WebhookRejection::StaleTimestamp),
        Err(WebhookError::BadKey | WebhookError::BadHeader(_) | WebhookError::BadSignature) => {
            return Err(WebhookRejection::BadSignature);
        }
        // The signature held (it is checked first). An event Portico does not act on is
        // acknowledged even if its object has a shape this SDK does not know (another API
        // version): refusing it would only make Stripe retry it, then disable the endpoint.
        Err(WebhookError::BadParse(why)) => {
            return match serde_json::from_str::<Envelope>(payload) {
                Ok(envelope) if !HANDLED.contains(&envelope.kind.as_str()) => Ok(Incoming {
                    id: envelope.id,
                    kind: envelope.kind,
                    body: EventBody::Other,
                }),
                _ => Err(WebhookRejection::Malformed(why)),
            };
        }
    };
    let kind = event.type_.as_str().to_owned();
    let body = match event.data.object {
        EventObject::CheckoutSessionCompleted(s) => EventBody::CheckoutCompleted(facts(&s)),
        EventObject::CheckoutSessionAsyncPaymentSucceeded(s) => {
            EventBody::CheckoutCompleted(CheckoutFacts {
                paid: true,
                ..facts(&s)
            })
        }
        EventObject::CheckoutSessionAsyncPaymentFailed(s) => EventBody::PaymentFailed {
            request_id: facts(&s).request_id,
            payment_intent: facts(&s).payment_intent,
            message: "the delayed payment failed".to_owned(),
        },
        EventObject::CheckoutSessionExpired(s) => EventBody::CheckoutExpired(facts(&s)),
        EventObject::PaymentIntentPaymentFailed(intent) => EventBody::PaymentFailed {
            request_id: request_id(Some(&intent.metadata)),
            payment_intent: Some(intent.id.as_str().to_owned()),
            message: intent
                .last_payment_error
                .as_ref()
                .and_then(|e| e.message.clone())
                .unwrap_or_else(|| "the payment failed".to_owned()),
        },
        EventObject::ChargeRefunded(charge) => EventBody::ChargeRefunded(RefundFacts {
            payment_intent: charge
                .payment_intent
                .as_ref()
                .map(|p| p.id().as_str().to_owned()),
            amount_refunded_minor: charge.amount_refunded,
            currency: charge.currency.to_string().to_uppercase(),
            fully: charge.refunded,
        }),
        _ => EventBody::Other,
    };
    Ok(Incoming {
        id: event.id.as_str().to_owned(),
        kind,
        body,
    })
}

/// The event types Portico acts on.
const HANDLED: &[&str] = &[
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.payment_failed",
    "charge.refunded",
];

/// An event's id and type, read when its object is not one this SDK parses.
#[derive(serde::Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

fn facts(session: &stripe_shared::CheckoutSession) -> CheckoutFacts {
    use stripe_shared::CheckoutSessionPaymentStatus as Status;
    CheckoutFacts {
        session_id: session.id.as_str().to_owned(),
        request_id: request_id(session.metadata.as_ref()).or_else(|| {
            session
                .client_reference_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok())
        }),
        amount_total: session.amount_total,
        currency: session
            .currency
            .as_ref()
            .map(|c| c.to_string().to_uppercase()),
        paid: matches!(
            session.payment_status,
            Status::Paid | Status::NoPaymentRequired
        ),
        payment_intent: session
            .payment_intent
            .as_ref()
            .map(|p| p.id().as_str().to_owned()),
    }
}

fn request_id(metadata: Option<&HashMap<String, String>>) -> Option<Uuid> {
    metadata
        .and_then(|m| m.get("payment_request_id"))
        .and_then(|id| Uuid::parse_str(id).ok())
}
