//! `webhook_deliveries`: one row per endpoint and event (unique by dedupe key, so a redelivered
//! outbox row posts nothing twice; a replay or a test event has a key of its own), and how its
//! attempts went.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub endpoint_id: Uuid,
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub event_id: Uuid,
    pub kind: String,
    /// The event's envelope, as the outbox carried it (kept for retries and replays).
    pub event: String,
    /// `PENDING`, `RETRYING`, `SUCCEEDED`, `SKIPPED` or `DEAD`.
    pub status: String,
    pub attempts: i32,
    pub available_at: DateTimeUtc,
    pub claimed_until: Option<DateTimeUtc>,
    /// The last answer's HTTP status.
    pub response_status: Option<i32>,
    /// The last attempt's duration.
    pub latency_ms: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
