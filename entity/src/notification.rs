//! `notifications`: a person's in-app notification of one event, written once per (event,
//! recipient) by the notification fan-out; read or not.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// UUID v7: newest last.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    pub project_id: Uuid,
    /// The outbox event it came from: (event, user) is unique.
    pub event_id: Uuid,
    /// `ticket.created`, `message.added`, …
    pub kind: String,
    /// What it is about (a ticket, a message, a file, …).
    pub subject_id: Option<Uuid>,
    /// Who did it.
    pub actor_id: Option<Uuid>,
    /// One line, as the recipient may read it.
    pub summary: String,
    /// Only holders of `note:private` may see it (an internal comment, an internal file).
    pub staff_only: bool,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
