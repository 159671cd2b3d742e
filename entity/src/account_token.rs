//! `account_tokens`: single-use secrets sent by email (password reset, email verification, email
//! change), stored as their SHA-256 only, each with an expiry.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// `PASSWORD_RESET`, `VERIFY_EMAIL` or `CHANGE_EMAIL`.
    pub purpose: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The address an email change moves to.
    pub new_email: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set when used, or when a newer token of the same purpose replaced it.
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
