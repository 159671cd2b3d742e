//! Invitations: single-use, random codes stored hashed, expiring (7 days by default).

use super::roles::{ensure_can_grant, get_role};
use crate::app::App;
use crate::auth::UserPrincipal;
use crate::auth::{OpaqueSecret, sha256_hex};
use crate::db::AcrossTenants;
use crate::db::{Global, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ClientInfo;
use crate::identity::account_mail::{self, Queued};
use crate::identity::account_render::{Kind, Vars};
use crate::identity::brute_force::{self, Guarded};
use crate::identity::service::{self as identity, Issued};
use crate::rbac::{BuiltinRole, WorkspaceAccess};
use crate::types::{Email, Password};
use chrono::{Duration, Utc};
use entity::user::UserStatus;
use entity::{invitation, membership};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Invites `email` with `role_id`: the code travels only in the invitation email, queued in the
/// same transaction (the inviter never sees it, so accepting proves the invitee reads that
/// address). An inviter whose own address is unproved is refused: nobody mails strangers in
/// the name of an address they may not own.
pub async fn invite(
    app: &App,
    caller: &WorkspaceAccess,
    email: &str,
    role_id: Uuid,
) -> ApiResult<invitation::Model> {
    let email = Email::parse(email)?;
    let inviter = identity::get_user(app.db.conn(), caller.user_id).await?;
    if inviter.email_verified_at.is_none() {
        return Err(ApiError::forbidden(
            "confirm your email address (the link sent to it) before inviting anyone",
        ));
    }
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
    let space = Global::new(&*txn)
        .find_by_id::<entity::workspace::Entity>(caller.workspace_id)
        .await?
        .ok_or(ApiError::NotFound("workspace"))?;
    account_mail::queue(
        &*txn,
        &app.account_mail,
        Queued {
            kind: Kind::Invitation,
            to: &created.email,
            user_id: None,
            workspace_id: Some(caller.workspace_id),
            locale: &inviter.locale,
            vars: Vars {
                workspace: Some(
                    space
                        .email_sender_name
                        .or(space.display_name)
                        .unwrap_or(space.name),
                ),
                inviter: Some(inviter.name),
                role: Some(role.name),
                hours: ttl.num_hours().max(1),
                ..Vars::default()
            },
            secret: Some(&code.value),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
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

/// The one answer of `acceptInvitation` for an invitation addressed to an existing account,
/// whatever its password, status or MFA: no password is ever checked here, so this door cannot
/// be used to guess one or to sign in around MFA.
pub const SIGN_IN_TO_ACCEPT: &str =
    "sign in to accept this invitation: an existing account joins with joinWorkspace";

/// A pending, unexpired invitation by its code (every refusal names the code field).
async fn usable_invitation(app: &App, code: &str) -> ApiResult<invitation::Model> {
    let hash = sha256_hex(code.trim());
    let found = AcrossTenants::because(
        "an invitation's code is its proof of access, before its workspace is known",
    )
    .find::<invitation::Entity>()
    .filter(invitation::Column::CodeHash.eq(hash))
    .one(app.db.conn())
    .await?
    .ok_or_else(|| ApiError::bad_field("code", "this invitation code is not valid"))?;
    check_usable(&found)?;
    Ok(found)
}

/// Accepts an invitation as a new person: creates the account, adds the membership and signs
/// in. An invitation for an email that already has an account answers [`SIGN_IN_TO_ACCEPT`]
/// (the account joins while signed in, through [`join_workspace`], MFA included). Every
/// attempt counts against the invited account's login budget, like `login`.
pub async fn accept_invitation(
    app: &App,
    code: &str,
    name: Option<&str>,
    password: &str,
    client: &ClientInfo,
) -> ApiResult<Issued> {
    let found = usable_invitation(app, code).await?;
    let email = Email::parse(&found.email)?;
    brute_force::attempt(app, Guarded::Login, None, Some(email.as_str())).await?;
    if identity::find_user_by_email(app.db.conn(), &email)
        .await?
        .is_some()
    {
        return Err(ApiError::unauthenticated(SIGN_IN_TO_ACCEPT));
    }
    let password = Password::parse_new(password, "password")?;
    let name =
        name.ok_or_else(|| ApiError::bad_field("name", "a name is needed to create the account"))?;
    let hash = app.hasher.hash(password.expose()).await?;
    let txn = app.db.begin().await?;
    // A concurrent registration of the same email answers CONFLICT here.
    let user =
        identity::create_user(&*txn, &email, name, hash, UserStatus::Active, false, true).await?;
    claim(&txn.scoped(found.workspace_id), &found, user.id).await?;
    let issued = identity::open_session(app, &*txn, user, client).await?;
    txn.commit().await?;
    app.access
        .invalidate_user(found.workspace_id, issued.user.id)
        .await?;
    Ok(issued)
}

/// A signed-in user accepts an invitation addressed to their own email: the membership is added
/// to their account; no session is opened (theirs already passed MFA). A code for another email
/// answers like an unknown one.
pub async fn join_workspace(
    app: &App,
    caller: &UserPrincipal,
    code: &str,
) -> ApiResult<(entity::workspace::Model, membership::Model)> {
    let found = usable_invitation(app, code).await?;
    let user = identity::get_user(app.db.conn(), caller.user_id).await?;
    if !user.email.eq_ignore_ascii_case(&found.email) {
        return Err(ApiError::bad_field(
            "code",
            "this invitation code is not valid",
        ));
    }
    let txn = app.db.begin().await?;
    let member = claim(&txn.scoped(found.workspace_id), &found, user.id).await?;
    if user.email_verified_at.is_none() {
        // The code reached this address by email: the address is proved.
        identity::mark_verified(&*txn, user.id).await?;
    }
    let workspace = Global::new(&*txn)
        .find_by_id::<entity::workspace::Entity>(found.workspace_id)
        .await?
        .ok_or(ApiError::NotFound("workspace"))?;
    txn.commit().await?;
    app.access
        .invalidate_user(found.workspace_id, user.id)
        .await?;
    Ok((workspace, member))
}

/// Claims the code for `user_id` and adds the membership. Zero claimed rows means the code was
/// used or revoked meanwhile.
async fn claim<C: sea_orm::ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    found: &invitation::Model,
    user_id: Uuid,
) -> ApiResult<membership::Model> {
    let claimed = scoped
        .update_many::<invitation::Entity>()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(Utc::now()))
        .col_expr(invitation::Column::AcceptedBy, Expr::value(user_id))
        .filter(invitation::Column::Id.eq(found.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(scoped.conn())
        .await?;
    if claimed.rows_affected == 0 {
        return Err(ApiError::bad_field(
            "code",
            "this invitation was already used or revoked",
        ));
    }
    let already = scoped
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user_id))
        .one(scoped.conn())
        .await?;
    if already.is_some() {
        return Err(ApiError::conflict(
            "you are already a member of this workspace",
        ));
    }
    super::service::add_member(scoped, user_id, found.role_id).await
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
