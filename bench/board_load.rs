//! Board benchmark (issue #3): seeds 5 workspaces × 50 projects × 40 tasks × 20 members into a
//! fresh PostgreSQL database, serves Portico on a loopback port, and drives it over HTTP with 16
//! concurrent connections. Prints req/s, p50 and p99 of two queries:
//!   (a) one project by id, with status and name;
//!   (b) the board: 20 projects with their tasks (id, title, column, position, assignee { id name }).
//! Run with `make bench-board`; `BENCH_SECONDS` (default 10) sets each run's duration,
//! `BENCH_ONLY=a`, `b` or `c` runs one only ((c) is a mutation, `postMessage`), and
//! `BENCH_BOARD_QUERY` replaces query (b).
//! `BENCH_REDIS=outage` (`make bench-redis-outage`) serves with a private `redis-server` instead,
//! and runs (a) and a write (c, `postMessage`) with Redis up, then paused with SIGSTOP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::cast_precision_loss
)]

use portico::config::{Config, Secret};
use portico::db::Scoped;
use portico::project::service::{self as projects, NewProject};
use portico::rbac::BuiltinRole;
use portico::types::Email;
use private_redis::PrivateRedis;
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[path = "support/private_redis.rs"]
mod private_redis;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WORKSPACES: usize = 5;
const PROJECTS: usize = 50;
const TASKS: usize = 40;
const MEMBERS: usize = 20;
const CONCURRENCY: usize = 16;
const PASSWORD: &str = "bench password 0123";

fn admin_url() -> String {
    std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

struct Seeded {
    owner_email: String,
    slug: String,
    project_ids: Vec<Uuid>,
}

async fn seed(app: &portico::AppState) -> Vec<Seeded> {
    let hash = app
        .hasher
        .hash(PASSWORD)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let mut out = Vec::new();
    for w in 0..WORKSPACES {
        let owner_email = format!("owner{w}@bench.test");
        let owner = portico::identity::service::create_user(
            app.db.conn(),
            &Email::parse(&owner_email).unwrap(),
            "Owner",
            hash.clone(),
            entity::user::UserStatus::Active,
            false,
            true,
        )
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
        let ws = portico::workspace::service::create_workspace_in(
            app.db.conn(),
            owner.id,
            &format!("Bench {w}"),
            None,
        )
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
        let scoped = Scoped::new(app.db.conn(), ws.id);
        let collaborator =
            portico::workspace::service::builtin_role(&scoped, BuiltinRole::Collaborator)
                .await
                .map_err(|e| e.into_anyhow())
                .unwrap();
        let mut members = vec![owner.id];
        for m in 1..MEMBERS {
            let user = portico::identity::service::create_user(
                app.db.conn(),
                &Email::parse(&format!("m{m}.w{w}@bench.test")).unwrap(),
                &format!("Member {m}"),
                hash.clone(),
                entity::user::UserStatus::Active,
                false,
                true,
            )
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap();
            portico::workspace::service::add_member(&scoped, user.id, collaborator.id)
                .await
                .map_err(|e| e.into_anyhow())
                .unwrap();
            members.push(user.id);
        }
        let access = app
            .access
            .resolve(ws.id, owner.id)
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap()
            .unwrap();
        let mut project_ids = Vec::new();
        for p in 0..PROJECTS {
            let project = projects::create(
                app,
                &access,
                NewProject {
                    name: format!("Project {p}"),
                    ..NewProject::default()
                },
            )
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap();
            let now = chrono::Utc::now();
            let rows: Vec<entity::task::ActiveModel> = (0..TASKS)
                .map(|i| entity::task::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    workspace_id: Set(ws.id),
                    project_id: Set(project.id),
                    title: Set(format!("Task {i} of project {p}")),
                    description: Set(None),
                    board_column: Set(
                        ["BACKLOG", "IN_PROGRESS", "WAITING_CLIENT", "DONE"][i % 4].into()
                    ),
                    position: Set(i64::try_from(i).unwrap() * 65_536),
                    assignee_id: Set(Some(members[i % members.len()])),
                    due_date: Set(None),
                    blocked_by_client: Set(false),
                    blocked_reason: Set(None),
                    origin: Set("PROJECT".into()),
                    ticket_id: Set(None),
                    created_by: Set(owner.id),
                    created_at: Set(now),
                    updated_at: Set(now),
                })
                .collect();
            scoped.insert_many(rows).await.unwrap();
            project_ids.push(project.id);
        }
        out.push(Seeded {
            owner_email,
            slug: ws.slug,
            project_ids,
        });
    }
    out
}

struct Run {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    bytes: usize,
}

async fn drive(
    url: String,
    token: String,
    slug: String,
    body: Arc<dyn Fn(usize) -> Value + Send + Sync>,
    seconds: u64,
) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|w| {
            let (client, url, token, slug, body, stop) = (
                client.clone(),
                url.clone(),
                token.clone(),
                slug.clone(),
                body.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut bytes = 0;
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("X-Workspace", &slug)
                        .json(&body(i))
                        .send()
                        .await
                        .unwrap();
                    let text = response.text().await.unwrap();
                    latencies.push(t.elapsed());
                    assert!(
                        !text.contains("\"errors\""),
                        "{}",
                        &text[..text.len().min(300)]
                    );
                    bytes += text.len();
                    i += CONCURRENCY;
                }
                (latencies, bytes)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut bytes = 0;
    for w in workers {
        let (l, b) = w.await.unwrap();
        latencies.extend(l);
        bytes += b;
    }
    Run {
        requests: latencies.len(),
        elapsed: start.elapsed(),
        latencies,
        bytes,
    }
}

fn report(name: &str, mut run: Run) {
    run.latencies.sort();
    let pct = |p: f64| {
        run.latencies[((run.latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
    };
    println!(
        "| {name} | {:.0} | {:.1} ms | {:.1} ms | {} | {:.0} KB |",
        run.requests as f64 / run.elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        run.requests,
        run.bytes as f64 / run.requests.max(1) as f64 / 1024.0
    );
}

fn main() {
    portico::install_crypto_provider();
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let name = format!("portico_bench_{}", Uuid::new_v4().simple());
    let base = admin_url();
    let db_url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);

    let redis = (std::env::var("BENCH_REDIS").as_deref() == Ok("outage")).then(PrivateRedis::start);
    // The server: its own runtime, as in production.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (state, address, seeded) = server_rt.block_on(async {
        let admin = Database::connect(base.clone()).await.unwrap();
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
        let config = Config {
            database_url: Some(db_url.clone()),
            redis_url: redis.as_ref().map(PrivateRedis::url),
            single_instance: redis.is_none(),
            jwt_secret: Some(Secret::new("bench-secret-that-is-long-enough-0123456789")),
            auto_migrate: Some(true),
            db_max_connections: 16,
            // Throughput is what is measured here, not the per-user budget.
            rate_limit_points: 0,
            ..Config::default()
        };
        let state = portico::App::build(config).await.unwrap();
        let t = Instant::now();
        let seeded = seed(&state).await;
        println!("seeded {WORKSPACES} workspaces × {PROJECTS} projects × {TASKS} tasks × {MEMBERS} members in {:.1} s", t.elapsed().as_secs_f64());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let router = portico::http::router(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        (state, address, seeded)
    });

    // The load tool: another runtime (one thread).
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    load_rt.block_on(async {
        let url = format!("{address}/graphql");
        let ws = &seeded[0];
        let login: Value = reqwest::Client::new()
            .post(&url)
            .json(&json!({ "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }", "variables": { "e": ws.owner_email, "p": PASSWORD } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["data"]["login"]["accessToken"].as_str().unwrap().to_owned();
        let ids: Arc<Vec<String>> = Arc::new(ws.project_ids.iter().map(Uuid::to_string).collect());
        let by_id: Arc<dyn Fn(usize) -> Value + Send + Sync> = {
            let ids = ids.clone();
            Arc::new(move |i| json!({ "query": "query($id: ID!) { project(id: $id) { status name } }", "variables": { "id": ids[i % ids.len()] } }))
        };
        // `BENCH_BOARD_QUERY` replaces query (b), to profile a variant.
        let board_query = std::env::var("BENCH_BOARD_QUERY").unwrap_or_else(|_| {
            "{ projects(first: 20) { edges { node { id name tasks(first: 50) { edges { node { id title column position assignee { id name } } } } } } } }".to_owned()
        });
        let board: Arc<dyn Fn(usize) -> Value + Send + Sync> =
            Arc::new(move |_| json!({ "query": board_query }));
        // Warm up.
        drive(url.clone(), token.clone(), ws.slug.clone(), by_id.clone(), 1).await;
        drive(url.clone(), token.clone(), ws.slug.clone(), board.clone(), 1).await;
        println!();
        println!("| query | req/s | p50 | p99 | requests | response |");
        println!("| --- | --- | --- | --- | --- | --- |");
        if let Some(redis) = &redis {
            let write: Arc<dyn Fn(usize) -> Value + Send + Sync> = {
                let ids = ids.clone();
                Arc::new(move |i| json!({ "query": "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }", "variables": { "p": ids[i % ids.len()], "b": format!("bench {i}") } }))
            };
            for (label, signal) in [("Redis up", None), ("Redis paused (SIGSTOP)", Some("-STOP"))] {
                if let Some(signal) = signal {
                    redis.signal(signal);
                }
                report(&format!("(a) project by id, {label}"), drive(url.clone(), token.clone(), ws.slug.clone(), by_id.clone(), seconds).await);
                report(&format!("(c) postMessage, {label}"), drive(url.clone(), token.clone(), ws.slug.clone(), write.clone(), seconds).await);
            }
            redis.signal("-CONT");
            return;
        }
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        if only.is_empty() || only == "a" {
            report("(a) project by id", drive(url.clone(), token.clone(), ws.slug.clone(), by_id, seconds).await);
        }
        if only.is_empty() || only == "b" {
            report("(b) board: 20 projects × tasks × assignee", drive(url.clone(), token.clone(), ws.slug.clone(), board, seconds).await);
        }
        if only.is_empty() || only == "c" {
            let write: Arc<dyn Fn(usize) -> Value + Send + Sync> = {
                let ids = ids.clone();
                Arc::new(move |i| json!({ "query": "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }", "variables": { "p": ids[i % ids.len()], "b": format!("bench {i}") } }))
            };
            report("(c) postMessage (a mutation)", drive(url, token, ws.slug.clone(), write, seconds).await);
        }
    });

    if std::env::var("BENCH_KEEP_DB").is_ok() {
        println!("kept database {name}");
        return;
    }
    server_rt.block_on(async move {
        drop(state);
        let admin = Database::connect(base).await.unwrap();
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    });
}
