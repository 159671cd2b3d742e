//! Statements per request for every list with a relation: a page of 12 rows costs the same
//! statements as a page of 2 (no N+1). Counted per request (task-local), so background work of
//! the process never lands in the count. The board's own test is in `board.rs`.

use crate::helpers::*;
use crate::prober_world::upload;
use serde_json::{Value, json};

/// (list, document). Each selects the list's relations; `$p` is the project.
const LISTS: &[(&str, &str)] = &[
    (
        "tickets",
        "query($p: ID!) { tickets(projectId: $p, first: 50) { edges { node { id createdBy { name } attachments { id } quote { amountMinor } comments { author { name } attachments { id } } } } } }",
    ),
    (
        "messages",
        "query($p: ID!) { messages(projectId: $p, first: 50) { edges { node { id author { name } attachments { id name } } } } }",
    ),
    (
        "paymentRequests",
        "query($p: ID!) { paymentRequests(projectId: $p, first: 50) { edges { node { id createdBy { name } } } } }",
    ),
    (
        "projectActivity",
        "query($p: ID!) { projectActivity(projectId: $p, first: 50) { edges { node { summary actor { name } } } } }",
    ),
    (
        "folders",
        "query($p: ID!) { folders(projectId: $p) { id files(first: 50) { edges { node { id uploadedBy { name } versions { id } } } } } }",
    ),
    (
        "members",
        "{ members(first: 50) { edges { node { user { name } role { name } privateNote } } } }",
    ),
    (
        "invitations",
        "{ invitations { id role { name } invitedBy { name } } }",
    ),
    ("apiKeys", "{ apiKeys { id createdBy { name } } }"),
    (
        "webhookEndpoints",
        "{ webhookEndpoints { id createdBy { name } } }",
    ),
    (
        "notifications",
        "{ notifications(first: 50) { edges { node { id actor { name } } } } }",
    ),
];

/// The number of rows a list answered (its edges, or its items).
fn rows(body: &Value, list: &str) -> usize {
    let answer = &data(body)[list];
    let items = answer["edges"].as_array().or(answer.as_array()).unwrap();
    match list {
        // Every folder's files.
        "folders" => items
            .iter()
            .map(|f| f["files"]["edges"].as_array().unwrap().len())
            .sum(),
        _ => items.len(),
    }
}

/// Adds `n` rows to every list, made through the API (`from` numbers them).
async fn add(app: &TestApp, team: &Team, project: &str, folder: &str, from: usize, n: usize) {
    let owner = &team.owner;
    let role = app.builtin_role_id(owner, "GUEST").await;
    for i in from..from + n {
        let ticket = data(&app.query(&team.client, "mutation($p: ID!, $t: String!) { createTicket(input: {projectId: $p, kind: BUG, title: $t, description: \"d\"}) { id } }", json!({ "p": project, "t": format!("T{i}") })).await)["createTicket"]["id"].clone();
        data(
            &app.query(
                owner,
                "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"seen\") { id } }",
                json!({ "t": ticket }),
            )
            .await,
        );
        data(
            &app.query(
                &team.client,
                "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id } }",
                json!({ "p": project, "b": format!("M{i}") }),
            )
            .await,
        );
        data(&app.query(owner, "mutation($p: ID!, $t: String!) { createPaymentRequest(input: {projectId: $p, kind: DEPOSIT, title: $t, amountMinor: 100, currency: \"EUR\"}) { id } }", json!({ "p": project, "t": format!("P{i}") })).await);
        upload(app, owner, folder, &format!("f{i}.txt"), true).await;
        app.add_member(
            team.workspace_id,
            &team.slug,
            &format!("m{i}@acme.test"),
            portico::rbac::BuiltinRole::Guest,
        )
        .await;
        data(&app.query(owner, "mutation($e: String!, $r: ID!) { inviteMember(email: $e, roleId: $r) { invitation { id } } }", json!({ "e": format!("i{i}@elsewhere.test"), "r": role })).await);
        data(&app.query(owner, "mutation($n: String!) { createApiKey(input: {name: $n, scopes: [PROJECT_VIEW]}) { key } }", json!({ "n": format!("K{i}") })).await);
        data(&app.query(owner, "mutation { createWebhookEndpoint(input: {url: \"http://127.0.0.1:9/hook\", kinds: [\"TICKET_CREATED\"]}) { secret } }", json!({})).await);
    }
    app.outbox_drained().await;
}

#[tokio::test]
async fn every_list_with_a_relation_costs_the_same_statements_for_2_or_12_rows() {
    let app = spawn_app_with(|c| {
        c.webhooks.webhook_allow_private_targets = Some(true);
        c.rate_limit_points = 100_000_000;
        c.rate_limit_refill_per_sec = 1_000_000.0;
    })
    .await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Site", &[&team.client])
        .await;
    let folders = data(
        &app.query(
            &team.owner,
            "query($p: ID!) { folders(projectId: $p) { id zone } }",
            json!({ "p": project }),
        )
        .await,
    )["folders"]
        .clone();
    let folder = folders
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["zone"] == "SHARED")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut counts: Vec<Vec<(usize, u64)>> = Vec::new();
    for (from, n) in [(0, 2), (2, 10)] {
        add(&app, &team, &project, &folder, from, n).await;
        // Warm the permission cache, as any real session would be.
        data(
            &app.query(&team.owner, "{ workspace { id } }", json!({}))
                .await,
        );
        let mut round = Vec::new();
        for (list, query) in LISTS {
            let (body, statements) = app
                .count_statements(&team.owner, query, json!({ "p": project }))
                .await;
            round.push((rows(&body, list), statements));
        }
        counts.push(round);
    }
    let mut failures = Vec::new();
    for (i, (list, _)) in LISTS.iter().enumerate() {
        let ((few, a), (many, b)) = (counts[0][i], counts[1][i]);
        assert!(
            many >= few + 10,
            "{list}: the second page is longer ({few} then {many} rows)"
        );
        if a != b {
            failures.push(format!(
                "{list}: {a} statements for {few} rows, {b} for {many}"
            ));
        }
        println!("statements: {list}: {a} for {few} rows, {b} for {many}");
    }
    assert!(failures.is_empty(), "N+1:\n{}", failures.join("\n"));
}
