//! Attachments: files that belong to a ticket, a ticket comment or a message rather than to a
//! folder, with the same rules. Who may see the ticket, comment or message may see its
//! attachments; an attachment on an internal comment is internal. The tables are read here and
//! visibility asked of the access layer, never of the ticket or message domains.

use super::rules::{self, Zone};
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility;
use async_graphql::Enum;
use entity::{message, ticket, ticket_comment};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// What an attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum AttachmentTarget {
    /// A ticket (its author or staff attach).
    Ticket,
    /// A comment of a ticket's thread (its author attaches; internal comments' files are internal).
    TicketComment,
    /// A message of a project's conversation (its author attaches).
    Message,
}

impl AttachmentTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ticket => "TICKET",
            Self::TicketComment => "TICKET_COMMENT",
            Self::Message => "MESSAGE",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Ticket, Self::TicketComment, Self::Message]
            .into_iter()
            .find(|t| t.as_str() == stored)
    }

    fn not_found(self) -> ApiError {
        ApiError::NotFound(match self {
            Self::Ticket => "ticket",
            Self::TicketComment => "ticket comment",
            Self::Message => "message",
        })
    }
}

/// A resolved attachment target: its project, the zone its files take, and who wrote it.
#[derive(Debug, Clone, Copy)]
pub struct Holder {
    pub project_id: Uuid,
    pub zone: Zone,
    pub author_id: Uuid,
}

/// The target `access` may see; NOT_FOUND otherwise, like a missing one.
pub async fn visible<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    target: AttachmentTarget,
    id: Uuid,
) -> ApiResult<Holder> {
    let scoped = Scoped::new(conn, access.workspace_id);
    // A client's attachments are in their zone, staff's in the shared one.
    let open_zone = if access.is_staff() {
        Zone::Shared
    } else {
        Zone::Client
    };
    let holder = match target {
        AttachmentTarget::Ticket => {
            let t = ticket_of(&scoped, target, id).await?;
            Holder {
                project_id: t.project_id,
                zone: open_zone,
                author_id: t.created_by,
            }
        }
        AttachmentTarget::TicketComment => {
            let c = scoped
                .find_by_id::<ticket_comment::Entity>(id)
                .await?
                .ok_or_else(|| target.not_found())?;
            if c.internal && !rules::sees_internal(access) {
                return Err(target.not_found());
            }
            let t = ticket_of(&scoped, target, c.ticket_id).await?;
            Holder {
                project_id: t.project_id,
                zone: if c.internal {
                    Zone::Internal
                } else {
                    open_zone
                },
                author_id: c.author_id,
            }
        }
        AttachmentTarget::Message => {
            let m = scoped
                .find_by_id::<message::Entity>(id)
                .await?
                .filter(|m| m.deleted_at.is_none())
                .ok_or_else(|| target.not_found())?;
            Holder {
                project_id: m.project_id,
                zone: open_zone,
                author_id: m.author_id,
            }
        }
    };
    visibility::get_visible(conn, access, holder.project_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => target.not_found(),
            other => other,
        })?;
    Ok(holder)
}

async fn ticket_of<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    target: AttachmentTarget,
    id: Uuid,
) -> ApiResult<ticket::Model> {
    scoped
        .find_by_id::<ticket::Entity>(id)
        .await?
        .ok_or_else(|| target.not_found())
}

/// Attaching to a target: its author, or staff for a ticket.
pub fn may_attach(
    access: &WorkspaceAccess,
    target: AttachmentTarget,
    holder: &Holder,
) -> ApiResult<()> {
    access.require(crate::rbac::Permission::FileWrite)?;
    let staff_on_ticket = target == AttachmentTarget::Ticket && rules::is_file_staff(access);
    if holder.author_id == access.user_id || staff_on_ticket {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the author attaches files to a comment or message",
        ))
    }
}
