//! Files: folders per project (the standard ones created for every existing project), files with
//! their versions (in a folder, or attached to a ticket, a ticket comment or a message), uploads
//! awaiting completion, upload links for people without an account, and each workspace's file
//! settings.

use crate::helpers::index;
use sea_orm_migration::sea_orm::ConnectionTrait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    WorkspaceId,
}

#[derive(DeriveIden)]
enum Folders {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    ParentId,
    Name,
    Zone,
    SystemKey,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    FolderId,
    AttachedTo,
    AttachedId,
    Name,
    Zone,
    ContentType,
    SizeBytes,
    Sha256,
    CurrentVersion,
    UploadedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    DeletedBy,
    UploadLinkId,
}

#[derive(DeriveIden)]
enum FileVersions {
    Table,
    Id,
    WorkspaceId,
    FileId,
    Number,
    Label,
    ObjectKey,
    ContentType,
    SizeBytes,
    Sha256,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FileUploads {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    FolderId,
    FileId,
    AttachedTo,
    AttachedId,
    Name,
    Label,
    ContentType,
    SizeBytes,
    Sha256,
    ObjectKey,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    CompletedAt,
    UploadLinkId,
}

#[derive(DeriveIden)]
enum UploadLinks {
    Table,
    Id,
    WorkspaceId,
    ProjectId,
    FolderId,
    Name,
    TokenHash,
    PinHash,
    MaxFiles,
    FilesUsed,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum FileSettings {
    Table,
    WorkspaceId,
    ClientsMayUpload,
    ClientsMayDelete,
    ClientsMayCreateFolders,
    MaxFileBytes,
    QuotaBytes,
    UpdatedAt,
}

/// The folders every project starts with: (system key, name, zone).
pub const STANDARD_FOLDERS: [(&str, &str, &str); 4] = [
    ("BRANDING", "Branding", "CLIENT"),
    ("CONTENT", "Content", "CLIENT"),
    ("DELIVERABLES", "Deliverables", "SHARED"),
    ("INTERNAL", "Internal", "INTERNAL"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Folders::Table)
                    .col(uuid(Folders::Id).primary_key())
                    .col(uuid(Folders::WorkspaceId))
                    .col(uuid(Folders::ProjectId))
                    .col(uuid_null(Folders::ParentId))
                    .col(string_len(Folders::Name, 255))
                    .col(string_len(Folders::Zone, 16))
                    .col(string_len_null(Folders::SystemKey, 16))
                    .col(uuid_null(Folders::CreatedBy))
                    .col(timestamp_with_time_zone(Folders::CreatedAt))
                    .col(timestamp_with_time_zone(Folders::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_folders_project",
                Folders::Table,
                &["workspace_id", "project_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(uuid(Files::Id).primary_key())
                    .col(uuid(Files::WorkspaceId))
                    .col(uuid(Files::ProjectId))
                    .col(uuid_null(Files::FolderId))
                    .col(string_len_null(Files::AttachedTo, 16))
                    .col(uuid_null(Files::AttachedId))
                    .col(string_len(Files::Name, 255))
                    .col(string_len(Files::Zone, 16))
                    .col(string_len(Files::ContentType, 127))
                    .col(big_integer(Files::SizeBytes))
                    .col(string_len(Files::Sha256, 64))
                    .col(integer(Files::CurrentVersion))
                    .col(uuid(Files::UploadedBy))
                    .col(timestamp_with_time_zone(Files::CreatedAt))
                    .col(timestamp_with_time_zone(Files::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Files::DeletedAt))
                    .col(uuid_null(Files::DeletedBy))
                    .col(uuid_null(Files::UploadLinkId))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_files_folder", &["workspace_id", "folder_id"][..]),
            ("idx_files_attached", &["workspace_id", "attached_id"][..]),
            (
                "idx_files_project",
                &["workspace_id", "project_id", "deleted_at"][..],
            ),
        ] {
            manager
                .create_index(index(name, Files::Table, cols))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(FileVersions::Table)
                    .col(uuid(FileVersions::Id).primary_key())
                    .col(uuid(FileVersions::WorkspaceId))
                    .col(uuid(FileVersions::FileId))
                    .col(integer(FileVersions::Number))
                    .col(string_len(FileVersions::Label, 50))
                    .col(string_len(FileVersions::ObjectKey, 100))
                    .col(string_len(FileVersions::ContentType, 127))
                    .col(big_integer(FileVersions::SizeBytes))
                    .col(string_len(FileVersions::Sha256, 64))
                    .col(uuid(FileVersions::UploadedBy))
                    .col(timestamp_with_time_zone(FileVersions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_file_versions_number",
                    FileVersions::Table,
                    &["file_id", "number"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_file_versions_workspace",
                FileVersions::Table,
                &["workspace_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FileUploads::Table)
                    .col(uuid(FileUploads::Id).primary_key())
                    .col(uuid(FileUploads::WorkspaceId))
                    .col(uuid(FileUploads::ProjectId))
                    .col(uuid_null(FileUploads::FolderId))
                    .col(uuid_null(FileUploads::FileId))
                    .col(string_len_null(FileUploads::AttachedTo, 16))
                    .col(uuid_null(FileUploads::AttachedId))
                    .col(string_len(FileUploads::Name, 255))
                    .col(string_len_null(FileUploads::Label, 50))
                    .col(string_len(FileUploads::ContentType, 127))
                    .col(big_integer(FileUploads::SizeBytes))
                    .col(string_len(FileUploads::Sha256, 64))
                    .col(string_len(FileUploads::ObjectKey, 100))
                    .col(uuid(FileUploads::CreatedBy))
                    .col(timestamp_with_time_zone(FileUploads::CreatedAt))
                    .col(timestamp_with_time_zone(FileUploads::ExpiresAt))
                    .col(timestamp_with_time_zone_null(FileUploads::CompletedAt))
                    .col(uuid_null(FileUploads::UploadLinkId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_file_uploads_expiry",
                FileUploads::Table,
                &["expires_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_file_uploads_workspace",
                FileUploads::Table,
                &["workspace_id", "created_by"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FileSettings::Table)
                    .col(uuid(FileSettings::WorkspaceId).primary_key())
                    .col(boolean(FileSettings::ClientsMayUpload))
                    .col(boolean(FileSettings::ClientsMayDelete))
                    .col(boolean(FileSettings::ClientsMayCreateFolders))
                    .col(big_integer_null(FileSettings::MaxFileBytes))
                    .col(big_integer_null(FileSettings::QuotaBytes))
                    .col(timestamp_with_time_zone(FileSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UploadLinks::Table)
                    .col(uuid(UploadLinks::Id).primary_key())
                    .col(uuid(UploadLinks::WorkspaceId))
                    .col(uuid(UploadLinks::ProjectId))
                    .col(uuid(UploadLinks::FolderId))
                    .col(string_len(UploadLinks::Name, 200))
                    .col(string_len(UploadLinks::TokenHash, 64).unique_key())
                    .col(string_len_null(UploadLinks::PinHash, 64))
                    .col(integer_null(UploadLinks::MaxFiles))
                    .col(integer(UploadLinks::FilesUsed))
                    .col(uuid(UploadLinks::CreatedBy))
                    .col(timestamp_with_time_zone(UploadLinks::CreatedAt))
                    .col(timestamp_with_time_zone(UploadLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(UploadLinks::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_upload_links_project",
                UploadLinks::Table,
                &["workspace_id", "project_id"],
            ))
            .await?;
        standard_folders_for_existing_projects(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UploadLinks::Table.into_iden(),
            FileSettings::Table.into_iden(),
            FileUploads::Table.into_iden(),
            FileVersions::Table.into_iden(),
            Files::Table.into_iden(),
            Folders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Gives every project that exists the standard folders new projects get.
async fn standard_folders_for_existing_projects(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let projects = db
        .query_all(
            &Query::select()
                .columns([Projects::Id, Projects::WorkspaceId])
                .from(Projects::Table)
                .to_owned(),
        )
        .await?;
    let now = chrono::Utc::now();
    for row in projects {
        let project: uuid::Uuid = row.try_get("", "id")?;
        let workspace: uuid::Uuid = row.try_get("", "workspace_id")?;
        for (key, name, zone) in STANDARD_FOLDERS {
            let insert = Query::insert()
                .into_table(Folders::Table)
                .columns([
                    Folders::Id,
                    Folders::WorkspaceId,
                    Folders::ProjectId,
                    Folders::Name,
                    Folders::Zone,
                    Folders::SystemKey,
                    Folders::CreatedAt,
                    Folders::UpdatedAt,
                ])
                .values([
                    uuid::Uuid::now_v7().into(),
                    workspace.into(),
                    project.into(),
                    name.into(),
                    zone.into(),
                    key.into(),
                    now.into(),
                    now.into(),
                ])
                .map_err(|e| DbErr::Custom(e.to_string()))?
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
    }
    Ok(())
}
