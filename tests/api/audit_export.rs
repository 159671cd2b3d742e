//! Audit exports: asked for through the API, written by the job, downloaded through a
//! short-lived link as JSONL or CSV; another workspace's export answers NOT_FOUND.

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
