//! Account emails: single-use tokens (password reset, email verification, email change, stored
//! hashed), the queue of the emails that carry them (written in the transaction that creates the
//! token, the secret sealed, cleared once sent), and when each account proved its address.
//! Accounts that exist before this migration count as verified.

use crate::helpers::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    EmailVerifiedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    NewEmail,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AccountEmails {
    Table,
    Id,
    Kind,
    ToAddress,
    UserId,
    WorkspaceId,
    Locale,
    Vars,
    Sealed,
    Status,
    Attempts,
    AvailableAt,
    ClaimedUntil,
    ProviderId,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Users::Table)
                    .value(Users::EmailVerifiedAt, Expr::col(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(uuid(AccountTokens::Id).primary_key())
                    .col(uuid(AccountTokens::UserId))
                    .col(string_len(AccountTokens::Purpose, 20))
                    .col(string_len_uniq(AccountTokens::TokenHash, 64))
                    .col(string_len_null(AccountTokens::NewEmail, 254))
                    .col(timestamp_with_time_zone(AccountTokens::CreatedAt))
                    .col(timestamp_with_time_zone(AccountTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccountTokens::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_account_tokens_user",
                AccountTokens::Table,
                &["user_id", "purpose"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountEmails::Table)
                    .col(uuid(AccountEmails::Id).primary_key())
                    .col(string_len(AccountEmails::Kind, 30))
                    .col(string_len(AccountEmails::ToAddress, 254))
                    .col(uuid_null(AccountEmails::UserId))
                    .col(uuid_null(AccountEmails::WorkspaceId))
                    .col(string_len(AccountEmails::Locale, 5))
                    .col(text(AccountEmails::Vars))
                    .col(text_null(AccountEmails::Sealed))
                    .col(string_len(AccountEmails::Status, 10))
                    .col(integer(AccountEmails::Attempts))
                    .col(timestamp_with_time_zone(AccountEmails::AvailableAt))
                    .col(timestamp_with_time_zone_null(AccountEmails::ClaimedUntil))
                    .col(string_len_null(AccountEmails::ProviderId, 200))
                    .col(text_null(AccountEmails::LastError))
                    .col(timestamp_with_time_zone(AccountEmails::CreatedAt))
                    .col(timestamp_with_time_zone_null(AccountEmails::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_account_emails_due",
                AccountEmails::Table,
                &["status", "available_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountEmails::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AccountTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::EmailVerifiedAt)
                    .to_owned(),
            )
            .await
    }
}
