//! Chatty events grouped: the emails of new messages and uploads wait `NOTIFY_GROUP_SECS` (5
//! minutes), and when the first of them is due, every other email of the same person, kind and
//! project still waiting goes with it, as one ("7 new messages in Bakery website"). Each of them
//! is claimed like any email, so two senders never send one twice.

use super::Notify;
use super::fanout::QUEUED;
use super::mailing::{claim, unclaimed};
use super::triggers::MESSAGE_ADDED;
use crate::db::Scoped;
use crate::error::ApiResult;
use chrono::{DateTime, Duration, Utc};
use entity::{email_delivery, notification};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

/// Kinds whose emails are grouped.
const CHATTY: &[&str] = &[MESSAGE_ADDED, "file.uploaded", "file.version_added"];

/// Most emails sent as one.
const MOST: u64 = 100;

/// How long an email of `kind` waits for others to join it.
pub fn delay(kind: &str, group_secs: u64) -> Duration {
    if CHATTY.contains(&kind) {
        Duration::seconds(i64::try_from(group_secs).unwrap_or(i64::MAX / 1000))
    } else {
        Duration::zero()
    }
}

/// Whether grouped emails of `kind` are messages (rather than files).
pub fn is_messages(kind: &str) -> bool {
    kind == MESSAGE_ADDED
}

/// Claims the other emails waiting to go with `row` (same person, kind, project and audience),
/// with their lines, oldest first.
pub async fn gather(
    n: Notify<'_>,
    row: &email_delivery::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<(email_delivery::Model, String)>> {
    // `NOTIFY_GROUP_SECS=0`: each email goes alone, even when others are waiting.
    let chatty = CHATTY.contains(&row.kind.as_str()) && n.config.notify_group_secs > 0;
    let (true, Some(note_id)) = (chatty, row.notification_id) else {
        return Ok(Vec::new());
    };
    let conn = n.db.conn();
    let scoped = Scoped::new(conn, row.workspace_id);
    let Some(note) = scoped.find_by_id::<notification::Entity>(note_id).await? else {
        return Ok(Vec::new());
    };
    let waiting = scoped
        .find::<email_delivery::Entity>()
        .filter(email_delivery::Column::UserId.eq(row.user_id))
        .filter(email_delivery::Column::Kind.eq(row.kind.as_str()))
        .filter(email_delivery::Column::Status.eq(QUEUED))
        .filter(email_delivery::Column::Id.ne(row.id))
        .filter(unclaimed(now))
        .order_by_asc(email_delivery::Column::Id)
        .limit(MOST - 1)
        .all(conn)
        .await?;
    let notes = notes_of(&scoped, &waiting).await?;
    let mut group = Vec::new();
    for email in waiting {
        let Some(other) = email.notification_id.and_then(|id| notes.get(&id)) else {
            continue;
        };
        if other.project_id != note.project_id || other.staff_only != note.staff_only {
            continue;
        }
        if claim(n, &email, now).await? {
            group.push((email, other.summary.clone()));
        }
    }
    Ok(group)
}

/// The notifications of `emails`, by ID.
pub(super) async fn notes_of<C: sea_orm::ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    emails: &[email_delivery::Model],
) -> ApiResult<HashMap<uuid::Uuid, notification::Model>> {
    Ok(scoped
        .find::<notification::Entity>()
        .filter(notification::Column::Id.is_in(emails.iter().filter_map(|e| e.notification_id)))
        .all(scoped.conn())
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_chatty_kinds_wait() {
        assert_eq!(delay("message.added", 300), Duration::seconds(300));
        assert_eq!(delay("ticket.created", 300), Duration::zero());
        assert!(is_messages("message.added") && !is_messages("file.uploaded"));
    }
}
