//! Upload links: staff hand someone without an account an expiring, upload-only link into a
//! client-zone folder, optionally with a PIN and a file-count limit. Only the token's sha256 is
//! stored; the PIN is kept as an HMAC keyed by the token, so the database alone cannot be used to
//! guess it, and wrong PINs are counted (five per link per 15 minutes). A revoked, expired or
//! unknown link answers the same NOT_FOUND.

use super::Files;
use super::rules;
use super::uploader::link_folder;
use crate::auth::OpaqueSecret;
use crate::db::{AcrossTenants, Db, Global, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility;
use chrono::Utc;
use entity::{file_upload, membership, upload_link, user};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use sha2::Sha256;
use std::time::Duration;
use uuid::Uuid;

/// Wrong PINs allowed per link per window.
const PIN_ATTEMPTS: u64 = 5;
const PIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A link to create.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub folder_id: Uuid,
    pub name: String,
    pub expires_in_hours: i32,
    pub pin: Option<String>,
    pub max_files: Option<i32>,
}

fn pin_hash(token: &str, pin: &str) -> ApiResult<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).map_err(ApiError::internal)?;
    mac.update(pin.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// Creates a link (staff): the link, and its token, shown once.
pub async fn create(
    db: &Db,
    access: &WorkspaceAccess,
    input: NewLink,
) -> ApiResult<(upload_link::Model, String)> {
    rules::require_staff(access)?;
    let name = crate::types::text::required("name", &input.name, 200)?;
    if !(1..=720).contains(&input.expires_in_hours) {
        return Err(ApiError::bad_field("expiresInHours", "1 to 720 hours"));
    }
    if input
        .pin
        .as_deref()
        .is_some_and(|p| !(4..=12).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::bad_field("pin", "4 to 12 digits"));
    }
    if input.max_files.is_some_and(|m| !(1..=1000).contains(&m)) {
        return Err(ApiError::bad_field("maxFiles", "1 to 1000 files"));
    }
    let txn = db.begin().await?;
    let folder = link_folder(&*txn, access, input.folder_id).await?;
    let token = OpaqueSecret::generate("pul");
    let now = Utc::now();
    let link = txn
        .scoped(access.workspace_id)
        .insert(upload_link::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            project_id: Set(folder.project_id),
            folder_id: Set(folder.id),
            name: Set(name),
            token_hash: Set(token.hash.clone()),
            pin_hash: Set(input
                .pin
                .as_deref()
                .map(|p| pin_hash(&token.value, p))
                .transpose()?),
            max_files: Set(input.max_files),
            files_used: Set(0),
            created_by: Set(access.user_id),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::hours(i64::from(input.expires_in_hours))),
            revoked_at: Set(None),
        })
        .await?;
    txn.commit().await?;
    Ok((link, token.value))
}

/// The links of a project (staff), newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    project_id: Uuid,
) -> ApiResult<Vec<upload_link::Model>> {
    visibility::get_visible(conn, access, project_id).await?;
    rules::require_staff(access)?;
    Ok(Scoped::new(conn, access.workspace_id)
        .find::<upload_link::Entity>()
        .filter(upload_link::Column::ProjectId.eq(project_id))
        .order_by_desc(upload_link::Column::Id)
        .all(conn)
        .await?)
}

/// Revokes a link (staff); its open uploads can no longer complete.
pub async fn revoke(db: &Db, access: &WorkspaceAccess, id: Uuid) -> ApiResult<upload_link::Model> {
    let txn = db.begin().await?;
    let scoped = txn.scoped(access.workspace_id);
    let visible_projects =
        rules::in_visible_project(&scoped, access, upload_link::Column::ProjectId);
    let link = scoped
        .find::<upload_link::Entity>()
        .filter(upload_link::Column::Id.eq(id))
        .filter(visible_projects)
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound("upload link"))?;
    rules::require_staff(access)?;
    let revoked = scoped
        .update(upload_link::ActiveModel {
            id: Set(link.id),
            revoked_at: Set(Some(link.revoked_at.unwrap_or_else(Utc::now))),
            ..Default::default()
        })
        .await?;
    txn.commit().await?;
    Ok(revoked)
}

/// The live link of `token`, its PIN checked; NOT_FOUND for an unknown, expired or revoked one.
pub async fn open(f: Files<'_>, token: &str, pin: Option<&str>) -> ApiResult<upload_link::Model> {
    let conn = f.db.conn();
    let link = AcrossTenants::because(
        "an upload link is found by its token, before its workspace is known",
    )
    .find::<upload_link::Entity>()
    .filter(upload_link::Column::TokenHash.eq(crate::auth::sha256_hex(token)))
    .one(conn)
    .await?
    .filter(|l| l.revoked_at.is_none() && l.expires_at > Utc::now())
    .ok_or(ApiError::NotFound("upload link"))?;
    // A link speaks for its creator: it stops when they are no longer an ACTIVE member.
    let creator_active = Global::new(conn)
        .find_by_id::<user::Entity>(link.created_by)
        .await?
        .is_some_and(|u| u.status == user::UserStatus::Active);
    let still_member = Scoped::new(conn, link.workspace_id)
        .find::<membership::Entity>()
        .filter(membership::Column::UserId.eq(link.created_by))
        .one(conn)
        .await?
        .is_some();
    if !(creator_active && still_member) {
        return Err(ApiError::NotFound("upload link"));
    }
    if let Some(expected) = &link.pin_hash {
        let key = format!("files:linkpin:{}", link.id);
        let failures = f.cache.get(&key).await.map_err(ApiError::internal)?;
        if failures.and_then(|n| n.parse::<u64>().ok()).unwrap_or(0) >= PIN_ATTEMPTS {
            return Err(ApiError::RateLimited {
                retry_after_secs: PIN_WINDOW.as_secs(),
            });
        }
        let given = pin.map(|p| pin_hash(token, p)).transpose()?;
        let matches = given.is_some_and(|g| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                g.as_bytes(),
                expected.as_bytes(),
            ))
        });
        if !matches {
            f.cache
                .incr(&key, PIN_WINDOW)
                .await
                .map_err(ApiError::internal)?;
            return Err(ApiError::forbidden("this upload link needs its PIN"));
        }
    }
    Ok(link)
}

/// Refuses a new upload once the link's files, done and under way, reach its limit.
pub async fn ensure_room<C: ConnectionTrait>(conn: &C, link: &upload_link::Model) -> ApiResult<()> {
    let Some(max) = link.max_files else {
        return Ok(());
    };
    let open = Scoped::new(conn, link.workspace_id)
        .find::<file_upload::Entity>()
        .filter(file_upload::Column::UploadLinkId.eq(link.id))
        .filter(file_upload::Column::CompletedAt.is_null())
        .filter(file_upload::Column::ExpiresAt.gt(Utc::now()))
        .count(conn)
        .await?;
    if u64::try_from(link.files_used).unwrap_or(0) + open >= u64::try_from(max).unwrap_or(0) {
        return Err(ApiError::conflict("this upload link takes no more files"));
    }
    Ok(())
}

/// Counts a completed file against the link, in the completion's transaction.
pub async fn count_file<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    link: &upload_link::Model,
) -> ApiResult<()> {
    let counted = scoped
        .update_many::<upload_link::Entity>()
        .col_expr(
            upload_link::Column::FilesUsed,
            Expr::col(upload_link::Column::FilesUsed).add(1),
        )
        .filter(upload_link::Column::Id.eq(link.id))
        .filter(upload_link::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(upload_link::Column::MaxFiles.is_null())
                .add(
                    Expr::col(upload_link::Column::FilesUsed)
                        .lt(Expr::col(upload_link::Column::MaxFiles)),
                ),
        )
        .exec(scoped.conn())
        .await?;
    if counted.rows_affected != 1 {
        return Err(ApiError::conflict("this upload link takes no more files"));
    }
    Ok(())
}
