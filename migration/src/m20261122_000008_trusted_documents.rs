//! Trusted documents: the registered set of GraphQL documents a partner API key may run, and the
//! key setting that restricts it to them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    TrustedDocumentsOnly,
}

#[derive(DeriveIden)]
enum TrustedDocuments {
    Table,
    Id,
    WorkspaceId,
    ApiKeyId,
    Sha256,
    Name,
    Body,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(boolean(ApiKeys::TrustedDocumentsOnly).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TrustedDocuments::Table)
                    .col(uuid(TrustedDocuments::Id).primary_key())
                    .col(uuid(TrustedDocuments::WorkspaceId))
                    .col(uuid(TrustedDocuments::ApiKeyId))
                    .col(string_len(TrustedDocuments::Sha256, 64))
                    .col(string_len(TrustedDocuments::Name, 100))
                    .col(text(TrustedDocuments::Body))
                    .col(uuid(TrustedDocuments::CreatedBy))
                    .col(timestamp_with_time_zone(TrustedDocuments::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_trusted_documents_key_hash")
                    .table(TrustedDocuments::Table)
                    .col(TrustedDocuments::ApiKeyId)
                    .col(TrustedDocuments::Sha256)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TrustedDocuments::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(ApiKeys::TrustedDocumentsOnly)
                    .to_owned(),
            )
            .await
    }
}
