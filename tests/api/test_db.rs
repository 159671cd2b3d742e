//! One database per test, copied from a template that this test process migrated once.
//!
//! Migrating is the slow part of starting a test (25 migrations, a few hundred statements), and
//! every test used to do it. Now the first test of the process migrates a template; every test
//! then gets a copy: `CREATE DATABASE … TEMPLATE` on PostgreSQL, a file copy on SQLite. The
//! template is named after the process (`portico_tpl_<pid>`), so two test processes never share
//! one, and templates left by processes that are gone are dropped when the next one starts.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::helpers::{Backend, backend};

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The URL of the PostgreSQL database `name` on the test server.
fn postgres_url(name: &str) -> String {
    let base = admin_url();
    let cut = base.rfind('/').expect("TEST_DATABASE_URL names a database");
    format!("{}/{name}", &base[..cut])
}

async fn admin() -> DatabaseConnection {
    Database::connect(admin_url())
        .await
        .expect("Postgres is reachable (TEST_DATABASE_URL)")
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    name: String,
    /// The test's data folder (files, mail, and the SQLite database).
    pub dir: PathBuf,
}

impl TestDb {
    /// An empty database, for the tests that run the migrations themselves.
    pub async fn create() -> TestDb {
        let (name, dir) = Self::folder();
        let url = match backend() {
            Backend::Sqlite => sqlite_url(&dir.join("portico.db")),
            Backend::Postgres => {
                let admin = admin().await;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                postgres_url(&name)
            }
        };
        TestDb { url, name, dir }
    }

    /// A database with every migration applied: a copy of this process's template.
    pub async fn migrated() -> TestDb {
        let template = template().await;
        let (name, dir) = Self::folder();
        let url = match backend() {
            Backend::Sqlite => {
                let file = dir.join("portico.db");
                std::fs::copy(template, &file).unwrap();
                sqlite_url(&file)
            }
            Backend::Postgres => {
                let admin = admin().await;
                admin
                    .execute_unprepared(&format!(
                        "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
                    ))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                postgres_url(&name)
            }
        };
        TestDb { url, name, dir }
    }

    fn folder() -> (String, PathBuf) {
        let name = format!("portico_test_{}", Uuid::new_v4().simple());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        (name, dir)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if backend() == Backend::Postgres {
            let name = self.name.clone();
            blocking(async move {
                if let Ok(admin) = Database::connect(admin_url()).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        }
    }
}

/// Runs `work` to the end on a runtime of its own, on a thread of its own: for `Drop`, which
/// cannot await, and whose test runtime may be gone.
pub fn blocking(work: impl Future<Output = ()> + Send + 'static) {
    let _ = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work);
    })
    .join();
}

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}?mode=rwc", file.display())
}

/// This process's migrated template: a database name on PostgreSQL, a file path on SQLite.
///
/// Tests run on runtimes of their own, so the template is built on a thread with its own
/// runtime: a test that panics while another builds it cannot leave the build half-done.
async fn template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            tokio::task::spawn_blocking(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(build_template())
            })
            .await
            .unwrap()
        })
        .await
}

async fn build_template() -> String {
    let name = format!("portico_tpl_{}", std::process::id());
    match backend() {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(&name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("portico.db");
            let db = migrate(&sqlite_url(&file)).await;
            // Every page in the main file, so that copying the file alone copies the database.
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .unwrap();
            db.close().await.unwrap();
            file.display().to_string()
        }
        Backend::Postgres => {
            let admin = admin().await;
            drop_orphan_templates(&admin).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            migrate(&postgres_url(&name)).await.close().await.unwrap();
            // Nobody connects to it again: a connection would make every copy fail.
            admin
                .execute_unprepared(&format!(
                    "ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
                ))
                .await
                .unwrap();
            admin.close().await.unwrap();
            name
        }
    }
}

async fn migrate(url: &str) -> DatabaseConnection {
    let db = portico::db::Db::connect(url, 1, Duration::from_secs(30))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.conn().clone()
}

/// Drops the templates of test processes that have exited (a run that was killed, say, or one
/// whose process ID this one has now).
#[expect(
    clippy::disallowed_methods,
    reason = "the test server's catalogue of databases, not a table of the app"
)]
async fn drop_orphan_templates(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'portico_tpl_%'",
        ))
        .await
        .unwrap();
    for row in rows {
        let name: String = row.try_get("", "datname").unwrap();
        let alive = name
            .trim_start_matches("portico_tpl_")
            .parse::<u32>()
            // This process has not made its own yet: one of that name is a dead process's.
            .is_ok_and(|pid| {
                pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()
            });
        if !alive {
            let _ = admin
                .execute_unprepared(&format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE false"))
                .await;
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}
