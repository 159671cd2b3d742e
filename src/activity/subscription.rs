//! `projectActivity` (subscription): a project's timeline, live. Entries are published when their
//! change commits; staff-only entries (private notes, internal comments) reach only subscribers
//! who hold `note:private` at the time of the event.

use super::resolvers::ActivityEntry;
use crate::events::DomainEvent;
use crate::graphql::directives::requires;
use crate::graphql::live::project_stream;
use crate::rbac::{Permission, WorkspaceAccess};
use crate::types::parse_id;
use async_graphql::{Context, ID, Json, Result, Subscription};
use futures_util::Stream;

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
        Ok(project_stream(ctx, project_id, &["ACTIVITY"], entry_of).await?)
    }
}

/// The entry of an `ACTIVITY` event, if `access` may see it.
fn entry_of(event: &DomainEvent, access: &WorkspaceAccess) -> Option<ActivityEntry> {
    let DomainEvent::Activity(a) = event else {
        return None;
    };
    if a.staff_only && !access.has(Permission::NotePrivate) {
        return None;
    }
    Some(ActivityEntry {
        id: ID(a.activity_id.to_string()),
        action: a.action.clone(),
        subject_type: a.subject_type.clone(),
        subject_id: ID(a.subject_id.to_string()),
        summary: a.summary.clone(),
        payload: Json(a.payload.clone()),
        created_at: a.created_at,
        actor_id: a.actor_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{BuiltinRole, PermissionSet};
    use chrono::Utc;
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

    fn event(staff_only: bool) -> DomainEvent {
        DomainEvent::Activity(crate::events::ActivityRecorded {
            project_id: Uuid::now_v7(),
            activity_id: Uuid::now_v7(),
            actor_id: Uuid::now_v7(),
            action: "note.updated".into(),
            subject_type: "project".into(),
            subject_id: Uuid::now_v7(),
            summary: "Private note updated".into(),
            payload: json!({}),
            staff_only,
            created_at: Utc::now(),
        })
    }

    #[test]
    fn staff_only_entries_reach_only_note_private_holders() {
        let client = access(PermissionSet::from_iter([Permission::ProjectView]));
        let staff = access(PermissionSet::from_iter([
            Permission::ProjectView,
            Permission::NotePrivate,
        ]));
        assert!(entry_of(&event(true), &client).is_none());
        assert!(entry_of(&event(true), &staff).is_some());
        assert!(entry_of(&event(false), &client).is_some());
    }
}
