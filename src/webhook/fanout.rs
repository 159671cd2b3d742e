//! The outbox consumer that queues webhook deliveries: for each committed event, one delivery
//! per enabled endpoint of its workspace listening to its kind, unique by
//! `{endpoint}:{event}`, so a redelivered event queues nothing twice. The payload is built
//! only at send time, under the endpoint creator's view as it is then.

use super::delivery::PENDING;
use super::endpoints::kinds_of;
use crate::db::{Db, Scoped};
use crate::events::Envelope;
use async_trait::async_trait;
use chrono::Utc;
use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use uuid::Uuid;

/// Queues webhook deliveries.
#[derive(Debug, Clone)]
pub struct WebhookFanout {
    pub db: Db,
}

#[async_trait]
impl crate::outbox::Consumer for WebhookFanout {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    async fn deliver(&self, envelope: &Envelope, raw: &str) -> anyhow::Result<()> {
        let kind = envelope.event.kind();
        if !super::endpoints::KINDS.contains(&kind) {
            return Ok(());
        }
        let conn = self.db.conn();
        let scoped = Scoped::new(conn, envelope.workspace_id);
        let endpoints = scoped
            .find::<webhook_endpoint::Entity>()
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .all(conn)
            .await?;
        for endpoint in endpoints {
            if !kinds_of(&endpoint).iter().any(|k| k == kind) {
                continue;
            }
            queue(&scoped, &endpoint, envelope.id, kind, raw, None).await?;
        }
        Ok(())
    }
}

/// Queues one delivery of `event` to `endpoint`; `replay` gives a replay its own key. Answers
/// the new row's id, or `None` when the key was already queued.
pub(super) async fn queue<C: sea_orm::ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    endpoint: &webhook_endpoint::Model,
    event_id: Uuid,
    kind: &str,
    event: &str,
    replay: Option<Uuid>,
) -> anyhow::Result<Option<Uuid>> {
    let id = Uuid::now_v7();
    let dedupe_key = match replay {
        Some(of) => format!("{}:{event_id}:replay:{of}", endpoint.id),
        None => format!("{}:{event_id}", endpoint.id),
    };
    let now = Utc::now();
    let inserted = scoped
        .insert_new(
            webhook_delivery::ActiveModel {
                id: Set(id),
                workspace_id: Set(endpoint.workspace_id),
                endpoint_id: Set(endpoint.id),
                dedupe_key: Set(dedupe_key),
                event_id: Set(event_id),
                kind: Set(kind.to_owned()),
                event: Set(event.to_owned()),
                status: Set(PENDING.to_owned()),
                attempts: Set(0),
                available_at: Set(now),
                claimed_until: Set(None),
                response_status: Set(None),
                latency_ms: Set(None),
                last_error: Set(None),
                created_at: Set(now),
                delivered_at: Set(None),
            },
            [webhook_delivery::Column::DedupeKey],
        )
        .await?;
    Ok(inserted.then_some(id))
}
