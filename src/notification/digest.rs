//! The daily digest: a person who chose `DAILY_DIGEST` for a kind gets its emails once a day, at
//! `NOTIFY_DIGEST_HOUR` (UTC), as one email per workspace listing every line, project by
//! project. Each line is asked of the access layer again at send time: a line of a project the
//! person no longer sees is dropped (its email `SKIPPED`), and the digest goes only if a line
//! remains. Every email in it is claimed like any other, so two senders never send one twice.

use super::Notify;
use super::fanout::QUEUED;
use super::lines::localized;
use super::mailing::{Outcome, RETRYING, claim, record, unclaimed};
use super::render::{self, DigestMail};
use crate::db::{Global, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::audience::{self, Told};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use entity::{email_delivery, project, user, workspace};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

/// The end of a digest email's dedupe key.
const SUFFIX: &str = ":digest";
/// Most lines in one digest.
const MOST: u64 = 200;

/// The dedupe key of the digest email of `event` for `user`.
pub fn key(event: uuid::Uuid, user: uuid::Uuid) -> String {
    format!("{event}:{user}{SUFFIX}")
}

/// Whether `row` waits for a digest.
pub fn is_digest(row: &email_delivery::Model) -> bool {
    row.dedupe_key.ends_with(SUFFIX)
}

/// The next digest time after `now`: today at `hour` (UTC), or tomorrow.
pub fn next(now: DateTime<Utc>, hour: u32) -> DateTime<Utc> {
    let at = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
    let today = now.date_naive().and_time(at).and_utc();
    if today > now {
        today
    } else {
        today + Duration::days(1)
    }
}

/// Sends the digest that `row` leads (with every other digest email of its person and workspace
/// still waiting); returns the emails settled.
pub async fn send(
    n: Notify<'_>,
    row: &email_delivery::Model,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let conn = n.db.conn();
    let scoped = Scoped::new(conn, row.workspace_id);
    let mut emails = vec![row.clone()];
    let waiting = scoped
        .find::<email_delivery::Entity>()
        .filter(email_delivery::Column::UserId.eq(row.user_id))
        .filter(email_delivery::Column::Status.is_in([QUEUED, RETRYING]))
        .filter(email_delivery::Column::DedupeKey.like(format!("%{SUFFIX}")))
        .filter(email_delivery::Column::Id.ne(row.id))
        .filter(unclaimed(now))
        .order_by_asc(email_delivery::Column::Id)
        .limit(MOST - 1)
        .all(conn)
        .await?;
    for email in waiting {
        if claim(n, &email, now).await? {
            emails.push(email);
        }
    }
    let notes = super::grouping::notes_of(&scoped, &emails).await?;
    let projects: HashMap<_, _> = scoped
        .find::<project::Entity>()
        .filter(project::Column::Id.is_in(notes.values().map(|note| note.project_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let global = Global::new(conn);
    let (Some(recipient), Some(space)) = (
        global.find_by_id::<user::Entity>(row.user_id).await?,
        global
            .find_by_id::<workspace::Entity>(row.workspace_id)
            .await?,
    ) else {
        return settle(
            n,
            &emails,
            &Outcome::Skipped("the recipient or workspace is gone"),
        )
        .await;
    };
    let (mut lines, mut told, mut dropped) = (Vec::new(), Vec::new(), Vec::new());
    let mut answers: HashMap<(uuid::Uuid, bool), bool> = HashMap::new();
    for email in emails {
        let line = email
            .notification_id
            .and_then(|id| notes.get(&id))
            .and_then(|note| {
                let name = projects.get(&note.project_id)?;
                Some((note, name))
            });
        let allowed = match line {
            // One answer per project and audience: a digest's lines share few of them.
            Some((note, _)) => match answers.get(&(note.project_id, note.staff_only)) {
                Some(known) => *known,
                None => {
                    let about = Told {
                        workspace_id: row.workspace_id,
                        project_id: note.project_id,
                        staff_only: note.staff_only,
                    };
                    let told = audience::may_be_told(conn, about, row.user_id)
                        .await?
                        .is_some();
                    answers.insert((note.project_id, note.staff_only), told);
                    told
                }
            },
            None => false,
        };
        match line.filter(|_| allowed) {
            Some((note, name)) => {
                lines.push(format!(
                    "[{name}] {}",
                    localized(&note.summary, &recipient.locale)
                ));
                told.push(email);
            }
            None => dropped.push(email),
        }
    }
    let mut settled = settle(
        n,
        &dropped,
        &Outcome::Skipped("the recipient may no longer see this"),
    )
    .await?;
    if told.is_empty() {
        return Ok(settled);
    }
    let link = format!("{}/", n.base_url.trim_end_matches('/'));
    let mail = render::digest(&DigestMail {
        to: &recipient.email,
        recipient: &recipient.name,
        brand: render::Brand::of(&space),
        lines: &lines,
        link: &link,
        locale: &recipient.locale,
    })
    .map_err(|e| ApiError::internal(anyhow::anyhow!("rendering a digest: {e:#}")))?;
    let outcome = match n.mailer.send(&mail).await {
        Ok(provider_id) => Outcome::Sent {
            to: recipient.email,
            provider_id,
        },
        Err(e) => Outcome::Failed(e),
    };
    settled += settle(n, &told, &outcome).await?;
    Ok(settled)
}

async fn settle(
    n: Notify<'_>,
    emails: &[email_delivery::Model],
    outcome: &Outcome,
) -> ApiResult<u64> {
    let mut settled = 0;
    for email in emails {
        settled += u64::from(record(n, email, outcome).await?);
    }
    Ok(settled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_goes_at_the_next_hour_given() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            next(at("2026-11-30T06:30:00Z"), 8),
            at("2026-11-30T08:00:00Z")
        );
        assert_eq!(
            next(at("2026-11-30T08:00:00Z"), 8),
            at("2026-12-01T08:00:00Z")
        );
        assert_eq!(
            next(at("2026-11-30T23:59:00Z"), 8),
            at("2026-12-01T08:00:00Z")
        );
    }
}
