//! Notification benchmark (issue #17): a fresh PostgreSQL database per run, Portico served on a
//! loopback port, a local SMTP sink, and a client posting messages (each one event that emails
//! the workspace's owner; grouping off, nobody "active"). Two runs, side by side:
//!   - **without**: the outbox dispatcher has live subscriptions only, no notification consumer
//!     and no mail job: the mutation's own cost;
//!   - **with**: everything a production instance runs (dispatcher with every consumer, every
//!     job): mutation throughput, then emails per second and the latency from each mutation's
//!     answer to the SMTP sink's acceptance of its email (p50, p99, max).
//!
//! `BENCH_EVENTS` (default 10,000) sets the events per run. Run with `make bench-notify`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::cast_precision_loss
)]

use portico::config::{Config, Secret};
use portico::rbac::BuiltinRole;
use portico::types::Email;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[path = "../tests/api/smtp.rs"]
#[allow(dead_code, clippy::unwrap_used, clippy::panic)]
mod smtp;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONCURRENCY: usize = 16;
const PASSWORD: &str = "bench password 0123";

fn admin_url() -> String {
    std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Without,
    With,
}

struct Served {
    address: String,
    slug: String,
    project: Uuid,
    _background: portico::app::Background,
}

async fn serve(db_url: &str, smtp_url: String, mode: Mode) -> Served {
    let config = Config {
        database_url: Some(db_url.to_owned()),
        single_instance: true,
        jwt_secret: Some(Secret::new("bench-secret-that-is-long-enough-0123456789")),
        auto_migrate: Some(true),
        db_max_connections: 16,
        rate_limit_points: 0,
        mail: portico::config::MailConfig {
            smtp_url: Some(Secret::new(smtp_url)),
            notify_group_secs: 0,
            notify_active_secs: 0,
            mail_send_interval_secs: 1,
            ..portico::config::MailConfig::default()
        },
        ..Config::default()
    };
    let state = portico::App::build(config).await.unwrap();
    let hash = state
        .hasher
        .hash(PASSWORD)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let user = |email: &str, name: &str| {
        let (conn, hash) = (state.db.conn().clone(), hash.clone());
        let (email, name) = (email.to_owned(), name.to_owned());
        async move {
            portico::identity::service::create_user(
                &conn,
                &Email::parse(&email).unwrap(),
                &name,
                hash,
                entity::user::UserStatus::Active,
                false,
                true,
            )
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap()
        }
    };
    let owner = user("owner@notify.bench", "Owner").await;
    let client = user("client@notify.bench", "Client").await;
    let ws =
        portico::workspace::service::create_workspace_in(state.db.conn(), owner.id, "Bench", None)
            .await
            .map_err(|e| e.into_anyhow())
            .unwrap();
    let scoped = portico::db::Scoped::new(state.db.conn(), ws.id);
    let role = portico::workspace::service::builtin_role(&scoped, BuiltinRole::Client)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    portico::workspace::service::add_member(&scoped, client.id, role.id)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let access = state
        .access
        .resolve(ws.id, owner.id)
        .await
        .unwrap()
        .unwrap();
    let project = portico::project::service::create(
        &state,
        &access,
        portico::project::service::NewProject {
            name: "Bakery".to_owned(),
            member_ids: vec![client.id],
            ..Default::default()
        },
    )
    .await
    .map_err(|e| e.into_anyhow())
    .unwrap();
    let background = match mode {
        Mode::With => state.start_background(true),
        Mode::Without => {
            let live = portico::outbox::Dispatcher::new(
                state.metrics.clone(),
                state.db.clone(),
                vec![Arc::new(portico::outbox::Live(state.bus.clone()))],
                portico::outbox::Settings {
                    poll: Duration::from_millis(1000),
                },
            );
            portico::app::Background::from_tasks(vec![live.spawn()])
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let router = portico::http::router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    Served {
        address,
        slug: ws.slug,
        project: project.id,
        _background: background,
    }
}

/// Posts `events` messages as the client, 16 at a time; answers the run's seconds and, per
/// message body, when its answer arrived.
async fn post(served: &Served, events: usize) -> (f64, HashMap<String, Instant>) {
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/graphql", served.address))
        .json(&json!({ "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }", "variables": { "e": "client@notify.bench", "p": PASSWORD } }))
        .send().await.unwrap().json().await.unwrap();
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, token, next) = (http.clone(), token.clone(), next.clone());
        let (address, slug, project) =
            (served.address.clone(), served.slug.clone(), served.project);
        workers.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= events {
                    return answered;
                }
                let body = format!("m{i}");
                let reply: Value = http
                    .post(format!("{address}/graphql"))
                    .bearer_auth(&token)
                    .header("X-Workspace", &slug)
                    .json(&json!({ "query": "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }", "variables": { "p": project, "b": body } }))
                    .send().await.unwrap().json().await.unwrap();
                assert!(reply["errors"].is_null(), "{reply}");
                answered.push((body, Instant::now()));
            }
        }));
    }
    let mut at = HashMap::new();
    for worker in workers {
        at.extend(worker.await.unwrap());
    }
    (started.elapsed().as_secs_f64(), at)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        portico::install_crypto_provider();
        println!("| run | events | mutations/s | emails | emails/s | event→SMTP p50 | p99 | max |");
        println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
        for mode in [Mode::Without, Mode::With] {
            let name = format!("portico_bench_{}", Uuid::new_v4().simple());
            let base = admin_url();
            let db_url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
            let admin = Database::connect(base.clone()).await.unwrap();
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
            let sink = smtp::SmtpSink::start().await;
            let served = serve(&db_url, sink.url(), mode).await;
            let (secs, answered) = post(&served, events).await;
            let rate = events as f64 / secs;
            if mode == Mode::Without {
                println!("| without notifications | {events} | {rate:.0} | – | – | – | – | – |");
            } else {
                let deadline = Instant::now() + Duration::from_secs(600);
                let mut shown = Instant::now();
                while sink.messages().len() < events && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if shown.elapsed() > Duration::from_secs(10) {
                        eprintln!("{} of {events} emails so far", sink.messages().len());
                        shown = Instant::now();
                    }
                }
                let mails = sink.messages();
                let first = answered.values().min().copied().unwrap();
                let mut lat: Vec<f64> = mails
                    .iter()
                    .filter_map(|m| {
                        let subject = m.header("Subject")?;
                        let body = subject.rsplit("New message: ").next()?.trim().to_owned();
                        let sent = answered.get(&body)?;
                        Some(m.at.saturating_duration_since(*sent).as_secs_f64() * 1000.0)
                    })
                    .collect();
                lat.sort_by(f64::total_cmp);
                let last = mails.iter().map(|m| m.at).max().unwrap_or(first);
                let span = last.saturating_duration_since(first).as_secs_f64();
                println!(
                    "| with notifications | {events} | {rate:.0} | {} | {:.0} | {:.0} ms | {:.0} ms | {:.0} ms |",
                    mails.len(),
                    mails.len() as f64 / span.max(0.001),
                    percentile(&lat, 0.5),
                    percentile(&lat, 0.99),
                    lat.last().copied().unwrap_or(0.0),
                );
            }
            drop(served);
            tokio::time::sleep(Duration::from_millis(500)).await;
            let _ = admin.execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await;
        }
    });
}
