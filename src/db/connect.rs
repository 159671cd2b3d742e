//! Connecting, migrating, and transactions. On SQLite, write transactions are serialized in
//! process (the embedded default is one instance), which avoids `SQLITE_BUSY` on lock upgrades.

use crate::pubsub::EventBus;
use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    TransactionTrait,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The database handle shared by the whole app.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// Held by write transactions on SQLite; `None` on Postgres.
    write_lock: Option<Arc<Mutex<()>>>,
    /// Statements executed since start (for statement-count tests and metrics).
    statements: Arc<AtomicU64>,
    /// Where events queued in a transaction go once it commits (set once the bus exists).
    bus: Arc<OnceLock<Arc<dyn EventBus>>>,
}

impl std::fmt::Debug for dyn EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventBus")
    }
}

impl Db {
    /// Connects to `url` (Postgres or SQLite) with a pool of `max_connections`.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
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
            tracing::trace!(target: "portico::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
        });
        let write_lock = (conn.get_database_backend() == DatabaseBackend::Sqlite)
            .then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            conn,
            write_lock,
            statements,
            bus: Arc::new(OnceLock::new()),
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
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let txn = self.conn.begin().await?;
        Ok(Tx {
            txn,
            _guard: guard,
            outbox: Outbox::default(),
            bus: self.bus.clone(),
        })
    }

    /// Connects transactions to the event bus: events queued in a transaction
    /// ([`Scoped::after_commit`](super::Scoped::after_commit)) are published when it commits.
    pub fn attach_bus(&self, bus: Arc<dyn EventBus>) {
        let _ = self.bus.set(bus);
    }

    /// Statements executed so far by this process.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
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
    bus: Arc<OnceLock<Arc<dyn EventBus>>>,
}

/// Events of a transaction, published only if and once it commits: a subscriber never hears
/// of a change that was rolled back, and never before it can read it.
#[derive(Debug, Default)]
pub struct Outbox(std::sync::Mutex<Vec<(String, String)>>);

impl Outbox {
    /// Queues `payload` for `channel`.
    pub fn push(&self, channel: String, payload: String) {
        if let Ok(mut queued) = self.0.lock() {
            queued.push((channel, payload));
        }
    }

    fn take(&self) -> Vec<(String, String)> {
        self.0
            .lock()
            .map(|mut queued| std::mem::take(&mut *queued))
            .unwrap_or_default()
    }
}

impl Tx {
    /// Commits the change, then publishes its queued events. A failed publish is logged: the
    /// change stands, and subscribers resync with a query.
    pub async fn commit(self) -> Result<(), DbErr> {
        let events = self.outbox.take();
        self.txn.commit().await?;
        drop(self._guard);
        if events.is_empty() {
            return Ok(());
        }
        let Some(bus) = self.bus.get() else {
            tracing::warn!(
                count = events.len(),
                "events dropped: no event bus attached"
            );
            return Ok(());
        };
        for (channel, payload) in events {
            if let Err(err) = bus.publish(&channel, payload).await {
                tracing::warn!(error = ?err, %channel, "event not published");
            }
        }
        Ok(())
    }

    /// A tenant-scoped handle on this transaction whose `after_commit` events go to its outbox.
    pub fn scoped(&self, workspace_id: uuid::Uuid) -> super::Scoped<'_, DatabaseTransaction> {
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
