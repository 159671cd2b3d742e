//! Configuration: defaults, then an optional TOML file (`PORTICO_CONFIG`), then environment
//! variables. Every key is documented in the README and in `.env.example`.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

mod accounts;
mod files;
mod log;
mod mail;
mod observability;
mod secret;
mod webhooks;

pub use accounts::AccountsConfig;
pub use files::FilesConfig;
pub use log::LogFormat;
pub use mail::MailConfig;
pub use observability::ObservabilityConfig;
pub use secret::Secret;
pub use webhooks::WebhookConfig;

/// How Portico runs: the embedded default (SQLite, in-process everything) or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Embedded,
    Production,
}

/// All settings. Field names are the lower-case environment variable names.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub bind_addr: SocketAddr,
    /// `postgres://…` or `sqlite://…`; unset means a SQLite file in `data_dir` (embedded default).
    pub database_url: Option<String>,
    /// Where the embedded default keeps its SQLite file and generated secret.
    pub data_dir: PathBuf,
    /// Database pool size.
    pub db_max_connections: u32,
    /// `redis://…`: caches and pub/sub in Redis; unset keeps them in process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel.
    pub redis_key_prefix: String,
    /// PostgreSQL without Redis is allowed only when this says the installation is one instance
    /// (caches, counters and the bus would otherwise be per process, silently wrong for several).
    pub single_instance: bool,
    /// Longest wait for one Redis call (connect or answer) before its fallback is used.
    pub redis_timeout_ms: u64,
    /// How long Redis is skipped after a failure before one call probes it again.
    pub redis_breaker_ms: u64,
    /// Longest wait for a database connection from the pool before answering UNAVAILABLE.
    pub db_acquire_timeout_ms: u64,
    /// HS256 signing secret, at least 32 bytes. Required outside the embedded default.
    pub jwt_secret: Option<Secret>,
    /// Earlier signing secrets, comma-separated: they still verify the tokens they signed.
    pub jwt_previous_secrets: Option<Secret>,
    /// The key TOTP secrets are sealed under (at least 32 bytes); unset, it is derived from
    /// `JWT_SECRET`, which then cannot rotate without re-enrolling everyone.
    pub mfa_key: Option<Secret>,
    /// Earlier MFA keys, comma-separated, still opening what they sealed (`portico reseal-mfa`).
    pub mfa_previous_keys: Option<Secret>,
    /// Lifetime of access tokens.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a session (refresh tokens).
    pub refresh_token_ttl_secs: u64,
    /// Lifetime of invitation codes.
    pub invitation_ttl_secs: u64,
    /// TTL of cached resolved permissions.
    pub rbac_cache_ttl_secs: u64,
    /// Whether the public `register` mutation works.
    pub allow_registration: bool,
    /// Serve GraphiQL at `/graphiql`; unset means only in the embedded default.
    pub graphiql: Option<bool>,
    /// Comma-separated CORS origins allowed to call the API; empty allows none.
    pub cors_allowed_origins: String,
    /// External base URL, used in printed links.
    pub public_url: Option<String>,
    /// `pretty` or `json`.
    pub log_format: LogFormat,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Maximum query depth.
    pub query_depth_limit: usize,
    /// Maximum query complexity.
    pub query_complexity_limit: usize,
    /// Maximum lexical tokens in a document.
    pub query_token_limit: usize,
    /// Maximum aliases in a document.
    pub query_alias_limit: usize,
    /// Maximum root fields in one operation.
    pub query_root_field_limit: usize,
    /// Maximum operations in one batched request.
    pub max_batch_operations: usize,
    /// Per-request timeout.
    pub request_timeout_secs: u64,
    /// Password hashes computed at once; defaults to the number of cores.
    pub password_hash_concurrency: Option<usize>,
    /// Apply pending migrations on start; unset means only in the embedded default.
    pub auto_migrate: Option<bool>,
    /// Largest websocket message (and frame) accepted.
    pub ws_max_message_bytes: usize,
    /// Subscriptions one websocket may run at once.
    pub ws_max_subscriptions: usize,
    /// Websockets one user may hold open on one instance.
    pub ws_max_sockets_per_user: usize,
    /// How often the server pings each websocket; one silent for three intervals is closed.
    pub ws_keepalive_secs: u64,
    /// How long a mutation's `Idempotency-Key` answers with its first result.
    pub idempotency_ttl_secs: u64,
    /// How long a stopping instance waits for requests and websockets to finish.
    pub shutdown_grace_secs: u64,
    /// How long a new websocket has to send `connection_init`.
    pub ws_init_timeout_secs: u64,
    /// Messages queued for one websocket before its subscriptions fall behind.
    pub ws_outbound_queue: usize,
    /// Events queued for one subscription before it falls behind (and ends with an error).
    pub bus_subscriber_queue: usize,
    /// How long a rotated API key's old secret keeps working, unless the rotation says otherwise.
    pub api_key_rotation_grace_secs: u64,
    /// The window of the brute-force counters.
    pub brute_force_window_secs: u64,
    /// Login attempts per account per window (a successful login resets it).
    pub login_attempts_per_account: u64,
    /// Login attempts per IP per window.
    pub login_attempts_per_ip: u64,
    /// `refreshToken` and `acceptInvitation` attempts per IP per window.
    pub token_attempts_per_ip: u64,
    /// Stripe secret key (`sk_…`). Unset: the embedded default offers a local test checkout, and
    /// production refuses payment checkouts.
    pub stripe_secret_key: Option<Secret>,
    /// Signing secret of the `/webhooks/stripe` endpoint (`whsec_…`). Unset: the endpoint answers 404.
    pub stripe_webhook_secret: Option<Secret>,
    /// Base URL of the Stripe API, for stripe-mock or a test stand-in.
    pub stripe_api_base: Option<String>,
    /// How often each instance runs the payment expiry job.
    pub payment_expiry_interval_secs: u64,
    /// Run the outbox dispatcher on this instance (every instance may; claims never overlap).
    pub outbox_dispatch: bool,
    /// How often the dispatcher looks for events committed elsewhere or left by a crash.
    pub outbox_poll_ms: u64,
    /// How long dispatched events stay in the outbox before the purge.
    pub outbox_retention_secs: u64,
    /// Points of each user's and API key's bucket (0: no cost limit).
    pub rate_limit_points: u64,
    /// Points a user's or API key's bucket regains per second (0.5: one point every 2 s).
    pub rate_limit_refill_per_sec: f64,
    /// Points of each anonymous IP's bucket (0: no cost limit).
    pub rate_limit_anonymous_points: u64,
    /// Points an anonymous IP's bucket regains per second (fractions allowed).
    pub rate_limit_anonymous_refill_per_sec: f64,
    /// Object storage and file limits.
    #[serde(flatten)]
    pub files: FilesConfig,
    /// Outgoing mail.
    #[serde(flatten)]
    pub mail: MailConfig,
    /// Account emails' tokens and limits.
    #[serde(flatten)]
    pub accounts: AccountsConfig,
    /// Outbound webhooks.
    #[serde(flatten)]
    pub webhooks: WebhookConfig,
    /// The audit log and the metrics endpoint.
    #[serde(flatten)]
    pub observability: ObservabilityConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            data_dir: PathBuf::from("./data"),
            db_max_connections: 16,
            redis_url: None,
            redis_key_prefix: "portico:".to_owned(),
            single_instance: false,
            redis_timeout_ms: 250,
            redis_breaker_ms: 3_000,
            db_acquire_timeout_ms: 5_000,
            jwt_secret: None,
            jwt_previous_secrets: None,
            mfa_key: None,
            mfa_previous_keys: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            invitation_ttl_secs: 7 * 24 * 3600,
            rbac_cache_ttl_secs: 300,
            allow_registration: false,
            graphiql: None,
            cors_allowed_origins: String::new(),
            public_url: None,
            log_format: LogFormat::Pretty,
            max_body_bytes: 2 * 1024 * 1024,
            query_depth_limit: 12,
            query_complexity_limit: 5_000,
            query_token_limit: 15_000,
            query_alias_limit: 30,
            query_root_field_limit: 20,
            max_batch_operations: 10,
            request_timeout_secs: 30,
            password_hash_concurrency: None,
            auto_migrate: None,
            ws_max_message_bytes: 64 * 1024,
            ws_max_subscriptions: 20,
            ws_max_sockets_per_user: 10,
            ws_keepalive_secs: 30,
            ws_init_timeout_secs: 10,
            shutdown_grace_secs: 10,
            idempotency_ttl_secs: 24 * 3600,
            ws_outbound_queue: 64,
            bus_subscriber_queue: 256,
            api_key_rotation_grace_secs: 24 * 3600,
            brute_force_window_secs: 15 * 60,
            login_attempts_per_account: 10,
            login_attempts_per_ip: 300,
            token_attempts_per_ip: 300,
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_api_base: None,
            payment_expiry_interval_secs: 60,
            outbox_dispatch: true,
            outbox_poll_ms: 1000,
            outbox_retention_secs: 7 * 24 * 3600,
            rate_limit_points: 10_000,
            rate_limit_refill_per_sec: 200.0,
            rate_limit_anonymous_points: 1_000,
            rate_limit_anonymous_refill_per_sec: 20.0,
            files: FilesConfig::default(),
            mail: MailConfig::default(),
            accounts: AccountsConfig::default(),
            webhooks: WebhookConfig::default(),
            observability: ObservabilityConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults, the TOML file named by `PORTICO_CONFIG` (or `path`), then the environment.
    pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        let file = path
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("PORTICO_CONFIG").map(PathBuf::from));
        if let Some(file) = file {
            if !file.exists() {
                bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        let known = Self::keys()?;
        let env = Env::raw().filter(move |key| {
            known
                .iter()
                .any(|field| field.eq_ignore_ascii_case(key.as_str()))
        });
        let config: Config = figment
            .merge(env)
            .extract()
            .context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    /// Every setting's name (lower case): the environment variables read are these, upper-cased.
    pub fn keys() -> anyhow::Result<Vec<String>> {
        match serde_json::to_value(Config::default()).context("listing settings")? {
            serde_json::Value::Object(fields) => Ok(fields.keys().cloned().collect()),
            _ => bail!("settings are not a map"),
        }
    }

    /// Checks settings that cannot be expressed by types.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.starts_with("sqlite:"))
        {
            bail!("DATABASE_URL must start with postgres:// or sqlite:");
        }
        match (&self.jwt_secret, self.mode()) {
            (Some(secret), _) if secret.expose().len() < 32 => {
                bail!("JWT_SECRET must be at least 32 bytes")
            }
            (None, Mode::Production) => {
                bail!("JWT_SECRET is required outside the embedded default (SQLite)")
            }
            _ => {}
        }
        if self.mode() == Mode::Production && self.redis_url.is_none() && !self.single_instance {
            bail!(
                "PostgreSQL without REDIS_URL keeps caches, counters and live events per process, \
                 which is wrong for several instances: set REDIS_URL, or SINGLE_INSTANCE=true if \
                 this installation runs exactly one instance"
            );
        }
        for previous in Secret::split_list(self.jwt_previous_secrets.as_ref())
            .iter()
            .chain(self.mfa_key.as_ref())
            .chain(&Secret::split_list(self.mfa_previous_keys.as_ref()))
        {
            if previous.expose().len() < 32 {
                bail!(
                    "JWT_PREVIOUS_SECRETS, MFA_KEY and MFA_PREVIOUS_KEYS hold keys of at least 32 bytes"
                );
            }
        }
        if self.access_token_ttl_secs == 0 || self.refresh_token_ttl_secs == 0 {
            bail!("token lifetimes must be positive");
        }
        self.files.validate()?;
        self.mail.validate()
    }

    /// Embedded when the database is SQLite.
    pub fn mode(&self) -> Mode {
        match &self.database_url {
            Some(url) if url.starts_with("postgres") => Mode::Production,
            _ => Mode::Embedded,
        }
    }

    /// The database URL, defaulting to the embedded SQLite file.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("portico.db").display()
            ),
        }
    }

    /// Whether GraphiQL is served.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(self.mode() == Mode::Embedded)
    }

    /// Whether to migrate on start.
    pub fn auto_migrate_enabled(&self) -> bool {
        self.auto_migrate.unwrap_or(self.mode() == Mode::Embedded)
    }

    /// The configured CORS origins.
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The secrets that verify access tokens besides the signing one.
    pub fn previous_jwt_secrets(&self) -> Vec<Secret> {
        Secret::split_list(self.jwt_previous_secrets.as_ref())
    }

    /// The roots the sealing keys derive from, the sealing one first: `MFA_KEY` (or, unset, the
    /// signing secret `jwt`), then `MFA_PREVIOUS_KEYS`, then (once `MFA_KEY` is set) the signing
    /// secrets, current and previous, that earlier versions derived the key from.
    pub fn sealing_roots(&self, jwt: &Secret) -> Vec<Secret> {
        let mut roots: Vec<Secret> = Vec::new();
        let legacy = std::iter::once(jwt.clone()).chain(self.previous_jwt_secrets());
        let candidates: Vec<Secret> = match &self.mfa_key {
            Some(key) => std::iter::once(key.clone())
                .chain(Secret::split_list(self.mfa_previous_keys.as_ref()))
                .chain(legacy)
                .collect(),
            None => std::iter::once(jwt.clone())
                .chain(Secret::split_list(self.mfa_previous_keys.as_ref()))
                .chain(self.previous_jwt_secrets())
                .collect(),
        };
        for root in candidates {
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
        roots
    }

    /// The base URL printed in links.
    pub fn base_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind_addr))
    }
}

#[cfg(test)]
mod tests;
