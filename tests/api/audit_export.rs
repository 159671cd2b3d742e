//! Audit exports: asked for through the API, written by the job, downloaded through a
//! short-lived link as JSONL or CSV; another workspace's export answers NOT_FOUND; operators
//! export every workspace's events, and neither kind of export is reachable as the other.

use crate::helpers::*;
use serde_json::{Value, json};

const ASK: &str = "mutation($f: AuditExportFormat!) { exportAuditEvents(format: $f, filter: {action: \"project.\"}) { id status url } }";
const READ: &str = "query($id: ID!) { auditExport(id: $id) { status rowCount url } }";

async fn export(app: &TestApp, session: &Session, format: &str) -> (Value, String) {
    let asked = app.query(session, ASK, json!({ "f": format })).await;
    let asked = data(&asked)["exportAuditEvents"].clone();
    assert_eq!(asked["status"], "QUEUED", "{asked}");
    assert!(asked["url"].is_null());
    portico::db::audit_seal::seal(&app.state.db).await.unwrap();
    let job = portico::app::audit_jobs::ExportAudit;
    portico::jobs::run_once(&app.state, &job, "test")
        .await
        .unwrap();
    let id = asked["id"].as_str().unwrap().to_owned();
    let ready = app.query(session, READ, json!({ "id": id })).await;
    let ready = data(&ready)["auditExport"].clone();
    assert_eq!(ready["status"], "READY", "{ready}");
    let url = ready["url"].as_str().unwrap();
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    (ready, response.text().await.unwrap())
}

#[tokio::test]
async fn an_export_is_written_by_the_job_and_downloaded_through_its_link() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    for name in ["One", "Two"] {
        app.create_project(&team.owner, name, &[]).await;
    }
    let (ready, body) = export(&app, &team.owner, "JSONL").await;
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ready["rowCount"], lines.len());
    assert_eq!(lines.len(), 2, "{body}");
    for line in &lines {
        assert_eq!(line["action"], "project.create");
        assert_eq!(line["actor_id"], team.owner.user_id.to_string());
        assert!(
            line["metadata"].as_str().unwrap().contains("args"),
            "{line}"
        );
        assert_eq!(line["hash"].as_str().unwrap().len(), 64);
    }

    let (_, csv) = export(&app, &team.owner, "CSV").await;
    let mut rows = csv.lines();
    assert!(
        rows.next()
            .unwrap()
            .starts_with("id,at,seq,actor_type,actor_id,source,action")
    );
    assert_eq!(
        rows.filter(|r| r.contains("project.create")).count(),
        2,
        "{csv}"
    );

    // Another workspace cannot read it, not even to learn it exists.
    let beta = app.create_team("beta").await;
    let asked = app.query(&team.owner, ASK, json!({ "f": "CSV" })).await;
    let id = data(&asked)["exportAuditEvents"]["id"].clone();
    let theirs = app.query(&beta.owner, READ, json!({ "id": id })).await;
    assert_eq!(
        error_code(&theirs).as_deref(),
        Some("NOT_FOUND"),
        "{theirs}"
    );
}

#[tokio::test]
async fn an_operator_exports_every_workspace_and_the_two_kinds_never_cross() {
    let app = spawn_app().await;
    let acme = app.create_team("acme").await;
    let beta = app.create_team("beta").await;
    app.create_project(&acme.owner, "One", &[]).await;
    app.create_project(&beta.owner, "Two", &[]).await;
    app.create_user("ops@example.com", "Ops").await;
    app.make_platform_admin("ops@example.com").await;
    let ops = app.login("ops@example.com").await;

    let ask = "mutation { exportPlatformAuditEvents(format: JSONL, filter: {action: \"project.create\"}) { id status } }";
    let asked = app.query(&ops, ask, json!({})).await;
    let id = data(&asked)["exportPlatformAuditEvents"]["id"].clone();
    assert_eq!(
        data(&asked)["exportPlatformAuditEvents"]["status"],
        "QUEUED"
    );
    portico::db::audit_seal::seal(&app.state.db).await.unwrap();
    let job = portico::app::audit_jobs::ExportAudit;
    portico::jobs::run_once(&app.state, &job, "test")
        .await
        .unwrap();
    let read = "query($id: ID!) { platformAuditExport(id: $id) { status rowCount url } }";
    let ready = app.query(&ops, read, json!({ "id": id })).await;
    let ready = data(&ready)["platformAuditExport"].clone();
    assert_eq!(ready["status"], "READY", "{ready}");
    let body = app
        .client
        .get(ready["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let actors: std::collections::BTreeSet<String> = body
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect(&body)["actor_id"].to_string())
        .collect();
    assert_eq!(ready["rowCount"], body.lines().count());
    assert_eq!(body.lines().count(), 2, "{body}");
    assert_eq!(actors.len(), 2, "both workspaces' creations: {body}");
    // Without metadata: operators cannot read it through the API either.
    for line in body.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["metadata"], "", "{line}");
    }

    // A workspace cannot read the platform's export, and the platform query does not answer a
    // workspace's export: both are NOT_FOUND, like a missing one.
    let theirs = app.query(&acme.owner, READ, json!({ "id": id })).await;
    assert_eq!(
        error_code(&theirs).as_deref(),
        Some("NOT_FOUND"),
        "{theirs}"
    );
    let asked = app.query(&acme.owner, ASK, json!({ "f": "CSV" })).await;
    let workspace_export = data(&asked)["exportAuditEvents"]["id"].clone();
    let crossed = app
        .query(&ops, read, json!({ "id": workspace_export }))
        .await;
    assert_eq!(
        error_code(&crossed).as_deref(),
        Some("NOT_FOUND"),
        "{crossed}"
    );
    // A workspace owner is no operator.
    let refused = app.query(&acme.owner, ask, json!({})).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("FORBIDDEN"),
        "{refused}"
    );
}
