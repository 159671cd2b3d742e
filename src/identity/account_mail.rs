//! The account email queue: an invitation, a password reset or an address check is queued in
//! the transaction that creates its token (so it exists exactly when the token does), with the
//! secret sealed under its own key, and sent by the job `identity.send_email`. Sending follows
//! the notification emails' rules: a claim per sender, exponential backoff on temporary
//! failures, dead-lettered after `MAIL_MAX_ATTEMPTS` or a permanent refusal. The sealed secret
//! is erased once the email is sent or given up, so the table never keeps a usable token.
//!
//! These emails carry secrets, so they never enter the event outbox (whose rows reach live
//! subscribers, webhooks and audit exports); this queue is their own outbox.

use super::account_render::{self, AccountMail, Kind, Vars};
use crate::auth::sealing::SecretBox;
use crate::db::{Db, Global};
use crate::error::{ApiError, ApiResult};
use crate::mail::{Mailer, SendError};
use chrono::{DateTime, Duration, Utc};
use entity::account_email::{self, Column};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, QueryFilter};
use sea_orm::{QueryOrder, QuerySelect};
use uuid::Uuid;

pub const QUEUED: &str = "QUEUED";
pub const RETRYING: &str = "RETRYING";
pub const SENT: &str = "SENT";
pub const DEAD: &str = "DEAD";

const BATCH: u64 = 50;
const CLAIM: Duration = Duration::minutes(2);

/// An account email to queue.
#[derive(Debug, Clone)]
pub struct Queued<'a> {
    pub kind: Kind,
    pub to: &'a str,
    pub user_id: Option<Uuid>,
    pub workspace_id: Option<Uuid>,
    pub locale: &'a str,
    pub vars: Vars,
    /// The token or code the link carries.
    pub secret: Option<&'a str>,
}

/// Queues `mail` in the caller's transaction `conn`.
pub async fn queue<C: ConnectionTrait>(
    conn: &C,
    sealing: &SecretBox,
    mail: Queued<'_>,
) -> ApiResult<()> {
    let sealed = match mail.secret {
        Some(secret) => Some(
            sealing
                .seal(secret.as_bytes())
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let vars = serde_json::to_string(&mail.vars).map_err(ApiError::internal)?;
    let now = Utc::now();
    Global::new(conn)
        .insert(account_email::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(mail.kind.as_str().to_owned()),
            to_address: Set(mail.to.to_owned()),
            user_id: Set(mail.user_id),
            workspace_id: Set(mail.workspace_id),
            locale: Set(mail.locale.to_owned()),
            vars: Set(vars),
            sealed: Set(sealed),
            status: Set(QUEUED.to_owned()),
            attempts: Set(0),
            available_at: Set(now),
            claimed_until: Set(None),
            provider_id: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            sent_at: Set(None),
        })
        .await?;
    Ok(())
}

/// What the sender needs.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub db: &'a Db,
    pub mailer: &'a Mailer,
    pub sealing: &'a SecretBox,
    /// `PUBLIC_URL`: links point into the portal there.
    pub base_url: &'a str,
    pub max_attempts: i32,
}

/// Sends the account emails due at `now`; returns how many were settled (sent or dead).
pub async fn send_due(s: Sender<'_>, now: DateTime<Utc>) -> ApiResult<u64> {
    let conn = s.db.conn();
    let global = Global::new(conn);
    let due = global
        .find::<account_email::Entity>()
        .filter(Column::Status.is_in([QUEUED, RETRYING]))
        .filter(Column::AvailableAt.lte(now))
        .filter(unclaimed(now))
        .order_by_asc(Column::AvailableAt)
        .limit(BATCH)
        .all(conn)
        .await?;
    let mut settled = 0;
    for row in due {
        // SQLite's one writer at a time (see `Db::writer`).
        let turn = s.db.writer().await;
        let claimed = global
            .update_many::<account_email::Entity>()
            .col_expr(Column::ClaimedUntil, Expr::value(now + CLAIM))
            .filter(Column::Id.eq(row.id))
            .filter(Column::Attempts.eq(row.attempts))
            .filter(Column::Status.is_in([QUEUED, RETRYING]))
            .filter(unclaimed(now))
            .exec(conn)
            .await?;
        drop(turn);
        if claimed.rows_affected != 1 {
            continue;
        }
        let outcome = match send_one(s, &row).await {
            Ok(sent) => sent,
            Err(e) => {
                tracing::error!(email = %row.id, error = ?e, "preparing an account email failed");
                Err(SendError::Permanent(anyhow::anyhow!(
                    "an internal error, logged on the server"
                )))
            }
        };
        settled += u64::from(record(s, &row, outcome).await?);
    }
    Ok(settled)
}

fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(Column::ClaimedUntil.is_null())
        .add(Column::ClaimedUntil.lt(now))
}

async fn send_one(
    s: Sender<'_>,
    row: &account_email::Model,
) -> anyhow::Result<Result<String, SendError>> {
    let kind = Kind::parse(&row.kind)
        .ok_or_else(|| anyhow::anyhow!("unknown account email kind {}", row.kind))?;
    let vars: Vars = serde_json::from_str(&row.vars)?;
    let link = match (&row.sealed, kind.page()) {
        (Some(sealed), Some(page)) => {
            let secret = String::from_utf8(s.sealing.open(sealed)?)?;
            Some(format!(
                "{}{page}{secret}",
                s.base_url.trim_end_matches('/')
            ))
        }
        (None, Some(_)) => anyhow::bail!("the email's secret is gone"),
        _ => None,
    };
    let mail = account_render::render(&AccountMail {
        kind,
        to: &row.to_address,
        locale: &row.locale,
        vars: &vars,
        link: link.as_deref(),
    })?;
    Ok(s.mailer.send(&mail).await)
}

/// Records how a send went; `true` when the email is settled.
async fn record(
    s: Sender<'_>,
    row: &account_email::Model,
    outcome: Result<String, SendError>,
) -> ApiResult<bool> {
    let now = Utc::now();
    let attempts = row.attempts.saturating_add(1);
    let update = Global::new(s.db.conn())
        .update_many::<account_email::Entity>()
        .col_expr(Column::ClaimedUntil, Expr::value(None::<DateTime<Utc>>));
    let (update, settled) = match outcome {
        Ok(provider_id) => (
            update
                .col_expr(Column::Status, Expr::value(SENT))
                .col_expr(Column::ProviderId, Expr::value(provider_id))
                .col_expr(Column::SentAt, Expr::value(now))
                .col_expr(Column::Sealed, Expr::value(None::<String>)),
            true,
        ),
        Err(error) => {
            let dead = matches!(error, SendError::Permanent(_)) || attempts >= s.max_attempts;
            tracing::warn!(email = %row.id, kind = %row.kind, attempts, dead, %error, "an account email was not sent");
            let mut update = update
                .col_expr(
                    Column::Status,
                    Expr::value(if dead { DEAD } else { RETRYING }),
                )
                .col_expr(Column::Attempts, Expr::value(attempts))
                .col_expr(
                    Column::AvailableAt,
                    Expr::value(now + crate::mail::retry_delay(attempts)),
                )
                .col_expr(Column::LastError, Expr::value(format!("{error}")));
            if dead {
                update = update.col_expr(Column::Sealed, Expr::value(None::<String>));
            }
            (update, dead)
        }
    };
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = s.db.writer().await;
    update
        .filter(Column::Id.eq(row.id))
        .exec(s.db.conn())
        .await?;
    drop(turn);
    Ok(settled)
}
