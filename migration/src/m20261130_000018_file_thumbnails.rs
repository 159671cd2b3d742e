//! Thumbnails of image versions: a background job renders them; each version records whether
//! one is due, made or impossible, and where it is. Image versions uploaded before this migration
//! are queued.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FileVersions {
    Table,
    ContentType,
    ThumbnailStatus,
    ThumbnailKey,
    ThumbnailContentType,
    ThumbnailWidth,
    ThumbnailHeight,
}

const INDEX: &str = "idx_file_versions_thumbnail_status";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let mut status = string_len(FileVersions::ThumbnailStatus, 10);
        status.default("NONE");
        let columns = [
            status,
            string_len_null(FileVersions::ThumbnailKey, 120),
            string_len_null(FileVersions::ThumbnailContentType, 50),
            integer_null(FileVersions::ThumbnailWidth),
            integer_null(FileVersions::ThumbnailHeight),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(FileVersions::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(FileVersions::Table)
                    .col(FileVersions::ThumbnailStatus)
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(FileVersions::Table)
                    .value(FileVersions::ThumbnailStatus, "PENDING")
                    .and_where(Expr::col(FileVersions::ContentType).is_in([
                        "image/png",
                        "image/jpeg",
                        "image/gif",
                        "image/webp",
                    ]))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(FileVersions::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            FileVersions::ThumbnailStatus,
            FileVersions::ThumbnailKey,
            FileVersions::ThumbnailContentType,
            FileVersions::ThumbnailWidth,
            FileVersions::ThumbnailHeight,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FileVersions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
