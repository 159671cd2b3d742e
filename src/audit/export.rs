//! Audit exports: a holder of `audit:read` asks for the workspace's events (with a filter) as
//! CSV or JSONL; the `audit.export` job writes the file to object storage (at most
//! [`MAX_ROWS`] events, newest first), and `auditExport` hands out a link valid [`LINK_TTL`].
//! The file carries metadata only when the requester could read it (`note:private`). Platform
//! operators export every chain's events the same way (an export of no workspace).

use crate::db::audit_read::{self, Filter, Reach};
use crate::db::{AcrossTenants, Db, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::rbac::{Permission, WorkspaceAccess};
use crate::storage::{Disposition, ObjectKey, Storage};
use chrono::{DateTime, Utc};
use entity::{audit_event, audit_export};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, QueryFilter, QueryOrder};
use std::time::Duration;
use uuid::Uuid;

/// Most events one export holds.
pub const MAX_ROWS: usize = 100_000;
/// How long an export's link works.
pub const LINK_TTL: Duration = Duration::from_secs(300);
/// How long a running export is claimed.
const CLAIM: chrono::Duration = chrono::Duration::minutes(10);

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::Jsonl => "JSONL",
        }
    }

    fn parse(stored: &str) -> Self {
        if stored == "CSV" {
            Self::Csv
        } else {
            Self::Jsonl
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Jsonl => "application/jsonl",
        }
    }
}

fn queued(
    workspace_id: Option<Uuid>,
    requested_by: Uuid,
    format: Format,
    filter: &Filter,
    with_metadata: bool,
) -> ApiResult<audit_export::ActiveModel> {
    Ok(audit_export::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(workspace_id),
        requested_by: Set(requested_by),
        format: Set(format.as_str().to_owned()),
        filter: Set(serde_json::to_string(filter).map_err(ApiError::internal)?),
        with_metadata: Set(with_metadata),
        status: Set("QUEUED".to_owned()),
        claimed_until: Set(None),
        object_key: Set(None),
        row_count: Set(None),
        error: Set(None),
        created_at: Set(Utc::now()),
        finished_at: Set(None),
    })
}

/// Queues an export of the caller's workspace.
pub async fn request(
    db: &Db,
    access: &WorkspaceAccess,
    format: Format,
    filter: &Filter,
) -> ApiResult<audit_export::Model> {
    let with_metadata = access.has(Permission::NotePrivate);
    let row = queued(
        Some(access.workspace_id),
        access.user_id,
        format,
        filter,
        with_metadata,
    )?;
    let txn = db.begin().await?;
    let created = txn.scoped(access.workspace_id).insert(row).await?;
    txn.commit().await?;
    Ok(created)
}

/// Queues an export of every chain (a platform operator's). Without metadata, as
/// `platformAuditEvents` shows them: metadata needs `note:private` in the event's workspace.
pub async fn request_platform(
    db: &Db,
    operator: Uuid,
    format: Format,
    filter: &Filter,
) -> ApiResult<audit_export::Model> {
    let row = queued(None, operator, format, filter, false)?;
    let txn = db.begin().await?;
    let created = PLATFORM.insert_unowned(&*txn, row).await?;
    txn.commit().await?;
    Ok(created)
}

/// Platform exports are rows of no workspace in a tenant table.
const PLATFORM: AcrossTenants = AcrossTenants {
    why: "platform-wide exports belong to no workspace; only operators reach them",
};

/// A platform-wide export (NOT_FOUND for a workspace's export, like a missing one).
pub async fn get_platform(db: &Db, id: Uuid) -> ApiResult<audit_export::Model> {
    PLATFORM
        .find::<audit_export::Entity>()
        .filter(audit_export::Column::Id.eq(id))
        .filter(audit_export::Column::WorkspaceId.is_null())
        .one(db.conn())
        .await?
        .ok_or(ApiError::NotFound("audit export"))
}

/// One export of the caller's workspace (NOT_FOUND for another workspace's, like a missing one).
pub async fn get(db: &Db, access: &WorkspaceAccess, id: Uuid) -> ApiResult<audit_export::Model> {
    Scoped::new(db.conn(), access.workspace_id)
        .find_by_id::<audit_export::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound("audit export"))
}

/// A link to a finished export's file, valid [`LINK_TTL`].
pub async fn link(storage: &Storage, export: &audit_export::Model) -> ApiResult<Option<String>> {
    let Some(key) = export
        .object_key
        .clone()
        .filter(|_| export.status == "READY")
    else {
        return Ok(None);
    };
    let format = Format::parse(&export.format);
    let extension = if format == Format::Csv {
        "csv"
    } else {
        "jsonl"
    };
    let name = format!(
        "audit-{}.{extension}",
        export.created_at.format("%Y%m%d-%H%M%S")
    );
    let url = storage
        .presign_get(
            &ObjectKey::stored(key),
            format.content_type(),
            Disposition::Attachment,
            &name,
            LINK_TTL,
        )
        .await?;
    Ok(Some(url))
}

/// Runs every due export (queued, or running with a lapsed claim); returns how many finished.
pub async fn run_due(db: &Db, storage: &Storage, now: DateTime<Utc>) -> ApiResult<u64> {
    let mut done = 0;
    while let Some(export) = claim(db, now).await? {
        let outcome = write(db, storage, &export).await;
        let mut update = AcrossTenants::because("the export job finishes the export it claimed")
            .update_many::<audit_export::Entity>()
            .col_expr(audit_export::Column::FinishedAt, Expr::value(Utc::now()))
            .col_expr(
                audit_export::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
        update = match &outcome {
            Ok((key, rows)) => update
                .col_expr(audit_export::Column::Status, Expr::value("READY"))
                .col_expr(audit_export::Column::ObjectKey, Expr::value(key.as_str()))
                .col_expr(audit_export::Column::RowCount, Expr::value(*rows)),
            Err(err) => {
                tracing::warn!(export = %export.id, error = ?err, "audit export failed");
                update
                    .col_expr(audit_export::Column::Status, Expr::value("FAILED"))
                    .col_expr(
                        audit_export::Column::Error,
                        Expr::value("the export could not be written"),
                    )
            }
        };
        // SQLite's one writer at a time (see `Db::writer`).
        let turn = db.writer().await;
        update
            .filter(audit_export::Column::Id.eq(export.id))
            .exec(db.conn())
            .await?;
        drop(turn);
        done += 1;
    }
    Ok(done)
}

/// Claims the oldest due export with one conditional update (safe on every instance).
async fn claim(db: &Db, now: DateTime<Utc>) -> ApiResult<Option<audit_export::Model>> {
    let across = AcrossTenants::because("the export job serves every workspace's exports");
    let due = Condition::any()
        .add(audit_export::Column::Status.eq("QUEUED"))
        .add(
            Condition::all()
                .add(audit_export::Column::Status.eq("RUNNING"))
                .add(audit_export::Column::ClaimedUntil.lt(now)),
        );
    let Some(next) = across
        .find::<audit_export::Entity>()
        .filter(due.clone())
        .order_by_asc(audit_export::Column::CreatedAt)
        .one(db.conn())
        .await?
    else {
        return Ok(None);
    };
    // SQLite's one writer at a time (see `Db::writer`).
    let turn = db.writer().await;
    let taken = across
        .update_many::<audit_export::Entity>()
        .col_expr(audit_export::Column::Status, Expr::value("RUNNING"))
        .col_expr(audit_export::Column::ClaimedUntil, Expr::value(now + CLAIM))
        .filter(audit_export::Column::Id.eq(next.id))
        .filter(due)
        .exec(db.conn())
        .await?;
    drop(turn);
    Ok((taken.rows_affected == 1).then_some(next))
}

/// Writes the file; answers its key and the number of events in it.
async fn write(
    db: &Db,
    storage: &Storage,
    export: &audit_export::Model,
) -> ApiResult<(ObjectKey, i64)> {
    let filter: Filter = serde_json::from_str(&export.filter).map_err(ApiError::internal)?;
    let format = Format::parse(&export.format);
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut jsonl = Vec::new();
    if format == Format::Csv {
        csv.write_record(COLUMNS).map_err(ApiError::internal)?;
    }
    let (mut rows, mut before) = (0_usize, None);
    while rows < MAX_ROWS {
        let reach = export
            .workspace_id
            .map_or(Reach::Everything, Reach::Workspace);
        let page = audit_read::list(db.conn(), reach, &filter, before, 1000).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        for event in page.into_iter().take(MAX_ROWS - rows) {
            let record = record(event, export.with_metadata);
            match format {
                Format::Csv => csv.write_record(&record).map_err(ApiError::internal)?,
                Format::Jsonl => {
                    let object: serde_json::Map<String, serde_json::Value> = COLUMNS
                        .iter()
                        .zip(record)
                        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v)))
                        .collect();
                    serde_json::to_writer(&mut jsonl, &object).map_err(ApiError::internal)?;
                    jsonl.push(b'\n');
                }
            }
            rows += 1;
        }
    }
    let body = match format {
        Format::Csv => csv
            .into_inner()
            .map_err(|e| ApiError::internal(e.into_error()))?,
        Format::Jsonl => jsonl,
    };
    let key = match export.workspace_id {
        Some(workspace_id) => ObjectKey::generate(workspace_id),
        // Objects of no workspace live under the nil UUID (keys stay `{uuid}/{uuid}`).
        None => ObjectKey::generate(Uuid::nil()),
    };
    storage.put(&key, body).await?;
    Ok((key, i64::try_from(rows).unwrap_or(i64::MAX)))
}

const COLUMNS: [&str; 16] = [
    "id",
    "at",
    "seq",
    "actor_type",
    "actor_id",
    "source",
    "action",
    "resource_type",
    "resource_id",
    "result",
    "error_code",
    "request_id",
    "operation_name",
    "ip",
    "hash",
    "metadata",
];

fn record(e: audit_event::Model, with_metadata: bool) -> [String; 16] {
    let text = |v: Option<String>| v.unwrap_or_default();
    let id = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
    [
        e.id.to_string(),
        e.at.to_rfc3339(),
        e.seq.map(|s| s.to_string()).unwrap_or_default(),
        e.actor_type,
        id(e.actor_id),
        e.source,
        e.action,
        text(e.resource_type),
        text(e.resource_id),
        e.result,
        text(e.error_code),
        text(e.request_id),
        text(e.operation_name),
        text(e.ip),
        e.hash.unwrap_or_default(),
        if with_metadata {
            e.metadata
        } else {
            String::new()
        },
    ]
}
