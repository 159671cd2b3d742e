//! Schema migrations of Portico, applied on start in the embedded default and by `portico migrate up`.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261122_000001_identity_and_tenancy;
mod m20261122_000002_projects_and_tasks;
mod m20261122_000003_tickets_and_activity;
mod m20261122_000004_notes_and_milestones;
mod m20261122_000005_messages;
mod m20261122_000006_api_keys;
mod m20261122_000007_payments;
mod m20261122_000008_trusted_documents;
mod m20261122_000009_mfa;
mod m20261122_000010_board_order;
mod m20261130_000011_member_session_cutoff;
mod m20261130_000012_outbox;
mod m20261130_000013_jobs;
mod m20261130_000014_idempotency;
mod m20261130_000015_ticket_payment_retries;
mod m20261130_000016_outbox_consumers;
mod m20261130_000017_files;
mod m20261130_000018_file_thumbnails;
mod m20261130_000019_notifications;
mod m20261130_000020_user_locale;
mod m20261130_000021_account_emails;
mod m20261130_000022_webhooks;
mod m20261201_000023_audit;
mod m20261201_000024_audit_exports;
mod m20261201_000025_platform_audit_exports;

pub use m20261201_000023_audit::NO_DELETE_SQLITE as AUDIT_SQLITE_NO_DELETE;
pub use m20261201_000023_audit::partition_sql as audit_partition_sql;

pub use m20261130_000017_files::STANDARD_FOLDERS;

/// Every migration, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_identity_and_tenancy::Migration),
            Box::new(m20261122_000002_projects_and_tasks::Migration),
            Box::new(m20261122_000003_tickets_and_activity::Migration),
            Box::new(m20261122_000004_notes_and_milestones::Migration),
            Box::new(m20261122_000005_messages::Migration),
            Box::new(m20261122_000006_api_keys::Migration),
            Box::new(m20261122_000007_payments::Migration),
            Box::new(m20261122_000008_trusted_documents::Migration),
            Box::new(m20261122_000009_mfa::Migration),
            Box::new(m20261122_000010_board_order::Migration),
            Box::new(m20261130_000011_member_session_cutoff::Migration),
            Box::new(m20261130_000012_outbox::Migration),
            Box::new(m20261130_000013_jobs::Migration),
            Box::new(m20261130_000014_idempotency::Migration),
            Box::new(m20261130_000015_ticket_payment_retries::Migration),
            Box::new(m20261130_000016_outbox_consumers::Migration),
            Box::new(m20261130_000017_files::Migration),
            Box::new(m20261130_000018_file_thumbnails::Migration),
            Box::new(m20261130_000019_notifications::Migration),
            Box::new(m20261130_000020_user_locale::Migration),
            Box::new(m20261130_000021_account_emails::Migration),
            Box::new(m20261130_000022_webhooks::Migration),
            Box::new(m20261201_000023_audit::Migration),
            Box::new(m20261201_000024_audit_exports::Migration),
            Box::new(m20261201_000025_platform_audit_exports::Migration),
        ]
    }
}
