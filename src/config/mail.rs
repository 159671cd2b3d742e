//! Mail settings: the SMTP server in production, the folder the embedded default writes `.eml`
//! files to, the sender, and how notifications are delivered.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::Secret;

/// Outgoing mail, flattened into [`Config`](super::Config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…:465` (TLS) or
    /// `smtp://host:25` (plain, for a local relay). Unset: mail is written to `mail_dir`.
    pub smtp_url: Option<Secret>,
    /// Folder of the `.eml` files when no SMTP server is set (default: `data_dir/mail`).
    pub mail_dir: Option<PathBuf>,
    /// The sender: `Name <address>`.
    pub mail_from: String,
    /// Seconds an SMTP command may take.
    pub smtp_timeout_secs: u64,
    /// Connections kept open to the SMTP server.
    pub smtp_pool_size: u32,
    /// How often the mail job sends what is queued.
    pub mail_send_interval_secs: u64,
    /// Failed attempts after which an email is given up (dead-lettered).
    pub mail_max_attempts: i32,
    /// How long after their last request (or while a websocket is open) a person counts as
    /// active in the portal, so "when not active" emails are skipped; 0: never active.
    pub notify_active_secs: u64,
    /// How long the emails of new messages and uploads wait for others of the same person, kind
    /// and project to go with them as one; 0: each goes alone.
    pub notify_group_secs: u64,
    /// The hour (UTC, 0 to 23) daily digests go.
    pub notify_digest_hour: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_dir: None,
            mail_from: "Portico <no-reply@portico.localhost>".to_owned(),
            smtp_timeout_secs: 10,
            smtp_pool_size: 4,
            mail_send_interval_secs: 2,
            mail_max_attempts: 12,
            notify_active_secs: 300,
            notify_group_secs: 300,
            notify_digest_hour: 8,
        }
    }
}

impl MailConfig {
    /// Checks what types cannot say.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            anyhow::bail!("MAIL_FROM is `Name <address>` or an address");
        }
        if self.notify_digest_hour > 23 {
            anyhow::bail!("NOTIFY_DIGEST_HOUR is an hour of the day, 0 to 23");
        }
        if self.smtp_timeout_secs == 0 || self.mail_send_interval_secs == 0 {
            anyhow::bail!("SMTP_TIMEOUT_SECS and MAIL_SEND_INTERVAL_SECS are positive");
        }
        if self.smtp_pool_size == 0 || self.mail_max_attempts < 1 {
            anyhow::bail!("SMTP_POOL_SIZE and MAIL_MAX_ATTEMPTS are at least 1");
        }
        Ok(())
    }
}
