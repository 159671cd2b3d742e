//! `activities`: the project timeline, written in the same transaction as each change.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    pub actor_id: Uuid,
    /// `task.created`, `task.moved`, `ticket.created`, `ticket.status_changed`, …
    pub action: String,
    /// `task`, `ticket`, `project`, …
    pub subject_type: String,
    pub subject_id: Uuid,
    /// "Ticket #12 created", "Task moved to In progress".
    pub summary: String,
    /// A small JSON object.
    pub payload: String,
    /// Hidden from clients and guests.
    pub staff_only: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
