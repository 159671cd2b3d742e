//! `file_settings`: a workspace's file rules (what clients may do, its limits). No row: the
//! defaults, with limits from the configuration.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "file_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workspace_id: Uuid,
    pub clients_may_upload: bool,
    /// Clients may move their own uploads to the trash.
    pub clients_may_delete: bool,
    /// Clients may create subfolders in their zone.
    pub clients_may_create_folders: bool,
    /// `None`: the configured default.
    pub max_file_bytes: Option<i64>,
    /// `None`: the configured default.
    pub quota_bytes: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
