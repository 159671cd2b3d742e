//! `folders`: a project's folders. The standard ones (`system_key` set) are created with the
//! project and cannot be renamed, moved or deleted; staff add subfolders, which take their
//! parent's zone.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "folders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    /// `None` for a top-level folder.
    pub parent_id: Option<Uuid>,
    pub name: String,
    /// `INTERNAL` (staff only), `SHARED` (staff write, clients read) or `CLIENT` (clients write).
    pub zone: String,
    /// `BRANDING`, `CONTENT`, `DELIVERABLES` or `INTERNAL` for a standard folder.
    pub system_key: Option<String>,
    /// `None` for a standard folder.
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
