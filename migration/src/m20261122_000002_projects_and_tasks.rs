//! Projects (phases, members) and kanban tasks (labels).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    WorkspaceId,
    Name,
    Description,
    Status,
    ProgressOverride,
    NextStep,
    ClientAction,
    CurrentPhaseId,
    EstimatedDelivery,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProjectPhases {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    Name,
    Position,
}

#[derive(DeriveIden)]
enum ProjectMembers {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    Title,
    Description,
    BoardColumn,
    Position,
    AssigneeId,
    DueDate,
    BlockedByClient,
    BlockedReason,
    Origin,
    TicketId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TaskLabels {
    Table,
    TaskId,
    Label,
    WorkspaceId,
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

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .col(uuid(Projects::Id).primary_key())
                    .col(uuid(Projects::WorkspaceId))
                    .col(string_len(Projects::Name, 200))
                    .col(text_null(Projects::Description))
                    .col(string_len(Projects::Status, 16))
                    .col(small_integer_null(Projects::ProgressOverride))
                    .col(string_len_null(Projects::NextStep, 500))
                    .col(string_len_null(Projects::ClientAction, 500))
                    .col(uuid_null(Projects::CurrentPhaseId))
                    .col(date_null(Projects::EstimatedDelivery))
                    .col(uuid(Projects::CreatedBy))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (Projects::Table, Projects::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_projects_workspace",
            Projects::Table,
            &["workspace_id", "id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectPhases::Table)
                    .col(uuid(ProjectPhases::Id).primary_key())
                    .col(uuid(ProjectPhases::WorkspaceId))
                    .col(uuid(ProjectPhases::ProjectId))
                    .col(string_len(ProjectPhases::Name, 100))
                    .col(integer(ProjectPhases::Position))
                    .foreign_key(&mut cascade(
                        (ProjectPhases::Table, ProjectPhases::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_project_phases_project",
            ProjectPhases::Table,
            &["workspace_id", "project_id", "position"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectMembers::Table)
                    .col(uuid(ProjectMembers::Id).primary_key())
                    .col(uuid(ProjectMembers::WorkspaceId))
                    .col(uuid(ProjectMembers::ProjectId))
                    .col(uuid(ProjectMembers::UserId))
                    .col(timestamp_with_time_zone(ProjectMembers::CreatedAt))
                    .foreign_key(&mut cascade(
                        (ProjectMembers::Table, ProjectMembers::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (ProjectMembers::Table, ProjectMembers::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_project_members",
            ProjectMembers::Table,
            &["project_id", "user_id"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_project_members_user",
            ProjectMembers::Table,
            &["workspace_id", "user_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(uuid(Tasks::Id).primary_key())
                    .col(uuid(Tasks::WorkspaceId))
                    .col(uuid(Tasks::ProjectId))
                    .col(string_len(Tasks::Title, 300))
                    .col(text_null(Tasks::Description))
                    .col(string_len(Tasks::BoardColumn, 16))
                    .col(big_integer(Tasks::Position))
                    .col(uuid_null(Tasks::AssigneeId))
                    .col(date_null(Tasks::DueDate))
                    .col(boolean(Tasks::BlockedByClient).default(false))
                    .col(string_len_null(Tasks::BlockedReason, 500))
                    .col(string_len(Tasks::Origin, 16))
                    .col(uuid_null(Tasks::TicketId))
                    .col(uuid(Tasks::CreatedBy))
                    .col(timestamp_with_time_zone(Tasks::CreatedAt))
                    .col(timestamp_with_time_zone(Tasks::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (Tasks::Table, Tasks::ProjectId),
                        (Projects::Table, Projects::Id),
                    ))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(Tasks::Table, Tasks::AssigneeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        // A slot in a column holds one task: concurrent moves can never duplicate a position.
        index(
            manager,
            "uq_tasks_slot",
            Tasks::Table,
            &["project_id", "board_column", "position"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_tasks_workspace_project",
            Tasks::Table,
            &["workspace_id", "project_id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_tasks_assignee",
            Tasks::Table,
            &["workspace_id", "assignee_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TaskLabels::Table)
                    .col(uuid(TaskLabels::TaskId))
                    .col(string_len(TaskLabels::Label, 50))
                    .col(uuid(TaskLabels::WorkspaceId))
                    .primary_key(
                        Index::create()
                            .col(TaskLabels::TaskId)
                            .col(TaskLabels::Label),
                    )
                    .foreign_key(&mut cascade(
                        (TaskLabels::Table, TaskLabels::TaskId),
                        (Tasks::Table, Tasks::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_task_labels_label",
            TaskLabels::Table,
            &["workspace_id", "label"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TaskLabels::Table.into_iden(),
            Tasks::Table.into_iden(),
            ProjectMembers::Table.into_iden(),
            ProjectPhases::Table.into_iden(),
            Projects::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
