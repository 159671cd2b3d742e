//! Each person's say in how they hear of things, per workspace, kind of event and channel: email
//! `ALWAYS`, `WHEN_NOT_ACTIVE` (the default: no email while they are in the portal), `NEVER` or
//! `DAILY_DIGEST` (once a day, all together);
//! in-app `ALWAYS` or `NEVER` (a muted notification arrives already read and is not pushed).
//! Payment receipts by email cannot be turned off.

use super::triggers::{ACTIONS, MESSAGE_ADDED};
use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use chrono::Utc;
use entity::notification_preference as pref;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

pub const EMAIL: &str = "EMAIL";
pub const IN_APP: &str = "IN_APP";
pub const ALWAYS: &str = "ALWAYS";
pub const WHEN_NOT_ACTIVE: &str = "WHEN_NOT_ACTIVE";
pub const NEVER: &str = "NEVER";
pub const DAILY_DIGEST: &str = "DAILY_DIGEST";

/// Kinds whose email is a receipt: always sent.
const RECEIPTS: &[&str] = &["payment.paid"];

/// Whether `kind` on `channel` is fixed at `ALWAYS`.
pub fn locked(kind: &str, channel: &str) -> bool {
    channel == EMAIL && RECEIPTS.contains(&kind)
}

/// The mode when the person chose none.
pub fn default_mode(kind: &str, channel: &str) -> &'static str {
    if channel == IN_APP || locked(kind, channel) {
        ALWAYS
    } else {
        WHEN_NOT_ACTIVE
    }
}

/// The modes of `users` for `kind` on `channel`: their own, or the default.
pub async fn modes<C: ConnectionTrait>(
    conn: &C,
    workspace_id: Uuid,
    kind: &str,
    channel: &str,
    users: &[Uuid],
) -> ApiResult<HashMap<Uuid, String>> {
    let mut modes: HashMap<Uuid, String> = users
        .iter()
        .map(|u| (*u, default_mode(kind, channel).to_owned()))
        .collect();
    if locked(kind, channel) || users.is_empty() {
        return Ok(modes);
    }
    let chosen = Scoped::new(conn, workspace_id)
        .find::<pref::Entity>()
        .filter(pref::Column::Kind.eq(kind))
        .filter(pref::Column::Channel.eq(channel))
        .filter(pref::Column::UserId.is_in(users.iter().copied()))
        .all(conn)
        .await?;
    for row in chosen {
        modes.insert(row.user_id, row.mode);
    }
    Ok(modes)
}

/// Every (kind, channel, mode) of the caller, their own or the default.
pub async fn all<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
) -> ApiResult<Vec<(&'static str, &'static str, String)>> {
    let chosen: HashMap<(String, String), String> = Scoped::new(conn, access.workspace_id)
        .find::<pref::Entity>()
        .filter(pref::Column::UserId.eq(access.user_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| ((p.kind, p.channel), p.mode))
        .collect();
    let mut all = Vec::new();
    for kind in ACTIONS.iter().copied().chain([MESSAGE_ADDED]) {
        for channel in [EMAIL, IN_APP] {
            let mode = match chosen.get(&(kind.to_owned(), channel.to_owned())) {
                Some(mode) if !locked(kind, channel) => mode.clone(),
                _ => default_mode(kind, channel).to_owned(),
            };
            all.push((kind, channel, mode));
        }
    }
    Ok(all)
}

/// Sets the caller's mode for `kind` on `channel`.
pub async fn set(
    db: &Db,
    access: &WorkspaceAccess,
    kind: &str,
    channel: &str,
    mode: &str,
) -> ApiResult<()> {
    if locked(kind, channel) && mode != ALWAYS {
        return Err(ApiError::bad_field(
            "mode",
            "payment receipts are always sent by email",
        ));
    }
    if channel == IN_APP && (mode == WHEN_NOT_ACTIVE || mode == DAILY_DIGEST) {
        return Err(ApiError::bad_field(
            "mode",
            "in the portal, a notification is either shown or not",
        ));
    }
    set_for(db, access.workspace_id, access.user_id, kind, channel, mode).await
}

/// Sets `user_id`'s mode for `kind` on `channel` in `workspace_id`, as given (checked by the
/// caller: the settings page, or a genuine unsubscribe link).
pub async fn set_for(
    db: &Db,
    workspace_id: Uuid,
    user_id: Uuid,
    kind: &str,
    channel: &str,
    mode: &str,
) -> ApiResult<()> {
    let scoped = Scoped::new(db.conn(), workspace_id);
    let now = Utc::now();
    // SQLite's one writer at a time (see `Db::writer`), for both statements.
    let _turn = db.writer().await;
    let inserted = scoped
        .insert_new(
            pref::ActiveModel {
                id: Set(Uuid::now_v7()),
                workspace_id: Set(workspace_id),
                user_id: Set(user_id),
                kind: Set(kind.to_owned()),
                channel: Set(channel.to_owned()),
                mode: Set(mode.to_owned()),
                updated_at: Set(now),
            },
            [
                pref::Column::WorkspaceId,
                pref::Column::UserId,
                pref::Column::Kind,
                pref::Column::Channel,
            ],
        )
        .await?;
    if !inserted {
        scoped
            .update_many::<pref::Entity>()
            .col_expr(pref::Column::Mode, Expr::value(mode))
            .col_expr(pref::Column::UpdatedAt, Expr::value(now))
            .filter(pref::Column::UserId.eq(user_id))
            .filter(pref::Column::Kind.eq(kind))
            .filter(pref::Column::Channel.eq(channel))
            .exec(db.conn())
            .await?;
    }
    Ok(())
}
