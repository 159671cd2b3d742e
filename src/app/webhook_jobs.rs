//! The webhook domain's periodic job, bound to the container here: posting the deliveries that
//! are due.

use super::AppState;
use async_trait::async_trait;
use chrono::Utc;
use std::time::Duration;

/// Posts the webhook deliveries that are due.
#[derive(Debug)]
pub struct DeliverWebhooks;

#[async_trait]
impl crate::jobs::Job for DeliverWebhooks {
    fn name(&self) -> &'static str {
        "webhook.deliver"
    }

    fn every(&self, app: &AppState) -> Duration {
        Duration::from_secs(app.config.webhooks.webhook_deliver_interval_secs.max(1))
    }

    async fn run(&self, app: &AppState) -> anyhow::Result<u64> {
        crate::webhook::delivery::deliver_due(&app.webhooks, Utc::now(), self.every(app))
            .await
            .map_err(crate::error::ApiError::into_anyhow)
    }
}
