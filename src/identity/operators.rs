//! Platform operators' control of accounts: ending every session of an account, and setting its
//! status (DISABLED also ends every session; every change is seen by the account's API keys).

use super::service::{get_user, live_sessions, revoke_sessions};
use crate::app::App;
use crate::auth::UserPrincipal;
use crate::error::{ApiError, ApiResult};
use chrono::Utc;
use entity::user;
use entity::user::UserStatus;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

/// A platform operator ends every session of an account. Their own answers BAD_USER_INPUT
/// (`logout` is the way); an unknown account NOT_FOUND.
pub async fn end_user_sessions(
    app: &App,
    caller: &UserPrincipal,
    user_id: Uuid,
) -> ApiResult<usize> {
    if user_id == caller.user_id {
        return Err(ApiError::bad_field(
            "userId",
            "to sign yourself out, use logout or revokeSession",
        ));
    }
    get_user(app.db.conn(), user_id).await?;
    let ended = revoke_sessions(app.db.conn(), user_id, None, None, "operator").await?;
    app.auth.forget_sessions(&ended).await;
    Ok(ended.len())
}

/// A platform operator sets an account's status. Disabling also ends every session.
pub async fn set_user_status(
    app: &App,
    caller: &UserPrincipal,
    user_id: Uuid,
    status: UserStatus,
) -> ApiResult<user::Model> {
    if user_id == caller.user_id {
        return Err(ApiError::forbidden("you cannot change your own status"));
    }
    let txn = app.db.begin().await?;
    let global = txn.global();
    let user = global
        .find_by_id::<user::Entity>(user_id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let mut model: user::ActiveModel = user.into();
    model.status = Set(status);
    model.updated_at = Set(Utc::now());
    let user = global.update(model).await?;
    // Every live session caches the status: all of them are read again.
    let sessions = if status == UserStatus::Disabled {
        revoke_sessions(&*txn, user.id, None, None, "disabled").await?
    } else {
        live_sessions(&*txn, user.id).await?
    };
    txn.commit().await?;
    app.auth.forget_sessions(&sessions).await;
    // The account's API keys act for it: its access everywhere is read again, so they stop (or
    // resume) on the next request and their subscriptions at the next event.
    app.access.invalidate_user_everywhere(user.id).await?;
    Ok(user)
}
