//! The mail job: claims due emails (never one another sender holds), asks the access layer
//! whether the recipient may still be told and their preferences whether they want it now (not
//! while they are in the portal, by default), renders the email for them and sends it. A failure
//! worth retrying waits with exponential backoff (30 s doubling, at most 6 h); after
//! `MAIL_MAX_ATTEMPTS`, or at once for a permanent refusal, the email is dead-lettered with its
//! last error. SMTP down: emails wait, nothing is lost.
//!
//! The one window that cannot be closed: the server accepted an email and this instance stopped
//! before recording it sent. The claim then lapses and the email goes again; everything else
//! (a redelivered event, two senders) sends nothing twice.

use super::Notify;
use super::fanout::QUEUED;
use super::render::{self, NotificationMail};
use super::{grouping, preferences, unsubscribe};
use crate::db::{AcrossTenants, Global, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::mail::SendError;
use crate::rbac::audience::{self, Told};
use chrono::{DateTime, Duration, Utc};
use entity::{email_delivery, notification, project, user, workspace};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, QueryFilter, QueryOrder, QuerySelect};

pub const RETRYING: &str = "RETRYING";
pub const SENT: &str = "SENT";
/// The recipient may no longer be told.
pub const SKIPPED: &str = "SKIPPED";
pub const DEAD: &str = "DEAD";

/// Emails claimed per run.
const BATCH: u64 = 50;
/// How long a claim lasts: longer than one send with its timeouts.
const CLAIM: Duration = Duration::minutes(2);

pub(super) enum Outcome {
    Sent { to: String, provider_id: String },
    Skipped(&'static str),
    Failed(SendError),
}

/// Sends what is due at `now`, batch after batch, until nothing due is left or a run's
/// `MAIL_SEND_INTERVAL_SECS` have passed (the next run takes the rest); returns the emails
/// settled (sent, skipped or dead).
pub async fn send_due(n: Notify<'_>, now: DateTime<Utc>) -> ApiResult<u64> {
    let interval = std::time::Duration::from_secs(n.config.mail_send_interval_secs.max(1));
    let until = std::time::Instant::now() + interval;
    let mut settled = 0;
    loop {
        let (done, read) = send_batch(n, now).await?;
        settled += done;
        // Each batch claims or settles what it read, so the next one reads other rows.
        if read < BATCH || std::time::Instant::now() >= until {
            return Ok(settled);
        }
    }
}

/// One batch: answers the emails settled and the rows read.
async fn send_batch(n: Notify<'_>, now: DateTime<Utc>) -> ApiResult<(u64, u64)> {
    let due = AcrossTenants::because("the mail job sends every workspace's queued email")
        .find::<email_delivery::Entity>()
        .filter(email_delivery::Column::Status.is_in([QUEUED, RETRYING]))
        .filter(email_delivery::Column::AvailableAt.lte(now))
        .filter(unclaimed(now))
        .order_by_asc(email_delivery::Column::AvailableAt)
        .limit(BATCH)
        .all(n.db.conn())
        .await?;
    let read = due.len() as u64;
    let mut settled = 0;
    for row in due {
        if !claim(n, &row, now).await? {
            continue;
        }
        if super::digest::is_digest(&row) {
            match super::digest::send(n, &row, now).await {
                Ok(done) => settled += done,
                Err(e) => {
                    // The emails it claimed wait for their claims to lapse, then go again.
                    tracing::error!(email = %row.id, error = ?e.into_anyhow(), "sending a digest failed");
                }
            }
            continue;
        }
        let group = grouping::gather(n, &row, now).await?;
        let outcome = match send_one(n, &row, &group).await {
            Ok(outcome) => outcome,
            Err(e) => {
                // The cause is logged; the email log (which admins read) says only this.
                tracing::error!(email = %row.id, error = ?e.into_anyhow(), "preparing an email failed");
                Outcome::Failed(SendError::Transient(anyhow::anyhow!(
                    "an internal error, logged on the server"
                )))
            }
        };
        for (email, _) in &group {
            settled += u64::from(record(n, email, &outcome).await?);
        }
        settled += u64::from(record(n, &row, &outcome).await?);
    }
    Ok((settled, read))
}

pub(super) fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(email_delivery::Column::ClaimedUntil.is_null())
        .add(email_delivery::Column::ClaimedUntil.lt(now))
}

/// Takes `row` for this sender, unless another took it since it was read.
pub(super) async fn claim(
    n: Notify<'_>,
    row: &email_delivery::Model,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let conn = n.db.conn();
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = n.db.writer().await;
    let claimed = Scoped::new(conn, row.workspace_id)
        .update_many::<email_delivery::Entity>()
        .col_expr(
            email_delivery::Column::ClaimedUntil,
            Expr::value(now + CLAIM),
        )
        .filter(email_delivery::Column::Id.eq(row.id))
        .filter(email_delivery::Column::Attempts.eq(row.attempts))
        .filter(email_delivery::Column::Status.is_in([QUEUED, RETRYING]))
        .filter(unclaimed(now))
        .exec(conn)
        .await?;
    drop(turn);
    Ok(claimed.rows_affected == 1)
}

/// Re-authorizes, renders and sends one email (with the lines of the `group` going with it).
async fn send_one(
    n: Notify<'_>,
    row: &email_delivery::Model,
    group: &[(email_delivery::Model, String)],
) -> ApiResult<Outcome> {
    let conn = n.db.conn();
    let scoped = Scoped::new(conn, row.workspace_id);
    let Some(note) = row.notification_id else {
        return Ok(Outcome::Skipped("nothing to send"));
    };
    let Some(note) = scoped.find_by_id::<notification::Entity>(note).await? else {
        return Ok(Outcome::Skipped("the notification is gone"));
    };
    let told = Told {
        workspace_id: row.workspace_id,
        project_id: note.project_id,
        staff_only: note.staff_only,
    };
    if audience::may_be_told(conn, told, row.user_id)
        .await?
        .is_none()
    {
        return Ok(Outcome::Skipped("the recipient may no longer see this"));
    }
    let modes = preferences::modes(
        conn,
        row.workspace_id,
        &note.kind,
        preferences::EMAIL,
        &[row.user_id],
    )
    .await?;
    match modes.get(&row.user_id).map(String::as_str) {
        Some(preferences::NEVER) => return Ok(Outcome::Skipped("turned off by the recipient")),
        Some(preferences::WHEN_NOT_ACTIVE) if n.presence.is_active(row.user_id).await => {
            return Ok(Outcome::Skipped("the recipient was active in the portal"));
        }
        _ => {}
    }
    let global = Global::new(conn);
    let (Some(recipient), Some(space), Some(project)) = (
        global.find_by_id::<user::Entity>(row.user_id).await?,
        global
            .find_by_id::<workspace::Entity>(row.workspace_id)
            .await?,
        scoped
            .find_by_id::<project::Entity>(note.project_id)
            .await?,
    ) else {
        return Ok(Outcome::Skipped(
            "the recipient, workspace or project is gone",
        ));
    };
    let link = format!(
        "{}/projects/{}",
        n.base_url.trim_end_matches('/'),
        project.id
    );
    let unsubscribe = unsubscribe::link(
        n.links,
        n.base_url,
        row.workspace_id,
        row.user_id,
        &note.kind,
    );
    let mail = render::notification(&NotificationMail {
        to: &recipient.email,
        recipient: &recipient.name,
        brand: render::Brand::of(&space),
        project: &project.name,
        kind: &note.kind,
        summary: &note.summary,
        more: &group
            .iter()
            .map(|(_, line)| line.as_str())
            .collect::<Vec<_>>(),
        link: &link,
        unsubscribe: unsubscribe.as_deref(),
        locale: &recipient.locale,
    })
    .map_err(|e| ApiError::internal(anyhow::anyhow!("rendering an email: {e:#}")))?;
    Ok(match n.mailer.send(&mail).await {
        Ok(provider_id) => Outcome::Sent {
            to: recipient.email,
            provider_id,
        },
        Err(e) => Outcome::Failed(e),
    })
}

/// Records how a send went; `true` when the email is settled.
pub(super) async fn record(
    n: Notify<'_>,
    row: &email_delivery::Model,
    outcome: &Outcome,
) -> ApiResult<bool> {
    let conn = n.db.conn();
    let now = Utc::now();
    let attempts = row.attempts.saturating_add(1);
    let update = Scoped::new(conn, row.workspace_id)
        .update_many::<email_delivery::Entity>()
        .col_expr(
            email_delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        );
    let (update, settled) = match outcome {
        Outcome::Sent { to, provider_id } => (
            update
                .col_expr(email_delivery::Column::Status, Expr::value(SENT))
                .col_expr(email_delivery::Column::ToAddress, Expr::value(to.as_str()))
                .col_expr(
                    email_delivery::Column::ProviderId,
                    Expr::value(provider_id.as_str()),
                )
                .col_expr(email_delivery::Column::SentAt, Expr::value(now)),
            true,
        ),
        Outcome::Skipped(why) => (
            update
                .col_expr(email_delivery::Column::Status, Expr::value(SKIPPED))
                .col_expr(email_delivery::Column::LastError, Expr::value(*why)),
            true,
        ),
        Outcome::Failed(error) => {
            let dead =
                matches!(error, SendError::Permanent(_)) || attempts >= n.config.mail_max_attempts;
            tracing::warn!(email = %row.id, attempts, dead, %error, "an email was not sent");
            let status = if dead { DEAD } else { RETRYING };
            (
                update
                    .col_expr(email_delivery::Column::Status, Expr::value(status))
                    .col_expr(email_delivery::Column::Attempts, Expr::value(attempts))
                    .col_expr(
                        email_delivery::Column::AvailableAt,
                        Expr::value(now + crate::mail::retry_delay(attempts)),
                    )
                    .col_expr(
                        email_delivery::Column::LastError,
                        Expr::value(format!("{error}")),
                    ),
                dead,
            )
        }
    };
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = n.db.writer().await;
    update
        .filter(email_delivery::Column::Id.eq(row.id))
        .exec(conn)
        .await?;
    drop(turn);
    Ok(settled)
}
