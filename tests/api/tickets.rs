//! Tickets: numbering under concurrency, the workflow (and its refusals), conversion into exactly
//! one task, internal comments, and the activity timeline.

use crate::helpers::*;
use serde_json::{Value, json};

async fn open_ticket(app: &TestApp, s: &Session, project: &str, title: &str) -> Value {
    app.query(
        s,
        "mutation($p: ID!, $t: String!) { createTicket(input: {projectId: $p, kind: CHANGE, title: $t, description: \"Please change it\"}) { id number status } }",
        json!({ "p": project, "t": title }),
    )
    .await
}

async fn decide(app: &TestApp, s: &Session, ticket: &str, status: &str, extra: &str) -> Value {
    app.query(
        s,
        &format!("mutation($t: ID!) {{ decideTicket(id: $t, status: {status}{extra}) {{ status taskId quote {{ amountMinor currency }} }} }}"),
        json!({ "t": ticket }),
    )
    .await
}

/// A race that can be lost: `RACERS` tickets opened at once on a multi-threaded server. (Without
/// the project row lock, two openings read the same next number, and one fails on the unique
/// (project, number).)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn numbers_are_sequential_per_project_even_concurrently() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let other = app
        .create_project(&team.owner, "Shop", &[&team.client])
        .await;
    let titles: Vec<String> = (0..RACERS).map(|i| format!("T{i}")).collect();
    let opened = race(RACERS, |i| {
        open_ticket(&app, &team.client, &project, &titles[i])
    })
    .await;
    let mut numbers: Vec<i64> = opened
        .iter()
        .map(|b| data(b)["createTicket"]["number"].as_i64().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=RACERS as i64).collect::<Vec<_>>());
    // Another project counts from 1.
    let first = open_ticket(&app, &team.client, &other, "Elsewhere").await;
    assert_eq!(data(&first)["createTicket"]["number"], 1);
}

#[tokio::test]
async fn accepted_tickets_become_exactly_one_backlog_task() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let ticket =
        data(&open_ticket(&app, &team.client, &project, "New footer").await)["createTicket"]["id"]
            .as_str()
            .unwrap()
            .to_owned();

    let accepted = decide(&app, &team.collaborator, &ticket, "ACCEPTED", "").await;
    let task_id = data(&accepted)["decideTicket"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let task = app
        .query(
            &team.client,
            "query($t: ID!) { task(id: $t) { column origin ticketId title } }",
            json!({ "t": task_id }),
        )
        .await;
    assert_eq!(data(&task)["task"]["column"], "BACKLOG");
    assert_eq!(data(&task)["task"]["origin"], "TICKET");
    assert_eq!(data(&task)["task"]["ticketId"], ticket.as_str());
    assert_eq!(data(&task)["task"]["title"], "#1 New footer");

    // Deciding again is an invalid transition that says why; still one task.
    let again = decide(&app, &team.collaborator, &ticket, "ACCEPTED", "").await;
    assert_eq!(error_code(&again).as_deref(), Some("BAD_USER_INPUT"));
    let message = again["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("#1 is ACCEPTED") && message.contains("allowed: none"),
        "{message}"
    );
    let board = app
        .query(
            &team.owner,
            "query($p: ID!) { project(id: $p) { tasks(first: 10) { totalCount } } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(data(&board)["project"]["tasks"]["totalCount"], 1);
}

#[tokio::test]
async fn the_quote_and_clarification_paths() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let quoted =
        data(&open_ticket(&app, &team.client, &project, "Blog").await)["createTicket"]["id"]
            .as_str()
            .unwrap()
            .to_owned();

    let missing = decide(&app, &team.admin, &quoted, "QUOTED", "").await;
    assert_eq!(error_code(&missing).as_deref(), Some("BAD_USER_INPUT"));
    let bad_money = decide(
        &app,
        &team.admin,
        &quoted,
        "QUOTED",
        ", quote: {amountMinor: -5, currency: \"EUR\"}",
    )
    .await;
    assert_eq!(error_code(&bad_money).as_deref(), Some("BAD_USER_INPUT"));
    let body = decide(
        &app,
        &team.admin,
        &quoted,
        "QUOTED",
        ", quote: {amountMinor: 45000, currency: \"eur\", delayDays: 10}",
    )
    .await;
    assert_eq!(
        data(&body)["decideTicket"]["quote"],
        json!({ "amountMinor": 45000, "currency": "EUR" })
    );
    // Staff cannot answer for the client; the client can.
    for staff in [&team.owner, &team.collaborator] {
        let body = app
            .query(
                staff,
                "mutation($t: ID!) { answerQuote(id: $t, accept: true) { status } }",
                json!({ "t": quoted }),
            )
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    }
    let body = app
        .query(
            &team.client,
            "mutation($t: ID!) { answerQuote(id: $t, accept: true) { status taskId } }",
            json!({ "t": quoted }),
        )
        .await;
    assert_eq!(data(&body)["answerQuote"]["status"], "AWAITING_PAYMENT");
    assert!(
        data(&body)["answerQuote"]["taskId"].is_null(),
        "no task before payment"
    );
    let twice = app
        .query(
            &team.client,
            "mutation($t: ID!) { answerQuote(id: $t, accept: false) { status } }",
            json!({ "t": quoted }),
        )
        .await;
    assert_eq!(error_code(&twice).as_deref(), Some("BAD_USER_INPUT"));

    // Clarification: the client's answer sends the ticket back to NEW.
    let unclear =
        data(&open_ticket(&app, &team.client, &project, "Something").await)["createTicket"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let body = app
        .query(&team.collaborator, "mutation($t: ID!) { decideTicket(id: $t, status: TO_CLARIFY, note: \"Which page?\") { status } }", json!({ "t": unclear }))
        .await;
    assert_eq!(data(&body)["decideTicket"]["status"], "TO_CLARIFY");
    data(
        &app.query(
            &team.client,
            "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"The contact page\") { id } }",
            json!({ "t": unclear }),
        )
        .await,
    );
    let now = app
        .query(
            &team.client,
            "query($t: ID!) { ticket(id: $t) { status comments { body author { name } } } }",
            json!({ "t": unclear }),
        )
        .await;
    assert_eq!(data(&now)["ticket"]["status"], "NEW");
    assert_eq!(
        data(&now)["ticket"]["comments"].as_array().unwrap().len(),
        2
    );

    // Clients cannot decide.
    let body = decide(&app, &team.client, &unclear, "ACCEPTED", "").await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));

    // The board's client-requests lane holds the tickets awaiting a decision.
    let lane = app
        .query(
            &team.owner,
            "query($p: ID!) { project(id: $p) { clientRequests { number status } } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(
        data(&lane)["project"]["clientRequests"],
        json!([{ "number": 2, "status": "NEW" }])
    );
}

#[tokio::test]
async fn internal_comments_never_reach_clients() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let ticket =
        data(&open_ticket(&app, &team.client, &project, "Speed").await)["createTicket"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    data(&app.query(&team.collaborator, "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"Client is difficult\", internal: true) { id } }", json!({ "t": ticket })).await);
    data(
        &app.query(
            &team.collaborator,
            "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"Looking into it\") { id } }",
            json!({ "t": ticket }),
        )
        .await,
    );

    let staff = app
        .query(
            &team.owner,
            "query($t: ID!) { ticket(id: $t) { comments { body internal } } }",
            json!({ "t": ticket }),
        )
        .await;
    assert_eq!(
        data(&staff)["ticket"]["comments"].as_array().unwrap().len(),
        2
    );
    let client = app
        .query(
            &team.client,
            "query($t: ID!) { ticket(id: $t) { comments { body internal } } }",
            json!({ "t": ticket }),
        )
        .await;
    assert_eq!(
        data(&client)["ticket"]["comments"],
        json!([{ "body": "Looking into it", "internal": false }])
    );

    // Nor through the timeline.
    let timeline = "query($p: ID!) { projectActivity(projectId: $p, first: 50) { edges { node { summary action } } } }";
    let client_view = app
        .query(&team.client, timeline, json!({ "p": project }))
        .await;
    let seen: Vec<String> = data(&client_view)["projectActivity"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["summary"].as_str().unwrap().to_owned())
        .collect();
    assert!(!seen.iter().any(|s| s.contains("Internal")), "{seen:?}");
    let staff_view = app
        .query(&team.owner, timeline, json!({ "p": project }))
        .await;
    let staff_seen = data(&staff_view)["projectActivity"]["edges"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(staff_seen, seen.len() + 1);

    // A client cannot write one.
    let body = app
        .query(
            &team.client,
            "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"x\", internal: true) { id } }",
            json!({ "t": ticket }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    assert_eq!(
        body["errors"][0]["extensions"]["permission"],
        "note:private"
    );
}

#[tokio::test]
async fn a_client_of_one_project_cannot_reach_another_projects_tickets() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let theirs = app.create_project(&team.owner, "Someone else's", &[]).await;
    let mine = app
        .create_project(&team.owner, "Mine", &[&team.client])
        .await;
    let ticket =
        data(&open_ticket(&app, &team.owner, &theirs, "Private").await)["createTicket"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    for (document, vars) in [
        (
            "query($t: ID!) { ticket(id: $t) { id } }",
            json!({ "t": ticket }),
        ),
        (
            "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"hi\") { id } }",
            json!({ "t": ticket }),
        ),
        (
            "query($t: ID!) { tickets(projectId: $t, first: 5) { totalCount } }",
            json!({ "t": theirs }),
        ),
        (
            "query($t: ID!) { projectActivity(projectId: $t, first: 5) { edges { cursor } } }",
            json!({ "t": theirs }),
        ),
        (
            "mutation($t: ID!) { createTicket(input: {projectId: $t, kind: BUG, title: \"x\", description: \"y\"}) { id } }",
            json!({ "t": theirs }),
        ),
    ] {
        let body = app.query(&team.client, document, vars).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("NOT_FOUND"),
            "{document}: {body}"
        );
    }
    let own = app
        .query(
            &team.client,
            "query($p: ID!) { tickets(projectId: $p, first: 5) { totalCount } }",
            json!({ "p": mine }),
        )
        .await;
    assert_eq!(data(&own)["tickets"]["totalCount"], 0);
}

#[tokio::test]
async fn the_timeline_records_each_change_newest_first() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let task = app
        .create_task(&team.owner, &project, "Header", "BACKLOG")
        .await;
    data(
        &app.query(
            &team.owner,
            "mutation($t: ID!) { moveTask(id: $t, column: IN_PROGRESS) { id } }",
            json!({ "t": task }),
        )
        .await,
    );
    open_ticket(&app, &team.client, &project, "Typo").await;
    let body = app
        .query(&team.client, "query($p: ID!) { projectActivity(projectId: $p, first: 2) { pageInfo { hasNextPage endCursor } edges { node { summary action actor { name } } } } }", json!({ "p": project }))
        .await;
    let page = &data(&body)["projectActivity"];
    let summaries: Vec<&str> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        ["Ticket #1 created", "Task \"Header\" moved to In progress"]
    );
    assert_eq!(page["edges"][0]["node"]["actor"]["name"], "Client person");
    let older = app
        .query(&team.client, "query($p: ID!, $a: String) { projectActivity(projectId: $p, first: 10, after: $a) { edges { node { summary } } } }", json!({ "p": project, "a": page["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(
        data(&older)["projectActivity"]["edges"][0]["node"]["summary"],
        "Task \"Header\" created"
    );
}
