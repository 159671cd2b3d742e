//! `projectActivity` (subscription): a project's timeline, live. Entries are published when their
//! change commits; staff-only entries (private notes, internal comments) reach only subscribers
//! who hold `note:private` at the time of the event.

use super::resolvers::ActivityEntry;
use super::service::ACTIVITY;
use crate::graphql::directives::requires;
use crate::graphql::live::project_stream;
use crate::rbac::{Permission, WorkspaceAccess};
use crate::types::parse_id;
use async_graphql::{Context, ID, Json, Result, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde_json::Value;

/// Timeline subscriptions.
#[derive(Debug, Default)]
pub struct ActivitySubscription;

#[Subscription]
impl ActivitySubscription {
    /// New entries of a project's timeline.
    #[graphql(directive = requires::apply(Permission::ProjectView))]
    async fn project_activity(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
    ) -> Result<impl Stream<Item = Result<ActivityEntry>> + use<>> {
        let project_id = parse_id("projectId", &project_id)?;
        Ok(project_stream(
            ctx,
            Permission::ProjectView,
            project_id,
            &[ACTIVITY],
            entry_of,
        )
        .await?)
    }
}

/// The entry of an `ACTIVITY` event, if `access` may see it.
fn entry_of(event: &Value, access: &WorkspaceAccess) -> Option<ActivityEntry> {
    // Only `ACTIVITY` events get here (the stream's `kinds`).
    let a = &event["activity"];
    if a["staffOnly"].as_bool() != Some(false) && !access.has(Permission::NotePrivate) {
        return None;
    }
    let text = |key: &str| a[key].as_str().map(str::to_owned);
    Some(ActivityEntry {
        id: ID(text("id")?),
        action: text("action")?,
        subject_type: text("subjectType")?,
        subject_id: ID(text("subjectId")?),
        summary: text("summary")?,
        payload: Json(a["payload"].clone()),
        created_at: serde_json::from_value::<DateTime<Utc>>(a["createdAt"].clone()).ok()?,
        actor_id: text("actorId")?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{BuiltinRole, PermissionSet};
    use serde_json::json;
    use uuid::Uuid;

    fn access(permissions: PermissionSet) -> WorkspaceAccess {
        WorkspaceAccess {
            workspace_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            membership_id: Uuid::now_v7(),
            role_id: Uuid::now_v7(),
            builtin: Some(BuiltinRole::Client),
            permissions,
            projects: None,
            mfa_missing: false,
            user_active: true,
            sessions_not_before: None,
        }
    }

    fn event(staff_only: Value) -> Value {
        json!({ "type": "ACTIVITY", "activity": {
            "id": Uuid::now_v7(), "actorId": Uuid::now_v7(), "action": "note.updated",
            "subjectType": "project", "subjectId": Uuid::now_v7(), "summary": "Private note updated",
            "payload": {}, "staffOnly": staff_only, "createdAt": Utc::now(),
        }})
    }

    #[test]
    fn staff_only_entries_reach_only_note_private_holders() {
        let client = access(PermissionSet::from_iter([Permission::ProjectView]));
        let staff = access(PermissionSet::from_iter([
            Permission::ProjectView,
            Permission::NotePrivate,
        ]));
        assert!(entry_of(&event(json!(true)), &client).is_none());
        // A missing or malformed flag counts as staff-only.
        assert!(entry_of(&event(Value::Null), &client).is_none());
        assert!(entry_of(&event(json!(true)), &staff).is_some());
        assert!(entry_of(&event(json!(false)), &client).is_some());
    }
}
