//! Project conversations: messages (soft-deleted, edit-marked) and each member's read position.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    AuthorId,
    Body,
    CreatedAt,
    EditedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum ConversationReads {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    UserId,
    LastReadId,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    // UUIDv7: ordering by ID is ordering by time, and IDs are the cursors.
                    .col(uuid(Messages::Id).primary_key())
                    .col(uuid(Messages::WorkspaceId))
                    .col(uuid(Messages::ProjectId))
                    .col(uuid(Messages::AuthorId))
                    .col(text(Messages::Body))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .col(timestamp_with_time_zone_null(Messages::EditedAt))
                    .col(timestamp_with_time_zone_null(Messages::DeletedAt))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(Messages::Table, Messages::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_project")
                    .table(Messages::Table)
                    .col(Messages::WorkspaceId)
                    .col(Messages::ProjectId)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConversationReads::Table)
                    .col(uuid(ConversationReads::Id).primary_key())
                    .col(uuid(ConversationReads::WorkspaceId))
                    .col(uuid(ConversationReads::ProjectId))
                    .col(uuid(ConversationReads::UserId))
                    .col(uuid(ConversationReads::LastReadId))
                    .col(timestamp_with_time_zone(ConversationReads::UpdatedAt))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(ConversationReads::Table, ConversationReads::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_conversation_reads_member")
                    .table(ConversationReads::Table)
                    .col(ConversationReads::ProjectId)
                    .col(ConversationReads::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConversationReads::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await
    }
}
