//! Standard clients: graphql-http's own server audit (the reference implementation of the
//! GraphQL-over-HTTP specification) with 0 errors, warnings and notices, and the reference
//! `graphql-ws` client in its default configuration, both npm packages pinned in
//! `tests/conformance/package-lock.json`; and schemathesis (PyPI, pinned in
//! `tests/conformance/requirements.txt`), a fuzzer that generates operations from the introspected
//! schema. `make test` installs them (`make conformance-deps`).

use crate::helpers::*;
use std::path::PathBuf;
use std::process::Command;

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// Runs `node <script> <args>` from `tests/conformance`; its stdout, or a panic with its output.
async fn node(script: &str, args: &[&str]) -> String {
    let dir = conformance_dir();
    assert!(
        dir.join("node_modules/graphql-http").exists(),
        "the reference clients are missing: run `npm ci --prefix tests/conformance` (make test does)"
    );
    let mut command = Command::new("node");
    command.current_dir(&dir).arg(script).args(args);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("node is installed (.ci/run installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_over_http_audit_passes_without_a_warning() {
    let app = spawn_app().await;
    let team = app.create_team("audit").await;
    let report = node(
        "http-audit.mjs",
        &[
            &format!("{}/graphql", app.address),
            &team.owner.access_token,
            team.owner.workspace.as_deref().unwrap(),
        ],
    )
    .await;
    let summary = report.lines().last().unwrap_or_default();
    let summary: serde_json::Value = serde_json::from_str(summary).unwrap();
    assert_eq!(summary["warnings"], 0, "{report}");
    assert_eq!(summary["errors"], 0, "{report}");
    assert!(summary["ok"].as_u64().unwrap() >= 60, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_graphql_ws_client_receives_events() {
    let app = spawn_app().await;
    let team = app.create_team("wsref").await;
    let project = app.create_project(&team.owner, "Site", &[]).await;
    let out = node(
        "ws-client.mjs",
        &[
            &app.address,
            &team.owner.access_token,
            team.owner.workspace.as_deref().unwrap(),
            &project,
        ],
    )
    .await;
    let event: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(event["data"]["messageAdded"]["author"]["name"], "Owner");
}

/// Operations that would end the fuzzer's own session (its other operations would then only
/// test UNAUTHENTICATED); they have tests of their own.
const SESSION_ENDERS: &[&str] = &[
    "Mutation.logout",
    "Mutation.revokeSession",
    "Mutation.endUserSessions",
    "Mutation.endMemberSessions",
    "Mutation.setUserStatus",
    "Mutation.removeMember",
    "Mutation.transferOwnership",
    "Mutation.updateMemberRole",
];

/// The fuzzer's seed: fixed, so a failure reproduces; `PORTICO_SCHEMA_FUZZ_SEED` explores others
/// (`PORTICO_FUZZ_SEED` is proptest's, in `fuzz.rs`).
const SCHEMA_FUZZ_SEED: &str = "20261130";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_aware_fuzzer_finds_no_server_error() {
    let st = conformance_dir().join(".venv/bin/st");
    assert!(
        st.exists(),
        "schemathesis is missing: run `make conformance-deps` (make test does)"
    );
    // Generous budgets: the fuzzer sends hundreds of operations a second as one owner.
    let app = spawn_app_with(|c| {
        c.rate_limit_points = 100_000_000;
        c.rate_limit_refill_per_sec = 1_000_000.0;
    })
    .await;
    let team = app.create_team("fuzz").await;
    app.create_project(&team.owner, "Site", &[&team.client])
        .await;
    let reports =
        std::env::temp_dir().join(format!("portico-st-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&reports).unwrap();
    let har = reports.join("run.har");
    let seed =
        std::env::var("PORTICO_SCHEMA_FUZZ_SEED").unwrap_or_else(|_| SCHEMA_FUZZ_SEED.into());
    let mut command = Command::new(&st);
    command
        .arg("run")
        .arg(format!("{}/graphql", app.address))
        .args([
            "--header",
            &format!("Authorization: Bearer {}", team.owner.access_token),
        ])
        .args([
            "--header",
            &format!("X-Workspace: {}", team.owner.workspace.as_deref().unwrap()),
        ])
        // Schemathesis counts any GraphQL error as a failure (a FORBIDDEN or a NOT_FOUND too):
        // its checks are off, and the exchanges are read below instead.
        .args([
            "--exclude-checks",
            "not_a_server_error,positive_data_acceptance,negative_data_rejection",
        ])
        .args(["--max-examples", "8", "--seed", &seed, "--workers", "2"])
        .args(["--generation-database", "none", "--no-color"])
        .args(["--report", "har", "--report-har-path"])
        .arg(&har)
        .args(
            SESSION_ENDERS
                .iter()
                .flat_map(|name| ["--exclude-name", name]),
        )
        .env("PYTHONPATH", conformance_dir())
        .env("SCHEMATHESIS_HOOKS", "st_hooks")
        .current_dir(&reports);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "schemathesis found server errors (seed {seed}):\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Beyond HTTP 5xx: no response carries an INTERNAL error.
    let har: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(
        entries.len() >= 200,
        "only {} operations sent",
        entries.len()
    );
    for entry in entries {
        let body = entry["response"]["content"]["text"]
            .as_str()
            .unwrap_or_default();
        let status = entry["response"]["status"].as_u64().unwrap_or_default();
        // An error coded INTERNAL (a value named INTERNAL, such as a file's zone, is fine).
        let internal = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|b| b["errors"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .any(|e| e["extensions"]["code"] == "INTERNAL");
        assert!(
            status < 500 && !internal,
            "a server error (seed {seed}, HTTP {status}) for {}:\n{body}",
            entry["request"]["postData"]["text"]
        );
    }
    println!(
        "schemathesis sent {} operations (seed {seed})",
        entries.len()
    );
    let _ = std::fs::remove_dir_all(&reports);
}
