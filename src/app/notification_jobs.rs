//! The notification domain's periodic job, bound to the container here so the domain itself never
//! reaches for it: sending the email queue.

use super::AppState;
use crate::notification::{Notify, mailing};
use async_trait::async_trait;
use chrono::Utc;
use std::time::Duration;

/// Sends the emails that are due.
#[derive(Debug)]
pub struct SendEmails;

#[async_trait]
impl crate::jobs::Job for SendEmails {
    fn name(&self) -> &'static str {
        "notification.send_email"
    }

    fn every(&self, app: &AppState) -> Duration {
        Duration::from_secs(app.config.mail.mail_send_interval_secs)
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        let base_url = app.config.base_url();
        let notify = Notify {
            db: &app.db,
            mailer: &app.mailer,
            presence: &app.presence,
            links: &app.links,
            config: &app.config.mail,
            base_url: &base_url,
        };
        mailing::send_due(notify, Utc::now())
            .await
            .map_err(crate::error::ApiError::into_anyhow)
    }
}
