//! `tickets`: client requests, numbered per project (#1, #2, …).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    pub number: i32,
    /// `BUG`, `CHANGE`, `IMPROVEMENT` or `QUESTION`.
    pub kind: String,
    pub title: String,
    pub description: String,
    /// `NEW`, `TO_CLARIFY`, `REFUSED`, `ACCEPTED`, `QUOTED`, `AWAITING_PAYMENT`, `DECLINED`, `PAID`.
    pub status: String,
    pub created_by: Uuid,
    pub quote_amount_minor: Option<i64>,
    pub quote_currency: Option<String>,
    pub quote_description: Option<String>,
    pub quote_delay_days: Option<i32>,
    /// The task it became (once).
    pub task_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
