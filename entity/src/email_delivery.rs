//! `email_deliveries`: the email queue and its log. One row per (event, recipient, channel),
//! unique by `dedupe_key`, so a redelivered event queues nothing twice; the mail job claims due
//! rows, sends them, and records the outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "email_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    /// The in-app notification it mirrors.
    pub notification_id: Option<Uuid>,
    /// `{event}:{user}:email`.
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub kind: String,
    /// `QUEUED`, `RETRYING`, `SENT`, `SKIPPED` (the recipient lost access) or `DEAD`.
    pub status: String,
    /// Failed attempts so far.
    pub attempts: i32,
    /// Not tried before this time (backoff).
    pub available_at: DateTimeUtc,
    /// A sender holds the row until then.
    pub claimed_until: Option<DateTimeUtc>,
    /// The address it went to, once sent.
    pub to_address: Option<String>,
    /// The server's answer (`250 … queued as …`) or the file's name.
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
