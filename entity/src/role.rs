//! `roles`: the built-in roles seeded in every workspace, plus custom roles.
//! Built-in roles take their permissions from code (`builtin` names which); custom roles list theirs in
//! `role_permissions`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    /// `owner`, `admin`, `collaborator`, `client` or `guest` for built-in roles; `None` for custom ones.
    pub builtin: Option<String>,
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
