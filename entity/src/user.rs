//! `users`: global identities. Email is stored lower-cased and is unique.

use sea_orm::entity::prelude::*;

/// Account status; stored by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum UserStatus {
    /// May log in and act.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// May not log in; existing tokens stop working.
    #[sea_orm(string_value = "DISABLED")]
    Disabled,
    /// Invited but not yet set up: read-only.
    #[sea_orm(string_value = "INVITED")]
    Invited,
    /// Awaiting verification: read-only.
    #[sea_orm(string_value = "PENDING")]
    Pending,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub status: UserStatus,
    /// Platform operators (back office); unrelated to workspace roles.
    pub is_platform_admin: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The TOTP secret, encrypted (set at enrolment, before confirmation).
    pub mfa_secret: Option<String>,
    /// When MFA was confirmed; `None` while not enrolled.
    pub mfa_enabled_at: Option<DateTimeUtc>,
    /// The last TOTP time step accepted: a code never works twice.
    pub mfa_last_step: Option<i64>,
    /// `en` or `fr`: the language of the emails the person receives.
    pub locale: String,
    /// When the person proved they read this address (a link or code sent there); `None` for
    /// a self-registered account until it does.
    pub email_verified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
