//! Audit log settings: how many refusals per principal and minute are recorded.

use serde::{Deserialize, Serialize};

/// The audit log, flattened into [`Config`](super::Config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditConfig {
    /// Refusals (denied or failed operations) recorded per principal and minute; the rest are
    /// only logged, so a prober cannot flood the audit log.
    pub audit_refusals_per_minute: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            audit_refusals_per_minute: 30,
        }
    }
}
