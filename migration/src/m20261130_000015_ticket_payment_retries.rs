//! A ticket may be paid through several requests over time (a cancelled or expired one sends the
//! ticket back to QUOTED, and accepting the quote again asks anew), but through one *pending*
//! request at a time: the unique `ticket_id` becomes a unique index over pending requests.
//!
//! Tickets left waiting by the earlier rule (their only requests closed unpaid before a closed
//! request gave the quote back) return to QUOTED, so their clients can accept again.

use crate::m20261122_000007_payments::{payment_request_indexes, payment_requests};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One pending request per ticket (PostgreSQL and SQLite both have partial indexes).
const OPEN_PER_TICKET: &str = "CREATE UNIQUE INDEX idx_payment_requests_pending_ticket \
     ON payment_requests (ticket_id) WHERE status = 'PENDING'";
const TICKET_INDEX: &str =
    "CREATE INDEX idx_payment_requests_ticket ON payment_requests (ticket_id)";
/// A ticket AWAITING_PAYMENT whose requests all closed unpaid (at least one, none pending, paid
/// or refunded) had its quote given back under the new rule: it returns to QUOTED.
const STRANDED_TICKETS: &str = "UPDATE tickets SET status = 'QUOTED', updated_at = CURRENT_TIMESTAMP \
     WHERE status = 'AWAITING_PAYMENT' \
     AND EXISTS (SELECT 1 FROM payment_requests r WHERE r.ticket_id = tickets.id) \
     AND NOT EXISTS (SELECT 1 FROM payment_requests r WHERE r.ticket_id = tickets.id \
         AND r.status NOT IN ('CANCELLED', 'EXPIRED'))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too: the rebuild is atomic, and on one connection (a pooled
    /// statement elsewhere would still see the table it replaces).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE payment_requests DROP CONSTRAINT IF EXISTS payment_requests_ticket_id_key",
                )
                .await?;
            }
            // SQLite cannot drop a column's UNIQUE: the table is rebuilt without it, the same
            // columns in the same order (nothing references it, and it references nothing).
            _ => rebuild(manager, false).await?,
        }
        db.execute_unprepared(OPEN_PER_TICKET).await?;
        db.execute_unprepared(TICKET_INDEX).await?;
        db.execute_unprepared(STRANDED_TICKETS).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_payment_requests_pending_ticket")
            .await?;
        db.execute_unprepared("DROP INDEX idx_payment_requests_ticket")
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE payment_requests ADD CONSTRAINT payment_requests_ticket_id_key UNIQUE (ticket_id)",
                )
                .await?;
                Ok(())
            }
            _ => rebuild(manager, true).await,
        }
    }
}

/// Rebuilds `payment_requests` on SQLite with or without the unique `ticket_id`.
async fn rebuild(manager: &SchemaManager<'_>, ticket_unique: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let next = Alias::new("payment_requests_next");
    manager
        .create_table(payment_requests(next, ticket_unique))
        .await?;
    db.execute_unprepared("INSERT INTO payment_requests_next SELECT * FROM payment_requests")
        .await?;
    db.execute_unprepared("DROP TABLE payment_requests").await?;
    db.execute_unprepared("ALTER TABLE payment_requests_next RENAME TO payment_requests")
        .await?;
    for index in payment_request_indexes() {
        manager.create_index(index).await?;
    }
    Ok(())
}
