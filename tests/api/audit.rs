//! The audit log: a change and its event commit together, refusals are recorded up to a cap,
//! secrets never reach it, each workspace reads its own, and the hash chain catches an edit made
//! by hand (through `verifyAuditChain` and `portico audit verify`).

use crate::helpers::*;
use futures_util::StreamExt;
use portico::db::audit_read::{self, Filter, Reach};
use portico::db::audit_seal::seal;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::time::Duration;

const EVENTS: &str = "query($f: AuditEventFilter) { auditEvents(first: 100, filter: $f) {
    edges { node { seq actorType actorId source action resourceType resourceId result errorCode
    requestId metadata } } } }";

/// The events of the session's workspace matching `filter`, newest first.
pub async fn audit_events(app: &TestApp, session: &Session, filter: Value) -> Vec<Value> {
    let body = app.query(session, EVENTS, json!({ "f": filter })).await;
    assert!(body["errors"].is_null(), "{body}");
    data(&body)["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Waits until `count` events match `filter` in every chain (refusals are written in the
/// background), then returns them.
pub async fn settled(
    app: &TestApp,
    filter: Filter,
    count: usize,
) -> Vec<entity::audit_event::Model> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = audit_read::list(app.state.db.conn(), Reach::Everything, &filter, None, 1000)
            .await
            .unwrap();
        if rows.len() >= count || tokio::time::Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn exec(app: &TestApp, sql: &str) -> Result<(), sea_orm::DbErr> {
    app.state
        .db
        .conn()
        .execute_unprepared(sql)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_change_and_its_audit_event_commit_together() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Site", &[&team.collaborator])
        .await;
    let task = app
        .create_task(&team.owner, &project, "Logo", "BACKLOG")
        .await;
    let moved = app
        .query(
            &team.collaborator,
            "mutation($id: ID!) { moveTask(id: $id, column: DONE) { id column } }",
            json!({ "id": task }),
        )
        .await;
    assert_eq!(data(&moved)["moveTask"]["column"], "DONE", "{moved}");

    let events = audit_events(&app, &team.owner, json!({ "action": "task.move" })).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["result"], "SUCCESS");
    assert_eq!(event["actorType"], "USER");
    assert_eq!(event["actorId"], team.collaborator.user_id.to_string());
    assert_eq!(event["source"], "WEB");
    assert_eq!(event["resourceType"], "task");
    assert_eq!(event["resourceId"], task);
    assert_eq!(event["metadata"]["args"]["column"], "DONE");
    let kinds = event["metadata"]["events"].as_array().unwrap();
    assert!(kinds.contains(&json!("TASK_MOVED")), "{event}");
    assert!(event["requestId"].is_string(), "{event}");

    // When the event cannot be written, the change does not happen either.
    let refuse = match backend() {
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ],
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'no'); END",
        ],
    };
    for sql in refuse {
        exec(&app, sql).await.unwrap();
    }
    let refused = app
        .query(
            &team.collaborator,
            "mutation($id: ID!) { moveTask(id: $id, column: IN_PROGRESS) { id } }",
            json!({ "id": task }),
        )
        .await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("INTERNAL"),
        "{refused}"
    );
    exec(&app, "DROP TRIGGER refuse_audit ON audit_events")
        .await
        .or(exec(&app, "DROP TRIGGER refuse_audit").await)
        .unwrap();
    let task_now = app
        .query(
            &team.owner,
            "query($id: ID!) { task(id: $id) { column } }",
            json!({ "id": task }),
        )
        .await;
    assert_eq!(data(&task_now)["task"]["column"], "DONE", "{task_now}");
    assert_eq!(
        audit_events(
            &app,
            &team.owner,
            json!({ "action": "task.move", "result": "SUCCESS" })
        )
        .await
        .len(),
        1
    );
}

#[tokio::test]
async fn refusals_are_recorded_up_to_the_cap_and_secrets_never() {
    let app = spawn_app_with(|c| c.observability.audit_refusals_per_minute = 5).await;
    let team = app.create_team("acme").await;
    for _ in 0..8 {
        let body = app
            .query(
                &team.client,
                "mutation { createProject(input: {name: \"Mine\"}) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    }
    let denied = Filter {
        actor_id: Some(team.client.user_id),
        result: Some("DENIED".into()),
        ..Filter::default()
    };
    // The cap is applied before a refusal is queued: once every background write is done,
    // exactly five are there.
    app.state.db.detached_settled().await;
    let rows = settled(&app, denied, 0).await;
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().all(|r| r.action == "project.create"
        && r.error_code.as_deref() == Some("FORBIDDEN")
        && r.workspace_id == Some(team.workspace_id)));

    // A failed sign-in is recorded, its password is not.
    let secret = "my very secret wrong password";
    let body = app
        .graphql(
            None,
            "mutation($p: String!) { login(email: \"owner@acme.test\", password: $p) { accessToken } }",
            json!({ "p": secret }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    let sign_ins = Filter {
        action: Some("session.create".into()),
        result: Some("DENIED".into()),
        ..Filter::default()
    };
    let rows = settled(&app, sign_ins, 1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].actor_type, "ANONYMOUS");
    assert_eq!(rows[0].workspace_id, None);
    assert!(rows[0].ip.is_some());
    assert!(!rows[0].metadata.contains(secret), "{}", rows[0].metadata);
    assert!(rows[0].metadata.contains("owner@acme.test"));
}

#[tokio::test]
async fn each_workspace_reads_its_own_audit_log_and_operators_read_all() {
    let app = spawn_app().await;
    let acme = app.create_team("acme").await;
    let beta = app.create_team("beta").await;
    let project = app.create_project(&acme.owner, "Acme site", &[]).await;
    app.create_project(&beta.owner, "Beta site", &[]).await;
    let theirs = audit_events(&app, &beta.owner, json!({ "resourceId": project })).await;
    assert!(theirs.is_empty(), "{theirs:?}");
    let ours = audit_events(&app, &acme.admin, json!({ "resourceId": project })).await;
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0]["action"], "project.create");

    let refused = app.query(&acme.client, EVENTS, json!({})).await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));

    app.create_user("ops@platform.test", "Ops").await;
    app.make_platform_admin("ops@platform.test").await;
    let ops = app.login("ops@platform.test").await;
    let all = app
        .query(
            &ops,
            "{ platformAuditEvents(first: 100) { edges { node { workspaceId action } } } }",
            json!({}),
        )
        .await;
    let workspaces: std::collections::BTreeSet<String> = data(&all)["platformAuditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["workspaceId"].as_str().map(str::to_owned))
        .collect();
    assert!(workspaces.contains(&acme.workspace_id.to_string()), "{all}");
    assert!(workspaces.contains(&beta.workspace_id.to_string()), "{all}");
}

/// Runs `edit` on the audit table as someone holding the database's keys would: with the
/// append-only triggers bypassed (PostgreSQL) or dropped (SQLite).
pub async fn edit_by_hand(app: &TestApp, edit: &str) {
    match backend() {
        Backend::Postgres => {
            let db = app.state.db.conn();
            let txn = sea_orm::TransactionTrait::begin(db).await.unwrap();
            txn.execute_unprepared("SET LOCAL session_replication_role = replica")
                .await
                .unwrap();
            txn.execute_unprepared(edit).await.unwrap();
            txn.commit().await.unwrap();
        }
        Backend::Sqlite => {
            exec(app, "DROP TRIGGER audit_events_no_update")
                .await
                .unwrap();
            exec(app, edit).await.unwrap();
        }
    }
}

#[tokio::test]
async fn the_hash_chain_catches_a_row_edited_by_hand() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    for name in ["One", "Two", "Three"] {
        app.create_project(&team.owner, name, &[]).await;
    }
    // Events are written unlinked; the sealer (the `audit.seal` job) links them.
    let sealed = seal(&app.state.db).await.unwrap();
    assert!(sealed >= 3, "{sealed}");
    let status = "{ verifyAuditChain { chain links intact brokenAt reason } }";
    let intact = app.query(&team.owner, status, json!({})).await;
    let intact = &data(&intact)["verifyAuditChain"];
    assert_eq!(intact["intact"], true, "{intact}");
    assert!(intact["links"].as_u64().unwrap() >= 3, "{intact}");

    // The table refuses changes outright.
    assert!(
        exec(&app, "UPDATE audit_events SET action = 'x'")
            .await
            .is_err()
    );
    assert!(exec(&app, "DELETE FROM audit_events").await.is_err());
    if backend() == Backend::Postgres {
        assert!(exec(&app, "TRUNCATE audit_events").await.is_err());
    }

    // Someone with the database's keys edits one anyway.
    let target = audit_events(&app, &team.owner, json!({ "action": "project.create" })).await;
    let seq = target[1]["seq"].as_i64().unwrap();
    let chain = format!("ws:{}", team.workspace_id);
    let edit = format!(
        "UPDATE audit_events SET action = 'project.read' WHERE chain = '{chain}' AND seq = {seq}"
    );
    edit_by_hand(&app, &edit).await;
    let broken = app.query(&team.owner, status, json!({})).await;
    let broken = &data(&broken)["verifyAuditChain"];
    assert_eq!(broken["intact"], false, "{broken}");
    assert_eq!(broken["brokenAt"], seq, "{broken}");
    assert_eq!(broken["reason"], "its content does not match its hash");

    // The command line names the same link and fails.
    let workspace = team.workspace_id.to_string();
    let output = portico_cli(&app, &["audit", "verify", "--workspace", &workspace]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("{chain}: BROKEN at link {seq}")),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_received_webhook_and_a_job_that_changes_data_are_audited() {
    use crate::payments::Payments;
    let p = Payments::start().await;
    let paid = p.request_payment("Deposit", 50_000, "EUR").await;
    let session = p.checkout(&paid).await;
    let (status, _) = p
        .deliver(&p.completed("evt_audit_1", &session, &paid, 50_000, "pi_1"))
        .await;
    assert_eq!(status, 200);
    let received = Filter {
        action: Some("stripeEvent.receive".into()),
        ..Filter::default()
    };
    let rows = settled(&p.app, received, 1).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].actor_type.as_str(), rows[0].source.as_str()),
        ("WEBHOOK", "WEBHOOK")
    );
    assert_eq!(rows[0].workspace_id, Some(p.team.workspace_id));
    assert_eq!(rows[0].resource_id.as_deref(), Some("evt_audit_1"));

    let due = p.request_payment("Later", 1_000, "EUR").await;
    p.due_yesterday(&due).await;
    let job = portico::payment::expiry::ExpirePayments;
    let ran = portico::jobs::run_once(&p.app.state, &job, "test")
        .await
        .unwrap();
    assert!(matches!(ran, Some(Ok(1))), "{ran:?}");
    let expired = Filter {
        resource_id: Some(due.clone()),
        ..Filter::default()
    };
    let rows: Vec<_> = settled(&p.app, expired, 1)
        .await
        .into_iter()
        .filter(|r| r.source == "JOB")
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].actor_type, "SYSTEM");
    assert_eq!(rows[0].action, "payment.statusChanged");
}

#[tokio::test]
async fn an_update_records_the_fields_it_changed_before_and_after() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Site", &[]).await;
    let body = app
        .query(
            &team.admin,
            "mutation($id: ID!) { updateProject(id: $id, input: {name: \"Site v2\", nextStep: \"Mockups\"}) { id } }",
            json!({ "id": project }),
        )
        .await;
    assert_eq!(succeeded(&body, "updateProject")["id"], project.as_str());
    let events = audit_events(&app, &team.owner, json!({ "action": "project.update" })).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let changes = &events[0]["metadata"]["changes"];
    assert_eq!(
        changes["project.name"],
        json!({"before": "Site", "after": "Site v2"})
    );
    assert_eq!(changes["project.next_step"]["after"], "Mockups");
    // Unchanged fields and the timestamp are not listed.
    assert!(changes.get("project.status").is_none(), "{changes}");
    assert!(changes.get("project.updated_at").is_none(), "{changes}");
    assert_eq!(events[0]["resourceId"], project);

    // Every update of a row through `Scoped` does the same: a member's role, an edited
    // message, a moved card.
    let guest_role = app.builtin_role_id(&team.owner, "GUEST").await;
    let client_role = app.builtin_role_id(&team.owner, "CLIENT").await;
    let role =
        "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { role { id } } }";
    let vars = json!({ "u": team.client.user_id.to_string(), "r": guest_role });
    let changed = app.query(&team.owner, role, vars).await;
    assert_eq!(
        succeeded(&changed, "updateMemberRole")["role"]["id"],
        guest_role
    );
    let events = audit_events(&app, &team.owner, json!({ "action": "memberRole.update" })).await;
    let changes = &events[0]["metadata"]["changes"];
    assert_eq!(
        changes["membership.role_id"],
        json!({"before": client_role, "after": guest_role}),
        "{events:?}"
    );

    let post = "mutation($p: ID!) { postMessage(projectId: $p, body: \"first\") { id } }";
    let posted = app.query(&team.owner, post, json!({ "p": project })).await;
    let message = data(&posted)["postMessage"]["id"].clone();
    let edit = "mutation($id: ID!) { editMessage(id: $id, body: \"second\") { id } }";
    let edited = app.query(&team.owner, edit, json!({ "id": message })).await;
    assert_eq!(succeeded(&edited, "editMessage")["id"], message);
    let events = audit_events(&app, &team.owner, json!({ "action": "message.edit" })).await;
    assert_eq!(
        events[0]["metadata"]["changes"]["message.body"],
        json!({"before": "first", "after": "second"}),
        "{events:?}"
    );

    let task = app
        .create_task(&team.owner, &project, "Card", "BACKLOG")
        .await;
    let mv = "mutation($id: ID!) { moveTask(id: $id, column: DONE) { id } }";
    let moved = app.query(&team.owner, mv, json!({ "id": task })).await;
    assert_eq!(succeeded(&moved, "moveTask")["id"], task.as_str());
    let events = audit_events(&app, &team.owner, json!({ "action": "task.move" })).await;
    assert_eq!(
        events[0]["metadata"]["changes"]["task.board_column"],
        json!({"before": "BACKLOG", "after": "DONE"}),
        "{events:?}"
    );

    // A private note is replaced, not updated: the service states its body before and after.
    let note = "mutation($id: ID!, $b: String) { setPrivateNote(subject: PROJECT, subjectId: $id, body: $b) }";
    for body in ["one", "two"] {
        let vars = json!({ "id": project, "b": body });
        let set = app.query(&team.owner, note, vars).await;
        succeeded(&set, "setPrivateNote");
    }
    let events = audit_events(&app, &team.owner, json!({ "action": "privateNote.set" })).await;
    assert_eq!(
        events[0]["metadata"]["changes"]["private_note.body"],
        json!({"before": "one", "after": "two"}),
        "{events:?}"
    );

    // Rows no tenant owns too: an operator disables an account.
    app.create_user("ops@example.com", "Ops").await;
    app.make_platform_admin("ops@example.com").await;
    let ops = app.login("ops@example.com").await;
    let disable = "mutation($u: ID!) { setUserStatus(userId: $u, status: DISABLED) { id } }";
    let vars = json!({ "u": team.guest.user_id.to_string() });
    let disabled = app.query(&ops, disable, vars).await;
    assert_eq!(
        succeeded(&disabled, "setUserStatus")["id"],
        team.guest.user_id.to_string()
    );
    let filter = Filter {
        action: Some("user.setStatus".into()),
        ..Filter::default()
    };
    let rows = settled(&app, filter, 1).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let metadata: Value = serde_json::from_str(&rows[0].metadata).unwrap();
    assert_eq!(
        metadata["changes"]["user.status"],
        json!({"before": "Active", "after": "Disabled"}),
        "{metadata}"
    );
}

/// Posts `n` messages, eight in flight at a time (SQLite's one writer is the embedded default's
/// limit, not ours); answers once all are written.
async fn post_many(app: &TestApp, who: &Session, project: &str, n: usize, tag: &str) {
    let posts = (0..n).map(|i| {
        app.query(
            who,
            "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }",
            json!({ "p": project, "b": format!("{tag} {i}") }),
        )
    });
    let answers = futures_util::stream::iter(posts)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    for answer in &answers {
        assert!(data(answer)["postMessage"]["id"].is_string(), "{answer}");
    }
}

/// A race that can be lost, on a multi-threaded server: two sealers while 40 messages are
/// written, then `RACERS` sealers at once over 40 more. (Without the sealer's check that it
/// linked every row it meant to, two sealers link one event twice over.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_are_sealed_into_one_unbroken_chain() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Site", &[]).await;
    let db = &app.state.db;
    seal(db).await.unwrap();
    // Writers of one workspace never wait on each other, nor on the sealers.
    let (_, a, b) = tokio::join!(
        post_many(&app, &team.owner, &project, 40, "during"),
        seal(db),
        seal(db)
    );
    post_many(&app, &team.owner, &project, 40, "before").await;
    let racers = race(RACERS, |_| seal(db)).await;
    let c = seal(db).await.unwrap();
    let verdict = audit_read::verify_workspace(db.conn(), Some(team.workspace_id))
        .await
        .unwrap();
    assert_eq!(verdict.broken, None);
    let all = Filter {
        action: Some("message.post".into()),
        ..Filter::default()
    };
    let rows = settled(&app, all, 80).await;
    assert_eq!(rows.len(), 80);
    assert!(rows.iter().all(|r| r.hash.is_some()), "every event sealed");
    let raced: u64 = racers.into_iter().map(Result::unwrap).sum();
    assert_eq!(
        a.unwrap() + b.unwrap() + raced + c,
        80,
        "each event sealed once"
    );
}

#[tokio::test]
async fn the_sealer_links_a_batch_with_statements_that_do_not_grow_with_it() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let db = &app.state.db;
    seal(db).await.unwrap();
    let mut counts = Vec::new();
    for events in [2, 20] {
        for i in 0..events {
            app.create_project(&team.owner, &format!("P{events}-{i}"), &[])
                .await;
        }
        let (sealed, statements) = portico::db::Db::count_statements(seal(db)).await;
        assert_eq!(sealed.unwrap(), events);
        counts.push(statements);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 2 and 20 events: {counts:?}"
    );
    let verdict = audit_read::verify_workspace(db.conn(), Some(team.workspace_id))
        .await
        .unwrap();
    assert_eq!(verdict.broken, None);
}
