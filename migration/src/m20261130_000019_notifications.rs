//! Notifications: the in-app notification center (one row per event and recipient), the email
//! queue with its log (one row per event, recipient and channel, unique by dedupe key), and each
//! person's preferences per kind and channel.

use crate::helpers::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    WorkspaceId,
    UserId,
    ProjectId,
    EventId,
    Kind,
    SubjectId,
    ActorId,
    Summary,
    StaffOnly,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum EmailDeliveries {
    Table,
    Id,
    WorkspaceId,
    UserId,
    NotificationId,
    DedupeKey,
    Kind,
    Status,
    Attempts,
    AvailableAt,
    ClaimedUntil,
    ToAddress,
    ProviderId,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    Id,
    WorkspaceId,
    UserId,
    Kind,
    Channel,
    Mode,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(uuid(Notifications::Id).primary_key())
                    .col(uuid(Notifications::WorkspaceId))
                    .col(uuid(Notifications::UserId))
                    .col(uuid(Notifications::ProjectId))
                    .col(uuid(Notifications::EventId))
                    .col(string_len(Notifications::Kind, 40))
                    .col(uuid_null(Notifications::SubjectId))
                    .col(uuid_null(Notifications::ActorId))
                    .col(string_len(Notifications::Summary, 500))
                    .col(boolean(Notifications::StaffOnly))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_notifications_event_user",
                    Notifications::Table,
                    &["event_id", "user_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_notifications_inbox",
                Notifications::Table,
                &["workspace_id", "user_id", "read_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailDeliveries::Table)
                    .col(uuid(EmailDeliveries::Id).primary_key())
                    .col(uuid(EmailDeliveries::WorkspaceId))
                    .col(uuid(EmailDeliveries::UserId))
                    .col(uuid_null(EmailDeliveries::NotificationId))
                    .col(string_len_uniq(EmailDeliveries::DedupeKey, 120))
                    .col(string_len(EmailDeliveries::Kind, 40))
                    .col(string_len(EmailDeliveries::Status, 10))
                    .col(integer(EmailDeliveries::Attempts))
                    .col(timestamp_with_time_zone(EmailDeliveries::AvailableAt))
                    .col(timestamp_with_time_zone_null(EmailDeliveries::ClaimedUntil))
                    .col(string_len_null(EmailDeliveries::ToAddress, 254))
                    .col(string_len_null(EmailDeliveries::ProviderId, 200))
                    .col(text_null(EmailDeliveries::LastError))
                    .col(timestamp_with_time_zone(EmailDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(EmailDeliveries::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_email_deliveries_due",
                EmailDeliveries::Table,
                &["status", "available_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_email_deliveries_log",
                EmailDeliveries::Table,
                &["workspace_id", "created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationPreferences::Table)
                    .col(uuid(NotificationPreferences::Id).primary_key())
                    .col(uuid(NotificationPreferences::WorkspaceId))
                    .col(uuid(NotificationPreferences::UserId))
                    .col(string_len(NotificationPreferences::Kind, 40))
                    .col(string_len(NotificationPreferences::Channel, 10))
                    .col(string_len(NotificationPreferences::Mode, 20))
                    .col(timestamp_with_time_zone(NotificationPreferences::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_notification_preferences",
                    NotificationPreferences::Table,
                    &["workspace_id", "user_id", "kind", "channel"],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(NotificationPreferences::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(EmailDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await
    }
}
