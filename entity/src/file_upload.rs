//! `file_uploads`: an upload announced by `createUpload` and not yet completed. Completion turns
//! it into a file or a version; a job removes expired rows, and the objects of those never completed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "file_uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    /// The folder of a new file.
    pub folder_id: Option<Uuid>,
    /// The file a new version is for.
    pub file_id: Option<Uuid>,
    /// What a new attachment is for: `TICKET`, `TICKET_COMMENT` or `MESSAGE`…
    pub attached_to: Option<String>,
    /// …and its ID.
    pub attached_id: Option<Uuid>,
    pub name: String,
    pub label: Option<String>,
    /// The declared type, checked against the bytes at completion.
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex sha256 the client announced.
    pub sha256: String,
    pub object_key: String,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set once completed: completing again answers CONFLICT until the row is purged.
    pub completed_at: Option<DateTimeUtc>,
    /// The upload link it came through, for a file sent by someone without an account.
    pub upload_link_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
