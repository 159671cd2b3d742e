//! Reading (in batches) and writing private notes.

use super::NoteSubject;
use crate::activity::{self, Entry};
use crate::app::App;
use crate::db::{Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::WorkspaceAccess;
use crate::rbac::visibility as projects;
use chrono::Utc;
use entity::private_note;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// The notes of several subjects of one kind, in one statement.
pub async fn many(
    db: &Db,
    workspace_id: Uuid,
    subject: NoteSubject,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, String>> {
    Ok(Scoped::new(db.conn(), workspace_id)
        .find::<private_note::Entity>()
        .filter(private_note::Column::SubjectType.eq(subject.as_str()))
        .filter(private_note::Column::SubjectId.is_in(ids.iter().copied()))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|n| (n.subject_id, n.body))
        .collect())
}

/// Sets (or, with an empty body, removes) the note of a subject.
pub async fn set(
    app: &App,
    access: &WorkspaceAccess,
    subject: NoteSubject,
    subject_id: Uuid,
    body: Option<&str>,
) -> ApiResult<()> {
    let body = body.map(str::trim).filter(|b| !b.is_empty());
    if body.is_some_and(|b| b.chars().count() > 20_000) {
        return Err(ApiError::bad_field("body", "at most 20000 characters"));
    }
    let txn = app.db.begin().await?;
    let scoped = txn.scoped(access.workspace_id);
    match subject {
        NoteSubject::Project => {
            projects::get_visible(&*txn, access, subject_id).await?;
        }
        NoteSubject::Member => projects::ensure_workspace_member(&scoped, subject_id).await?,
    }
    // The note before, for the audit event (read by holders of `note:private` only).
    let before = scoped
        .find::<private_note::Entity>()
        .filter(private_note::Column::SubjectType.eq(subject.as_str()))
        .filter(private_note::Column::SubjectId.eq(subject_id))
        .one(&*txn)
        .await?
        .map(|note| note.body);
    scoped.record_change(
        "private_note",
        &json!({ "body": before }),
        &json!({ "body": body }),
    );
    scoped
        .delete_many::<private_note::Entity>()
        .filter(private_note::Column::SubjectType.eq(subject.as_str()))
        .filter(private_note::Column::SubjectId.eq(subject_id))
        .exec(&*txn)
        .await?;
    if let Some(body) = body {
        scoped
            .insert(private_note::ActiveModel {
                id: Set(Uuid::now_v7()),
                workspace_id: Set(access.workspace_id),
                subject_type: Set(subject.as_str().to_owned()),
                subject_id: Set(subject_id),
                body: Set(body.to_owned()),
                updated_by: Set(access.user_id),
                updated_at: Set(Utc::now()),
            })
            .await?;
    }
    if subject == NoteSubject::Project {
        activity::service::record(
            &scoped,
            Entry {
                project_id: subject_id,
                actor_id: access.user_id,
                action: "note.updated",
                subject_type: "project",
                subject_id,
                summary: "Private note updated".to_owned(),
                // Never the note itself: the timeline is not a path to it.
                payload: json!({}),
                staff_only: true,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
