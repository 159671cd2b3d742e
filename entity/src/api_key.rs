//! `api_keys`: partner keys of a workspace. Only SHA-256 hashes of secrets are stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    /// The public part of the key, `pk_<env>_<public_id>_<secret>`; unique, used for lookup.
    #[sea_orm(unique)]
    pub public_id: String,
    /// SHA-256 (hex) of the current secret.
    pub secret_hash: String,
    /// SHA-256 of the secret before the last rotation, valid until `previous_valid_until`.
    pub previous_secret_hash: Option<String>,
    pub previous_valid_until: Option<DateTimeUtc>,
    /// Permission names, comma-separated.
    pub scopes: String,
    /// Project IDs the key is restricted to, comma-separated; `None` means every project.
    pub project_ids: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub last_used_ip: Option<String>,
    /// The key runs only its registered trusted documents.
    pub trusted_documents_only: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
