//! The test harness: `spawn_app()` and a `TestApp` whose helpers are named after user actions.

use portico::auth::PasswordHasher;
use portico::config::{Config, Secret};
use portico::db::Scoped;
use portico::rbac::BuiltinRole;
use portico::types::Email;
use portico::{App, AppState};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use uuid::Uuid;

pub use crate::test_db::TestDb;

/// The password of every account the tests create.
pub const PASSWORD: &str = "correct horse battery staple";

/// Which database the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where file bytes live: S3 on the PostgreSQL run (production), the local folder on SQLite (the
/// embedded default).
pub fn storage_is_s3() -> bool {
    backend() == Backend::Postgres
}

pub fn backend() -> Backend {
    match std::env::var("PORTICO_TEST_DB").as_deref() {
        Ok("sqlite") => Backend::Sqlite,
        _ => Backend::Postgres,
    }
}

/// Redis is used when `PORTICO_TEST_REDIS_URL` is set (the Makefile sets it for the Postgres run).
fn redis_url() -> Option<String> {
    std::env::var("PORTICO_TEST_REDIS_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// How many requests a race test sends at once: enough to lose without the lock. Each race test
/// was run with its lock removed by hand, and failed (the README lists them).
pub const RACERS: usize = 24;

/// Sends `n` requests at once (`request(i)` for each `i`) and answers them in order. The test
/// runs on a multi-threaded runtime, so the server handles them in parallel, as in production.
pub async fn race<T, F: Future<Output = T>>(n: usize, request: impl Fn(usize) -> F) -> Vec<T> {
    assert_eq!(
        tokio::runtime::Handle::current().runtime_flavor(),
        tokio::runtime::RuntimeFlavor::MultiThread,
        "a race runs on #[tokio::test(flavor = \"multi_thread\")]"
    );
    futures_util::future::join_all((0..n).map(request)).await
}

/// Polls `check` until it answers `Some` (at most 10 s), and answers that: waiting for a
/// condition, never for a fixed time.
pub async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, check: impl Fn() -> F) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A running Portico.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    /// The outbox dispatcher (periodic jobs are run by the tests that need them).
    _background: portico::app::Background,
    /// The database; `None` on a second instance sharing another's.
    _db: Option<TestDb>,
    /// A Redis of this test's own, shared by the instances started like this one.
    _redis: Option<Arc<PrivateRedis>>,
    /// The S3 server of this test (PostgreSQL run).
    pub s3: Option<Arc<crate::s3::S3Server>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        // Forget this test's Redis keys (its prefix is unique).
        if let (Some(url), Some(_)) = (self.state.config.redis_url.clone(), &self._db) {
            let prefix = self.state.config.redis_key_prefix.clone();
            crate::test_db::blocking(async move {
                let Ok(client) = redis::Client::open(url) else {
                    return;
                };
                let Ok(manager) = redis::aio::ConnectionManager::new(client).await else {
                    return;
                };
                let cache = portico::cache::RedisCache::new(manager, prefix);
                let _ = portico::cache::Cache::delete_prefix(&cache, "").await;
            });
        }
    }
}

/// Someone signed in.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
    /// The workspace sent as `X-Workspace`.
    pub workspace: Option<String>,
}

impl Session {
    pub fn in_workspace(&self, slug: &str) -> Session {
        Session {
            workspace: Some(slug.to_owned()),
            ..self.clone()
        }
    }
}

/// A workspace with one member of each built-in role.
pub struct Team {
    pub slug: String,
    pub workspace_id: Uuid,
    pub owner: Session,
    pub admin: Session,
    pub collaborator: Session,
    pub client: Session,
    pub guest: Session,
}

impl Team {
    pub fn by_role(&self, role: BuiltinRole) -> &Session {
        match role {
            BuiltinRole::Owner => &self.owner,
            BuiltinRole::Admin => &self.admin,
            BuiltinRole::Collaborator => &self.collaborator,
            BuiltinRole::Client => &self.client,
            BuiltinRole::Guest => &self.guest,
        }
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of this test's own, on a free port, killed when dropped.
pub struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        let redis = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGSTOP: the server keeps its connections and data but answers nothing (the harder case
    /// than a refused connection: every call must time out).
    pub fn pause(&self) {
        signal(self.child.id(), "-STOP");
    }

    pub fn resume(&self) {
        signal(self.child.id(), "-CONT");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.resume();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

/// Runs the `portico` command line with `args` against `app`'s database (and a data folder of
/// its own), and answers its output.
pub fn portico_cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("portico-cli-{}", Uuid::new_v4().simple()));
    Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(args)
        .env_clear()
        .env(
            "DATABASE_URL",
            app.state.config.database_url.clone().unwrap(),
        )
        .env("JWT_SECRET", "x".repeat(40))
        .env("SINGLE_INSTANCE", "true")
        .env("LOG_FORMAT", "json")
        .env("DATA_DIR", dir)
        .output()
        .unwrap()
}

/// `portico serve` in a child process: the embedded default in a fresh `DATA_DIR`, on a free
/// port, registration open, JSON logs on its piped stdout, with `env` added. Returns once it
/// answers, with its base URL and its data folder.
pub async fn serve_process(name: &str, env: &[(&str, &str)]) -> (Child, String, PathBuf) {
    let dir = std::env::temp_dir().join(format!("portico-{name}-{}", Uuid::new_v4().simple()));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_portico"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("DATA_DIR", &dir)
        .env("ALLOW_REGISTRATION", "true")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn().unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base, dir)
}

/// Starts Portico on port 0 against a new database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Portico with configuration changes.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    portico::install_crypto_provider();
    init_logs();
    let db = TestDb::migrated().await;
    let mut config = Config {
        database_url: Some(db.url.clone()),
        data_dir: db.dir.clone(),
        db_max_connections: 5,
        jwt_secret: Some(Secret::new("test-secret-that-is-long-enough-0123456789")),
        auto_migrate: Some(true),
        allow_registration: true,
        redis_url: redis_url(),
        // The PostgreSQL run without Redis is one instance per test.
        single_instance: redis_url().is_none(),
        redis_key_prefix: format!("portico-test:{}:", Uuid::new_v4().simple()),
        ..Config::default()
    };
    let s3 = if storage_is_s3() {
        let server = crate::s3::S3Server::start(&db.dir.join("s3")).await;
        server.configure(&mut config.files);
        Some(Arc::new(server))
    } else {
        None
    };
    configure(&mut config);
    let mut app = start(config, Some(db)).await;
    app.s3 = s3;
    app
}

/// Starts a second instance on the same database and Redis as `app` (a load-balanced pair).
pub async fn spawn_instance_like(app: &TestApp) -> TestApp {
    spawn_instance_with(app, |_| {}).await
}

/// Starts another instance on `app`'s database and Redis, with configuration changes (a rolling
/// deploy of new settings).
pub async fn spawn_instance_with(app: &TestApp, configure: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = app.state.config.clone();
    configure(&mut config);
    let mut instance = start(config, None).await;
    instance._redis = app._redis.clone();
    instance.s3 = app.s3.clone();
    instance
}

/// Starts Portico with a Redis that instances started like it share: the run's, or (in the
/// SQLite run, which has none) one of this test's own, so cross-instance tests run on both
/// databases.
pub async fn spawn_app_with_redis(configure: impl FnOnce(&mut Config)) -> TestApp {
    if redis_url().is_some() {
        return spawn_app_with(configure).await;
    }
    let redis = Arc::new(PrivateRedis::start().await);
    let url = redis.url();
    let mut app = spawn_app_with(|c| {
        c.redis_url = Some(url);
        configure(c);
    })
    .await;
    app._redis = Some(redis);
    app
}

async fn start(mut config: Config, db: Option<TestDb>) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    // Links (signed file URLs among them) point at this instance.
    config.public_url = Some(address.clone());
    let state = App::build(config).await.expect("app builds");
    let server_state = state.clone();
    let server = tokio::spawn(async move {
        let router = portico::http::router(server_state);
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    let background = state.start_background(false);
    TestApp {
        address,
        state,
        client: reqwest::Client::new(),
        server,
        _background: background,
        _db: db,
        _redis: None,
        s3: None,
    }
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            std::mem::forget(portico::telemetry::init(
                portico::config::LogFormat::Pretty,
                None,
            ));
        }
    });
}

/// A hash of [`PASSWORD`], computed once per test binary (argon2 is deliberately slow).
async fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(h) = HASH.get() {
        return h.clone();
    }
    let hash = PasswordHasher::new(1)
        .unwrap()
        .hash(PASSWORD)
        .await
        .unwrap();
    HASH.get_or_init(|| hash).clone()
}

impl TestApp {
    /// GETs `path` (`/healthz`, `/readyz`): its status and JSON body.
    pub async fn probe(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// POSTs a GraphQL document as `session` (or anonymously).
    pub async fn graphql(&self, session: Option<&Session>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({
                "query": query,
                "variables": variables,
            }));
        if let Some(s) = session {
            request = request.bearer_auth(&s.access_token);
            if let Some(ws) = &s.workspace {
                request = request.header("X-Workspace", ws);
            }
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.unwrap()
    }

    /// `inviter` invites `email` with the built-in role `role` (`GUEST`, `COLLABORATOR`, …); returns
    /// the invitation code, read from the invitation email (the only place it travels).
    pub async fn invite(&self, inviter: &Session, email: &str, role: &str) -> String {
        let role_id = self.builtin_role_id(inviter, role).await;
        let body = self
            .query(
                inviter,
                "mutation($e: String!, $r: ID!) { inviteMember(email: $e, roleId: $r) { invitation { id } } }",
                json!({ "e": email, "r": role_id }),
            )
            .await;
        assert!(
            data(&body)["inviteMember"]["invitation"]["id"].is_string(),
            "{body}"
        );
        self.last_mail_to(email).await.secret()
    }

    /// Runs `query` as `session` in process, as the HTTP handler would, and counts the SQL
    /// statements it executes itself (background work is not counted).
    pub async fn count_statements(
        &self,
        session: &Session,
        query: &str,
        variables: Value,
    ) -> (Value, u64) {
        let (response, count) = portico::db::Db::count_statements(async {
            let principal = self.state.auth.authenticate(&session.access_token).await;
            let context = Arc::new(portico::graphql::RequestContext::new(
                self.state.clone(),
                principal,
                session.workspace.clone(),
                portico::graphql::context::ClientInfo::default(),
            ));
            let request = async_graphql::Request::new(query)
                .variables(async_graphql::Variables::from_json(variables))
                .data(context);
            self.state.schema.execute(request).await
        })
        .await;
        (serde_json::to_value(response).unwrap(), count)
    }

    /// Runs a query as `session`.
    pub async fn query(&self, session: &Session, query: &str, variables: Value) -> Value {
        self.graphql(Some(session), query, variables).await
    }

    /// Creates an account directly (no API), returning its ID.
    pub async fn create_user(&self, email: &str, name: &str) -> Uuid {
        let email = Email::parse(email).unwrap();
        portico::identity::service::create_user(
            self.state.db.conn(),
            &email,
            name,
            password_hash().await,
            entity::user::UserStatus::Active,
            false,
            true,
        )
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap()
        .id
    }

    /// Makes an account a platform operator.
    pub async fn make_platform_admin(&self, email: &str) {
        portico::bootstrap::create_admin(&self.state, email, "unused", None)
            .await
            .unwrap();
    }

    /// Signs in through the API.
    pub async fn login(&self, email: &str) -> Session {
        self.login_with(email, PASSWORD)
            .await
            .expect("login succeeds")
    }

    /// Signs in through the API; the error body when it fails.
    pub async fn login_with(&self, email: &str, password: &str) -> Result<Session, Value> {
        let body = self
            .graphql(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken user { id email } } }",
                json!({ "e": email, "p": password }),
            )
            .await;
        session_from(&body, "login")
    }

    /// Opens a session for the account `email` without its password: the fixture of every test
    /// that is not about signing in (argon2id is deliberately slow, and a team is five sessions).
    /// The session is the one `login` opens; `login` itself goes through the API.
    pub async fn session_for(&self, email: &str) -> Session {
        let parsed = Email::parse(email).unwrap();
        let user = portico::identity::service::find_user_by_email(self.state.db.conn(), &parsed)
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap()
            .unwrap_or_else(|| panic!("no account {email}"));
        let txn = self.state.db.begin().await.unwrap();
        let issued = portico::identity::service::open_session(
            &self.state,
            &*txn,
            user,
            &portico::graphql::context::ClientInfo::default(),
        )
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
        txn.commit().await.unwrap();
        Session {
            user_id: issued.user.id,
            email: issued.user.email.clone(),
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            workspace: None,
        }
    }

    /// Registers an owner with a new workspace, signed in there.
    pub async fn sign_up_owner(&self, email: &str, workspace: &str) -> (Session, String) {
        let user_id = self.create_user(email, "Owner").await;
        let ws = portico::workspace::service::create_workspace_in(
            self.state.db.conn(),
            user_id,
            workspace,
            None,
        )
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
        (
            self.session_for(email).await.in_workspace(&ws.slug),
            ws.slug,
        )
    }

    /// Adds a new account to `workspace` with a built-in role and signs it in there.
    pub async fn add_member(
        &self,
        workspace_id: Uuid,
        slug: &str,
        email: &str,
        role: BuiltinRole,
    ) -> Session {
        let user_id = self.create_user(email, &format!("{role:?} person")).await;
        let scoped = Scoped::new(self.state.db.conn(), workspace_id);
        let role_row = portico::workspace::service::builtin_role(&scoped, role)
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap();
        portico::workspace::service::add_member(&scoped, user_id, role_row.id)
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap();
        self.session_for(email).await.in_workspace(slug)
    }

    /// Adds `email` to `team`'s workspace holding a new custom role `name` with `permissions`
    /// (GraphQL names, comma-separated: `"WORKSPACE_READ, MEMBER_READ"`), signed in there.
    pub async fn add_member_with_role(
        &self,
        team: &Team,
        email: &str,
        name: &str,
        permissions: &str,
    ) -> Session {
        let created = self
            .query(
                &team.owner,
                &format!("mutation($n: String!) {{ createRole(input: {{name: $n, permissions: [{permissions}]}}) {{ id }} }}"),
                json!({ "n": name }),
            )
            .await;
        let role = data(&created)["createRole"]["id"].clone();
        let member = self
            .add_member(team.workspace_id, &team.slug, email, BuiltinRole::Guest)
            .await;
        let changed = self
            .query(
                &team.owner,
                "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { role { id } } }",
                json!({ "u": member.user_id, "r": role }),
            )
            .await;
        assert_eq!(data(&changed)["updateMemberRole"]["role"]["id"], role);
        member
    }

    /// A workspace `prefix` with an owner, admin, collaborator, client and guest.
    pub async fn create_team(&self, prefix: &str) -> Team {
        let (owner, slug) = self
            .sign_up_owner(&format!("owner@{prefix}.test"), &format!("{prefix} studio"))
            .await;
        let workspace_id = self.workspace_id(&slug).await;
        let mut sessions = Vec::new();
        for role in [
            BuiltinRole::Admin,
            BuiltinRole::Collaborator,
            BuiltinRole::Client,
            BuiltinRole::Guest,
        ] {
            let email = format!("{}@{prefix}.test", role.key());
            sessions.push(self.add_member(workspace_id, &slug, &email, role).await);
        }
        let mut it = sessions.into_iter();
        Team {
            slug,
            workspace_id,
            owner,
            admin: it.next().unwrap(),
            collaborator: it.next().unwrap(),
            client: it.next().unwrap(),
            guest: it.next().unwrap(),
        }
    }

    /// The ID of a built-in role (`"ADMIN"`, `"GUEST"`, …) of the session's workspace, via the API.
    pub async fn builtin_role_id(&self, session: &Session, builtin: &str) -> Value {
        let roles = self
            .query(session, "{ roles { id builtin } }", json!({}))
            .await;
        data(&roles)["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["builtin"] == builtin)
            .unwrap_or_else(|| panic!("no built-in role {builtin}: {roles}"))["id"]
            .clone()
    }

    /// The ID of a workspace by slug.
    pub async fn workspace_id(&self, slug: &str) -> Uuid {
        use sea_orm::{ColumnTrait, QueryFilter};
        portico::db::Global::new(self.state.db.conn())
            .find::<entity::workspace::Entity>()
            .filter(entity::workspace::Column::Slug.eq(slug))
            .one(self.state.db.conn())
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// Sets an account's status directly.
    pub async fn set_status(&self, user_id: Uuid, status: entity::user::UserStatus) {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, QueryFilter};
        portico::db::Global::new(self.state.db.conn())
            .update_many::<entity::user::Entity>()
            .col_expr(entity::user::Column::Status, Expr::value(status))
            .filter(entity::user::Column::Id.eq(user_id))
            .exec(self.state.db.conn())
            .await
            .unwrap();
    }
}

/// Reads an `AuthPayload` at `data.<field>` into a session.
pub fn session_from(body: &Value, field: &str) -> Result<Session, Value> {
    let payload = &body["data"][field];
    if payload.is_null() {
        return Err(body.clone());
    }
    Ok(Session {
        user_id: payload["user"]["id"].as_str().unwrap().parse().unwrap(),
        email: payload["user"]["email"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        access_token: payload["accessToken"].as_str().unwrap().to_owned(),
        refresh_token: payload["refreshToken"].as_str().unwrap().to_owned(),
        workspace: None,
    })
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<String> {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

/// Every error code in the body.
pub fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the body has no error and returns `data`.
pub fn data(body: &Value) -> &Value {
    assert!(body["errors"].is_null(), "unexpected errors: {body:#}");
    &body["data"]
}

/// Asserts the body has no error and a non-null `data.<field>`, and returns it: a success is
/// read, never inferred from the absence of an error.
pub fn succeeded<'a>(body: &'a Value, field: &str) -> &'a Value {
    let value = &data(body)[field];
    assert!(!value.is_null(), "no data at {field}: {body:#}");
    value
}

/// Asserts that `path` exists in `data` and holds `null` (absent is not null).
pub fn assert_null_at(body: &Value, path: &[&str]) {
    let mut node = &body["data"];
    for (i, key) in path.iter().enumerate() {
        let object = node
            .as_object()
            .unwrap_or_else(|| panic!("{} is not an object: {body}", path[..i].join(".")));
        node = object.get(*key).unwrap_or_else(|| {
            panic!(
                "{} is missing (should be null): {body}",
                path[..=i].join(".")
            )
        });
    }
    assert!(node.is_null(), "{} should be null: {body}", path.join("."));
}

impl TestApp {
    /// Returns once no outbox row waits for dispatch (the background dispatcher does the work;
    /// at most 10 s): every consumer has had every event, and nothing writes behind the test's
    /// back (a migration test drops tables the consumers write to).
    pub async fn outbox_drained(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while portico::db::outbox::pending(&self.state.db).await.unwrap() > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the outbox never drained"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Creates a project through the API as `session`, with these members; returns its ID.
    pub async fn create_project(
        &self,
        session: &Session,
        name: &str,
        members: &[&Session],
    ) -> String {
        let ids: Vec<String> = members.iter().map(|m| m.user_id.to_string()).collect();
        let body = self
            .query(
                session,
                "mutation($n: String!, $m: [ID!]!) { createProject(input: {name: $n, memberIds: $m}) { id } }",
                json!({ "n": name, "m": ids }),
            )
            .await;
        data(&body)["createProject"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a task through the API; returns its ID.
    pub async fn create_task(
        &self,
        session: &Session,
        project: &str,
        title: &str,
        column: &str,
    ) -> String {
        let body = self
            .query(
                session,
                "mutation($p: ID!, $t: String!, $c: TaskColumn) { createTask(input: {projectId: $p, title: $t, column: $c}) { id } }",
                json!({ "p": project, "t": title, "c": column }),
            )
            .await;
        data(&body)["createTask"]["id"].as_str().unwrap().to_owned()
    }

    /// Task titles of a column, in board order.
    pub async fn column_titles(
        &self,
        session: &Session,
        project: &str,
        column: &str,
    ) -> Vec<String> {
        let body = self
            .query(
                session,
                "query($p: ID!, $c: TaskColumn) { project(id: $p) { tasks(first: 100, column: $c) { edges { node { title } } } } }",
                json!({ "p": project, "c": column }),
            )
            .await;
        data(&body)["project"]["tasks"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
            .collect()
    }
}
