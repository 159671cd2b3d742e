//! Foundation cost figures: argon2id per hash, JWT issue/verify, and whether a login flood stalls
//! the async runtime. Run with `make bench-auth` (release build); prints a table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use portico::auth::{JwtKeys, PasswordHasher};
use portico::config::Secret;
use std::time::{Duration, Instant};
use uuid::Uuid;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    println!("cores: {cores}");

    // 1. One argon2id hash (OWASP 19 MiB, t=2, p=1), one at a time.
    let hasher = PasswordHasher::new(cores).unwrap();
    let mut hash_times = Vec::new();
    let mut hash = String::new();
    for _ in 0..20 {
        let start = Instant::now();
        hash = hasher.hash("correct horse battery staple").await.unwrap();
        hash_times.push(start.elapsed());
    }
    let mut verify_times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        assert!(
            hasher
                .verify("correct horse battery staple", Some(&hash))
                .await
                .unwrap()
        );
        verify_times.push(start.elapsed());
    }

    // 2. JWT HS256.
    let keys = JwtKeys::new(
        &Secret::new("bench-secret-that-is-long-enough-0123456789"),
        900,
    );
    let (token, _) = keys.issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();
    let n = 100_000;
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(keys.verify(std::hint::black_box(&token)).unwrap());
    }
    let verify_jwt = start.elapsed() / n;
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(keys.issue(Uuid::now_v7(), Uuid::now_v7()).unwrap());
    }
    let issue_jwt = start.elapsed() / n;

    // 3. A flood of 64 concurrent logins while a "cheap request" ticks every 5 ms: how late does
    //    the cheap work run? (Hashing is on the blocking pool, bounded to one per core.)
    let flood_hasher = hasher.clone();
    let flood_hash = hash.clone();
    let flood = tokio::spawn(async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let h = flood_hasher.clone();
                let stored = flood_hash.clone();
                tokio::spawn(async move { h.verify("wrong guess", Some(&stored)).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    });
    let mut lateness = Vec::new();
    while !flood.is_finished() {
        let planned = Instant::now() + Duration::from_millis(5);
        tokio::time::sleep_until(planned.into()).await;
        lateness.push(Instant::now().saturating_duration_since(planned));
    }
    let flood_time = flood.await.unwrap();

    println!();
    println!("| figure | p50 | p99 |");
    println!("| --- | --- | --- |");
    println!(
        "| argon2id hash (19 MiB, t=2, p=1) | {:.1} ms | {:.1} ms |",
        percentile(&mut hash_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut hash_times, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "| argon2id verify | {:.1} ms | {:.1} ms |",
        percentile(&mut verify_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut verify_times, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "| JWT HS256 verify (mean of {n}) | {:.2} µs | |",
        verify_jwt.as_secs_f64() * 1e6
    );
    println!(
        "| JWT HS256 issue (mean of {n}) | {:.2} µs | |",
        issue_jwt.as_secs_f64() * 1e6
    );
    println!(
        "| 64-login flood: runtime tick lateness ({} ticks, flood took {:.0} ms) | {:.2} ms | {:.2} ms |",
        lateness.len(),
        flood_time.as_secs_f64() * 1e3,
        percentile(&mut lateness, 0.5).as_secs_f64() * 1e3,
        percentile(&mut lateness, 0.99).as_secs_f64() * 1e3
    );
}
