//! Outgoing email: SMTP through `lettre` (pooled connections, rustls on the process's ring
//! provider) in production; in the embedded default every email is written as an `.eml` file
//! under `data_dir/mail` and logged, so invitations and resets are readable without a mail
//! server. Callers build an [`Outgoing`] and learn whether a failure is worth retrying.

use crate::config::MailConfig;
use anyhow::Context;
use lettre::message::header::{self, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One email to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: String,
    /// The recipient's display name.
    pub to_name: Option<String>,
    /// Shown as the sender's name (a workspace's), with `MAIL_FROM`'s address.
    pub from_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A one-click unsubscribe URL (`List-Unsubscribe` with `List-Unsubscribe-Post`).
    pub unsubscribe: Option<String>,
}

/// Why an email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (server down, 4xx, timeout).
    #[error("temporary mail failure: {0:#}")]
    Transient(anyhow::Error),
    /// Never going to work (an address refused with 5xx, a message that cannot be built).
    #[error("permanent mail failure: {0:#}")]
    Permanent(anyhow::Error),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// The mail transport and the sender's address.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// Emails sent and failed since start (exported by `/metrics`).
    sent: std::sync::atomic::AtomicU64,
    failed: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.transport {
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::Folder(_, dir) => dir.display().to_string(),
        };
        f.debug_struct("Mailer")
            .field("transport", &kind)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// SMTP when `SMTP_URL` is set, otherwise the folder (`MAIL_DIR`, or `data_dir/mail`).
    pub fn from_config(config: &MailConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let from: Mailbox = config.mail_from.parse().context("parsing MAIL_FROM")?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("parsing SMTP_URL")?
                    .timeout(Some(Duration::from_secs(config.smtp_timeout_secs)))
                    .pool_config(PoolConfig::new().max_size(config.smtp_pool_size))
                    .build(),
            ),
            None => {
                let dir = config
                    .mail_dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("mail"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating the mail folder {}", dir.display()))?;
                Transport::Folder(AsyncFileTransport::new(&dir), dir)
            }
        };
        Ok(Self {
            transport,
            from,
            sent: std::sync::atomic::AtomicU64::new(0),
            failed: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Sends one email; answers the server's or the file's identifier.
    pub async fn send(&self, mail: &Outgoing) -> Result<String, SendError> {
        let result = self.deliver(mail).await;
        let counter = if result.is_ok() {
            &self.sent
        } else {
            &self.failed
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        result
    }

    /// Checks the SMTP server answers (a `NOOP` on a pooled connection); `None` when mail goes
    /// to a folder.
    pub async fn ping(&self) -> Option<anyhow::Result<()>> {
        match &self.transport {
            Transport::Smtp(smtp) => Some(match smtp.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err(anyhow::anyhow!("the SMTP server did not answer NOOP")),
                Err(err) => Err(err.into()),
            }),
            Transport::Folder(..) => None,
        }
    }

    /// Emails sent and failed since start.
    pub fn counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.sent.load(Relaxed), self.failed.load(Relaxed))
    }

    async fn deliver(&self, mail: &Outgoing) -> Result<String, SendError> {
        let message = self.build(mail).map_err(SendError::Permanent)?;
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(response) => Ok(response
                    .message()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect()),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(e.into())),
                Err(e) => Err(SendError::Transient(e.into())),
            },
            Transport::Folder(folder, dir) => {
                let id = folder
                    .send(message)
                    .await
                    .map_err(|e| SendError::Transient(e.into()))?;
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    file = %dir.join(format!("{id}.eml")).display(),
                    "email written (no SMTP_URL)"
                );
                Ok(id)
            }
        }
    }

    fn build(&self, mail: &Outgoing) -> anyhow::Result<Message> {
        let to = Mailbox::new(
            mail.to_name.clone(),
            mail.to.parse().context("parsing the recipient")?,
        );
        let from = Mailbox::new(
            mail.from_name.clone().or_else(|| self.from.name.clone()),
            self.from.email.clone(),
        );
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::now_v7(),
                self.from.email.domain()
            )));
        if let Some(url) = &mail.unsubscribe {
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .context("building the email")
    }
}

/// How long a failed email waits before its next try: 30 s after the first failure, doubling, at
/// most 6 h.
pub fn retry_delay(attempts: i32) -> chrono::Duration {
    let doubled = 30_i64 << (attempts.clamp(1, 16) - 1);
    chrono::Duration::seconds(doubled.min(6 * 3600))
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl header::Header for ListUnsubscribePost {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// Compares a rendered email with its committed snapshot under `templates/mail/snapshots/`;
/// `UPDATE_SNAPSHOTS=1` writes it instead (review the diff, then commit it).
#[cfg(test)]
pub(crate) fn assert_snapshot(name: &str, rendered: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("templates/mail/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, rendered).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot {name}: run with UPDATE_SNAPSHOTS=1"));
    assert_eq!(
        rendered, expected,
        "{name} changed: UPDATE_SNAPSHOTS=1 rewrites it"
    );
}

#[cfg(test)]
mod retry_tests {
    #[test]
    fn retries_wait_thirty_seconds_doubling_up_to_six_hours() {
        let secs: Vec<i64> = (1..=12)
            .map(|a| super::retry_delay(a).num_seconds())
            .collect();
        assert_eq!(&secs[..4], &[30, 60, 120, 240]);
        assert_eq!(secs[11], 6 * 3600);
    }
}
