//! Outbound webhooks: each workspace's endpoints (URL, event kinds, sealed signing secret, its
//! health) and the delivery log (one row per endpoint and event, unique by dedupe key, with
//! each attempt's status and latency).

use crate::helpers::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    WorkspaceId,
    Url,
    Kinds,
    Description,
    SealedSecret,
    Enabled,
    DisabledReason,
    ConsecutiveFailures,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WorkspaceId,
    EndpointId,
    DedupeKey,
    EventId,
    Kind,
    Event,
    Status,
    Attempts,
    AvailableAt,
    ClaimedUntil,
    ResponseStatus,
    LatencyMs,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(uuid(WebhookEndpoints::Id).primary_key())
                    .col(uuid(WebhookEndpoints::WorkspaceId))
                    .col(string_len(WebhookEndpoints::Url, 2048))
                    .col(text(WebhookEndpoints::Kinds))
                    .col(string_len_null(WebhookEndpoints::Description, 500))
                    .col(text(WebhookEndpoints::SealedSecret))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(string_len_null(WebhookEndpoints::DisabledReason, 500))
                    .col(integer(WebhookEndpoints::ConsecutiveFailures))
                    .col(uuid(WebhookEndpoints::CreatedBy))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_endpoints_workspace",
                WebhookEndpoints::Table,
                &["workspace_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(uuid(WebhookDeliveries::Id).primary_key())
                    .col(uuid(WebhookDeliveries::WorkspaceId))
                    .col(uuid(WebhookDeliveries::EndpointId))
                    .col(string_len_uniq(WebhookDeliveries::DedupeKey, 120))
                    .col(uuid(WebhookDeliveries::EventId))
                    .col(string_len(WebhookDeliveries::Kind, 40))
                    .col(text(WebhookDeliveries::Event))
                    .col(string_len(WebhookDeliveries::Status, 10))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone(WebhookDeliveries::AvailableAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::ClaimedUntil,
                    ))
                    .col(integer_null(WebhookDeliveries::ResponseStatus))
                    .col(integer_null(WebhookDeliveries::LatencyMs))
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::DeliveredAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_deliveries_due",
                WebhookDeliveries::Table,
                &["status", "available_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_webhook_deliveries_log",
                WebhookDeliveries::Table,
                &["workspace_id", "endpoint_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}
