//! `workspaces`: the tenants, with their branding settings.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "workspaces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub slug: String,
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub email_sender_name: Option<String>,
    /// `#rrggbb`.
    pub brand_color: Option<String>,
    /// Owners and admins must have MFA enabled to act in this workspace.
    pub require_mfa_for_admins: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
