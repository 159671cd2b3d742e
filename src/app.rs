//! The application container: everything a request needs, built in one place at start.

use crate::auth::{Authenticator, JwtKeys, PasswordHasher};
use crate::cache::{Breaker, Cache, MemoryCache, RedisCache, ResilientCache};
use crate::config::{Config, Mode, Secret};
use crate::db::Db;
use crate::graphql::SchemaLimits;
use crate::pubsub::{EventBus, MemoryBus, RedisBus};
use crate::rbac::AccessResolver;
use crate::schema::{PorticoSchema, build_schema};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub mod audit_jobs;
pub mod file_jobs;
pub mod identity_jobs;
pub mod notification_jobs;
pub mod webhook_jobs;

/// Shared state of a running Portico.
pub struct App {
    /// Settings, as loaded at start.
    pub config: Config,
    /// The database (Postgres, or SQLite in the embedded default).
    pub db: Db,
    /// Key-value cache: in process, or Redis when configured.
    pub cache: Arc<dyn Cache>,
    /// Event fan-out by workspace or project channel.
    pub bus: Arc<dyn EventBus>,
    /// argon2id hashing on the blocking pool, at most one hash per core at a time.
    pub hasher: PasswordHasher,
    /// Access-token verification and session checks.
    pub auth: Authenticator,
    /// Open websockets per user on this instance (the per-user socket limit).
    pub sockets: crate::http::ws::SocketCounts,
    /// The shutdown switch that closes websockets with 1001, and their count.
    pub shutdown: crate::http::shutdown::Shutdown,
    /// Denied accesses since start, by code.
    pub denials: crate::telemetry::Denials,
    /// Prometheus metrics of this instance (`/metrics`).
    pub metrics: Arc<crate::telemetry::metrics::Metrics>,
    /// Resolved, cached workspace permissions.
    pub access: AccessResolver,
    /// The GraphQL schema, with its authorization policy installed.
    pub schema: PorticoSchema,
    /// How payments are taken: Stripe, the embedded local test checkout, or not at all.
    pub payments: Arc<crate::payment::Gateway>,
    /// Seals TOTP secrets at rest (key derived from the signing secret).
    pub mfa: crate::auth::sealing::SecretBox,
    /// Seals stored idempotent responses (another key derived from the signing secret).
    pub responses: crate::auth::sealing::SecretBox,
    /// File bytes: S3, or the local folder behind Portico's signed route.
    pub storage: crate::storage::Storage,
    /// Outgoing mail: SMTP, or `.eml` files in the embedded default.
    pub mailer: Arc<crate::mail::Mailer>,
    /// Who is active in the portal now (for "when not active" emails).
    pub presence: Arc<crate::cache::presence::Presence>,
    /// Signs the links in emails (one-click unsubscribe); key derived from the signing secret.
    pub links: Arc<crate::auth::links::LinkSigner>,
    /// Seals the tokens waiting in the account email queue (a key of its own).
    pub account_mail: crate::auth::sealing::SecretBox,
    /// Outbound webhooks: the database, the secrets' sealing key, the delivery settings.
    pub webhooks: Arc<crate::webhook::Webhooks>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The handle every handler and resolver holds.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Every periodic job: a domain's job registers here.
    pub fn jobs() -> Vec<Arc<dyn crate::jobs::Job>> {
        vec![
            Arc::new(crate::payment::expiry::ExpirePayments),
            Arc::new(crate::jobs::OutboxPurge),
            Arc::new(crate::jobs::RunPurge),
            Arc::new(crate::jobs::IdempotencyPurge),
            Arc::new(file_jobs::PurgeTrash),
            Arc::new(file_jobs::SweepUploads),
            Arc::new(file_jobs::Thumbnails),
            Arc::new(notification_jobs::SendEmails),
            Arc::new(identity_jobs::SendAccountEmails),
            Arc::new(webhook_jobs::DeliverWebhooks),
            Arc::new(audit_jobs::SealAudit),
            Arc::new(audit_jobs::AuditPartitions),
            Arc::new(audit_jobs::ExportAudit),
            Arc::new(audit_jobs::RetainAudit),
        ]
    }

    /// Connects to every backing service and builds the schema.
    pub async fn build(config: Config) -> anyhow::Result<AppState> {
        config.validate()?;
        let url = config.effective_database_url();
        let connect = || {
            Db::connect(
                &url,
                config.db_max_connections,
                Duration::from_millis(config.db_acquire_timeout_ms.max(1)),
            )
        };
        let mut db = connect().await?;
        if config.auto_migrate_enabled() {
            db.migrate().await?;
            // On SQLite, a pool connection opened before the migrations can keep the old schema:
            // its `UPDATE … RETURNING` answered NULL for a column a migration had just added
            // (caught by the outbox's per-consumer retry test, under load). A fresh pool reads the
            // migrated schema.
            if db.backend() == sea_orm::DatabaseBackend::Sqlite {
                db = connect().await?;
            }
        }
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None if config.mode() == Mode::Embedded => embedded_secret(&config.data_dir)?,
            None => anyhow::bail!("JWT_SECRET is required"),
        };
        let (cache, bus) = shared_stores(&config).await?;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let hasher = PasswordHasher::new(config.password_hash_concurrency.unwrap_or(cores))?;
        let auth = Authenticator::new(
            db.clone(),
            JwtKeys::rotating(
                &secret,
                &config.previous_jwt_secrets(),
                config.access_token_ttl_secs,
            ),
            cache.clone(),
            bus.clone(),
        );
        let access = AccessResolver::new(
            db.clone(),
            cache.clone(),
            bus.clone(),
            Duration::from_secs(config.rbac_cache_ttl_secs),
        );
        let payments = Arc::new(crate::payment::Gateway::from_config(&config)?);
        let storage = crate::storage::Storage::from_config(
            &config.files,
            &config.data_dir,
            &config.base_url(),
            secret.expose().as_bytes(),
        )?;
        let mailer = Arc::new(crate::mail::Mailer::from_config(
            &config.mail,
            &config.data_dir,
        )?);
        let presence = Arc::new(crate::cache::presence::Presence::new(
            cache.clone(),
            Duration::from_secs(config.mail.notify_active_secs),
        ));
        let links = Arc::new(crate::auth::links::LinkSigner::new(
            secret.expose().as_bytes(),
        ));
        let roots = config.sealing_roots(&secret);
        let roots: Vec<&str> = roots.iter().map(Secret::expose).collect();
        let mfa = crate::auth::sealing::SecretBox::rotating("mfa", &roots);
        let responses = crate::auth::sealing::SecretBox::rotating("responses", &roots);
        let account_mail = crate::auth::sealing::SecretBox::rotating("account-mail", &roots);
        let webhooks = Arc::new(crate::webhook::Webhooks {
            db: db.clone(),
            sealing: crate::auth::sealing::SecretBox::rotating("webhooks", &roots),
            settings: crate::webhook::Settings {
                allow_private: config
                    .webhooks
                    .webhook_allow_private_targets
                    .unwrap_or(config.mode() == Mode::Embedded),
                timeout: Duration::from_secs(config.webhooks.webhook_timeout_secs.max(1)),
                disable_after: i32::try_from(config.webhooks.webhook_disable_after_failures.max(1))
                    .unwrap_or(i32::MAX),
            },
        });
        let schema = build_schema(SchemaLimits {
            depth: config.query_depth_limit,
            complexity: config.query_complexity_limit,
            document: crate::graphql::limits::DocumentLimits {
                tokens: config.query_token_limit,
                aliases: config.query_alias_limit,
                root_fields: config.query_root_field_limit,
                depth: config.query_depth_limit,
            },
            suggestions: config.mode() == Mode::Embedded,
            cost: crate::graphql::cost::CostLimits {
                principal: crate::cache::Bucket {
                    capacity: config.rate_limit_points,
                    refill_per_sec: config.rate_limit_refill_per_sec,
                },
                anonymous: crate::cache::Bucket {
                    capacity: config.rate_limit_anonymous_points,
                    refill_per_sec: config.rate_limit_anonymous_refill_per_sec,
                },
            },
            ..SchemaLimits::default()
        })?;
        Ok(AppState(Arc::new(App {
            config,
            db,
            cache,
            bus,
            hasher,
            auth,
            access,
            schema,
            payments,
            mfa,
            responses,
            storage,
            mailer,
            presence,
            links,
            account_mail,
            webhooks,
            sockets: crate::http::ws::SocketCounts::default(),
            shutdown: crate::http::shutdown::Shutdown::default(),
            denials: crate::telemetry::Denials::default(),
            metrics: Arc::default(),
        })))
    }
}

/// The cache and the bus: in process, or Redis behind short timeouts and breakers (see
/// [`ResilientCache`]). An instance starts even while Redis is down, serving from its fallbacks.
async fn shared_stores(config: &Config) -> anyhow::Result<(Arc<dyn Cache>, Arc<dyn EventBus>)> {
    let Some(url) = &config.redis_url else {
        return Ok((
            Arc::new(MemoryCache::new()),
            Arc::new(MemoryBus::with_capacity(config.bus_subscriber_queue)),
        ));
    };
    let timeout = Duration::from_millis(config.redis_timeout_ms.max(1));
    let cooldown = Duration::from_millis(config.redis_breaker_ms.max(1));
    let client = redis::Client::open(url.as_str()).context("parsing REDIS_URL")?;
    let manager = redis::aio::ConnectionManager::new_lazy_with_config(
        client.clone(),
        redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(timeout),
    )
    .context("configuring the Redis connection")?;
    let bus = RedisBus::connect(
        client,
        manager.clone(),
        &config.redis_key_prefix,
        config.bus_subscriber_queue,
        timeout,
    )
    .await
    .with_breaker(Arc::new(Breaker::new(cooldown)));
    let cache = ResilientCache::new(
        RedisCache::new(manager, config.redis_key_prefix.clone()),
        Arc::new(Breaker::new(cooldown)),
        timeout,
    );
    Ok((Arc::new(cache), Arc::new(bus)))
}

/// Background work of a running instance; aborted when dropped.
#[derive(Debug, Default)]
pub struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Background {
    /// Background work made of `tasks` (a benchmark's own dispatcher, say).
    pub fn from_tasks(tasks: Vec<tokio::task::JoinHandle<()>>) -> Self {
        Self(tasks)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl AppState {
    /// Starts the outbox dispatcher (unless `OUTBOX_DISPATCH=false`) and, with `jobs`, the
    /// periodic jobs (see [`App::jobs`]).
    pub fn start_background(&self, jobs: bool) -> Background {
        let mut tasks = Vec::new();
        if self.config.outbox_dispatch {
            tasks.push(self.dispatcher().spawn());
        }
        if jobs {
            tasks.extend(crate::jobs::spawn(self, App::jobs()));
        }
        Background(tasks)
    }

    /// This instance's outbox dispatcher, with every consumer.
    pub fn dispatcher(&self) -> crate::outbox::Dispatcher {
        crate::outbox::Dispatcher::new(
            self.metrics.clone(),
            self.db.clone(),
            vec![
                Arc::new(crate::outbox::Live(self.bus.clone())),
                Arc::new(crate::payment::closing::CheckoutCloser {
                    db: self.db.clone(),
                    gateway: self.payments.clone(),
                }),
                Arc::new(crate::notification::fanout::Notifier {
                    db: self.db.clone(),
                    group_secs: self.config.mail.notify_group_secs,
                    digest_hour: self.config.mail.notify_digest_hour,
                }),
                Arc::new(crate::webhook::fanout::WebhookFanout {
                    db: self.db.clone(),
                }),
            ],
            crate::outbox::Settings {
                poll: Duration::from_millis(self.config.outbox_poll_ms.max(10)),
            },
        )
    }
}

/// The embedded default's signing secret: generated once into `data_dir/jwt_secret` (mode 0600),
/// so tokens survive restarts without any configuration.
fn embedded_secret(data_dir: &Path) -> anyhow::Result<Secret> {
    let path = data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing));
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let secret = crate::auth::OpaqueSecret::generate("jwt").value;
    write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(Secret::new(secret))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
