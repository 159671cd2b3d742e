//! Platform-wide audit exports: an export of no workspace (`workspace_id` NULL) holds every
//! chain's events, asked for by a platform operator. On SQLite, which cannot drop a NOT NULL
//! constraint, the table is rebuilt with the same columns in the same order.

use crate::helpers::index;
use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditExports {
    Table,
    Id,
    WorkspaceId,
    RequestedBy,
    Format,
    Filter,
    WithMetadata,
    Status,
    ClaimedUntil,
    ObjectKey,
    RowCount,
    Error,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum AuditExportsNew {
    Table,
}

/// The table as of this migration, under `name`, with `workspace_id` nullable or not.
fn table(name: impl IntoIden, workspace: ColumnDef) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid(AuditExports::Id).primary_key())
        .col(workspace)
        .col(uuid(AuditExports::RequestedBy))
        .col(string_len(AuditExports::Format, 16))
        .col(text(AuditExports::Filter))
        .col(boolean(AuditExports::WithMetadata))
        .col(string_len(AuditExports::Status, 16))
        .col(timestamp_with_time_zone_null(AuditExports::ClaimedUntil))
        .col(string_len_null(AuditExports::ObjectKey, 300))
        .col(big_integer_null(AuditExports::RowCount))
        .col(text_null(AuditExports::Error))
        .col(timestamp_with_time_zone(AuditExports::CreatedAt))
        .col(timestamp_with_time_zone_null(AuditExports::FinishedAt))
        .to_owned()
}

async fn rebuild(manager: &SchemaManager<'_>, workspace: ColumnDef) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    manager
        .create_table(table(AuditExportsNew::Table, workspace))
        .await?;
    conn.execute_unprepared("INSERT INTO audit_exports_new SELECT * FROM audit_exports")
        .await?;
    manager
        .drop_table(Table::drop().table(AuditExports::Table).to_owned())
        .await?;
    conn.execute_unprepared("ALTER TABLE audit_exports_new RENAME TO audit_exports")
        .await?;
    manager
        .create_index(index(
            "idx_audit_exports_status",
            AuditExports::Table,
            &["status", "created_at"],
        ))
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too: the rebuild is atomic, and on one connection (a pooled
    /// statement elsewhere would still see the table it replaces).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            return manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE audit_exports ALTER COLUMN workspace_id DROP NOT NULL",
                )
                .await
                .map(|_| ());
        }
        rebuild(manager, uuid_null(AuditExports::WorkspaceId)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DELETE FROM audit_exports WHERE workspace_id IS NULL")
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            return conn
                .execute_unprepared(
                    "ALTER TABLE audit_exports ALTER COLUMN workspace_id SET NOT NULL",
                )
                .await
                .map(|_| ());
        }
        rebuild(manager, uuid(AuditExports::WorkspaceId)).await
    }
}
