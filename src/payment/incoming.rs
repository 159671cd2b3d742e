//! A payment event in Portico's terms, whoever reports it (a verified Stripe webhook or the
//! local test checkout), and what applying it did.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One event to apply.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Stripe's event id (`evt_…`), or `local_evt_…`.
    pub id: String,
    /// Stripe's event type, e.g. `checkout.session.completed`.
    pub kind: String,
    pub body: EventBody,
}

/// What an event says, in Portico's terms.
#[derive(Debug, Clone)]
pub enum EventBody {
    /// A checkout session completed (paid, or awaiting a delayed payment method).
    CheckoutCompleted(CheckoutFacts),
    /// A checkout session expired unpaid.
    CheckoutExpired(CheckoutFacts),
    /// A payment attempt failed.
    PaymentFailed {
        request_id: Option<Uuid>,
        payment_intent: Option<String>,
        message: String,
    },
    /// A charge was refunded, in full or in part.
    ChargeRefunded(RefundFacts),
    /// Any other event type: recorded and ignored.
    Other,
}

/// What a checkout session event tells.
#[derive(Debug, Clone)]
pub struct CheckoutFacts {
    pub session_id: String,
    /// From the session's metadata (or its client reference).
    pub request_id: Option<Uuid>,
    pub amount_total: Option<i64>,
    /// Upper case.
    pub currency: Option<String>,
    /// The money is collected (`payment_status` paid or no payment required).
    pub paid: bool,
    pub payment_intent: Option<String>,
}

/// What a refund event tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundFacts {
    pub payment_intent: Option<String>,
    /// Refunded so far on the charge.
    pub amount_refunded_minor: i64,
    /// Upper case.
    pub currency: String,
    /// Refunded in full.
    pub fully: bool,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It changed a payment request.
    Applied,
    /// This event id was handled before: nothing done.
    Duplicate,
    /// An event type Portico does not act on.
    Ignored,
    /// No payment request matches (yet): a refund is kept and applied when its payment lands.
    Unmatched,
    /// The request is already further along (out-of-order delivery): nothing regresses.
    Stale,
    /// The amount or currency differs from the request: nothing marked paid (logged as an error).
    Mismatch,
    /// A completed checkout whose payment method settles later.
    AwaitingPayment,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Unmatched => "unmatched",
            Self::Stale => "stale",
            Self::Mismatch => "mismatch",
            Self::AwaitingPayment => "awaiting_payment",
        }
    }
}

impl EventBody {
    /// The Stripe object the event is about, stored with the event id.
    pub(super) fn object_ref(&self) -> Option<String> {
        match self {
            Self::CheckoutCompleted(f) | Self::CheckoutExpired(f) => Some(f.session_id.clone()),
            Self::PaymentFailed { payment_intent, .. } => payment_intent.clone(),
            Self::ChargeRefunded(r) => r.payment_intent.clone(),
            Self::Other => None,
        }
    }
}
