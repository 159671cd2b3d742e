//! Reading the emails a test's server sent: the `.eml` folder of the embedded default, or the
//! SMTP sink, parsed with `mail-parser` (bodies arrive quoted-printable or base64), and the
//! secret an account email's link carries.

use crate::helpers::TestApp;
use crate::smtp::Received;
use mail_parser::MessageParser;

/// One email, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `<uuid-v7@…>`: sorts by sending order.
    pub message_id: String,
}

impl Mail {
    pub fn parse(raw: &[u8]) -> Mail {
        let message = MessageParser::default().parse(raw).expect("an email");
        let to = message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned();
        Mail {
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
            message_id: message.message_id().unwrap_or_default().to_owned(),
        }
    }

    /// The secret after `#code=` or `#token=` in the link.
    pub fn secret(&self) -> String {
        let at = self
            .text
            .find("#code=")
            .or_else(|| self.text.find("#token="))
            .unwrap_or_else(|| panic!("no link with a secret in: {}", self.text));
        let rest = &self.text[at..];
        let start = rest.find('=').unwrap() + 1;
        rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    }
}

impl From<&Received> for Mail {
    fn from(received: &Received) -> Mail {
        Mail::parse(received.data.as_bytes())
    }
}

impl TestApp {
    /// Sends the account emails that are due, now.
    pub async fn send_account_emails(&self) -> u64 {
        let base = self.state.config.base_url();
        let sender = portico::app::identity_jobs::sender(&self.state, &base);
        portico::identity::account_mail::send_due(sender, chrono::Utc::now())
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap()
    }

    /// Every email written to the mail folder (no `SMTP_URL`), oldest first.
    pub fn mail_folder(&self) -> Vec<Mail> {
        let config = &self.state.config;
        let dir = config
            .mail
            .mail_dir
            .clone()
            .unwrap_or_else(|| config.data_dir.join("mail"));
        let mut mails: Vec<Mail> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .map(|e| Mail::parse(&std::fs::read(e.path()).unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        mails.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        mails
    }

    /// Sends what is due and answers the newest email to `to` in the mail folder.
    pub async fn last_mail_to(&self, to: &str) -> Mail {
        self.send_account_emails().await;
        self.mail_folder()
            .into_iter()
            .rev()
            .find(|m| m.to.eq_ignore_ascii_case(to))
            .unwrap_or_else(|| panic!("no email to {to}"))
    }
}
