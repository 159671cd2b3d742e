//! `projects`: a client project of a workspace.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// `IN_PROGRESS`, `WAITING_CLIENT` or `DONE`.
    pub status: String,
    /// Progress set by staff (0–100); `None` derives it from tasks done.
    pub progress_override: Option<i16>,
    /// The next step, shown to the client.
    pub next_step: Option<String>,
    /// What the client is expected to do, when the project waits on them.
    pub client_action: Option<String>,
    pub current_phase_id: Option<Uuid>,
    /// The number the next ticket of this project gets.
    pub next_ticket_number: i32,
    pub estimated_delivery: Option<Date>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
