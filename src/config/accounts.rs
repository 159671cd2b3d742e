//! Account email settings: how long an emailed reset link and an address check last, and how
//! many such emails one address may be sent per brute-force window.

use serde::{Deserialize, Serialize};

/// Account emails, flattened into [`Config`](super::Config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountsConfig {
    /// Lifetime of an emailed password-reset link.
    pub password_reset_ttl_secs: u64,
    /// Lifetime of an emailed address check (verification, email change).
    pub email_token_ttl_secs: u64,
    /// Account emails (resets, checks) one address may be sent per brute-force window.
    pub account_emails_per_address: u64,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            password_reset_ttl_secs: 3600,
            email_token_ttl_secs: 48 * 3600,
            account_emails_per_address: 5,
        }
    }
}
