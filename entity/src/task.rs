//! `tasks`: kanban cards. `position` orders a column with gaps, so a move updates one row.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    /// `BACKLOG`, `IN_PROGRESS`, `WAITING_CLIENT` or `DONE`.
    pub board_column: String,
    pub position: i64,
    pub assignee_id: Option<Uuid>,
    pub due_date: Option<Date>,
    pub blocked_by_client: bool,
    pub blocked_reason: Option<String>,
    /// `PROJECT` or `TICKET`.
    pub origin: String,
    pub ticket_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
