//! The identity domain's periodic job, bound to the container here: sending the account email
//! queue (invitations, password resets, address checks).

use super::AppState;
use crate::identity::account_mail::{self, Sender};
use async_trait::async_trait;
use chrono::Utc;
use std::time::Duration;

/// Sends the account emails that are due.
#[derive(Debug)]
pub struct SendAccountEmails;

#[async_trait]
impl crate::jobs::Job for SendAccountEmails {
    fn name(&self) -> &'static str {
        "identity.send_email"
    }

    fn every(&self, app: &AppState) -> Duration {
        Duration::from_secs(app.config.mail.mail_send_interval_secs)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        account_mail::send_due(sender(app, &app.config.base_url()), Utc::now())
            .await
            .map_err(crate::error::ApiError::into_anyhow)
    }
}

/// The account email sender of `app`.
pub fn sender<'a>(app: &'a AppState, base_url: &'a str) -> Sender<'a> {
    Sender {
        db: &app.db,
        mailer: &app.mailer,
        sealing: &app.account_mail,
        base_url,
        max_attempts: app.config.mail.mail_max_attempts,
    }
}
