//! Heap held per live subscription (issue #20), counted by dhat rather than read off the RSS:
//! N websockets are opened and acknowledged, then each subscribes to `messageAdded` and receives
//! one message (so every subscription is live); the live heap before and after, divided by N, is
//! what one subscription holds. With `BENCH_HEAP_PROFILE=1` it also writes `dhat-heap.json`
//! while the subscriptions are alive, and prints the allocation sites holding the most at the end.
//! `make bench-ws-heap`; `BENCH_WS_N` sets N (default 500).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::cast_precision_loss
)]

use futures_util::{SinkExt, StreamExt};
use portico::config::{Config, Secret};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PASSWORD: &str = "bench password 0123";

async fn graphql(
    base: &str,
    token: Option<&str>,
    slug: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(slug) = slug {
        request = request.header("X-Workspace", slug);
    }
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

async fn next_text(socket: &mut Socket) -> Value {
    loop {
        if let Frame::Text(text) = socket.next().await.unwrap().unwrap() {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "ping" && value["type"] != "ka" {
                return value;
            }
        }
    }
}

fn live_bytes() -> u64 {
    dhat::HeapStats::get().curr_bytes as u64
}

fn main() {
    portico::install_crypto_provider();
    let n: usize = std::env::var("BENCH_WS_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let profile = std::env::var_os("BENCH_HEAP_PROFILE").is_some();
    let profiler = if profile {
        dhat::Profiler::builder().trim_backtraces(Some(80)).build()
    } else {
        dhat::Profiler::builder().testing().build()
    };
    let dir = std::env::temp_dir().join(format!("portico-heap-{}", uuid::Uuid::new_v4().simple()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = Config {
            data_dir: dir.clone(),
            jwt_secret: Some(Secret::new("bench-secret-that-is-long-enough-0123456789")),
            auto_migrate: Some(true),
            allow_registration: true,
            ws_max_sockets_per_user: 1_000_000,
            ws_max_subscriptions: 10,
            rate_limit_points: 0,
            ..Config::default()
        };
        let state = portico::App::build(config).await.unwrap();
        let _background = state.start_background(false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = portico::http::router(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        let base = format!("http://{address}");
        let registered = graphql(&base, None, None, "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({ "i": { "email": "owner@heap.bench", "name": "Owner", "password": PASSWORD, "workspaceName": "Heap" } })).await;
        let token = registered["register"]["accessToken"].as_str().unwrap().to_owned();
        let slug = graphql(&base, Some(&token), None, "{ myWorkspaces { workspace { slug } } }", json!({})).await
            ["myWorkspaces"][0]["workspace"]["slug"].as_str().unwrap().to_owned();
        let project = graphql(&base, Some(&token), Some(&slug), "mutation { createProject(input: { name: \"Heap\" }) { id } }", json!({})).await
            ["createProject"]["id"].as_str().unwrap().to_owned();

        let before = live_bytes();
        let mut sockets = Vec::with_capacity(n);
        for _ in 0..n {
            let mut request = format!("ws://{address}/graphql/ws").into_client_request().unwrap();
            request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
            let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
            let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}"), "workspace": slug } });
            socket.send(Frame::text(init.to_string())).await.unwrap();
            assert_eq!(next_text(&mut socket).await["type"], "connection_ack");
            sockets.push(socket);
        }
        let connected = live_bytes();
        let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
            "query": "subscription($p: ID!) { messageAdded(projectId: $p) { id body author { name } } }",
            "variables": { "p": project } } }).to_string();
        for socket in &mut sockets {
            socket.send(Frame::text(subscribe.clone())).await.unwrap();
        }
        // Each subscription is live once it delivered a message (a few may still be attaching
        // when the first is posted: post until everyone has one).
        let mut received = vec![false; n];
        let mut posted = 0;
        while received.iter().any(|r| !r) {
            posted += 1;
            graphql(&base, Some(&token), Some(&slug), "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }",
                json!({ "p": project, "b": format!("hello {posted}") })).await;
            for (i, socket) in sockets.iter_mut().enumerate() {
                if !received[i] {
                    let got = tokio::time::timeout(std::time::Duration::from_secs(5), next_text(socket)).await;
                    if let Ok(message) = got {
                        assert_eq!(message["type"], "next", "{message}");
                        received[i] = true;
                    }
                }
            }
        }
        // Let deliveries settle (queues drained) before reading the heap.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let subscribed = live_bytes();
        println!("| N | heap per acknowledged connection (incl. client) | heap per live subscription | messages posted |");
        println!("| --- | --- | --- | --- |");
        println!(
            "| {n} | {:.1} KiB | {:.1} KiB | {posted} |",
            (connected.saturating_sub(before)) as f64 / n as f64 / 1024.0,
            (subscribed.saturating_sub(connected)) as f64 / n as f64 / 1024.0
        );
        drop(profiler);
        drop(sockets);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
