//! `files`: a file in a folder or attached to a ticket, a ticket comment or a message, with its current version's type, size and digest copied here so
//! lists need no join. Deleting sets `deleted_at` (the trash); the purge removes the row later.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    /// The folder; `None` for an attachment.
    pub folder_id: Option<Uuid>,
    /// `TICKET`, `TICKET_COMMENT` or `MESSAGE` for an attachment.
    pub attached_to: Option<String>,
    /// The ticket, comment or message an attachment belongs to.
    pub attached_id: Option<Uuid>,
    /// Display name only: never part of an object key.
    pub name: String,
    /// The folder's zone, kept with the file so every list filters on one column.
    pub zone: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex sha256 of the current version.
    pub sha256: String,
    /// The current version's number.
    pub current_version: i32,
    pub uploaded_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub deleted_by: Option<Uuid>,
    /// The upload link it came through, for a file sent by someone without an account.
    pub upload_link_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
