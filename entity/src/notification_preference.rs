//! `notification_preferences`: how one person hears of one kind of event on one channel in one
//! workspace (`ALWAYS`, `WHEN_NOT_ACTIVE`, `NEVER`); absent rows take the default.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "notification_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    /// `ticket.created`, `message.added`, …
    pub kind: String,
    /// `EMAIL` or `IN_APP`.
    pub channel: String,
    pub mode: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
