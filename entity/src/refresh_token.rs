//! `refresh_tokens`: every refresh token ever issued for a session, stored as a SHA-256 hash.
//! A token with `replaced_at` set was rotated out; presenting it again revokes the session.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// Hex SHA-256 of the opaque token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub session_id: Uuid,
    pub created_at: DateTimeUtc,
    pub replaced_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
