//! The `portico` command line: `serve` (the default), `migrate`, `create-admin`, `seed-demo`,
//! `reseal-mfa`, `audit verify`, `audit retain` and `export-schema`. Commands that change data
//! run in an audit frame of source `CLI`: each of their commits is recorded.
#![allow(clippy::print_stdout)]

use crate::app::App;
use crate::bootstrap;
use crate::config::{Config, Mode};
use crate::db::Db;
use anyhow::Context;
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use std::path::PathBuf;

/// Portico: a multi-tenant GraphQL API for client portals.
#[derive(Debug, Parser)]
#[command(name = "portico", version, about)]
pub struct Cli {
    /// A TOML configuration file (environment variables still override it).
    #[arg(long, global = true, env = "PORTICO_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply, roll back or list migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Create a platform operator (or promote an existing account).
    CreateAdmin {
        /// Email address of the account.
        #[arg(long)]
        email: String,
        /// Display name for a new account.
        #[arg(long, default_value = "Platform admin")]
        name: String,
        /// Password for a new account (generated and printed when omitted).
        #[arg(long, env = "PORTICO_ADMIN_PASSWORD")]
        password: Option<String>,
    },
    /// Seal every enrolled TOTP secret under `MFA_KEY` (after setting or replacing it; the old
    /// key stays in `MFA_PREVIOUS_KEYS` until this ran).
    ResealMfa,
    /// Create the demo workspace `demo` with an owner, an admin, a collaborator and two clients.
    SeedDemo,
    /// Audit log upkeep.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Print the GraphQL SDL (or write it to a file).
    ExportSchema {
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Audit log actions.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check hash chains link by link; names the first broken link and fails when one is found.
    /// Checks every chain unless one is named.
    Verify {
        /// Only this workspace's chain.
        #[arg(long, conflicts_with = "platform")]
        workspace: Option<uuid::Uuid>,
        /// Only the platform's chain (events of no workspace).
        #[arg(long)]
        platform: bool,
    },
    /// Archive and remove now the months older than `AUDIT_RETENTION_MONTHS` (what the
    /// `audit.retention` job does every hour).
    Retain,
}

/// Migration actions.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Roll back the last migration (or `--steps N`).
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether they are applied.
    Status,
}

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::ExportSchema { out } = &command {
        let sdl = crate::schema::export_sdl()?;
        match out {
            Some(path) => {
                std::fs::write(path, sdl).with_context(|| format!("writing {}", path.display()))?
            }
            None => print!("{sdl}"),
        }
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref())?;
    let traces = config
        .observability
        .otel_exporter_otlp_endpoint
        .clone()
        .map(|endpoint| crate::telemetry::traces::TraceConfig {
            endpoint,
            service_name: config.observability.otel_service_name.clone(),
        });
    // Flushes the buffered spans when `run` returns.
    let _flush = crate::telemetry::init(config.log_format, traces.as_ref());
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate { action } => migrate(config, action).await,
        Command::CreateAdmin {
            email,
            name,
            password,
        } => {
            let app = App::build(config).await?;
            let args = serde_json::json!({ "email": email });
            let made = as_cli("platformAdmin.create", args, async {
                bootstrap::create_admin(&app, &email, &name, password).await
            });
            match made.await? {
                Some(created) => println!(
                    "Platform admin created.\n  email:    {}\n  password: {}",
                    created.email, created.password
                ),
                None => println!("{email} already existed and is now a platform admin."),
            }
            Ok(())
        }
        Command::SeedDemo => {
            let app = App::build(config).await?;
            let created = as_cli(
                "demo.seed",
                serde_json::json!({}),
                bootstrap::seed_demo(&app),
            )
            .await?;
            if created.is_empty() {
                println!("The demo workspace already exists.");
            } else {
                println!(
                    "Demo workspace `demo` created. Every account's password: {}",
                    bootstrap::DEMO_PASSWORD
                );
                for (email, role) in created {
                    println!("  {:<14} {email}", format!("{role:?}"));
                }
            }
            Ok(())
        }
        Command::ResealMfa => {
            let app = App::build(config).await?;
            let reseal = crate::identity::mfa_keys::reseal_all(&app.db, &app.mfa);
            let done = as_cli("mfa.reseal", serde_json::json!({}), reseal).await?;
            println!(
                "MFA secrets: {} moved to the current key, {} already under it, {} unreadable",
                done.moved, done.current, done.unreadable
            );
            Ok(())
        }
        Command::Audit {
            action:
                AuditAction::Verify {
                    workspace,
                    platform,
                },
        } => audit_verify(config, workspace, platform).await,
        Command::Audit {
            action: AuditAction::Retain,
        } => audit_retain(config).await,
        Command::ExportSchema { .. } => Ok(()),
    }
}

/// Runs `work` in an audit frame of the command line: every commit it makes is recorded.
async fn as_cli<F: Future>(action: &str, args: serde_json::Value, work: F) -> F::Output {
    use crate::db::audit::{Actor, Frame, Source};
    let frame = Frame::new(Actor::system(Source::Cli), action.to_owned(), true, args);
    crate::db::audit::within(std::sync::Arc::new(frame), work).await
}

async fn audit_retain(config: Config) -> anyhow::Result<()> {
    use crate::db::audit::{Actor, Source};
    let months = config.observability.audit_retention_months;
    if months == 0 {
        println!("AUDIT_RETENTION_MONTHS is 0: every month is kept.");
        return Ok(());
    }
    let app = App::build(config).await?;
    let now = chrono::Utc::now();
    let actor = Actor::system(Source::Cli);
    let done = crate::audit::retention::run(&app.db, &app.storage, months, now, actor).await?;
    if done.is_empty() {
        println!("No month is older than {months} month(s).");
    }
    for month in done {
        println!(
            "{}: {} events archived to {}, then removed",
            month.month, month.events, month.key
        );
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .with_context(|| format!("binding {}", config.bind_addr))?;
    let app = App::build(config).await?;
    let base = app.config.base_url();
    if app.config.mode() == Mode::Embedded
        && let Some((account, slug)) = bootstrap::first_start(&app).await?
    {
        println!(
            "\nFirst start: created an owner account and the workspace `{slug}`.\n  email:    {}\n  password: {}\n(This password is shown only once.)\n",
            account.email, account.password
        );
    }
    let _background = app.start_background(true);
    let _metrics = match app.config.observability.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding METRICS_ADDR {addr}"))?;
            println!("Metrics:  http://{addr}/metrics");
            Some(crate::http::metrics::spawn_separate(app.clone(), listener))
        }
        None => None,
    };
    tracing::info!(mode = ?app.config.mode(), "Portico listening on {base}");
    println!("GraphQL:  {base}/graphql");
    if app.config.graphiql_enabled() {
        println!("GraphiQL: {base}/graphiql");
    }
    crate::http::serve(app, listener).await
}

async fn migrate(config: Config, action: MigrateAction) -> anyhow::Result<()> {
    let db = Db::connect(
        &config.effective_database_url(),
        2,
        std::time::Duration::from_secs(10),
    )
    .await?;
    match action {
        MigrateAction::Up => Migrator::up(db.conn(), None).await.context("migrate up")?,
        MigrateAction::Down { steps } => Migrator::down(db.conn(), Some(steps))
            .await
            .context("migrate down")?,
        MigrateAction::Status => {
            for m in Migrator::get_migration_with_status(db.conn())
                .await
                .context("migration status")?
            {
                println!("{:<10} {}", format!("{:?}", m.status()), m.name());
            }
        }
    }
    Ok(())
}

async fn audit_verify(
    config: Config,
    workspace: Option<uuid::Uuid>,
    platform: bool,
) -> anyhow::Result<()> {
    use crate::db::audit_read;
    let db = Db::connect(
        &config.effective_database_url(),
        2,
        std::time::Duration::from_secs(10),
    )
    .await?;
    let chains = match (workspace, platform) {
        (Some(ws), _) => vec![crate::db::audit::chain_of(Some(ws))],
        (None, true) => vec![crate::db::audit::chain_of(None)],
        (None, false) => audit_read::chains(db.conn()).await?,
    };
    let mut broken = 0;
    for chain in chains {
        let verdict = audit_read::verify(db.conn(), &chain).await?;
        match &verdict.broken {
            None => println!("{chain}: intact, {} links", verdict.links),
            Some(link) => {
                broken += 1;
                let id = link
                    .id
                    .map(|id| format!(" (event {id})"))
                    .unwrap_or_default();
                println!(
                    "{chain}: BROKEN at link {}{id}: {}; {} links hold before it",
                    link.seq, link.reason, verdict.links
                );
            }
        }
    }
    if broken > 0 {
        anyhow::bail!("{broken} audit chain(s) broken");
    }
    Ok(())
}
