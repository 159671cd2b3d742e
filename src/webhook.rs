//! Outbound webhooks for partners: a workspace's admins save endpoints (URL, event kinds, a
//! signing secret); an outbox consumer queues one delivery per endpoint and event; a job posts
//! them signed (HMAC-SHA256 over timestamp and raw body, one header), with bodies built under the
//! endpoint creator's view, retried for about three days, logged, replayable. Targets on
//! loopback, private and link-local addresses are refused, after DNS resolution too.

pub mod delivery;
pub mod endpoints;
pub mod fanout;
mod resolvers;
pub mod signing;
pub mod target;
mod types;
pub mod view;

pub use resolvers::{WebhookMutation, WebhookQuery};

use crate::auth::sealing::SecretBox;
use crate::db::Db;
use std::time::Duration;

/// How deliveries are made.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Whether loopback, private and link-local targets are allowed.
    pub allow_private: bool,
    /// Per attempt.
    pub timeout: Duration,
    /// Failed attempts in a row that turn an endpoint off.
    pub disable_after: i32,
}

/// The webhook domain's handles.
#[derive(Debug)]
pub struct Webhooks {
    pub db: Db,
    /// Seals the endpoints' signing secrets (a key of its own).
    pub sealing: SecretBox,
    pub settings: Settings,
}
