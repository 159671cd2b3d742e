//! Observability settings: the audit log's refusal cap and retention, where `/metrics` is
//! served, and where traces go.

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
    /// Whole months of audit events kept besides the current one; older months are archived to
    /// object storage (JSONL with their chain heads) and removed. 0 keeps everything.
    pub audit_retention_months: u32,
    /// Bearer token that `/metrics` requires on the API's address. Unset: the API's address
    /// serves no `/metrics`.
    pub metrics_token: Option<Secret>,
    /// A separate listen address serving only `/metrics` (keep it off the public network).
    pub metrics_addr: Option<SocketAddr>,
    /// An OTLP/HTTP collector's base URL (`http://collector:4318`): traces are exported there.
    /// Unset: no traces.
    pub otel_exporter_otlp_endpoint: Option<String>,
    /// The `service.name` traces carry.
    pub otel_service_name: String,
}

impl Default for ObservabilityConfig {
    fn default() -> Self {
        Self {
            audit_refusals_per_minute: 30,
            audit_retention_months: 0,
            metrics_token: None,
            metrics_addr: None,
            otel_exporter_otlp_endpoint: None,
            otel_service_name: "portico".to_owned(),
        }
    }
}
