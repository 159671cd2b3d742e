//! A webhook's body, built at send time under the endpoint creator's view: the creator must
//! still be an active member holding `workspace:manage` who may see the event's project (and
//! `note:private` for staff-only events), asked of the access layer like any reader. The body
//! carries the event's stored values only (IDs, statuses, the message or timeline text the
//! creator may read), never a person's notification or a URL.

use crate::error::ApiResult;
use crate::events::{DomainEvent, Envelope};
use crate::rbac::Permission;
use crate::rbac::audience::{self, Told};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// The kind of the test event.
pub const TEST_KIND: &str = "WEBHOOK_TEST";

fn staff_only(event: &DomainEvent) -> bool {
    match event {
        DomainEvent::Activity(a) => a.staff_only,
        DomainEvent::FileUploaded(f)
        | DomainEvent::FileVersionAdded(f)
        | DomainEvent::FileDeleted(f)
        | DomainEvent::FileRestored(f) => f.staff_only,
        _ => false,
    }
}

/// The body for `raw` (an envelope, or a test event), or `Err(reason)` when the creator may not
/// see it now.
pub async fn body<C: ConnectionTrait>(
    conn: &C,
    endpoint: &entity::webhook_endpoint::Model,
    delivery_id: uuid::Uuid,
    kind: &str,
    raw: &str,
) -> ApiResult<Result<Value, &'static str>> {
    if kind == TEST_KIND {
        let test: Value = serde_json::from_str(raw).map_err(crate::ApiError::internal)?;
        return Ok(Ok(json!({
            "id": test["id"],
            "delivery": delivery_id,
            "type": TEST_KIND,
            "occurredAt": test["occurredAt"],
            "workspaceId": endpoint.workspace_id,
            "data": { "message": "A test event from Portico: this endpoint receives and verifies deliveries." },
        })));
    }
    let envelope: Envelope = serde_json::from_str(raw).map_err(crate::ApiError::internal)?;
    let told = Told {
        workspace_id: envelope.workspace_id,
        project_id: envelope.event.project_id(),
        staff_only: staff_only(&envelope.event),
    };
    let Some(access) = audience::may_be_told(conn, told, endpoint.created_by).await? else {
        return Ok(Err("the endpoint's creator may no longer see this event"));
    };
    if !access.has(Permission::WorkspaceManage) {
        return Ok(Err(
            "the endpoint's creator no longer manages the workspace",
        ));
    }
    let mut data = serde_json::to_value(&envelope.event).map_err(crate::ApiError::internal)?;
    if let Some(object) = data.as_object_mut() {
        object.remove("type");
    }
    Ok(Ok(json!({
        "id": envelope.id,
        "delivery": delivery_id,
        "type": envelope.event.kind(),
        "occurredAt": envelope.occurred_at,
        "workspaceId": envelope.workspace_id,
        "data": data,
    })))
}
