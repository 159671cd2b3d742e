//! Users, sessions, refresh tokens, workspaces, roles, memberships and invitations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    Status,
    IsPlatformAdmin,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    UserAgent,
    Ip,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    SessionId,
    CreatedAt,
    ReplacedAt,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
    Name,
    Slug,
    DisplayName,
    LogoUrl,
    EmailSenderName,
    BrandColor,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    WorkspaceId,
    Name,
    Builtin,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RolePermissions {
    Table,
    RoleId,
    Permission,
    WorkspaceId,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    WorkspaceId,
    UserId,
    RoleId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    WorkspaceId,
    Email,
    RoleId,
    CodeHash,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedBy,
    RevokedAt,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string_len_uniq(Users::Email, 320))
                    .col(string_len(Users::Name, 200))
                    .col(string_len(Users::PasswordHash, 200))
                    .col(string_len(Users::Status, 16))
                    .col(boolean(Users::IsPlatformAdmin).default(false))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::UserId))
                    .col(string_len_null(Sessions::UserAgent, 512))
                    .col(string_len_null(Sessions::Ip, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastUsedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::RevokedReason, 32))
                    .foreign_key(&mut fk(
                        Sessions::Table,
                        Sessions::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(string_len(RefreshTokens::TokenHash, 64).primary_key())
                    .col(uuid(RefreshTokens::SessionId))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::ReplacedAt))
                    .foreign_key(&mut fk(
                        RefreshTokens::Table,
                        RefreshTokens::SessionId,
                        Sessions::Table,
                        Sessions::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_session")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Workspaces::Table)
                    .col(uuid(Workspaces::Id).primary_key())
                    .col(string_len(Workspaces::Name, 200))
                    .col(string_len_uniq(Workspaces::Slug, 64))
                    .col(string_len_null(Workspaces::DisplayName, 200))
                    .col(string_len_null(Workspaces::LogoUrl, 2048))
                    .col(string_len_null(Workspaces::EmailSenderName, 200))
                    .col(string_len_null(Workspaces::BrandColor, 7))
                    .col(timestamp_with_time_zone(Workspaces::CreatedAt))
                    .col(timestamp_with_time_zone(Workspaces::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(uuid(Roles::Id).primary_key())
                    .col(uuid(Roles::WorkspaceId))
                    .col(string_len(Roles::Name, 64))
                    .col(string_len_null(Roles::Builtin, 16))
                    .col(string_len_null(Roles::Description, 500))
                    .col(timestamp_with_time_zone(Roles::CreatedAt))
                    .col(timestamp_with_time_zone(Roles::UpdatedAt))
                    .foreign_key(&mut fk(
                        Roles::Table,
                        Roles::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_roles_workspace_name")
                    .table(Roles::Table)
                    .col(Roles::WorkspaceId)
                    .col(Roles::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RolePermissions::Table)
                    .col(uuid(RolePermissions::RoleId))
                    .col(string_len(RolePermissions::Permission, 64))
                    .col(uuid(RolePermissions::WorkspaceId))
                    .primary_key(
                        Index::create()
                            .col(RolePermissions::RoleId)
                            .col(RolePermissions::Permission),
                    )
                    .foreign_key(&mut fk(
                        RolePermissions::Table,
                        RolePermissions::RoleId,
                        Roles::Table,
                        Roles::Id,
                    ))
                    .foreign_key(&mut fk(
                        RolePermissions::Table,
                        RolePermissions::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_role_permissions_workspace")
                    .table(RolePermissions::Table)
                    .col(RolePermissions::WorkspaceId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(uuid(Memberships::Id).primary_key())
                    .col(uuid(Memberships::WorkspaceId))
                    .col(uuid(Memberships::UserId))
                    .col(uuid(Memberships::RoleId))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .col(timestamp_with_time_zone(Memberships::UpdatedAt))
                    .foreign_key(&mut fk(
                        Memberships::Table,
                        Memberships::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .foreign_key(&mut fk(
                        Memberships::Table,
                        Memberships::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(Memberships::Table, Memberships::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_memberships_workspace_user")
                    .table(Memberships::Table)
                    .col(Memberships::WorkspaceId)
                    .col(Memberships::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_user")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_role")
                    .table(Memberships::Table)
                    .col(Memberships::RoleId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(uuid(Invitations::Id).primary_key())
                    .col(uuid(Invitations::WorkspaceId))
                    .col(string_len(Invitations::Email, 320))
                    .col(uuid(Invitations::RoleId))
                    .col(string_len_uniq(Invitations::CodeHash, 64))
                    .col(uuid(Invitations::InvitedBy))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(uuid_null(Invitations::AcceptedBy))
                    .col(timestamp_with_time_zone_null(Invitations::RevokedAt))
                    .foreign_key(&mut fk(
                        Invitations::Table,
                        Invitations::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .foreign_key(&mut fk(
                        Invitations::Table,
                        Invitations::RoleId,
                        Roles::Table,
                        Roles::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitations_workspace")
                    .table(Invitations::Table)
                    .col(Invitations::WorkspaceId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Invitations::Table.into_iden(),
            Memberships::Table.into_iden(),
            RolePermissions::Table.into_iden(),
            Roles::Table.into_iden(),
            Workspaces::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
