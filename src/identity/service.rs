//! Identity rules and their transactions.

use crate::app::App;
use crate::auth::{OpaqueSecret, UserPrincipal, sha256_hex};
use crate::db::Global;
use crate::error::{ApiError, ApiResult, is_unique_violation};
use crate::graphql::context::ClientInfo;
use crate::types::{Email, Password};
use chrono::{DateTime, Duration, Utc};
use entity::user::UserStatus;
use entity::{refresh_token, session, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

/// A freshly opened or refreshed session.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub user: user::Model,
}

const INVALID_CREDENTIALS: &str = "invalid email or password";

/// Finds a user by (normalized) email.
pub async fn find_user_by_email<C: ConnectionTrait>(
    conn: &C,
    email: &Email,
) -> ApiResult<Option<user::Model>> {
    Ok(Global::new(conn)
        .find::<user::Entity>()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?)
}

/// Loads a user that must exist.
pub async fn get_user<C: ConnectionTrait>(conn: &C, id: Uuid) -> ApiResult<user::Model> {
    Global::new(conn)
        .find_by_id::<user::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

/// Creates a user. A taken email answers CONFLICT. `email_verified` says whether the person
/// already proved they read the address (an emailed invitation code, an operator's word); a
/// self-registered account proves it later with the emailed link.
pub async fn create_user<C: ConnectionTrait>(
    conn: &C,
    email: &Email,
    name: &str,
    password_hash: String,
    status: UserStatus,
    is_platform_admin: bool,
    email_verified: bool,
) -> ApiResult<user::Model> {
    let name = crate::types::text::required("name", name, 200)?;
    let now = Utc::now();
    Global::new(conn)
        .insert(user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.as_str().to_owned()),
            name: Set(name.to_owned()),
            password_hash: Set(password_hash),
            status: Set(status),
            is_platform_admin: Set(is_platform_admin),
            created_at: Set(now),
            updated_at: Set(now),
            mfa_secret: Set(None),
            mfa_enabled_at: Set(None),
            mfa_last_step: Set(None),
            locale: Set("en".to_owned()),
            email_verified_at: Set(email_verified.then_some(now)),
        })
        .await
        .map_err(|err| {
            if is_unique_violation(&err) {
                ApiError::conflict("an account with this email already exists")
            } else {
                err.into()
            }
        })
}

/// Opens a session for `user`: a session row, its first refresh token, and an access token.
pub async fn open_session<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    user: user::Model,
    client: &ClientInfo,
) -> ApiResult<Issued> {
    let now = Utc::now();
    let session_id = Uuid::now_v7();
    let lifetime =
        Duration::seconds(i64::try_from(app.config.refresh_token_ttl_secs).unwrap_or(i64::MAX / 4));
    let global = Global::new(conn);
    global
        .insert(session::ActiveModel {
            id: Set(session_id),
            user_id: Set(user.id),
            user_agent: Set(client
                .user_agent
                .as_ref()
                .map(|ua| ua.chars().take(512).collect())),
            ip: Set(client.ip.clone()),
            created_at: Set(now),
            last_used_at: Set(now),
            expires_at: Set(now + lifetime),
            revoked_at: Set(None),
            revoked_reason: Set(None),
        })
        .await?;
    let refresh = insert_refresh_token(conn, session_id).await?;
    issue(app, user, session_id, refresh)
}

async fn insert_refresh_token<C: ConnectionTrait>(
    conn: &C,
    session_id: Uuid,
) -> ApiResult<OpaqueSecret> {
    let secret = OpaqueSecret::generate("prt");
    Global::new(conn)
        .insert(refresh_token::ActiveModel {
            token_hash: Set(secret.hash.clone()),
            session_id: Set(session_id),
            created_at: Set(Utc::now()),
            replaced_at: Set(None),
        })
        .await?;
    Ok(secret)
}

fn issue(
    app: &App,
    user: user::Model,
    session_id: Uuid,
    refresh: OpaqueSecret,
) -> ApiResult<Issued> {
    let (access_token, exp) = app.auth.keys().issue(user.id, session_id)?;
    Ok(Issued {
        access_token,
        access_token_expires_at: DateTime::from_timestamp(exp, 0).unwrap_or_else(Utc::now),
        refresh_token: refresh.value,
        user,
    })
}

/// Signs in with email and password.
/// What a right password yields.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Tokens.
    Signed(Box<Issued>),
    /// The account uses MFA: a challenge token for `verifyMfa`.
    MfaChallenge(String),
}

pub async fn login(
    app: &App,
    email: &str,
    password: &str,
    client: &ClientInfo,
) -> ApiResult<LoginOutcome> {
    let email = Email::parse(email).map_err(|_| ApiError::unauthenticated(INVALID_CREDENTIALS))?;
    let user = find_user_by_email(app.db.conn(), &email).await?;
    let verified = app
        .hasher
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await?;
    let Some(user) = user.filter(|_| verified) else {
        return Err(ApiError::unauthenticated(INVALID_CREDENTIALS));
    };
    if user.status == UserStatus::Disabled {
        return Err(ApiError::unauthenticated("this account is disabled"));
    }
    if user.mfa_enabled_at.is_some() {
        return Ok(LoginOutcome::MfaChallenge(
            super::mfa::challenge(app, &user).await?,
        ));
    }
    let txn = app.db.begin().await?;
    let issued = open_session(app, &*txn, user, client).await?;
    txn.commit().await?;
    Ok(LoginOutcome::Signed(Box::new(issued)))
}

/// Rotates a refresh token. A token presented again after rotation revokes the whole session.
pub async fn refresh(app: &App, token: &str) -> ApiResult<Issued> {
    let invalid = || ApiError::unauthenticated("invalid refresh token");
    let hash = sha256_hex(token.trim());
    let txn = app.db.begin().await?;
    let global = Global::new(&*txn);
    let row = global
        .find_by_id::<refresh_token::Entity>(hash.clone())
        .await?
        .ok_or_else(invalid)?;
    let session = global
        .find_by_id::<session::Entity>(row.session_id)
        .await?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(ApiError::unauthenticated(
            "this session has ended; sign in again",
        ));
    }
    // Claim the token; zero rows means it was already rotated (now, or concurrently).
    let claimed = global
        .update_many::<refresh_token::Entity>()
        .col_expr(refresh_token::Column::ReplacedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .filter(refresh_token::Column::ReplacedAt.is_null())
        .exec(&*txn)
        .await?;
    if claimed.rows_affected == 0 {
        let revoked = revoke_sessions(
            &*txn,
            session.user_id,
            Some(session.id),
            None,
            "refresh_reuse",
        )
        .await?;
        txn.commit().await?;
        app.auth.forget_sessions(&revoked).await;
        tracing::warn!(session = %session.id, user = %session.user_id, "refresh token reuse: session revoked");
        return Err(ApiError::unauthenticated(
            "this refresh token was already used; the session is revoked, sign in again",
        ));
    }
    let user = get_user(&*txn, session.user_id).await?;
    if user.status == UserStatus::Disabled {
        return Err(ApiError::unauthenticated("this account is disabled"));
    }
    let secret = insert_refresh_token(&*txn, session.id).await?;
    let issued = issue(app, user, session.id, secret)?;
    txn.commit().await?;
    Ok(issued)
}

pub use super::operators::{end_user_sessions, set_user_status};

/// Revokes sessions of `user_id`: only `only` when given, all but `except` otherwise. Returns the
/// revoked sessions, for [`Authenticator::forget_sessions`](crate::auth::Authenticator) once the
/// transaction commits.
pub async fn revoke_sessions<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    only: Option<Uuid>,
    except: Option<Uuid>,
    reason: &str,
) -> ApiResult<Vec<Uuid>> {
    let mut live = live_sessions(conn, user_id).await?;
    live.retain(|id| only.is_none_or(|only| only == *id) && except != Some(*id));
    if live.is_empty() {
        return Ok(live);
    }
    Global::new(conn)
        .update_many::<session::Entity>()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::Id.is_in(live.clone()))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(live)
}

/// The sessions of `user_id` that are not revoked.
pub async fn live_sessions<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> ApiResult<Vec<Uuid>> {
    Ok(Global::new(conn)
        .find::<session::Entity>()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .into_tuple::<Uuid>()
        .all(conn)
        .await?)
}

/// The caller's live sessions, most recently used first.
pub async fn my_sessions(app: &App, caller: &UserPrincipal) -> ApiResult<Vec<session::Model>> {
    use sea_orm::QueryOrder;
    Ok(Global::new(app.db.conn())
        .find::<session::Entity>()
        .filter(session::Column::UserId.eq(caller.user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(session::Column::LastUsedAt)
        .all(app.db.conn())
        .await?)
}

/// Ends one of the caller's sessions (another's answers NOT_FOUND, like a missing one).
pub async fn revoke_session(app: &App, caller: &UserPrincipal, session_id: Uuid) -> ApiResult<()> {
    let ended = revoke_sessions(
        app.db.conn(),
        caller.user_id,
        Some(session_id),
        None,
        "revoked",
    )
    .await?;
    if ended.is_empty() {
        return Err(ApiError::NotFound("session"));
    }
    app.auth.forget_sessions(&ended).await;
    Ok(())
}

/// Ends the caller's session.
pub async fn logout(app: &App, caller: &UserPrincipal) -> ApiResult<()> {
    let revoked = revoke_sessions(
        app.db.conn(),
        caller.user_id,
        Some(caller.session_id),
        None,
        "logout",
    )
    .await?;
    app.auth.forget_sessions(&revoked).await;
    Ok(())
}

/// Changes the caller's password and ends their other sessions.
pub async fn change_password(
    app: &App,
    caller: &UserPrincipal,
    current: &str,
    new: &str,
) -> ApiResult<()> {
    let new = Password::parse_new(new, "newPassword")?;
    let user = get_user(app.db.conn(), caller.user_id).await?;
    if !app
        .hasher
        .verify(current, Some(&user.password_hash))
        .await?
    {
        return Err(ApiError::bad_field(
            "currentPassword",
            "the current password is incorrect",
        ));
    }
    let hash = app.hasher.hash(new.expose()).await?;
    let txn = app.db.begin().await?;
    Global::new(&*txn)
        .update_many::<user::Entity>()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(user.id))
        .exec(&*txn)
        .await?;
    let revoked = revoke_sessions(
        &*txn,
        user.id,
        None,
        Some(caller.session_id),
        "password_changed",
    )
    .await?;
    txn.commit().await?;
    app.auth.forget_sessions(&revoked).await;
    Ok(())
}

/// Records that `user_id` proved they read their address.
pub async fn mark_verified<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> ApiResult<()> {
    Global::new(conn)
        .update_many::<user::Entity>()
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Sets the language of `user`'s emails.
pub async fn set_locale(
    conn: &impl ConnectionTrait,
    user: &UserPrincipal,
    locale: &str,
) -> ApiResult<user::Model> {
    Ok(Global::new(conn)
        .update(user::ActiveModel {
            id: Set(user.user_id),
            locale: Set(locale.to_owned()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?)
}
