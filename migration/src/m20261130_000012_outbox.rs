//! The transactional outbox: domain events written with their change, dispatched at least once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    Kind,
    Payload,
    CreatedAt,
    Attempts,
    AvailableAt,
    ClaimedUntil,
    ClaimedBy,
    DispatchedAt,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxEvents::Table)
                    .col(uuid(OutboxEvents::Id).primary_key())
                    .col(uuid(OutboxEvents::WorkspaceId))
                    .col(uuid_null(OutboxEvents::ProjectId))
                    .col(string_len(OutboxEvents::Kind, 64))
                    .col(text(OutboxEvents::Payload))
                    .col(timestamp_with_time_zone(OutboxEvents::CreatedAt))
                    .col(integer(OutboxEvents::Attempts).default(0))
                    .col(timestamp_with_time_zone(OutboxEvents::AvailableAt))
                    .col(timestamp_with_time_zone_null(OutboxEvents::ClaimedUntil))
                    .col(string_len_null(OutboxEvents::ClaimedBy, 64))
                    .col(timestamp_with_time_zone_null(OutboxEvents::DispatchedAt))
                    .col(text_null(OutboxEvents::LastError))
                    .to_owned(),
            )
            .await?;
        // Pending rows in claim order; dispatched rows by age for the purge.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_events_pending")
                    .table(OutboxEvents::Table)
                    .col(OutboxEvents::DispatchedAt)
                    .col(OutboxEvents::AvailableAt)
                    .col(OutboxEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboxEvents::Table).to_owned())
            .await
    }
}
