//! TOTP MFA: enrolment (an `otpauth://` URI, then a confirming code), ten single-use recovery
//! codes shown once and stored hashed, the login challenge (a password alone yields a short-lived
//! challenge token, exchanged with a code for tokens), and disabling. Codes are counted by the
//! brute-force limits; a TOTP step or recovery code works once.

use super::brute_force::{self, Guarded};
use super::service::{Issued, get_user, open_session, revoke_sessions};
use crate::app::App;
use crate::auth::totp;
use crate::auth::{OpaqueSecret, UserPrincipal, sha256_hex};
use crate::db::Global;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ClientInfo;
use chrono::Utc;
use entity::{mfa_recovery_code, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter};
use std::time::Duration;
use uuid::Uuid;

/// How long a login challenge waits for its code.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(300);
/// Recovery codes issued at confirmation.
pub const RECOVERY_CODES: usize = 10;

fn challenge_key(token: &str) -> String {
    format!("mfa:challenge:{}", sha256_hex(token.trim()))
}

/// Starts (or restarts) enrolment: a new secret, sealed in the database until a code confirms
/// it. Returns the base32 secret and its `otpauth://` URI. Refused while MFA is on.
pub async fn enrol(app: &App, caller: &UserPrincipal) -> ApiResult<(String, String)> {
    let account = get_user(app.db.conn(), caller.user_id).await?;
    if account.mfa_enabled_at.is_some() {
        return Err(ApiError::conflict(
            "MFA is already enabled; disable it first to enrol another device",
        ));
    }
    let secret = totp::generate_secret();
    let sealed = app.mfa.seal(&secret).map_err(ApiError::internal)?;
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = app.db.writer().await;
    Global::new(app.db.conn())
        .update_many::<user::Entity>()
        .col_expr(user::Column::MfaSecret, Expr::value(sealed))
        .col_expr(user::Column::MfaLastStep, Expr::value(Option::<i64>::None))
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::MfaEnabledAt.is_null())
        .exec(app.db.conn())
        .await?;
    drop(turn);
    Ok((
        totp::base32(&secret),
        totp::otpauth_uri("Portico", &account.email, &secret),
    ))
}

/// Confirms enrolment with a code from the app: MFA is on, the other sessions end (every live
/// session has now passed MFA), and ten recovery codes are returned, this once.
pub async fn confirm(app: &App, caller: &UserPrincipal, code: &str) -> ApiResult<Vec<String>> {
    brute_force::attempt(app, Guarded::Mfa, None, Some(&caller.user_id.to_string())).await?;
    let account = get_user(app.db.conn(), caller.user_id).await?;
    if account.mfa_enabled_at.is_some() {
        return Err(ApiError::conflict("MFA is already enabled"));
    }
    let Some(sealed) = account.mfa_secret.as_deref() else {
        return Err(ApiError::bad_field("code", "start with enrolMfa"));
    };
    let secret = app.mfa.open(sealed).map_err(ApiError::internal)?;
    let Some(step) = totp::verify(&secret, code, Utc::now().timestamp(), None) else {
        return Err(ApiError::bad_field("code", "the code is not valid"));
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let txn = app.db.begin().await?;
    let global = Global::new(&*txn);
    let changed = global
        .update_many::<user::Entity>()
        .col_expr(user::Column::MfaEnabledAt, Expr::value(Utc::now()))
        .col_expr(user::Column::MfaLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::MfaEnabledAt.is_null())
        .exec(&*txn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(ApiError::conflict("MFA is already enabled"));
    }
    replace_recovery_codes(&*txn, account.id, &codes).await?;
    let revoked = revoke_sessions(
        &*txn,
        account.id,
        None,
        Some(caller.session_id),
        "mfa_enabled",
    )
    .await?;
    txn.commit().await?;
    brute_force::succeeded_for(app, Guarded::Mfa, &caller.user_id.to_string()).await;
    app.auth.forget_sessions(&revoked).await;
    forget_access(app, account.id).await?;
    Ok(codes)
}

/// Turns MFA off, with a current code or a recovery code.
pub async fn disable(app: &App, caller: &UserPrincipal, code: &str) -> ApiResult<()> {
    brute_force::attempt(app, Guarded::Mfa, None, Some(&caller.user_id.to_string())).await?;
    let account = get_user(app.db.conn(), caller.user_id).await?;
    if account.mfa_enabled_at.is_none() {
        return Err(ApiError::bad_field("code", "MFA is not enabled"));
    }
    let txn = app.db.begin().await?;
    if !check_code(app, &*txn, &account, code).await? {
        return Err(ApiError::bad_field("code", "the code is not valid"));
    }
    let global = Global::new(&*txn);
    global
        .update_many::<user::Entity>()
        .col_expr(user::Column::MfaSecret, Expr::value(Option::<String>::None))
        .col_expr(
            user::Column::MfaEnabledAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(user::Column::MfaLastStep, Expr::value(Option::<i64>::None))
        .filter(user::Column::Id.eq(account.id))
        .exec(&*txn)
        .await?;
    replace_recovery_codes(&*txn, account.id, &[]).await?;
    txn.commit().await?;
    forget_access(app, account.id).await
}

/// A password was right and MFA is on: a single-use challenge token for [`verify_challenge`].
pub async fn challenge(app: &App, account: &user::Model) -> ApiResult<String> {
    let token = OpaqueSecret::generate("mfa").value;
    app.cache
        .set(
            &challenge_key(&token),
            &account.id.to_string(),
            CHALLENGE_TTL,
        )
        .await
        .map_err(ApiError::internal)?;
    Ok(token)
}

/// Exchanges a challenge token and a TOTP or recovery code for tokens. Attempts are counted per
/// IP and per account; the challenge works once.
pub async fn verify_challenge(
    app: &App,
    token: &str,
    code: &str,
    client: &ClientInfo,
) -> ApiResult<Issued> {
    let expired = || ApiError::unauthenticated("this MFA challenge is invalid or expired");
    brute_force::attempt(app, Guarded::Mfa, client.ip.as_deref(), None).await?;
    let key = challenge_key(token);
    let user_id = app
        .cache
        .get(&key)
        .await
        .map_err(ApiError::internal)?
        .and_then(|id| Uuid::parse_str(&id).ok())
        .ok_or_else(expired)?;
    brute_force::attempt(app, Guarded::Mfa, None, Some(&user_id.to_string())).await?;
    let account = get_user(app.db.conn(), user_id).await?;
    if account.status == user::UserStatus::Disabled || account.mfa_enabled_at.is_none() {
        return Err(expired());
    }
    let txn = app.db.begin().await?;
    if !check_code(app, &*txn, &account, code).await? {
        return Err(ApiError::unauthenticated("the code is not valid"));
    }
    // Single use: the first of two concurrent verifications takes the challenge.
    let first = app
        .cache
        .set_if_absent(&format!("{key}:used"), "1", CHALLENGE_TTL)
        .await
        .map_err(ApiError::internal)?;
    if !first {
        return Err(expired());
    }
    let issued = open_session(app, &*txn, account, client).await?;
    txn.commit().await?;
    app.cache.delete(&key).await.map_err(ApiError::internal)?;
    brute_force::succeeded_for(app, Guarded::Mfa, &user_id.to_string()).await;
    Ok(issued)
}

/// A TOTP code (not used before: the step moves forward in one conditional update) or an unused
/// recovery code (spent in one conditional update).
async fn check_code<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    account: &user::Model,
    code: &str,
) -> ApiResult<bool> {
    let global = Global::new(conn);
    let code = code.trim();
    if code.len() == 6 {
        let Some(sealed) = account.mfa_secret.as_deref() else {
            return Ok(false);
        };
        let secret = app.mfa.open(sealed).map_err(ApiError::internal)?;
        let Some(step) = totp::verify(&secret, code, Utc::now().timestamp(), account.mfa_last_step)
        else {
            return Ok(false);
        };
        let moved = global
            .update_many::<user::Entity>()
            .col_expr(user::Column::MfaLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(account.id))
            .filter(
                sea_orm::Condition::any()
                    .add(user::Column::MfaLastStep.is_null())
                    .add(user::Column::MfaLastStep.lt(step)),
            )
            .exec(conn)
            .await?
            .rows_affected;
        return Ok(moved == 1);
    }
    let hash = sha256_hex(&normalize_recovery(code));
    let spent = global
        .update_many::<mfa_recovery_code::Entity>()
        .col_expr(mfa_recovery_code::Column::UsedAt, Expr::value(Utc::now()))
        .filter(mfa_recovery_code::Column::UserId.eq(account.id))
        .filter(mfa_recovery_code::Column::CodeHash.eq(hash))
        .filter(mfa_recovery_code::Column::UsedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    Ok(spent == 1)
}

async fn replace_recovery_codes<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    codes: &[String],
) -> ApiResult<()> {
    let global = Global::new(conn);
    global
        .delete_many::<mfa_recovery_code::Entity>()
        .filter(mfa_recovery_code::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    for code in codes {
        global
            .insert(mfa_recovery_code::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user_id),
                code_hash: Set(sha256_hex(&normalize_recovery(code))),
                used_at: Set(None),
            })
            .await?;
    }
    Ok(())
}

/// `xxxxx-xxxxx`, 50 random bits in base32 (lower case, no padding).
fn recovery_code() -> String {
    let mut bytes = [0u8; 7];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let text = data_encoding::BASE32_NOPAD
        .encode(&bytes)
        .to_lowercase()
        .chars()
        .take(10)
        .collect::<String>();
    format!("{}-{}", &text[..5], &text[5..])
}

fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

/// MFA status feeds workspace access (owners and admins of workspaces that require it): forget
/// the user's cached access everywhere.
async fn forget_access(app: &App, user_id: Uuid) -> ApiResult<()> {
    app.access.invalidate_user_everywhere(user_id).await
}
