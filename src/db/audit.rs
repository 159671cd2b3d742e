//! The audit log's writer: the [`Frame`] that says who is acting and how (set around a root
//! field, a job run or a webhook), and [`append`], which writes an event inside the caller's
//! transaction.
//!
//! A transaction committed while a frame is in scope writes its event before it commits
//! ([`record_commit`], called by [`Tx::commit`](super::Tx::commit)): the event exists exactly
//! when the change does. Refusals have no transaction of their own and are appended alone.
//!
//! Each chain (`ws:<workspace>`, or `platform` for events of no workspace) is linked by the
//! sealer (`audit_seal`), not by the writer: an event is written unlinked, and sealed within a
//! second or so, in the order the sealer sees them committed.
// The audit tables are neither tenant nor global data: only this module and `audit_read` reach
// them, so the raw entity calls clippy denies elsewhere are allowed here.
#![allow(clippy::disallowed_methods)]

use crate::events::{DomainEvent, Envelope};
use chrono::{DateTime, SubsecRound, Utc};
use entity::audit_event;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use super::audit_frame::{Actor, ActorType, Frame, Outcome, Source, current, within};

/// One event to append.
#[derive(Debug, Clone)]
pub struct Entry {
    pub workspace_id: Option<Uuid>,
    pub actor: Actor,
    pub action: String,
    pub resource: Option<(String, String)>,
    pub outcome: Outcome,
    pub error_code: Option<String>,
    pub metadata: Value,
}

/// The chain an event of `workspace_id` belongs to.
pub fn chain_of(workspace_id: Option<Uuid>) -> String {
    workspace_id.map_or_else(|| "platform".to_owned(), |ws| format!("ws:{ws}"))
}

/// What a transaction did, as its commit hands it to the audit log.
#[derive(Debug)]
pub(super) struct Done<'a> {
    /// The workspaces it touched through `Tx::scoped`.
    pub workspaces: &'a [Uuid],
    /// The events it emitted.
    pub events: &'a [Envelope],
    /// The before/after pairs its services recorded.
    pub changes: Vec<(String, Value, Value)>,
    /// The first row it inserted through `Scoped`.
    pub created: Option<String>,
}

/// Writes the event of a commit under `frame`, inside that transaction.
pub(super) async fn record_commit<C: ConnectionTrait>(
    conn: &C,
    frame: &Frame,
    done: Done<'_>,
) -> Result<(), DbErr> {
    let Done {
        workspaces,
        events,
        changes,
        created,
    } = done;
    if !frame.every_commit && events.is_empty() {
        return Ok(());
    }
    let workspace_id = events
        .first()
        .map(|e| e.workspace_id)
        .or_else(|| workspaces.first().copied())
        .or(frame.workspace_id);
    // The event that says what happened (a timeline entry or a notification only follows it).
    let primary = events
        .iter()
        .find(|e| {
            !matches!(
                e.event,
                DomainEvent::Activity(_) | DomainEvent::NotificationAdded(_)
            )
        })
        .or(events.first());
    let action = match (frame.every_commit, primary) {
        (false, Some(first)) => action_of_event(first.event.kind()),
        _ => frame.action.clone(),
    };
    // What it acted on: the target its arguments name, or its event's subject, or what it created.
    let resource = resource_from_args(&action, &frame.args)
        .or_else(|| {
            primary.map(|e| {
                let (kind, id) = e.event.subject();
                (kind.to_owned(), id.to_string())
            })
        })
        .or_else(|| {
            let kind = action.split('.').next().unwrap_or_default().to_owned();
            created.map(|id| (kind, id))
        });
    let mut metadata = json!({ "args": frame.args });
    if !events.is_empty() {
        let kinds: Vec<&str> = events.iter().map(|e| e.event.kind()).collect();
        metadata["events"] = json!(kinds);
    }
    let changed = diff(changes);
    if !changed.is_empty() {
        metadata["changes"] = Value::Object(changed);
    }
    frame.mark_committed();
    let entry = Entry {
        workspace_id,
        actor: frame.actor.clone(),
        action,
        resource,
        outcome: Outcome::Success,
        error_code: None,
        metadata,
    };
    append(conn, &entry).await
}

/// `FILE_URL_MINTED` → `file.urlMinted`.
fn action_of_event(kind: &str) -> String {
    let mut words = kind.split('_').map(str::to_lowercase);
    let resource = words.next().unwrap_or_default();
    let mut verb = String::new();
    for word in words {
        let mut chars = word.chars();
        if verb.is_empty() {
            verb.push_str(&word);
        } else if let Some(first) = chars.next() {
            verb.extend(first.to_uppercase());
            verb.push_str(chars.as_str());
        }
    }
    format!("{resource}.{verb}")
}

/// The resource a mutation names in its arguments: its `id` (or `<resource>Id`).
pub fn resource_from_args(action: &str, args: &Value) -> Option<(String, String)> {
    let resource = action.split('.').next().unwrap_or_default();
    let id = args
        .get("id")
        .or_else(|| args.get(format!("{resource}Id")))
        .or_else(|| args.get("input").and_then(|input| input.get("id")))?;
    Some((resource.to_owned(), id.as_str()?.to_owned()))
}

/// The fields whose values differ, as `{field: {before, after}}`.
fn diff(changes: Vec<(String, Value, Value)>) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for (resource, before, after) in changes {
        let (Value::Object(before), Value::Object(after)) = (before, after) else {
            continue;
        };
        for (field, new) in after {
            let old = before.get(&field).cloned().unwrap_or(Value::Null);
            if old != new && field != "updated_at" {
                out.insert(
                    format!("{resource}.{field}"),
                    json!({"before": redact(&field, old), "after": redact(&field, new)}),
                );
            }
        }
    }
    out
}

/// Appends `entry` on `conn` (a transaction: the caller's, or one of its own). The row is not
/// linked yet: [`super::audit_seal::seal`] gives it its place in its chain shortly after, so
/// that writers of one workspace never wait on each other for the chain's head.
pub async fn append<C: ConnectionTrait>(conn: &C, entry: &Entry) -> Result<(), DbErr> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        chain: Set(chain_of(entry.workspace_id)),
        seq: Set(None),
        prev_hash: Set(None),
        hash: Set(None),
        at: Set(Utc::now().trunc_subsecs(6)),
        workspace_id: Set(entry.workspace_id),
        actor_type: Set(entry.actor.actor_type.as_str().to_owned()),
        actor_id: Set(entry.actor.actor_id),
        impersonator_id: Set(entry.actor.impersonator_id),
        source: Set(entry.actor.source.as_str().to_owned()),
        action: Set(clip(&entry.action, 128)),
        resource_type: Set(entry.resource.as_ref().map(|(t, _)| clip(t, 64))),
        resource_id: Set(entry.resource.as_ref().map(|(_, id)| clip(id, 128))),
        result: Set(entry.outcome.as_str().to_owned()),
        error_code: Set(entry.error_code.clone()),
        request_id: Set(entry.actor.request_id.as_deref().map(|s| clip(s, 128))),
        operation_name: Set(entry.actor.operation_name.as_deref().map(|s| clip(s, 256))),
        ip: Set(entry.actor.ip.as_deref().map(|s| clip(s, 64))),
        user_agent: Set(entry.actor.user_agent.as_deref().map(|s| clip(s, 512))),
        metadata: Set(entry.metadata.to_string()),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Appends `entry` in a transaction of its own, in the background and outside any frame (so
/// that this commit records nothing more); failures are logged.
pub fn append_detached(db: &super::Db, entry: Entry) {
    let writer = db.clone();
    db.spawn_detached(async move {
        let db = writer;
        let written = async {
            let txn = db.begin().await?;
            append(&*txn, &entry).await?;
            txn.commit().await
        }
        .await;
        if let Err(err) = written {
            tracing::error!(error = %err, action = entry.action, "audit event not written");
        }
    });
}

/// Secrets (passwords, tokens, codes, keys) become `"[redacted]"`; long strings are cut.
pub fn redact(key: &str, value: Value) -> Value {
    let lower = key.to_ascii_lowercase();
    let secret = ["password", "token", "secret", "code", "key", "hash"]
        .iter()
        .any(|s| lower.ends_with(s))
        && !lower.ends_with("keyid");
    if secret && !value.is_null() {
        return json!("[redacted]");
    }
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = redact(&k, v);
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| redact(key, v)).collect()),
        Value::String(text) if text.len() > 512 => {
            let mut end = 512;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            json!(format!("{}…", &text[..end]))
        }
        other => other,
    }
}

/// SHA-256 (hex) of the previous hash and every other column, in a fixed order: what the
/// verifier recomputes.
pub fn digest(row: &audit_event::Model) -> String {
    let canonical = json!([
        row.chain,
        row.seq.unwrap_or_default(),
        row.prev_hash.as_deref().unwrap_or_default(),
        row.id,
        micros(row.at),
        row.workspace_id,
        row.actor_type,
        row.actor_id,
        row.impersonator_id,
        row.source,
        row.action,
        row.resource_type,
        row.resource_id,
        row.result,
        row.error_code,
        row.request_id,
        row.operation_name,
        row.ip,
        row.user_agent,
        row.metadata,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_become_actions() {
        assert_eq!(action_of_event("FILE_URL_MINTED"), "file.urlMinted");
        assert_eq!(action_of_event("TASK_MOVED"), "task.moved");
    }

    #[test]
    fn only_changed_fields_are_kept() {
        let changed = diff(vec![(
            "task".into(),
            json!({"title": "a", "column": "TODO"}),
            json!({"title": "b", "column": "TODO"}),
        )]);
        assert_eq!(
            Value::Object(changed),
            json!({"task.title": {"before": "a", "after": "b"}})
        );
    }
}
