//! Audit retention and sources: a month past the retention is archived to object storage (JSONL,
//! its chain heads last) and then removed, the chains still verify from their new anchors and
//! keep growing; a month whose chain was edited by hand is not archived; the command line and
//! GraphiQL are recorded as such.

use crate::helpers::*;
use chrono::{Months, Utc};
use portico::audit::retention;
use portico::db::audit::{Actor, Source};
use portico::db::audit_read::{self, Filter, Reach};
use portico::db::audit_seal::seal;
use portico::storage::ObjectKey;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::collections::HashMap;

async fn all_events(app: &TestApp) -> Vec<entity::audit_event::Model> {
    let conn = app.state.db.conn();
    audit_read::list(conn, Reach::Everything, &Filter::default(), None, 10_000)
        .await
        .unwrap()
}

/// Two months from now, with one month kept: this month is past the retention.
fn two_months_on() -> chrono::DateTime<Utc> {
    Utc::now().checked_add_months(Months::new(2)).unwrap()
}

fn job() -> Actor {
    Actor::system(Source::Job)
}

#[tokio::test]
async fn a_month_past_retention_is_archived_then_removed_and_its_chains_still_hold() {
    let app = spawn_app().await;
    let acme = app.create_team("acme").await;
    let globex = app.create_team("globex").await;
    app.create_project(&acme.owner, "One", &[]).await;
    app.create_project(&acme.owner, "Two", &[]).await;
    app.create_project(&globex.owner, "Three", &[]).await;
    seal(&app.state.db).await.unwrap();
    let before = all_events(&app).await;
    assert!(before.len() >= 3, "{}", before.len());

    // Nothing is older than a year.
    let (db, storage) = (&app.state.db, &app.state.storage);
    let none = retention::run(db, storage, 12, Utc::now(), job())
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let off = retention::run(db, storage, 0, two_months_on(), job())
        .await
        .unwrap();
    assert!(off.is_empty(), "{off:?}");

    let done = retention::run(db, storage, 1, two_months_on(), job())
        .await
        .unwrap();
    let month = Utc::now().format("%Y-%m").to_string();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].month, month);
    assert_eq!(done[0].events, before.len() as u64);
    assert_eq!(done[0].key, format!("audit-archive/{month}.jsonl"));

    // Only the record of the archiving is left, in the platform's chain.
    let after = all_events(&app).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].action, "audit.archive");
    assert_eq!(after[0].chain, "platform");
    if backend() == Backend::Postgres {
        let partition = format!("audit_events_{}", month.replace('-', "_"));
        let gone = app
            .state
            .db
            .conn()
            .execute_unprepared(&format!("SELECT 1 FROM {partition}"))
            .await;
        assert!(gone.is_err(), "the partition {partition} was dropped");
    }

    // The archive holds every event with its link, then each chain's first and last link.
    let key = ObjectKey::stored(done[0].key.clone());
    let body = storage.read(&key, 64 << 20).await.unwrap().unwrap();
    let lines: Vec<Value> = std::str::from_utf8(&body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (heads, events) = lines.split_last().unwrap();
    assert_eq!(events.len(), before.len());
    assert_eq!(heads["record"], "chain_heads");
    let mut last: HashMap<String, (i64, String)> = HashMap::new();
    for event in events {
        assert_eq!(event["record"], "event");
        let chain = event["chain"].as_str().unwrap().to_owned();
        let seq = event["seq"].as_i64().unwrap();
        let (prev_seq, prev_hash) = last.get(&chain).cloned().unwrap_or((0, String::new()));
        assert_eq!(seq, prev_seq + 1, "{event}");
        assert_eq!(event["prev_hash"], json!(prev_hash), "{event}");
        last.insert(chain, (seq, event["hash"].as_str().unwrap().to_owned()));
    }
    let chains = heads["chains"].as_array().unwrap();
    assert_eq!(chains.len(), last.len(), "{heads}");
    for head in chains {
        let (seq, hash) = &last[head["chain"].as_str().unwrap()];
        assert_eq!(head["last_seq"], json!(seq));
        assert_eq!(head["hash"], json!(hash));
    }

    // Every chain verifies from its new anchor, and goes on growing from its head.
    app.create_project(&acme.owner, "Four", &[]).await;
    seal(&app.state.db).await.unwrap();
    for chain in audit_read::chains(app.state.db.conn()).await.unwrap() {
        let verdict = audit_read::verify(app.state.db.conn(), &chain)
            .await
            .unwrap();
        assert_eq!(verdict.broken, None, "{chain}");
    }
    let acme_chain = portico::db::audit::chain_of(Some(acme.workspace_id));
    let verdict = audit_read::verify(app.state.db.conn(), &acme_chain)
        .await
        .unwrap();
    assert_eq!(verdict.links, 1);
    let status = "{ verifyAuditChain { links intact } }";
    let body = app.query(&acme.owner, status, json!({})).await;
    assert_eq!(
        data(&body)["verifyAuditChain"],
        json!({"links": 1, "intact": true})
    );
}

#[tokio::test]
async fn a_month_whose_chain_was_edited_is_not_archived() {
    let app = spawn_app().await;
    let acme = app.create_team("acme").await;
    app.create_project(&acme.owner, "One", &[]).await;
    app.create_project(&acme.owner, "Two", &[]).await;
    seal(&app.state.db).await.unwrap();
    let before = all_events(&app).await.len();
    let chain = portico::db::audit::chain_of(Some(acme.workspace_id));
    let edit = format!(
        "UPDATE audit_events SET action = 'project.read' WHERE chain = '{chain}' AND seq = 1"
    );
    crate::audit::edit_by_hand(&app, &edit).await;
    let (db, storage) = (&app.state.db, &app.state.storage);
    let refused = retention::run(db, storage, 1, two_months_on(), job()).await;
    let error = format!("{:#}", refused.unwrap_err());
    assert!(
        error.contains(&format!("audit chain {chain} does not hold at link 1")),
        "{error}"
    );
    assert_eq!(all_events(&app).await.len(), before, "nothing was removed");
}

#[tokio::test]
async fn the_command_line_and_graphiql_are_recorded_as_sources() {
    let app = spawn_app().await;
    let acme = app.create_team("acme").await;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&acme.owner.access_token)
        .header("X-Workspace", &acme.slug)
        .header("X-Portico-Client", "graphiql")
        .json(&json!({ "query": "mutation { createProject(input: {name: \"Seen\"}) { id } }" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(
        succeeded(&body, "createProject")["id"].is_string(),
        "{body}"
    );
    let filter = Filter {
        action: Some("project.create".into()),
        ..Filter::default()
    };
    let rows = audit_read::list(app.state.db.conn(), Reach::Everything, &filter, None, 10)
        .await
        .unwrap();
    assert_eq!(rows[0].source, "GRAPHIQL");

    let output = portico_cli(
        &app,
        &[
            "create-admin",
            "--email",
            "ops@example.com",
            "--password",
            "a long operator passphrase",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let filter = Filter {
        action: Some("platformAdmin.create".into()),
        ..Filter::default()
    };
    let rows = audit_read::list(app.state.db.conn(), Reach::Everything, &filter, None, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].source, "CLI");
    assert_eq!(rows[0].actor_type, "SYSTEM");
    assert_eq!(rows[0].chain, "platform");
    let metadata: Value = serde_json::from_str(&rows[0].metadata).unwrap();
    assert_eq!(metadata["args"]["email"], "ops@example.com", "{metadata}");
    assert!(!rows[0].metadata.contains("passphrase"));
}
