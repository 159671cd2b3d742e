//! Invitations: single-use, random codes stored hashed, expiring (7 days by default).

use super::roles::{ensure_can_grant, get_role};
use crate::app::App;
use crate::auth::{OpaqueSecret, sha256_hex};
use crate::db::{Global, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ClientInfo;
use crate::identity::service::{self as identity, Issued};
use crate::rbac::{BuiltinRole, WorkspaceAccess};
use crate::types::{Email, Password};
use chrono::{Duration, Utc};
use entity::user::UserStatus;
use entity::{invitation, membership};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Invites `email` with `role_id`; returns the invitation and its code (shown once).
pub async fn invite(
    app: &App,
    caller: &WorkspaceAccess,
    email: &str,
    role_id: Uuid,
) -> ApiResult<(invitation::Model, String)> {
    let email = Email::parse(email)?;
    let scoped = Scoped::new(app.db.conn(), caller.workspace_id);
    let role = get_role(&scoped, role_id).await?;
    if role.builtin == Some(BuiltinRole::Owner) {
        return Err(ApiError::forbidden(
            "nobody can be invited as owner; transfer ownership instead",
        ));
    }
    ensure_can_grant(caller, role.permissions)?;
    if let Some(user) = identity::find_user_by_email(app.db.conn(), &email).await? {
        let already = scoped
            .find::<membership::Entity>()
            .filter(membership::Column::UserId.eq(user.id))
            .one(app.db.conn())
            .await?;
        if already.is_some() {
            return Err(ApiError::conflict("this person is already a member"));
        }
    }
    let code = OpaqueSecret::generate("inv");
    let now = Utc::now();
    let ttl =
        Duration::seconds(i64::try_from(app.config.invitation_ttl_secs).unwrap_or(7 * 24 * 3600));
    let txn = app.db.begin().await?;
    let created = txn
        .scoped(caller.workspace_id)
        .insert(invitation::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(caller.workspace_id),
            email: Set(email.into_inner()),
            role_id: Set(role.id),
            code_hash: Set(code.hash),
            invited_by: Set(caller.user_id),
            created_at: Set(now),
            expires_at: Set(now + ttl),
            accepted_at: Set(None),
            accepted_by: Set(None),
            revoked_at: Set(None),
        })
        .await?;
    txn.commit().await?;
    Ok((created, code.value))
}

/// Invitations of the workspace, newest first.
pub async fn list_invitations(
    app: &App,
    caller: &WorkspaceAccess,
) -> ApiResult<Vec<invitation::Model>> {
    let scoped = Scoped::new(app.db.conn(), caller.workspace_id);
    Ok(scoped
        .find::<invitation::Entity>()
        .order_by_desc(invitation::Column::Id)
        .all(app.db.conn())
        .await?)
}

/// Revokes a pending invitation.
pub async fn revoke_invitation(
    app: &App,
    caller: &WorkspaceAccess,
    id: Uuid,
) -> ApiResult<invitation::Model> {
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(caller.workspace_id);
    let found = scoped
        .find_by_id::<invitation::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("invitation"))?;
    if found.accepted_at.is_some() {
        return Err(ApiError::bad_input("this invitation was already accepted"));
    }
    let mut model: invitation::ActiveModel = found.into();
    model.revoked_at = Set(Some(Utc::now()));
    let updated = scoped.update(model).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Accepts an invitation: creates the account (or, with its password, links an existing one),
/// adds the membership and signs in.
pub async fn accept_invitation(
    app: &App,
    code: &str,
    name: Option<&str>,
    password: &str,
    client: &ClientInfo,
) -> ApiResult<Issued> {
    let invalid = || ApiError::bad_field("code", "this invitation code is not valid");
    let hash = sha256_hex(code.trim());
    let found = Global::new(app.db.conn())
        .invitation_by_code_hash(&hash)
        .one(app.db.conn())
        .await?
        .ok_or_else(invalid)?;
    check_usable(&found)?;
    let email = Email::parse(&found.email)?;

    // Prove identity (or prepare the new account) before taking the write transaction.
    let existing = identity::find_user_by_email(app.db.conn(), &email).await?;
    let new_hash = match &existing {
        Some(user) => {
            if !app
                .hasher
                .verify(password, Some(&user.password_hash))
                .await?
            {
                return Err(ApiError::unauthenticated(
                    "an account with this email exists: enter its password to accept",
                ));
            }
            if user.status == UserStatus::Disabled {
                return Err(ApiError::unauthenticated("this account is disabled"));
            }
            None
        }
        None => {
            let password = Password::parse_new(password, "password")?;
            Some(app.hasher.hash(password.expose()).await?)
        }
    };

    let txn = app.db.begin().await?;
    let scoped = txn.scoped(found.workspace_id);
    let user = match (existing, new_hash) {
        (Some(user), _) => user,
        (None, Some(hash)) => {
            let name = name.ok_or_else(|| {
                ApiError::bad_field("name", "a name is needed to create the account")
            })?;
            identity::create_user(&*txn, &email, name, hash, UserStatus::Active, false).await?
        }
        (None, None) => {
            return Err(ApiError::internal(anyhow::anyhow!(
                "no password hash for a new account"
            )));
        }
    };
    // Claim the code: zero rows means it was used or revoked meanwhile.
    let claimed = scoped
        .update_many::<invitation::Entity>()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(Utc::now()))
        .col_expr(invitation::Column::AcceptedBy, Expr::value(user.id))
        .filter(invitation::Column::Id.eq(found.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(&*txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(ApiError::bad_field(
            "code",
            "this invitation was already used or revoked",
        ));
    }
    let already = scoped
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user.id))
        .one(&*txn)
        .await?;
    if already.is_some() {
        return Err(ApiError::conflict(
            "you are already a member of this workspace",
        ));
    }
    let now = Utc::now();
    scoped
        .insert(membership::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(found.workspace_id),
            user_id: Set(user.id),
            role_id: Set(found.role_id),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    let user_id = user.id;
    let issued = identity::open_session(app, &*txn, user, client).await?;
    txn.commit().await?;
    app.access
        .invalidate_user(found.workspace_id, user_id)
        .await?;
    Ok(issued)
}

fn check_usable(found: &invitation::Model) -> ApiResult<()> {
    if found.revoked_at.is_some() {
        return Err(ApiError::bad_field("code", "this invitation was revoked"));
    }
    if found.accepted_at.is_some() {
        return Err(ApiError::bad_field(
            "code",
            "this invitation was already used",
        ));
    }
    if found.expires_at <= Utc::now() {
        return Err(ApiError::bad_field(
            "code",
            "this invitation has expired; ask for a new one",
        ));
    }
    Ok(())
}
