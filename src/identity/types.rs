//! GraphQL types of the identity domain.

use crate::graphql::directives::requires;
use crate::rbac::Permission;
use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use entity::user;

/// Account status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum UserStatus {
    /// May sign in and act.
    Active,
    /// May not sign in; existing tokens stop working.
    Disabled,
    /// Invited, not set up yet: read-only.
    Invited,
    /// Awaiting verification: read-only.
    Pending,
}

impl From<user::UserStatus> for UserStatus {
    fn from(status: user::UserStatus) -> Self {
        match status {
            user::UserStatus::Active => Self::Active,
            user::UserStatus::Disabled => Self::Disabled,
            user::UserStatus::Invited => Self::Invited,
            user::UserStatus::Pending => Self::Pending,
        }
    }
}

impl From<UserStatus> for user::UserStatus {
    fn from(status: UserStatus) -> Self {
        match status {
            UserStatus::Active => Self::Active,
            UserStatus::Disabled => Self::Disabled,
            UserStatus::Invited => Self::Invited,
            UserStatus::Pending => Self::Pending,
        }
    }
}

/// A language Portico speaks to people in (their emails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Locale {
    /// English.
    En,
    /// French.
    Fr,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    fn parse(locale: &str) -> Self {
        if locale == "fr" { Self::Fr } else { Self::En }
    }
}

/// A user account as its owner (or a platform operator) sees it.
#[derive(Debug, Clone, SimpleObject)]
pub struct Account {
    /// User ID.
    pub id: ID,
    /// Email address (lower-case).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Account status.
    pub status: UserStatus,
    /// Whether this user operates the platform (back office).
    pub is_platform_admin: bool,
    /// Whether sign-in needs a TOTP code.
    pub mfa_enabled: bool,
    /// Whether the person proved they read this address (an emailed link or invitation code).
    /// A self-registered account cannot invite anyone until it has.
    pub email_verified: bool,
    /// The language of the emails the account receives.
    pub locale: Locale,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl From<user::Model> for Account {
    fn from(u: user::Model) -> Self {
        Self {
            id: ID(u.id.to_string()),
            email: u.email,
            name: u.name,
            status: u.status.into(),
            is_platform_admin: u.is_platform_admin,
            mfa_enabled: u.mfa_enabled_at.is_some(),
            email_verified: u.email_verified_at.is_some(),
            locale: Locale::parse(&u.locale),
            created_at: u.created_at,
        }
    }
}

/// Another user, as members of a workspace see them.
#[derive(Debug, Clone, SimpleObject)]
pub struct User {
    /// User ID.
    pub id: ID,
    /// Display name.
    pub name: String,
    /// Email address: staff only.
    #[graphql(directive = requires::apply(Permission::MemberEmail))]
    pub email: Option<String>,
}

crate::plain_fields!(User {
    "id" => id,
    "name" => name,
    "email" => email,
});

impl From<user::Model> for User {
    fn from(u: user::Model) -> Self {
        Self {
            id: ID(u.id.to_string()),
            name: u.name,
            email: Some(u.email),
        }
    }
}

/// Tokens returned by login, refresh and invitation acceptance.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuthPayload {
    /// Short-lived JWT; send as `Authorization: Bearer …`. Null while an MFA code is awaited.
    pub access_token: Option<String>,
    /// When the access token expires.
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Opaque, single-use token for `refreshToken`. Store it securely.
    pub refresh_token: Option<String>,
    /// The signed-in user (null while an MFA code is awaited).
    pub user: Option<Account>,
    /// Set instead of tokens when the account uses MFA: send it to `verifyMfa` with a code
    /// within five minutes.
    pub mfa_token: Option<String>,
}

/// A started MFA enrolment.
#[derive(Debug, Clone, SimpleObject)]
pub struct MfaEnrolment {
    /// The TOTP secret (base32), for apps that cannot scan.
    pub secret: String,
    /// The `otpauth://` URI to show as a QR code.
    pub otpauth_uri: String,
}

/// One of the caller's sessions (a signed-in device).
#[derive(Debug, Clone, SimpleObject)]
pub struct Session {
    /// Session ID.
    pub id: ID,
    /// The device's user agent, as sent at sign-in.
    pub user_agent: Option<String>,
    /// The IP it signed in from.
    pub ip: Option<String>,
    /// When it signed in.
    pub created_at: DateTime<Utc>,
    /// When it was last used (recorded at most about once a minute).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless refreshed before.
    pub expires_at: DateTime<Utc>,
    /// Whether this is the session making the request.
    pub current: bool,
}
