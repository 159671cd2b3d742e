//! A workspace-scoped sign-out: `endMemberSessions` refuses, in its workspace only, every session
//! of the member opened before this time (sessions are global, so they are not revoked).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Memberships {
    Table,
    SessionsNotBefore,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Memberships::Table)
                    .add_column(timestamp_with_time_zone_null(
                        Memberships::SessionsNotBefore,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Memberships::Table)
                    .drop_column(Memberships::SessionsNotBefore)
                    .to_owned(),
            )
            .await
    }
}
