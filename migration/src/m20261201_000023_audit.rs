//! The audit log: `audit_events` (one row per recorded action, linked into a hash chain per
//! workspace and one for the platform by the sealer, shortly after it is written) and
//! `audit_chain_heads` (each chain's last link, locked by the sealer, and the anchor left by
//! retention).
//!
//! On PostgreSQL the events table is partitioned by month (`audit_events_YYYY_MM`, created ahead
//! by the `audit.partitions` job, with a default partition as a safety net) and append-only:
//! triggers refuse UPDATE (but the sealing of a row without a link, which sets the link and
//! nothing else), DELETE and TRUNCATE. On SQLite triggers refuse the same UPDATEs and DELETE.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str = "
    id uuid NOT NULL,
    chain varchar(64) NOT NULL,
    seq bigint NULL,
    prev_hash varchar(64) NULL,
    hash varchar(64) NULL,
    at timestamptz NOT NULL,
    workspace_id uuid NULL,
    actor_type varchar(32) NOT NULL,
    actor_id uuid NULL,
    impersonator_id uuid NULL,
    source varchar(32) NOT NULL,
    action varchar(128) NOT NULL,
    resource_type varchar(64) NULL,
    resource_id varchar(128) NULL,
    result varchar(16) NOT NULL,
    error_code varchar(32) NULL,
    request_id varchar(128) NULL,
    operation_name varchar(256) NULL,
    ip varchar(64) NULL,
    user_agent varchar(512) NULL,
    metadata text NOT NULL";

const HEADS: &str = "CREATE TABLE audit_chain_heads (
    chain varchar(64) NOT NULL PRIMARY KEY,
    seq bigint NOT NULL,
    hash varchar(64) NOT NULL,
    anchor_seq bigint NOT NULL,
    anchor_hash varchar(64) NOT NULL
)";

const POSTGRES: &[&str] = &[
    // The one update allowed: sealing (setting the link of a row that has none, nothing else).
    "CREATE FUNCTION portico_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'UPDATE' THEN
         IF OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.seq IS NOT NULL
            AND (NEW.id, NEW.chain, NEW.at, NEW.workspace_id, NEW.actor_type, NEW.actor_id,
                 NEW.impersonator_id, NEW.source, NEW.action, NEW.resource_type, NEW.resource_id,
                 NEW.result, NEW.error_code, NEW.request_id, NEW.operation_name, NEW.ip,
                 NEW.user_agent, NEW.metadata)
            IS NOT DISTINCT FROM
                (OLD.id, OLD.chain, OLD.at, OLD.workspace_id, OLD.actor_type, OLD.actor_id,
                 OLD.impersonator_id, OLD.source, OLD.action, OLD.resource_type, OLD.resource_id,
                 OLD.result, OLD.error_code, OLD.request_id, OLD.operation_name, OLD.ip,
                 OLD.user_agent, OLD.metadata)
         THEN
           RETURN NEW;
         END IF;
       END IF;
       RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
     END $$",
    "CREATE INDEX idx_audit_events_chain ON audit_events (chain, seq)",
    "CREATE INDEX idx_audit_events_unsealed ON audit_events (id) WHERE hash IS NULL",
    "CREATE INDEX idx_audit_events_workspace ON audit_events (workspace_id, at)",
    "CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
     FOR EACH ROW EXECUTE FUNCTION portico_audit_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
     FOR EACH STATEMENT EXECUTE FUNCTION portico_audit_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events_default
     FOR EACH STATEMENT EXECUTE FUNCTION portico_audit_append_only()",
];

const SQLITE: &[&str] = &[
    "CREATE INDEX idx_audit_events_chain ON audit_events (chain, seq)",
    "CREATE INDEX idx_audit_events_workspace ON audit_events (workspace_id, at)",
    "CREATE INDEX idx_audit_events_unsealed ON audit_events (id) WHERE hash IS NULL",
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
     WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL OR NEW.seq IS NULL
       OR NEW.id IS NOT OLD.id OR NEW.chain IS NOT OLD.chain OR NEW.at IS NOT OLD.at
       OR NEW.workspace_id IS NOT OLD.workspace_id OR NEW.actor_type IS NOT OLD.actor_type
       OR NEW.actor_id IS NOT OLD.actor_id OR NEW.impersonator_id IS NOT OLD.impersonator_id
       OR NEW.source IS NOT OLD.source OR NEW.action IS NOT OLD.action
       OR NEW.resource_type IS NOT OLD.resource_type OR NEW.resource_id IS NOT OLD.resource_id
       OR NEW.result IS NOT OLD.result OR NEW.error_code IS NOT OLD.error_code
       OR NEW.request_id IS NOT OLD.request_id OR NEW.operation_name IS NOT OLD.operation_name
       OR NEW.ip IS NOT OLD.ip OR NEW.user_agent IS NOT OLD.user_agent
       OR NEW.metadata IS NOT OLD.metadata
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (UPDATE refused)'); END",
    NO_DELETE_SQLITE,
];

/// SQLite's guard against DELETE (retention lifts it inside its own transaction, then sets it
/// again before committing).
pub const NO_DELETE_SQLITE: &str =
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (DELETE refused)'); END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared(HEADS).await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared(&format!(
                    "CREATE TABLE audit_events ({COLUMNS}, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)"
                ))
                .await?;
                for sql in POSTGRES {
                    conn.execute_unprepared(sql).await?;
                }
                // This month's and the next two months' partitions; the job keeps creating ahead.
                for ahead in 0..3 {
                    conn.execute_unprepared(&partition_sql(ahead)).await?;
                }
            }
            _ => {
                conn.execute_unprepared(&format!(
                    "CREATE TABLE audit_events ({COLUMNS}, PRIMARY KEY (id))"
                ))
                .await?;
                for sql in SQLITE {
                    conn.execute_unprepared(sql).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP TABLE audit_events").await?;
        conn.execute_unprepared("DROP TABLE audit_chain_heads")
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared("DROP FUNCTION portico_audit_append_only()")
                .await?;
        }
        Ok(())
    }
}

/// A PL/pgSQL block creating the month partition `ahead` months from now (with its TRUNCATE
/// guard) unless it exists. The `audit.partitions` job runs the same statement.
pub fn partition_sql(ahead: u32) -> String {
    format!(
        "DO $$
         DECLARE
           start date := date_trunc('month', now() AT TIME ZONE 'UTC')::date + interval '{ahead} month';
           name text := 'audit_events_' || to_char(start, 'YYYY_MM');
         BEGIN
           IF to_regclass(name) IS NULL THEN
             EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
                            name, start::timestamp AT TIME ZONE 'UTC',
                            (start + interval '1 month')::timestamp AT TIME ZONE 'UTC');
             EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %I
                             FOR EACH STATEMENT EXECUTE FUNCTION portico_audit_append_only()', name);
           END IF;
         END $$"
    )
}
