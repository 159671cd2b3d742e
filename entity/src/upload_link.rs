//! `upload_links`: an expiring, upload-only link into a client-zone folder, for someone without
//! an account; optionally with a PIN and a file-count limit. Only the token's sha256 is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "upload_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub project_id: Uuid,
    pub folder_id: Uuid,
    /// What staff called it ("Logo from the printer").
    pub name: String,
    /// Hex sha256 of the secret token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Hex HMAC of the PIN, keyed by the link's ID; `None` without a PIN.
    pub pin_hash: Option<String>,
    pub max_files: Option<i32>,
    pub files_used: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
