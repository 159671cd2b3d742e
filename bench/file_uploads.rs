//! File benchmark (issue #16): runs the release `portico` binary as a child process, then measures
//!   (a) signed download-URL mints per second (`file { downloadUrl }`, 16 connections), and
//!   (b) 1,000 uploads of 1 MB end to end (createUpload, PUT, completeUpload; 8 at a time),
//!       with Portico's CPU time and peak RSS per upload, read from `/proc/<pid>`.
//! Two setups: `embedded` (SQLite, local files behind Portico's signed route) and `s3`
//! (PostgreSQL, a signature-checking S3 server, s3s-fs, in this process). `BENCH_FILES_MODES`
//! picks them (default `embedded,s3`), `BENCH_SECONDS` the length of (a), `BENCH_UPLOADS` the
//! count of (b). Run with `make bench-files`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::cast_precision_loss
)]

use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench password 0123";
const MB: usize = 1024 * 1024;

struct Portico {
    child: Child,
    url: String,
    client: reqwest::Client,
    token: String,
    slug: String,
}

impl Drop for Portico {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Portico {
    async fn gql(&self, query: &str, variables: Value) -> Value {
        let body: Value = self
            .client
            .post(format!("{}/graphql", self.url))
            .bearer_auth(&self.token)
            .header("X-Workspace", &self.slug)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "{body}");
        body["data"].clone()
    }

    /// (user CPU + system CPU in seconds, peak RSS in KiB) of the child so far.
    fn usage(&self) -> (f64, u64) {
        let pid = self.child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
        let ticks = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let hwm = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        (ticks / 100.0, hwm)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the child with `env`, registers an owner and creates a project: (portico, Content folder).
async fn start(env: &[(&str, String)]) -> (Portico, String) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let bin = std::env::var("PORTICO_BIN").unwrap_or_else(|_| "target/release/portico".into());
    let mut command = Command::new(bin);
    command
        .arg("serve")
        .env_clear()
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("PUBLIC_URL", &url)
        .env("ALLOW_REGISTRATION", "true")
        .env("RATE_LIMIT_POINTS", "0")
        .env("FILE_UPLOADS_PER_MINUTE", "1000000")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    let child = command
        .spawn()
        .expect("target/release/portico (cargo build --release)");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{url}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut portico = Portico {
        child,
        url,
        client,
        token: String::new(),
        slug: String::new(),
    };
    let registered: Value = portico
        .client
        .post(format!("{}/graphql", portico.url))
        .json(&json!({
            "query": "mutation($p: String!) { register(input: {email: \"owner@bench.test\", name: \"Owner\", password: $p, workspaceName: \"Bench\"}) { accessToken } }",
            "variables": { "p": PASSWORD },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    portico.token = registered["data"]["register"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{registered}"))
        .to_owned();
    let mine = portico
        .gql("{ myWorkspaces { workspace { slug } } }", json!({}))
        .await;
    portico.slug = mine["myWorkspaces"][0]["workspace"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = portico
        .gql(
            "mutation { createProject(input: {name: \"Site\"}) { id } }",
            json!({}),
        )
        .await;
    let folders = portico
        .gql(
            "query($p: ID!) { folders(projectId: $p) { id name } }",
            json!({ "p": project["createProject"]["id"] }),
        )
        .await;
    let content = folders["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Content")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (portico, content)
}

/// One upload of `body`, end to end; returns the file ID.
async fn upload(p: &Portico, folder: &str, i: u64, body: &bytes::Bytes) -> String {
    let sha = hex::encode(Sha256::digest(body));
    let created = p
        .gql(
            "mutation($i: CreateUploadInput!) { createUpload(input: $i) { id url headers { name value } } }",
            json!({ "i": { "folderId": folder, "name": format!("f{i}.txt"), "size": body.len(), "contentType": "text/plain", "sha256": sha } }),
        )
        .await;
    let u = &created["createUpload"];
    let mut put = p.client.put(u["url"].as_str().unwrap());
    for h in u["headers"].as_array().unwrap() {
        put = put.header(h["name"].as_str().unwrap(), h["value"].as_str().unwrap());
    }
    let status = put.body(body.clone()).send().await.unwrap().status();
    assert!(status.is_success(), "PUT answered {status}");
    let done = p
        .gql(
            "mutation($u: ID!) { completeUpload(id: $u) { id } }",
            json!({ "u": u["id"] }),
        )
        .await;
    done["completeUpload"]["id"].as_str().unwrap().to_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

async fn run(mode: &str, env: &[(&str, String)]) {
    let (p, folder) = start(env).await;
    let p = Arc::new(p);
    let uploads: u64 = std::env::var("BENCH_UPLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    // 1 MB of text (an accepted type; each upload gets its own object key all the same).
    let body = bytes::Bytes::from(vec![b'a'; MB]);

    // (b) first, so (a) mints URLs of real files.
    let (cpu0, idle_hwm) = p.usage();
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (p, folder, body, next) = (p.clone(), folder.clone(), body.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= uploads {
                    return (latencies, ids);
                }
                let t = Instant::now();
                ids.push(upload(&p, &folder, i, &body).await);
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    let mut ids = Vec::new();
    for w in workers {
        let (l, i) = w.await.unwrap();
        latencies.extend(l);
        ids.extend(i);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu1, hwm) = p.usage();
    latencies.sort();
    println!(
        "{mode:8} uploads: {uploads} × 1 MB in {elapsed:.1} s = {:.0}/s ({:.0} MB/s), p50 {:.1} ms, p99 {:.1} ms; Portico CPU {:.2} ms per upload, peak RSS {:.1} MiB (after setup {:.1} MiB)",
        uploads as f64 / elapsed,
        uploads as f64 / elapsed,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        (cpu1 - cpu0) * 1000.0 / uploads as f64,
        hwm as f64 / 1024.0,
        idle_hwm as f64 / 1024.0
    );

    // (a) mints: 16 connections for `seconds`.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let count = Arc::new(AtomicU64::new(0));
    let ids = Arc::new(ids);
    let mut minters = Vec::new();
    for c in 0..16 {
        let (p, count, ids) = (p.clone(), count.clone(), ids.clone());
        minters.push(tokio::spawn(async move {
            let mut i = c;
            while Instant::now() < deadline {
                let id = &ids[i % ids.len()];
                let data = p
                    .gql(
                        "query($f: ID!) { file(id: $f) { downloadUrl } }",
                        json!({ "f": id }),
                    )
                    .await;
                assert!(data["file"]["downloadUrl"].is_string());
                count.fetch_add(1, Ordering::Relaxed);
                i += 16;
            }
        }));
    }
    for m in minters {
        m.await.unwrap();
    }
    println!(
        "{mode:8} mints:   {:.0} signed download URLs/s (file {{ downloadUrl }}, 16 connections, {seconds} s)",
        count.load(Ordering::Relaxed) as f64 / seconds as f64
    );
}

/// A signature-checking S3 server in this process, on port 0.
async fn s3_server(root: &std::path::Path) -> String {
    std::fs::create_dir_all(root.join("portico")).unwrap();
    let fs = s3s_fs::FileSystem::new(root).unwrap();
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(
        "bench",
        "bench-secret-0123456789",
    ));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        while let Ok((socket, _)) = listener.accept().await {
            let c = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = c.await;
            });
        }
    });
    endpoint
}

#[tokio::main]
async fn main() {
    let modes = std::env::var("BENCH_FILES_MODES").unwrap_or_else(|_| "embedded,s3".into());
    let scratch = std::env::temp_dir().join(format!("portico-bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    for mode in modes.split(',') {
        match mode {
            "embedded" => {
                let dir = scratch.join("embedded");
                run("embedded", &[("DATA_DIR", dir.display().to_string())]).await;
            }
            "s3" => {
                let endpoint = s3_server(&scratch.join("s3")).await;
                let db = format!("portico_bench_files_{}", std::process::id());
                let admin = "postgres://postgres@127.0.0.1:5432/postgres";
                let status = Command::new("psql")
                    .args([admin, "-qc", &format!("CREATE DATABASE {db}")])
                    .status();
                assert!(
                    status.is_ok_and(|s| s.success()),
                    "psql could not create {db}"
                );
                run(
                    "s3",
                    &[
                        (
                            "DATABASE_URL",
                            format!("postgres://postgres@127.0.0.1:5432/{db}"),
                        ),
                        ("AUTO_MIGRATE", "true".into()),
                        ("SINGLE_INSTANCE", "true".into()),
                        (
                            "JWT_SECRET",
                            "bench-secret-that-is-long-enough-0123456789".into(),
                        ),
                        ("S3_BUCKET", "portico".into()),
                        ("S3_ENDPOINT", endpoint),
                        ("S3_ACCESS_KEY_ID", "bench".into()),
                        ("S3_SECRET_ACCESS_KEY", "bench-secret-0123456789".into()),
                    ],
                )
                .await;
                let _ = Command::new("psql")
                    .args([admin, "-qc", &format!("DROP DATABASE {db} WITH (FORCE)")])
                    .status();
            }
            other => panic!("unknown mode {other}"),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
