//! Tickets (numbered per project), their comment threads, and the project activity timeline.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    NextTicketNumber,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    Number,
    Kind,
    Title,
    Description,
    Status,
    CreatedBy,
    QuoteAmountMinor,
    QuoteCurrency,
    QuoteDescription,
    QuoteDelayDays,
    TaskId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TicketComments {
    Table,
    Id,
    WorkspaceId,
    TicketId,
    AuthorId,
    Body,
    Internal,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    ActorId,
    Action,
    SubjectType,
    SubjectId,
    Summary,
    Payload,
    StaffOnly,
    CreatedAt,
}

fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Projects::Table)
                    .add_column(integer(Projects::NextTicketNumber).default(1))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tickets::Table)
                    .col(uuid(Tickets::Id).primary_key())
                    .col(uuid(Tickets::WorkspaceId))
                    .col(uuid(Tickets::ProjectId))
                    .col(integer(Tickets::Number))
                    .col(string_len(Tickets::Kind, 16))
                    .col(string_len(Tickets::Title, 300))
                    .col(text(Tickets::Description))
                    .col(string_len(Tickets::Status, 20))
                    .col(uuid(Tickets::CreatedBy))
                    .col(big_integer_null(Tickets::QuoteAmountMinor))
                    .col(string_len_null(Tickets::QuoteCurrency, 3))
                    .col(text_null(Tickets::QuoteDescription))
                    .col(integer_null(Tickets::QuoteDelayDays))
                    .col(uuid_null(Tickets::TaskId))
                    .col(timestamp_with_time_zone(Tickets::CreatedAt))
                    .col(timestamp_with_time_zone(Tickets::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (Tickets::Table, Tickets::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_tickets_project_number")
                    .table(Tickets::Table)
                    .col(Tickets::ProjectId)
                    .col(Tickets::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_tickets_task")
                    .table(Tickets::Table)
                    .col(Tickets::TaskId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tickets_workspace_project")
                    .table(Tickets::Table)
                    .col(Tickets::WorkspaceId)
                    .col(Tickets::ProjectId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketComments::Table)
                    .col(uuid(TicketComments::Id).primary_key())
                    .col(uuid(TicketComments::WorkspaceId))
                    .col(uuid(TicketComments::TicketId))
                    .col(uuid(TicketComments::AuthorId))
                    .col(text(TicketComments::Body))
                    .col(boolean(TicketComments::Internal).default(false))
                    .col(timestamp_with_time_zone(TicketComments::CreatedAt))
                    .foreign_key(&mut cascade(
                        (TicketComments::Table, TicketComments::TicketId),
                        (Tickets::Table, Tickets::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_comments_ticket")
                    .table(TicketComments::Table)
                    .col(TicketComments::WorkspaceId)
                    .col(TicketComments::TicketId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(uuid(Activities::Id).primary_key())
                    .col(uuid(Activities::WorkspaceId))
                    .col(uuid(Activities::ProjectId))
                    .col(uuid(Activities::ActorId))
                    .col(string_len(Activities::Action, 40))
                    .col(string_len(Activities::SubjectType, 20))
                    .col(uuid(Activities::SubjectId))
                    .col(string_len(Activities::Summary, 500))
                    .col(text(Activities::Payload))
                    .col(boolean(Activities::StaffOnly).default(false))
                    .col(timestamp_with_time_zone(Activities::CreatedAt))
                    .foreign_key(&mut cascade(
                        (Activities::Table, Activities::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activities_project")
                    .table(Activities::Table)
                    .col(Activities::WorkspaceId)
                    .col(Activities::ProjectId)
                    .col(Activities::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Activities::Table.into_iden(),
            TicketComments::Table.into_iden(),
            Tickets::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Projects::Table)
                    .drop_column(Projects::NextTicketNumber)
                    .to_owned(),
            )
            .await
    }
}
