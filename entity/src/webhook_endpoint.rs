//! `webhook_endpoints`: where a workspace's events are posted, which kinds, the signing secret
//! (sealed: it must be read back to sign) and the endpoint's health.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub url: String,
    /// JSON array of event kinds (`TICKET_CREATED`, …).
    pub kinds: String,
    pub description: Option<String>,
    pub sealed_secret: String,
    pub enabled: bool,
    /// Why it was turned off (by its admins, or after repeated failures).
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// Whose view the payloads take: the endpoint's creator.
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
