//! Account emails' doors: password reset (a uniform answer whatever the address, a single-use
//! emailed token, every session ended), the address check of a self-registered account, and an
//! email change confirmed at the new address with a notice to the old one. Tokens are 256-bit
//! random, stored as their SHA-256, single-use (claimed by a conditional update) and expiring;
//! a new token of a purpose retires the account's older ones.

use super::account_mail::{self, Queued};
use super::account_render::{Kind, Vars};
use super::service::{find_user_by_email, get_user, revoke_sessions};
use crate::app::App;
use crate::auth::{OpaqueSecret, UserPrincipal, sha256_hex};
use crate::db::Global;
use crate::error::{ApiError, ApiResult, is_unique_violation};
use crate::types::{Email, Password};
use chrono::{Duration, Utc};
use entity::user::UserStatus;
use entity::{account_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter};
use uuid::Uuid;

/// What a token is for; stored by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    VerifyEmail,
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "PASSWORD_RESET",
            Self::VerifyEmail => "VERIFY_EMAIL",
            Self::ChangeEmail => "CHANGE_EMAIL",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::PasswordReset => "prs",
            Self::VerifyEmail | Self::ChangeEmail => "pev",
        }
    }
}

/// The one refusal of every token door: unknown, used, expired, retired and a disabled
/// account's tokens all answer alike.
fn invalid() -> ApiError {
    ApiError::bad_field(
        "token",
        "this link is not valid or has expired; ask for a new one",
    )
}

fn hours(secs: u64) -> i64 {
    i64::try_from(secs / 3600).unwrap_or(1).max(1)
}

/// Retires the unused tokens of `purpose` of `user_id` and creates a new one, in `conn`.
async fn new_token<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    purpose: Purpose,
    new_email: Option<&str>,
    ttl_secs: u64,
) -> ApiResult<OpaqueSecret> {
    let now = Utc::now();
    let global = Global::new(conn);
    global
        .update_many::<account_token::Entity>()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    let secret = OpaqueSecret::generate(purpose.prefix());
    let ttl = Duration::seconds(i64::try_from(ttl_secs).unwrap_or(3600));
    global
        .insert(account_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            purpose: Set(purpose.as_str().to_owned()),
            token_hash: Set(secret.hash.clone()),
            new_email: Set(new_email.map(str::to_owned)),
            created_at: Set(now),
            expires_at: Set(now + ttl),
            used_at: Set(None),
        })
        .await?;
    Ok(secret)
}

/// Claims a usable token of `purpose` in `conn` and answers it with its ACTIVE account.
async fn redeem<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    purpose: Purpose,
) -> ApiResult<(account_token::Model, user::Model)> {
    let now = Utc::now();
    let global = Global::new(conn);
    let found = global
        .find::<account_token::Entity>()
        .filter(account_token::Column::TokenHash.eq(sha256_hex(token.trim())))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .one(conn)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(invalid)?;
    let claimed = global
        .update_many::<account_token::Entity>()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::Id.eq(found.id))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    let user = get_user(conn, found.user_id).await?;
    if claimed.rows_affected != 1 || user.status == UserStatus::Disabled {
        return Err(invalid());
    }
    Ok((found, user))
}

/// Queues the account email `kind` about `user` to `to` (their address, or the one they move
/// to), in `conn`, greeting them by name in their language.
async fn mail_user<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    (user, to): (&user::Model, &str),
    kind: Kind,
    vars: Vars,
    secret: Option<&str>,
) -> ApiResult<()> {
    let vars = Vars {
        recipient: Some(user.name.clone()),
        ..vars
    };
    let mail = Queued {
        kind,
        to,
        user_id: Some(user.id),
        workspace_id: None,
        locale: &user.locale,
        vars,
        secret,
    };
    account_mail::queue(conn, &app.account_mail, mail).await
}

/// Emails a reset link when `email` belongs to an account that may sign in; answers the same
/// whether it does or not (the per-address limit counts every address alike, in the resolver).
pub async fn request_password_reset(app: &App, email: &str) -> ApiResult<()> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let Some(user) = find_user_by_email(app.db.conn(), &email).await? else {
        return Ok(());
    };
    if user.status == UserStatus::Disabled {
        return Ok(());
    }
    let txn = app.db.begin().await?;
    let ttl = app.config.accounts.password_reset_ttl_secs;
    let token = new_token(&*txn, user.id, Purpose::PasswordReset, None, ttl).await?;
    mail_user(
        app,
        &*txn,
        (&user, &user.email),
        Kind::PasswordReset,
        Vars {
            hours: hours(ttl),
            ..Vars::default()
        },
        Some(&token.value),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a new password with an emailed token: the token works once, the address counts as
/// proved, and every session of the account ends (MFA still applies at the next sign-in).
pub async fn reset_password(app: &App, token: &str, new_password: &str) -> ApiResult<()> {
    let password = Password::parse_new(new_password, "newPassword")?;
    let hash = app.hasher.hash(password.expose()).await?;
    let txn = app.db.begin().await?;
    let (_, user) = redeem(&*txn, token, Purpose::PasswordReset).await?;
    let now = Utc::now();
    Global::new(&*txn)
        .update(user::ActiveModel {
            id: Set(user.id),
            password_hash: Set(hash),
            email_verified_at: Set(Some(user.email_verified_at.unwrap_or(now))),
            updated_at: Set(now),
            ..Default::default()
        })
        .await?;
    let ended = revoke_sessions(&*txn, user.id, None, None, "password_reset").await?;
    txn.commit().await?;
    app.auth.forget_sessions(&ended).await;
    super::brute_force::succeeded(app, &user.email).await;
    Ok(())
}

/// Queues the address check of `user` (a self-registered account), in `conn`.
pub async fn queue_verification<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    user: &user::Model,
) -> ApiResult<()> {
    let ttl = app.config.accounts.email_token_ttl_secs;
    let token = new_token(conn, user.id, Purpose::VerifyEmail, Some(&user.email), ttl).await?;
    mail_user(
        app,
        conn,
        (user, &user.email),
        Kind::VerifyEmail,
        Vars {
            hours: hours(ttl),
            ..Vars::default()
        },
        Some(&token.value),
    )
    .await
}

/// Sends the caller's address check again; nothing when the address is already proved.
pub async fn resend_verification(app: &App, caller: &UserPrincipal) -> ApiResult<bool> {
    let user = get_user(app.db.conn(), caller.user_id).await?;
    if user.email_verified_at.is_some() {
        return Ok(false);
    }
    let txn = app.db.begin().await?;
    queue_verification(app, &*txn, &user).await?;
    txn.commit().await?;
    Ok(true)
}

/// Proves the address with an emailed token (only while the account still has that address).
pub async fn verify_email(app: &App, token: &str) -> ApiResult<user::Model> {
    let txn = app.db.begin().await?;
    let (found, user) = redeem(&*txn, token, Purpose::VerifyEmail).await?;
    if found.new_email.as_deref() != Some(user.email.as_str()) {
        return Err(invalid());
    }
    let now = Utc::now();
    let user = Global::new(&*txn)
        .update(user::ActiveModel {
            id: Set(user.id),
            email_verified_at: Set(Some(user.email_verified_at.unwrap_or(now))),
            updated_at: Set(now),
            ..Default::default()
        })
        .await?;
    txn.commit().await?;
    Ok(user)
}

/// Starts an email change: checks the password and emails a confirmation to the new address.
/// The account keeps its address until the link there is opened.
pub async fn request_email_change(
    app: &App,
    caller: &UserPrincipal,
    new_email: &str,
    current_password: &str,
) -> ApiResult<()> {
    let new_email = Email::parse(new_email)?;
    let user = get_user(app.db.conn(), caller.user_id).await?;
    if !app
        .hasher
        .verify(current_password, Some(&user.password_hash))
        .await?
    {
        return Err(ApiError::bad_field(
            "currentPassword",
            "the current password is incorrect",
        ));
    }
    if new_email.as_str() == user.email {
        return Err(ApiError::bad_field(
            "newEmail",
            "this is already your address",
        ));
    }
    if find_user_by_email(app.db.conn(), &new_email)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            "an account with this email already exists",
        ));
    }
    let txn = app.db.begin().await?;
    let ttl = app.config.accounts.email_token_ttl_secs;
    let token = new_token(
        &*txn,
        user.id,
        Purpose::ChangeEmail,
        Some(new_email.as_str()),
        ttl,
    )
    .await?;
    mail_user(
        app,
        &*txn,
        (&user, new_email.as_str()),
        Kind::ConfirmEmailChange,
        Vars {
            hours: hours(ttl),
            ..Vars::default()
        },
        Some(&token.value),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Completes an email change with the token sent to the new address; the old address gets a
/// notice. An address taken meanwhile answers CONFLICT.
pub async fn confirm_email_change(app: &App, token: &str) -> ApiResult<user::Model> {
    let txn = app.db.begin().await?;
    let (found, user) = redeem(&*txn, token, Purpose::ChangeEmail).await?;
    let new_email = found.new_email.clone().ok_or_else(invalid)?;
    let now = Utc::now();
    let updated = Global::new(&*txn)
        .update(user::ActiveModel {
            id: Set(user.id),
            email: Set(new_email.clone()),
            email_verified_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        })
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                ApiError::conflict("an account with this email already exists")
            } else {
                err.into()
            }
        })?;
    mail_user(
        app,
        &*txn,
        (&user, &user.email),
        Kind::EmailChanged,
        Vars {
            new_email: Some(new_email),
            ..Vars::default()
        },
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
