//! Audit exports: a workspace's request for its audit events as CSV or JSONL, done by the
//! `audit.export` job into object storage and handed out through a short-lived link.

use crate::helpers::index;
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditExports::Table)
                    .col(uuid(AuditExports::Id).primary_key())
                    .col(uuid(AuditExports::WorkspaceId))
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
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_audit_exports_status",
                AuditExports::Table,
                &["status", "created_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditExports::Table).to_owned())
            .await
    }
}
