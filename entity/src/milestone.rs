//! `milestones`: deliverables staff ask the client to validate (mockup, content, delivery, …).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "milestones")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    /// `MOCKUP`, `CONTENT`, `DELIVERY` or `OTHER`.
    pub kind: String,
    pub title: String,
    /// `PENDING`, `VALIDATED` or `REJECTED`.
    pub status: String,
    pub requested_by: Uuid,
    pub requested_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub comment: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
