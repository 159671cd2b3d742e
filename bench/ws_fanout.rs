//! Websocket fan-out benchmark (issue #4): N subscribers of `messageAdded` on one project, M
//! messages posted through GraphQL, publish→deliver latency of every delivery (also those of
//! subscribers that did not finish), the slowest subscriber's last delivery, missing deliveries,
//! subscribers that ended with an error or had not finished at the deadline, and the server's RSS
//! per idle subscribed connection.
//!
//! `make bench-ws` runs N = 1,000 and N = 10,000 on one instance, then N = 1,000 and 10,000 across
//! two instances through Redis (subscribers on A, messages posted on B). Each Portico instance is
//! a child process (this binary with `--serve`), so its RSS is measured alone. `BENCH_WS_N`
//! (comma-separated) and `BENCH_WS_M` override the sizes; `BENCH_WS_MODES=memory` or `redis` runs
//! one setup only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use futures_util::{SinkExt, StreamExt};
use portico::config::{Config, Secret};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "bench password 0123";
const SECRET: &str = "bench-secret-that-is-long-enough-0123456789";

fn admin_url() -> String {
    std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn redis_url() -> String {
    std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn config(db_url: &str, redis: Option<String>) -> Config {
    Config {
        database_url: Some(db_url.to_owned()),
        single_instance: redis.is_none(),
        redis_url: redis,
        // Per run (the database name): cached slugs and sessions of earlier runs must not leak in.
        redis_key_prefix: format!(
            "portico-bench:{}:",
            db_url.rsplit('/').next().unwrap_or("x")
        ),
        jwt_secret: Some(Secret::new(SECRET)),
        auto_migrate: Some(true),
        access_token_ttl_secs: 3600,
        db_max_connections: 16,
        ws_max_sockets_per_user: 100_000,
        rate_limit_points: 0,
        ..Config::default()
    }
}

/// Child mode: serve Portico on a loopback port, print it, run until stdin closes.
fn serve(db_url: &str, redis: Option<String>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let state = portico::App::build(config(db_url, redis)).await.unwrap();
        // The outbox dispatcher delivers committed events to subscribers.
        let _background = state.start_background(false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("LISTENING {}", listener.local_addr().unwrap());
        let router = portico::http::router(state);
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        // Until the parent closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
        })
        .await
        .unwrap();
    });
}

struct Instance {
    child: Child,
    address: String,
}

impl Instance {
    fn start(db_url: &str, redis: Option<&str>) -> Self {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .arg("--serve")
            .arg(db_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(redis) = redis {
            command.arg(redis);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let address = line.trim().strip_prefix("LISTENING ").unwrap().to_owned();
        Self { child, address }
    }

    /// Resident set size of the instance, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Seeded {
    slug: String,
    project: Uuid,
    email: String,
}

async fn seed(db_url: &str) -> Seeded {
    let app = portico::App::build(config(db_url, None)).await.unwrap();
    let hash = app
        .hasher
        .hash(PASSWORD)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let email = "owner@ws.bench".to_owned();
    let owner = portico::identity::service::create_user(
        app.db.conn(),
        &portico::types::Email::parse(&email).unwrap(),
        "Owner",
        hash,
        entity::user::UserStatus::Active,
        false,
        true,
    )
    .await
    .map_err(|e| e.into_anyhow())
    .unwrap();
    let ws =
        portico::workspace::service::create_workspace_in(app.db.conn(), owner.id, "WS bench", None)
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap();
    let access = app
        .access
        .resolve(ws.id, owner.id)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap()
        .unwrap();
    let project = portico::project::service::create(
        &app,
        &access,
        portico::project::service::NewProject {
            name: "Fan-out".to_owned(),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| e.into_anyhow())
    .unwrap();
    Seeded {
        slug: ws.slug,
        project: project.id,
        email,
    }
}

async fn login(address: &str, email: &str) -> String {
    let body: Value = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .json(&json!({ "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }", "variables": { "e": email, "p": PASSWORD } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What one subscriber saw: (message index, receive instant).
/// Each subscriber's deliveries: (message index, arrival).
type Received = Arc<Vec<std::sync::Mutex<Vec<(usize, Instant)>>>>;

struct Row {
    label: String,
    n: usize,
    m: usize,
    rss_per_conn_kib: f64,
    rss_per_sub_kib: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Deliveries that never came (of n × m), counted per delivery: a subscriber that got 19 of
    /// 20 misses one, not twenty.
    missing: usize,
    /// The slowest subscriber's last delivery, from the post of the last message.
    slowest_last_ms: f64,
    /// Subscribers whose stream ended with an error or a close before the last message.
    errored: usize,
    /// Subscribers still waiting at the deadline, without an error.
    unfinished: usize,
}

/// How a subscriber's stream ended.
const RUNNING: u8 = 0;
const COMPLETE: u8 = 1;
const ERRORED: u8 = 2;

async fn run(label: &str, n: usize, m: usize, db_url: &str, redis: Option<&str>) -> Row {
    let a = Instance::start(db_url, redis);
    let b = redis.map(|r| Instance::start(db_url, Some(r)));
    let poster = b.as_ref().unwrap_or(&a);
    let seeded: &Seeded = SEEDED.get().unwrap();
    let seeded_token = login(&a.address, &seeded.email).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = a.rss_kib();

    // Each delivery is recorded when it arrives, so a subscriber still waiting at the deadline
    // keeps what it got.
    let received: Received = Arc::new((0..n).map(|_| std::sync::Mutex::new(Vec::new())).collect());
    let ended: Arc<Vec<std::sync::atomic::AtomicU8>> = Arc::new(
        (0..n)
            .map(|_| std::sync::atomic::AtomicU8::new(RUNNING))
            .collect(),
    );
    let ready = Arc::new(tokio::sync::Semaphore::new(0));
    let connected = Arc::new(tokio::sync::Semaphore::new(0));
    let go = Arc::new(tokio::sync::Semaphore::new(0));
    let mut tasks = Vec::with_capacity(n);
    let url = format!("ws://{}/graphql/ws", a.address);
    for i in 0..n {
        let (url, token, slug, received, ended, ready, connected, go) = (
            url.clone(),
            seeded_token.clone(),
            seeded.slug.clone(),
            received.clone(),
            ended.clone(),
            ready.clone(),
            connected.clone(),
            go.clone(),
        );
        let project = seeded.project;
        tasks.push(tokio::spawn(async move {
            let mut request = url.into_client_request().unwrap();
            request
                .headers_mut()
                .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
            let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
            let init = json!({ "type": "connection_init", "payload": { "authorization": token, "workspace": slug } });
            socket.send(Frame::text(init.to_string())).await.unwrap();
            let _ack = socket.next().await;
            connected.add_permits(1);
            go.acquire().await.unwrap().forget();
            let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
                "query": "subscription($p: ID!) { messageAdded(projectId: $p) { body } }",
                "variables": { "p": project } } });
            socket.send(Frame::text(subscribe.to_string())).await.unwrap();
            // Ready once a warm-up message arrived: the subscription is live on the server, not
            // only sent (at 10k, the server is still attaching subscriptions seconds later).
            let mut live = false;
            let mut seen = 0;
            let outcome = loop {
                let frame = match socket.next().await {
                    Some(Ok(frame)) => frame,
                    Some(Err(err)) => {
                        eprintln!("subscriber {i}: socket error after {seen} messages: {err}");
                        break ERRORED;
                    }
                    None => {
                        eprintln!("subscriber {i}: socket closed after {seen} messages");
                        break ERRORED;
                    }
                };
                if let Frame::Close(frame) = &frame {
                    eprintln!("subscriber {i}: closed by the server after {seen} messages: {frame:?}");
                    break ERRORED;
                }
                let Frame::Text(text) = frame else { continue };
                let value: Value = serde_json::from_str(&text).unwrap();
                match value["type"].as_str() {
                    Some("ping") => {
                        let _ = socket.send(Frame::text(json!({"type": "pong"}).to_string())).await;
                    }
                    Some("next") => {
                        let Some(body) = value["payload"]["data"]["messageAdded"]["body"].as_str() else {
                            eprintln!("subscriber {i}: {value}");
                            break ERRORED;
                        };
                        if body == "warmup" {
                            if !live {
                                live = true;
                                ready.add_permits(1);
                            }
                            continue;
                        }
                        let index: usize = body.trim_start_matches("bench ").parse().unwrap();
                        received[i].lock().unwrap().push((index, Instant::now()));
                        seen += 1;
                        if index + 1 == m {
                            break COMPLETE;
                        }
                    }
                    Some("error" | "complete") => {
                        eprintln!("subscriber {i}: stream ended after {seen} messages: {value}");
                        break ERRORED;
                    }
                    other => {
                        if other != Some("pong") && other != Some("ka") {
                            eprintln!("subscriber {i}: unexpected {value}");
                        }
                    }
                }
            };
            ended[i].store(outcome, std::sync::atomic::Ordering::SeqCst);
        }));
        // Pace the handshakes a little: the accept queue is finite.
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let all = u32::try_from(n).unwrap();
    let _connected = connected.acquire_many(all).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = a.rss_kib();
    go.add_permits(n);
    let client = reqwest::Client::new();
    let post = |body: String| {
        let request = client
            .post(format!("http://{}/graphql", poster.address))
            .bearer_auth(&seeded_token)
            .header("X-Workspace", &seeded.slug)
            .json(&json!({ "query": "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }", "variables": { "p": seeded.project, "b": body } }));
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            assert!(body["errors"].is_null(), "{body}");
        }
    };
    // Warm-up messages until every subscriber received one: every subscription is live.
    let warm = Instant::now();
    let _ready = loop {
        post("warmup".to_owned()).await;
        if let Ok(Ok(permits)) =
            tokio::time::timeout(Duration::from_secs(1), ready.acquire_many(all)).await
        {
            break permits;
        }
        assert!(
            warm.elapsed() < Duration::from_secs(120),
            "subscriptions never all went live"
        );
    };
    eprintln!(
        "{label} n={n}: every subscription live after {:.1} s",
        warm.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = a.rss_kib();

    let mut sent = Vec::with_capacity(m);
    for j in 0..m {
        sent.push(Instant::now());
        post(format!("bench {j}")).await;
        tokio::time::sleep(Duration::from_millis(if n > 2_000 { 500 } else { 100 })).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for task in &mut tasks {
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = tokio::time::timeout(left, task).await;
    }
    for task in &tasks {
        task.abort();
    }
    let mut latencies = Vec::with_capacity(n * m);
    let mut delivered = 0;
    let mut slowest_last_ms: f64 = 0.0;
    for seen in received.iter() {
        for (index, at) in seen.lock().unwrap().iter() {
            delivered += 1;
            let ms = at.duration_since(sent[*index]).as_secs_f64() * 1e3;
            latencies.push(ms);
            if *index + 1 == m {
                slowest_last_ms = slowest_last_ms.max(ms);
            }
        }
    }
    let count = |state: u8| {
        ended
            .iter()
            .filter(|e| e.load(std::sync::atomic::Ordering::SeqCst) == state)
            .count()
    };
    let (errored, unfinished) = (count(ERRORED), count(RUNNING));
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Row {
        label: label.to_owned(),
        n,
        m,
        rss_per_conn_kib: (rss_connected.saturating_sub(rss_before)) as f64 / n as f64,
        rss_per_sub_kib: (rss_after.saturating_sub(rss_connected)) as f64 / n as f64,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        missing: n * m - delivered,
        slowest_last_ms,
        errored,
        unfinished,
    }
}

static SEEDED: std::sync::OnceLock<Seeded> = std::sync::OnceLock::new();

fn main() {
    portico::install_crypto_provider();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        return serve(&args[2], args.get(3).cloned());
    }
    let sizes: Vec<usize> = std::env::var("BENCH_WS_N")
        .unwrap_or_else(|_| "1000,10000".to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let m: usize = std::env::var("BENCH_WS_M")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let name = format!("portico_wsbench_{}", Uuid::new_v4().simple());
    let base = admin_url();
    let db_url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let redis = redis_url();
    let rows = runtime.block_on(async {
        let admin = Database::connect(base.clone()).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        let _ = SEEDED.set(seed(&db_url).await);
        let mut rows = Vec::new();
        let modes = std::env::var("BENCH_WS_MODES").unwrap_or_else(|_| "memory,redis".to_owned());
        if modes.contains("memory") {
            for &n in &sizes {
                rows.push(run("one instance, in-process bus", n, m, &db_url, None).await);
            }
        }
        if modes.contains("redis") {
            for &n in &sizes {
                rows.push(run("two instances through Redis", n, m, &db_url, Some(&redis)).await);
            }
        }
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
        rows
    });
    println!();
    println!(
        "| setup | subscribers | messages | RSS per idle connection | + per subscription | p50 | p99 | slowest last delivery | missing deliveries | errored | unfinished |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.1} KiB | {:.1} KiB | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {} |",
            r.label,
            r.n,
            r.m,
            r.rss_per_conn_kib,
            r.rss_per_sub_kib,
            r.p50_ms,
            r.p99_ms,
            r.slowest_last_ms,
            r.missing,
            r.errored,
            r.unfinished
        );
    }
}
