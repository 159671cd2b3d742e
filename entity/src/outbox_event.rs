//! `outbox_events`: the transactional outbox. Every domain event is written here in the same
//! transaction as its change, then delivered at least once by a dispatcher on some instance
//! (live subscriptions today; email, webhooks and audit exports hang off it). Infrastructure,
//! reached through `portico::db` only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    /// The event id (UUID v7): a redelivered event carries the same one.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Option<Uuid>,
    /// The event's type (`TASK_MOVED`, `MESSAGE_ADDED`, …).
    pub kind: String,
    /// The whole envelope, as JSON.
    pub payload: String,
    pub created_at: DateTimeUtc,
    /// Delivery attempts that failed so far.
    pub attempts: i32,
    /// Not claimed again before this time (backoff after a failure).
    pub available_at: DateTimeUtc,
    /// A dispatcher holds the row until then (a crashed one's claim lapses).
    pub claimed_until: Option<DateTimeUtc>,
    /// Which dispatcher (instance) claimed it last.
    pub claimed_by: Option<String>,
    /// Delivered to every consumer.
    pub dispatched_at: Option<DateTimeUtc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The consumers that took it already (names, one per line), skipped when it is retried.
    pub delivered_to: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
