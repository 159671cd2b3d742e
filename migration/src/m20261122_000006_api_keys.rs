//! Partner API keys: hashed secrets looked up by public id, scopes, optional project restriction,
//! expiry, rotation grace, revocation, last use.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    WorkspaceId,
    Name,
    PublicId,
    SecretHash,
    PreviousSecretHash,
    PreviousValidUntil,
    Scopes,
    ProjectIds,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
    LastUsedIp,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(uuid(ApiKeys::Id).primary_key())
                    .col(uuid(ApiKeys::WorkspaceId))
                    .col(string_len(ApiKeys::Name, 100))
                    .col(string_len(ApiKeys::PublicId, 32).unique_key())
                    .col(string_len(ApiKeys::SecretHash, 64))
                    .col(string_len_null(ApiKeys::PreviousSecretHash, 64))
                    .col(timestamp_with_time_zone_null(ApiKeys::PreviousValidUntil))
                    .col(text(ApiKeys::Scopes))
                    .col(text_null(ApiKeys::ProjectIds))
                    .col(uuid(ApiKeys::CreatedBy))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(string_len_null(ApiKeys::LastUsedIp, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_workspace")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::WorkspaceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}
