//! The notification fan-out, an outbox consumer: for an event that notifies, one in-app
//! notification (announced on its recipient's live channel by a `NOTIFICATION_ADDED` event) and
//! one queued email per person the access layer says may be told (never the person who did it),
//! all in one transaction; each person's preferences decide whether the email is queued and
//! whether the notification arrives muted. Unique keys on (event, recipient) and on the
//! email's dedupe key make a redelivered event write nothing twice.

use super::triggers::Trigger;
use super::{digest, grouping, preferences};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::events::{DomainEvent, Envelope, NotificationAdded};
use crate::rbac::audience::{self, Told};
use async_trait::async_trait;
use chrono::Utc;
use entity::{email_delivery, notification};
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

/// Status of an email waiting for its first attempt.
pub const QUEUED: &str = "QUEUED";

/// The consumer: registered with the dispatcher after live subscriptions.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub db: Db,
    /// `NOTIFY_GROUP_SECS`: how long chatty emails wait for others.
    pub group_secs: u64,
    /// `NOTIFY_DIGEST_HOUR`: when daily digests go (UTC).
    pub digest_hour: u32,
}

#[async_trait]
impl crate::outbox::Consumer for Notifier {
    fn name(&self) -> &'static str {
        "notifications"
    }

    async fn deliver(&self, envelope: &Envelope, _raw: &str) -> anyhow::Result<()> {
        fan_out(&self.db, envelope, self.group_secs, self.digest_hour)
            .await
            .map(|_| ())
            .map_err(ApiError::into_anyhow)
    }
}

/// Writes `envelope`'s notifications; returns how many were new.
pub async fn fan_out(
    db: &Db,
    envelope: &Envelope,
    group_secs: u64,
    digest_hour: u32,
) -> ApiResult<usize> {
    let Some(trigger) = Trigger::of(envelope) else {
        return Ok(0);
    };
    let told = Told {
        workspace_id: envelope.workspace_id,
        project_id: trigger.project_id,
        staff_only: trigger.staff_only,
    };
    let recipients = audience::audience(db.conn(), told, trigger.actor_id).await?;
    let users: Vec<Uuid> = recipients.iter().map(|r| r.user_id).collect();
    let (ws, kind) = (envelope.workspace_id, trigger.kind.as_str());
    let in_app = preferences::modes(db.conn(), ws, kind, preferences::IN_APP, &users).await?;
    let email = preferences::modes(db.conn(), ws, kind, preferences::EMAIL, &users).await?;
    let txn = db.begin().await?;
    let scoped = txn.scoped(envelope.workspace_id);
    let now = Utc::now();
    let mut created = 0;
    for recipient in recipients {
        let id = Uuid::now_v7();
        // Muted in the portal: it arrives already read, and is not pushed.
        let muted = in_app.get(&recipient.user_id).map(String::as_str) == Some(preferences::NEVER);
        let new = scoped
            .insert_new(
                notification::ActiveModel {
                    id: Set(id),
                    workspace_id: Set(envelope.workspace_id),
                    user_id: Set(recipient.user_id),
                    project_id: Set(trigger.project_id),
                    event_id: Set(envelope.id),
                    kind: Set(trigger.kind.clone()),
                    subject_id: Set(trigger.subject_id),
                    actor_id: Set(trigger.actor_id),
                    summary: Set(trigger.summary.clone()),
                    staff_only: Set(trigger.staff_only),
                    created_at: Set(now),
                    read_at: Set(muted.then_some(now)),
                },
                [notification::Column::EventId, notification::Column::UserId],
            )
            .await?;
        if !new {
            continue;
        }
        if !muted {
            scoped.emit(DomainEvent::NotificationAdded(NotificationAdded {
                project_id: trigger.project_id,
                user_id: recipient.user_id,
                notification_id: id,
                kind: trigger.kind.clone(),
                subject_id: trigger.subject_id,
                actor_id: trigger.actor_id,
                summary: trigger.summary.clone(),
                staff_only: trigger.staff_only,
                created_at: now,
            }));
        }
        let mode = email.get(&recipient.user_id).map(String::as_str);
        if mode == Some(preferences::NEVER) {
            created += 1;
            continue;
        }
        let (dedupe_key, available_at) = if mode == Some(preferences::DAILY_DIGEST) {
            (
                digest::key(envelope.id, recipient.user_id),
                digest::next(now, digest_hour),
            )
        } else {
            (
                format!("{}:{}:email", envelope.id, recipient.user_id),
                now + grouping::delay(&trigger.kind, group_secs),
            )
        };
        scoped
            .insert_new(
                email_delivery::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    workspace_id: Set(envelope.workspace_id),
                    user_id: Set(recipient.user_id),
                    notification_id: Set(Some(id)),
                    dedupe_key: Set(dedupe_key),
                    kind: Set(trigger.kind.clone()),
                    status: Set(QUEUED.to_owned()),
                    attempts: Set(0),
                    available_at: Set(available_at),
                    claimed_until: Set(None),
                    to_address: Set(None),
                    provider_id: Set(None),
                    last_error: Set(None),
                    created_at: Set(now),
                    sent_at: Set(None),
                },
                [email_delivery::Column::DedupeKey],
            )
            .await?;
        created += 1;
    }
    txn.commit().await?;
    Ok(created)
}
