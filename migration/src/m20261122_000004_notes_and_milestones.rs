//! Staff-only private notes (on a project or on a member) and milestones clients validate.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PrivateNotes {
    Table,
    Id,
    WorkspaceId,
    SubjectType,
    SubjectId,
    Body,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Milestones {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    Kind,
    Title,
    Status,
    RequestedBy,
    RequestedAt,
    DecidedBy,
    DecidedAt,
    Comment,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PrivateNotes::Table)
                    .col(uuid(PrivateNotes::Id).primary_key())
                    .col(uuid(PrivateNotes::WorkspaceId))
                    .col(string_len(PrivateNotes::SubjectType, 16))
                    .col(uuid(PrivateNotes::SubjectId))
                    .col(text(PrivateNotes::Body))
                    .col(uuid(PrivateNotes::UpdatedBy))
                    .col(timestamp_with_time_zone(PrivateNotes::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_private_notes_subject")
                    .table(PrivateNotes::Table)
                    .col(PrivateNotes::WorkspaceId)
                    .col(PrivateNotes::SubjectType)
                    .col(PrivateNotes::SubjectId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Milestones::Table)
                    .col(uuid(Milestones::Id).primary_key())
                    .col(uuid(Milestones::WorkspaceId))
                    .col(uuid(Milestones::ProjectId))
                    .col(string_len(Milestones::Kind, 16))
                    .col(string_len(Milestones::Title, 200))
                    .col(string_len(Milestones::Status, 16))
                    .col(uuid(Milestones::RequestedBy))
                    .col(timestamp_with_time_zone(Milestones::RequestedAt))
                    .col(uuid_null(Milestones::DecidedBy))
                    .col(timestamp_with_time_zone_null(Milestones::DecidedAt))
                    .col(text_null(Milestones::Comment))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(Milestones::Table, Milestones::ProjectId)
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
                    .name("idx_milestones_project")
                    .table(Milestones::Table)
                    .col(Milestones::WorkspaceId)
                    .col(Milestones::ProjectId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Milestones::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PrivateNotes::Table).to_owned())
            .await
    }
}
