//! Conversation rules and transactions: who may read and post, the 15-minute edit and delete
//! window, read positions and unread counts. Every change emits its event on its transaction.

use crate::app::App;
use crate::db::Scoped;
use crate::error::{ApiError, ApiResult, is_unique_violation};
use crate::events::{DomainEvent, MessageChanged};
use crate::graphql::pagination::Page;
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility as projects;
use chrono::{Duration, Utc};
use entity::{conversation_read, message};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;

/// How long the author may edit or delete a message.
pub const EDIT_WINDOW: Duration = Duration::minutes(15);

fn body_of(body: &str) -> ApiResult<String> {
    // Keep the author's formatting (markdown source); only refuse blank or oversized bodies.
    if body.trim().is_empty() {
        return Err(ApiError::bad_field("body", "a message cannot be empty"));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(ApiError::bad_field(
            "body",
            format!("at most {MAX_BODY_CHARS} characters"),
        ));
    }
    Ok(body.trim_end().to_owned())
}

/// A page of a project's conversation, newest first, before the cursor.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    project_id: Uuid,
    page: Page,
) -> ApiResult<(Vec<message::Model>, bool)> {
    projects::get_visible(conn, access, project_id).await?;
    let scoped = Scoped::new(conn, access.workspace_id);
    let mut query = scoped
        .find::<message::Entity>()
        .filter(message::Column::ProjectId.eq(project_id))
        .order_by_desc(message::Column::Id);
    if let Some(before) = page.after {
        query = query.filter(message::Column::Id.lt(before));
    }
    let mut rows = query.limit(page.limit + 1).all(conn).await?;
    let has_next = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    Ok((rows, has_next))
}

/// Posts a message in a project's conversation.
pub async fn post(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
    body: &str,
) -> ApiResult<message::Model> {
    let body = body_of(body)?;
    let txn = app.db.begin().await?;
    projects::get_visible(&*txn, access, project_id).await?;
    let scoped = txn.scoped(access.workspace_id);
    let created = scoped
        .insert(message::ActiveModel {
            id: Set(Uuid::now_v7()),
            workspace_id: Set(access.workspace_id),
            project_id: Set(project_id),
            author_id: Set(access.user_id),
            body: Set(body),
            created_at: Set(Utc::now()),
            edited_at: Set(None),
            deleted_at: Set(None),
        })
        .await?;
    scoped.emit(DomainEvent::MessageAdded(message_event(&created)));
    txn.commit().await?;
    // The author has read their own message (outside the transaction: the message stands even if
    // this fails, and a racing first mark must not abort it).
    // SQLite's one writer takes this write too, or a transaction that read before it could not
    // write after it (SQLITE_BUSY_SNAPSHOT); on PostgreSQL the turn is a no-op.
    let turn = app.db.writer().await;
    let scoped = Scoped::new(app.db.conn(), access.workspace_id);
    let marked = mark_read_in(&scoped, access.user_id, project_id, created.id).await;
    drop(turn);
    if let Err(err) = marked {
        tracing::warn!(error = ?err, message = %created.id, "could not mark the author's message read");
    }
    Ok(created)
}

/// The author edits their message within the window.
pub async fn edit(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
    body: &str,
) -> ApiResult<message::Model> {
    let body = body_of(body)?;
    change(app, access, id, |model| {
        model.body = Set(body);
        model.edited_at = Set(Some(Utc::now()));
    })
    .await
}

/// The author deletes their message within the window: the body is erased, the message stays as
/// "deleted" so the conversation keeps its shape.
pub async fn delete(app: &App, access: &WorkspaceAccess, id: Uuid) -> ApiResult<message::Model> {
    change(app, access, id, |model| {
        model.body = Set(String::new());
        model.deleted_at = Set(Some(Utc::now()));
    })
    .await
}

async fn change(
    app: &App,
    access: &WorkspaceAccess,
    id: Uuid,
    apply: impl FnOnce(&mut message::ActiveModel),
) -> ApiResult<message::Model> {
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(access.workspace_id);
    let current = scoped
        .find_by_id::<message::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("message"))?;
    projects::get_visible(&*txn, access, current.project_id)
        .await
        .map_err(|_| ApiError::NotFound("message"))?;
    if current.author_id != access.user_id {
        return Err(ApiError::forbidden("only the author may change a message"));
    }
    if current.deleted_at.is_some() {
        return Err(ApiError::bad_field("id", "this message was deleted"));
    }
    if Utc::now() - current.created_at > EDIT_WINDOW {
        return Err(ApiError::bad_field(
            "id",
            "messages can be edited or deleted only within 15 minutes of posting",
        ));
    }
    let mut model: message::ActiveModel = current.into();
    apply(&mut model);
    let updated = scoped.update(model).await?;
    scoped.emit(DomainEvent::MessageUpdated(message_event(&updated)));
    txn.commit().await?;
    Ok(updated)
}

/// Marks the conversation read up to `up_to` (or its newest message); read positions only move
/// forward. Returns the unread count afterwards.
pub async fn mark_read(
    app: &App,
    access: &WorkspaceAccess,
    project_id: Uuid,
    up_to: Option<Uuid>,
) -> ApiResult<u64> {
    // No transaction: each statement stands alone, so a racing first mark (unique violation)
    // cannot abort the rest.
    let conn = app.db.conn();
    projects::get_visible(conn, access, project_id).await?;
    let scoped = Scoped::new(conn, access.workspace_id);
    let target = match up_to {
        Some(id) => {
            let found = scoped
                .find_by_id::<message::Entity>(id)
                .await?
                .filter(|m| m.project_id == project_id)
                .ok_or_else(|| {
                    ApiError::bad_field("upTo", "no such message in this conversation")
                })?;
            Some(found.id)
        }
        None => {
            scoped
                .find::<message::Entity>()
                .select_only()
                .column(message::Column::Id)
                .filter(message::Column::ProjectId.eq(project_id))
                .order_by_desc(message::Column::Id)
                .into_tuple::<Uuid>()
                .one(conn)
                .await?
        }
    };
    if let Some(target) = target {
        let _turn = app.db.writer().await;
        mark_read_in(&scoped, access.user_id, project_id, target).await?;
    }
    unread_count(conn, access, project_id).await
}

async fn mark_read_in<C: ConnectionTrait>(
    scoped: &Scoped<'_, C>,
    user_id: Uuid,
    project_id: Uuid,
    up_to: Uuid,
) -> ApiResult<()> {
    let existing = scoped
        .find::<conversation_read::Entity>()
        .filter(conversation_read::Column::ProjectId.eq(project_id))
        .filter(conversation_read::Column::UserId.eq(user_id))
        .one(scoped.conn())
        .await?;
    match existing {
        Some(read) if read.last_read_id >= up_to => Ok(()),
        Some(read) => {
            // Forward only, even against a concurrent mark.
            scoped
                .update_many::<conversation_read::Entity>()
                .col_expr(
                    conversation_read::Column::LastReadId,
                    sea_orm::sea_query::Expr::value(up_to),
                )
                .col_expr(
                    conversation_read::Column::UpdatedAt,
                    sea_orm::sea_query::Expr::value(Utc::now()),
                )
                .filter(conversation_read::Column::Id.eq(read.id))
                .filter(conversation_read::Column::LastReadId.lt(up_to))
                .exec(scoped.conn())
                .await?;
            Ok(())
        }
        None => {
            let inserted = scoped
                .insert(conversation_read::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    workspace_id: Set(scoped.workspace_id()),
                    project_id: Set(project_id),
                    user_id: Set(user_id),
                    last_read_id: Set(up_to),
                    updated_at: Set(Utc::now()),
                })
                .await;
            match inserted {
                Ok(_) => Ok(()),
                // A concurrent first mark won; the read position is set either way.
                Err(err) if is_unique_violation(&err) => Ok(()),
                Err(err) => Err(err.into()),
            }
        }
    }
}

/// Messages of others in a project's conversation the caller has not read (deleted ones do not
/// count). Two indexed statements: the read position, then the count after it.
pub async fn unread_count<C: ConnectionTrait>(
    conn: &C,
    access: &WorkspaceAccess,
    project_id: Uuid,
) -> ApiResult<u64> {
    let scoped = Scoped::new(conn, access.workspace_id);
    let last_read = scoped
        .find::<conversation_read::Entity>()
        .filter(conversation_read::Column::UserId.eq(access.user_id))
        .filter(conversation_read::Column::ProjectId.eq(project_id))
        .one(conn)
        .await?
        .map(|r| r.last_read_id);
    let mut query = scoped
        .find::<message::Entity>()
        .filter(message::Column::ProjectId.eq(project_id))
        .filter(message::Column::AuthorId.ne(access.user_id))
        .filter(message::Column::DeletedAt.is_null());
    if let Some(last) = last_read {
        query = query.filter(message::Column::Id.gt(last));
    }
    Ok(query.count(conn).await?)
}

fn message_event(m: &message::Model) -> MessageChanged {
    MessageChanged {
        project_id: m.project_id,
        message_id: m.id,
        author_id: m.author_id,
        body: m.body.clone(),
        created_at: m.created_at,
        edited_at: m.edited_at,
        deleted_at: m.deleted_at,
    }
}
