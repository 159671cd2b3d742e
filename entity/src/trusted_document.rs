//! `trusted_documents`: the GraphQL documents a partner API key may run when it is restricted to
//! them, by SHA-256 of their exact text.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "trusted_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub api_key_id: Uuid,
    /// Lower-case hex SHA-256 of `body`.
    pub sha256: String,
    pub name: String,
    pub body: String,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
