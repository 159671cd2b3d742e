//! A ticket's thread: adding comments (internal ones, staff-only, for holders of
//! `note:private`); a client's answer to a ticket TO_CLARIFY sends it back to NEW. Reading the
//! thread is `loaders::thread`, batched.

use super::service::{get_visible, record, set_status, ticket_event};
use super::types::TicketStatus;
use crate::app::App;
use crate::error::ApiResult;
use crate::events::DomainEvent;
use crate::rbac::{Permission, WorkspaceAccess};
use crate::types::text;
use chrono::Utc;
use entity::ticket_comment;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

/// Adds a comment. An internal one needs `note:private`. A client answering a ticket that is
/// TO_CLARIFY sends it back to NEW.
pub async fn comment(
    app: &App,
    access: &WorkspaceAccess,
    ticket_id: Uuid,
    body: &str,
    internal: bool,
) -> ApiResult<ticket_comment::Model> {
    if internal {
        access.require(Permission::NotePrivate)?;
    }
    let body = text::required("body", body, 10_000)?;
    let txn = app.db.begin().await?;
    let ticket = get_visible(&*txn, access, ticket_id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let created = scoped
        .insert(ticket_comment::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            ticket_id: Set(ticket.id),
            author_id: Set(access.user_id),
            body: Set(body),
            internal: Set(internal),
            created_at: Set(Utc::now()),
        })
        .await?;
    let label = if internal { "Internal note" } else { "Comment" };
    record(
        &scoped,
        access,
        &ticket,
        "ticket.commented",
        format!("{label} on ticket #{}", ticket.number),
        internal,
    )
    .await?;
    let status = TicketStatus::parse(&ticket.status);
    if status == TicketStatus::ToClarify && !access.is_staff() && !internal {
        let updated = set_status(&scoped, ticket, TicketStatus::New).await?;
        record(
            &scoped,
            access,
            &updated,
            "ticket.status_changed",
            format!("Ticket #{} answered: back to NEW", updated.number),
            false,
        )
        .await?;
        scoped.emit(DomainEvent::TicketStatusChanged(ticket_event(&updated)));
    }
    txn.commit().await?;
    Ok(created)
}
