//! Outbound webhook settings: whether endpoints may sit on inside addresses, the timeout of one
//! attempt, when a failing endpoint is turned off, and how often the job posts.

use serde::{Deserialize, Serialize};

/// Webhook delivery, flattened into [`Config`](super::Config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// Whether webhooks may target loopback, private and link-local addresses; unset means only
    /// in the embedded default.
    pub webhook_allow_private_targets: Option<bool>,
    /// Timeout of one webhook delivery attempt.
    pub webhook_timeout_secs: u64,
    /// Failed attempts in a row that turn a webhook endpoint off.
    pub webhook_disable_after_failures: u32,
    /// How often the webhook job posts what is due.
    pub webhook_deliver_interval_secs: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            webhook_allow_private_targets: None,
            webhook_timeout_secs: 10,
            webhook_disable_after_failures: 20,
            webhook_deliver_interval_secs: 5,
        }
    }
}
