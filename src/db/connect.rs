//! Connecting, migrating, and transactions. On SQLite, write transactions are serialized in
//! process (the embedded default is one instance), which avoids `SQLITE_BUSY` on lock upgrades.
//! A transaction's events are written to the outbox in the same transaction, just before it
//! commits; the commit then wakes this instance's dispatcher.

use crate::events::Envelope;
use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};
use tokio_util::task::TaskTracker;

/// The database handle shared by the whole app.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// Held by write transactions on SQLite; `None` on Postgres.
    write_lock: Option<Arc<Mutex<()>>>,
    /// Statements executed since start (for metrics).
    statements: Arc<AtomicU64>,
    /// Woken when a transaction committed events to the outbox.
    outbox_ready: Arc<Notify>,
    /// Writes running in the background (refusals for the audit log): shutdown waits for them.
    detached: TaskTracker,
}

tokio::task_local! {
    /// Statements of the code running in [`Db::count_statements`].
    static COUNTED: Arc<AtomicU64>;
}

impl Db {
    /// Connects to `url` (Postgres or SQLite) with a pool of `max_connections`; a request waits
    /// at most `acquire_timeout` for a connection (then answers UNAVAILABLE).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(acquire_timeout)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        if let Some(path) = sqlite_file(url)
            && let Some(parent) = std::path::Path::new(&path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut conn = Database::connect(options)
            .await
            .with_context(|| format!("connecting to {}", redact_url(url)))?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        conn.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::Relaxed);
            let _ = COUNTED.try_with(|counted| counted.fetch_add(1, Ordering::Relaxed));
            tracing::trace!(target: "portico::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
        });
        let write_lock = (conn.get_database_backend() == DatabaseBackend::Sqlite)
            .then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            conn,
            write_lock,
            statements,
            outbox_ready: Arc::new(Notify::new()),
            detached: TaskTracker::new(),
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        Migrator::up(&self.conn, None)
            .await
            .context("applying migrations")
    }

    /// The pooled connection, for reads outside a transaction.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Which database this is.
    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Starts a transaction for a change. Commit it with [`Tx::commit`]; dropping it rolls back.
    pub async fn begin(&self) -> Result<Tx, DbErr> {
        let guard = self.writer().await;
        let txn = if guard.is_some() {
            // SQLite: BEGIN IMMEDIATE takes the write lock now, so a write that commits on
            // another connection meanwhile waits for this one (busy timeout) instead of leaving
            // it a stale snapshot it could not write from (SQLITE_BUSY_SNAPSHOT, at once).
            let immediate = TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            };
            self.conn.begin_with_options(immediate).await?
        } else {
            self.conn.begin().await?
        };
        Ok(Tx {
            txn,
            _guard: guard,
            outbox: Outbox::default(),
            outbox_ready: self.outbox_ready.clone(),
        })
    }

    /// The single writer's turn on SQLite (`None` on PostgreSQL), for a write outside [`Tx`].
    /// Every write on the pool takes it: a transaction that read before another connection
    /// wrote cannot write after it (`SQLITE_BUSY_SNAPSHOT`, answered at once, whatever the busy
    /// timeout). Held for the statement only, never across a call to another service.
    pub async fn writer(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    /// Runs `write` in the background, tracked: [`Db::detached_settled`] waits for it.
    pub fn spawn_detached(&self, write: impl Future<Output = ()> + Send + 'static) {
        self.detached.spawn(write);
    }

    /// Returns once every background write started so far has finished (at shutdown, and in
    /// tests that check what was written).
    pub async fn detached_settled(&self) {
        self.detached.close();
        self.detached.wait().await;
        self.detached.reopen();
    }

    /// Woken whenever a transaction of this process committed events (the dispatcher waits on it).
    pub fn outbox_ready(&self) -> Arc<Notify> {
        self.outbox_ready.clone()
    }

    /// Statements executed so far by this process.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Runs `work` and counts the statements it executes itself (background work of the process,
    /// such as the outbox dispatcher, is not counted).
    pub async fn count_statements<F: Future>(work: F) -> (F::Output, u64) {
        let counted = Arc::new(AtomicU64::new(0));
        let output = COUNTED.scope(counted.clone(), work).await;
        (output, counted.load(Ordering::Relaxed))
    }

    /// Connections in the pool, and how many of them are idle.
    pub fn pool_stats(&self) -> (u32, u32) {
        let stats = |size: u32, idle: usize| (size, u32::try_from(idle).unwrap_or(u32::MAX));
        match self.backend() {
            DatabaseBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                stats(pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.conn.get_sqlite_connection_pool();
                stats(pool.size(), pool.num_idle())
            }
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}

/// A transaction; rolls back unless committed.
#[derive(Debug)]
pub struct Tx {
    txn: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
    outbox: Outbox,
    outbox_ready: Arc<Notify>,
}

/// Events emitted in a transaction, written to the outbox when it commits: nobody hears of a
/// change that was rolled back, and never before it can read it. It also gathers what the audit
/// event of the commit states: the workspaces touched and the before/after pairs recorded.
#[derive(Debug, Default)]
pub struct Outbox {
    events: std::sync::Mutex<Vec<Envelope>>,
    workspaces: std::sync::Mutex<Vec<uuid::Uuid>>,
    changes: std::sync::Mutex<Vec<(String, serde_json::Value, serde_json::Value)>>,
    /// The primary key of the first row inserted through `Scoped`: what a creation created.
    created: std::sync::OnceLock<String>,
}

impl Outbox {
    /// Queues an event.
    pub fn push(&self, envelope: Envelope) {
        if let Ok(mut queued) = self.events.lock() {
            queued.push(envelope);
        }
    }

    /// Records a resource's fields before and after the change, for the audit event.
    pub fn change(&self, resource: &str, before: serde_json::Value, after: serde_json::Value) {
        if let Ok(mut changes) = self.changes.lock() {
            changes.push((resource.to_owned(), before, after));
        }
    }

    /// Notes a row inserted in this transaction (only the first is kept).
    pub fn created(&self, id: String) {
        let _ = self.created.set(id);
    }

    fn touch(&self, workspace_id: uuid::Uuid) {
        if let Ok(mut seen) = self.workspaces.lock()
            && !seen.contains(&workspace_id)
        {
            seen.push(workspace_id);
        }
    }

    fn take<T>(slot: &std::sync::Mutex<Vec<T>>) -> Vec<T> {
        slot.lock()
            .map(|mut queued| std::mem::take(&mut *queued))
            .unwrap_or_default()
    }
}

impl Tx {
    /// Writes the emitted events to the outbox, commits, and wakes this instance's dispatcher.
    /// Delivery happens in the background: it never delays or decides the caller's answer.
    pub async fn commit(self) -> Result<(), DbErr> {
        let events = Outbox::take(&self.outbox.events);
        if let Some(frame) = super::audit::current() {
            let workspaces = Outbox::take(&self.outbox.workspaces);
            let changes = Outbox::take(&self.outbox.changes);
            let done = super::audit::Done {
                workspaces: &workspaces,
                events: &events,
                changes,
                created: self.outbox.created.get().cloned(),
            };
            super::audit::record_commit(&self.txn, &frame, done).await?;
        }
        if !events.is_empty() {
            super::outbox::insert(&self.txn, &events).await?;
        }
        self.txn.commit().await?;
        drop(self._guard);
        if !events.is_empty() {
            self.outbox_ready.notify_one();
        }
        Ok(())
    }

    /// A handle on this transaction for rows no tenant owns; its updates are audited like
    /// `scoped`'s.
    pub fn global(&self) -> super::Global<'_, DatabaseTransaction> {
        super::Global::with_outbox(&self.txn, &self.outbox)
    }

    /// A tenant-scoped handle on this transaction whose emitted events go to its outbox.
    pub fn scoped(&self, workspace_id: uuid::Uuid) -> super::Scoped<'_, DatabaseTransaction> {
        self.outbox.touch(workspace_id);
        super::Scoped::with_outbox(&self.txn, workspace_id, &self.outbox)
    }
}

impl std::ops::Deref for Tx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &Self::Target {
        &self.txn
    }
}

fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

/// The URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/portico"),
            "postgres://app:***@db:5432/portico"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }

    #[test]
    fn sqlite_paths_are_found() {
        assert_eq!(
            sqlite_file("sqlite://./data/portico.db?mode=rwc").as_deref(),
            Some("./data/portico.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
