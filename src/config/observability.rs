//! Observability settings: the audit log's refusal cap, and where `/metrics` is served.

use super::Secret;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The audit log and the metrics endpoint, flattened into [`Config`](super::Config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ObservabilityConfig {
    /// Refusals (denied or failed operations) recorded per principal and minute; the rest are
    /// only logged, so a prober cannot flood the audit log.
    pub audit_refusals_per_minute: u64,
    /// Bearer token that `/metrics` requires on the API's address. Unset: the API's address
    /// serves no `/metrics`.
    pub metrics_token: Option<Secret>,
    /// A separate listen address serving only `/metrics` (keep it off the public network).
    pub metrics_addr: Option<SocketAddr>,
}

impl Default for ObservabilityConfig {
    fn default() -> Self {
        Self {
            audit_refusals_per_minute: 30,
            metrics_token: None,
            metrics_addr: None,
        }
    }
}
