//! Standard clients: graphql-http's own server audit (the reference implementation of the
//! GraphQL-over-HTTP specification) with 0 errors, warnings and notices, and the reference
//! `graphql-ws` client in its default configuration. Both are npm packages pinned in
//! `tests/conformance/package-lock.json`; `make test` installs them (`npm ci`).

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
