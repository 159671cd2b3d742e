//! `file_versions`: every upload of a file, kept; the object key is generated.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "file_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub file_id: Uuid,
    /// 1, 2, … within the file.
    pub number: i32,
    /// `v1`, `v2`, `final`, …
    pub label: String,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Uuid,
    pub created_at: DateTimeUtc,
    /// `NONE` (no thumbnail will be made), `PENDING`, `READY` or `FAILED`.
    pub thumbnail_status: String,
    /// The thumbnail's object, generated from `object_key`, once `READY`.
    pub thumbnail_key: Option<String>,
    pub thumbnail_content_type: Option<String>,
    pub thumbnail_width: Option<i32>,
    pub thumbnail_height: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
