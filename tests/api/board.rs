//! The kanban board: ordering and moves (one row per move), concurrency, filters and pagination,
//! read-only clients, board events, and the number of SQL statements a board query costs.

use crate::helpers::*;
use futures_util::StreamExt;
use portico::db::Scoped;
use portico::project::service::{self as projects, NewProject};
use sea_orm::ActiveValue::Set;
use serde_json::{Value, json};
use uuid::Uuid;

async fn move_task(
    app: &TestApp,
    s: &Session,
    task: &str,
    column: &str,
    after: Option<&str>,
) -> Value {
    app.query(
        s,
        "mutation($t: ID!, $c: TaskColumn!, $a: ID) { moveTask(id: $t, column: $c, after: $a) { column position } }",
        json!({ "t": task, "c": column, "a": after }),
    )
    .await
}

#[tokio::test]
async fn tasks_are_ordered_and_moved_within_and_across_columns() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Website", &[]).await;
    let a = app.create_task(&team.owner, &project, "A", "BACKLOG").await;
    let b = app.create_task(&team.owner, &project, "B", "BACKLOG").await;
    let c = app.create_task(&team.owner, &project, "C", "BACKLOG").await;
    assert_eq!(
        app.column_titles(&team.owner, &project, "BACKLOG").await,
        ["A", "B", "C"]
    );

    data(&move_task(&app, &team.collaborator, &c, "BACKLOG", Some(&a)).await);
    assert_eq!(
        app.column_titles(&team.owner, &project, "BACKLOG").await,
        ["A", "C", "B"]
    );
    data(&move_task(&app, &team.collaborator, &b, "BACKLOG", None).await);
    assert_eq!(
        app.column_titles(&team.owner, &project, "BACKLOG").await,
        ["B", "A", "C"]
    );
    data(&move_task(&app, &team.collaborator, &a, "IN_PROGRESS", None).await);
    assert_eq!(
        app.column_titles(&team.owner, &project, "BACKLOG").await,
        ["B", "C"]
    );
    assert_eq!(
        app.column_titles(&team.owner, &project, "IN_PROGRESS")
            .await,
        ["A"]
    );

    // `after` must be in the target column, and not the task itself.
    let body = move_task(&app, &team.owner, &b, "DONE", Some(&c)).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
    let body = move_task(&app, &team.owner, &b, "BACKLOG", Some(&b)).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn exhausting_a_gap_renumbers_the_column_and_keeps_the_order() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Website", &[]).await;
    let first = app
        .create_task(&team.owner, &project, "first", "BACKLOG")
        .await;
    app.create_task(&team.owner, &project, "last", "BACKLOG")
        .await;
    // Insert 30 tasks one after another right after `first`: the gap halves each time.
    let mut expected = vec!["first".to_owned()];
    let mut inserted = Vec::new();
    for i in 0..30 {
        let id = app
            .create_task(&team.owner, &project, &format!("t{i}"), "DONE")
            .await;
        data(&move_task(&app, &team.owner, &id, "BACKLOG", Some(&first)).await);
        inserted.push(format!("t{i}"));
    }
    expected.extend(inserted.into_iter().rev());
    expected.push("last".to_owned());
    assert_eq!(
        app.column_titles(&team.owner, &project, "BACKLOG").await,
        expected
    );
}

/// A race that can be lost: `RACERS` moves at once on a multi-threaded server. (Without the
/// project row lock, two moves read the same neighbours and take the same position.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_moves_never_duplicate_or_lose_positions() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Website", &[]).await;
    let anchor = app
        .create_task(&team.owner, &project, "anchor", "BACKLOG")
        .await;
    let mut ids = Vec::new();
    for i in 0..RACERS {
        ids.push(
            app.create_task(&team.owner, &project, &format!("t{i}"), "BACKLOG")
                .await,
        );
    }
    // Everyone moves at once: to the top of IN_PROGRESS, or right after the anchor of BACKLOG.
    let results = race(RACERS, |i| {
        let (app, s, anchor, id) = (&app, &team.collaborator, anchor.clone(), &ids[i]);
        async move {
            if i % 2 == 0 {
                move_task(app, s, id, "IN_PROGRESS", None).await
            } else {
                move_task(app, s, id, "BACKLOG", Some(&anchor)).await
            }
        }
    })
    .await;
    for (i, body) in results.iter().enumerate() {
        let column = if i % 2 == 0 { "IN_PROGRESS" } else { "BACKLOG" };
        assert_eq!(data(body)["moveTask"]["column"], column, "{body}");
    }
    let board = app
        .query(&team.owner, "query($p: ID!) { project(id: $p) { tasks(first: 100) { totalCount edges { node { id column position } } } } }", json!({ "p": project }))
        .await;
    let edges = data(&board)["project"]["tasks"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), RACERS + 1, "no task lost");
    let mut slots: Vec<(String, i64)> = edges
        .iter()
        .map(|e| {
            (
                e["node"]["column"].as_str().unwrap().to_owned(),
                e["node"]["position"].as_f64().unwrap() as i64,
            )
        })
        .collect();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), RACERS + 1, "no duplicate position in a column");
    let backlog = app.column_titles(&team.owner, &project, "BACKLOG").await;
    assert_eq!(backlog.len(), RACERS / 2 + 1);
    assert_eq!(backlog[0], "anchor", "every move landed after the anchor");
    assert_eq!(
        app.column_titles(&team.owner, &project, "IN_PROGRESS")
            .await
            .len(),
        RACERS / 2
    );
}

#[tokio::test]
async fn filters_search_and_pagination() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Website", &[]).await;
    for (title, labels, assignee) in [
        (
            "Design homepage",
            vec!["design"],
            Some(team.collaborator.user_id),
        ),
        (
            "Build HOMEPAGE",
            vec!["dev", "front"],
            Some(team.admin.user_id),
        ),
        ("Write 100% copy", vec!["content"], None),
        ("Deploy", vec!["dev"], Some(team.collaborator.user_id)),
    ] {
        data(
            &app.query(
                &team.owner,
                "mutation($p: ID!, $t: String!, $l: [String!]!, $a: ID) { createTask(input: {projectId: $p, title: $t, labels: $l, assigneeId: $a}) { id } }",
                json!({ "p": project, "t": title, "l": labels, "a": assignee }),
            )
            .await,
        );
    }
    let titles = |body: &Value| -> Vec<String> {
        data(body)["project"]["tasks"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let q = "query($p: ID!, $l: String, $s: String, $a: ID, $f: Int!, $after: String) { project(id: $p) { tasks(first: $f, label: $l, search: $s, assigneeId: $a, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { title labels assignee { name } } } } } }";
    let by_label = app
        .query(&team.owner, q, json!({ "p": project, "l": "DEV", "f": 10 }))
        .await;
    assert_eq!(titles(&by_label), ["Build HOMEPAGE", "Deploy"]);
    assert_eq!(data(&by_label)["project"]["tasks"]["totalCount"], 2);
    let by_search = app
        .query(
            &team.owner,
            q,
            json!({ "p": project, "s": "homepage", "f": 10 }),
        )
        .await;
    assert_eq!(titles(&by_search), ["Design homepage", "Build HOMEPAGE"]);
    // LIKE wildcards in the search text are literal.
    let percent = app
        .query(
            &team.owner,
            q,
            json!({ "p": project, "s": "100%", "f": 10 }),
        )
        .await;
    assert_eq!(titles(&percent), ["Write 100% copy"]);
    let by_assignee = app
        .query(
            &team.owner,
            q,
            json!({ "p": project, "a": team.collaborator.user_id, "f": 10 }),
        )
        .await;
    assert_eq!(titles(&by_assignee), ["Design homepage", "Deploy"]);

    let page1 = app
        .query(&team.owner, q, json!({ "p": project, "f": 3 }))
        .await;
    let tasks = &data(&page1)["project"]["tasks"];
    assert_eq!(tasks["totalCount"], 4);
    assert_eq!(tasks["pageInfo"]["hasNextPage"], true);
    assert_eq!(tasks["edges"][0]["node"]["labels"], json!(["design"]));
    assert_eq!(
        tasks["edges"][0]["node"]["assignee"]["name"],
        "Collaborator person"
    );
    let page2 = app
        .query(
            &team.owner,
            q,
            json!({ "p": project, "f": 3, "after": tasks["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(titles(&page2), ["Deploy"]);
    assert_eq!(
        data(&page2)["project"]["tasks"]["pageInfo"]["hasNextPage"],
        false
    );

    for bad in [
        json!({ "p": project, "f": 0 }),
        json!({ "p": project, "f": 101 }),
        json!({ "p": project, "f": 5, "after": "junk" }),
    ] {
        assert_eq!(
            error_code(&app.query(&team.owner, q, bad.clone()).await).as_deref(),
            Some("BAD_USER_INPUT"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn clients_read_the_board_but_cannot_change_it() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let task = app.create_task(&team.owner, &project, "A", "BACKLOG").await;
    assert_eq!(
        app.column_titles(&team.client, &project, "BACKLOG").await,
        ["A"]
    );
    for body in [
        move_task(&app, &team.client, &task, "DONE", None).await,
        app.query(
            &team.client,
            "mutation($p: ID!) { createTask(input: {projectId: $p, title: \"x\"}) { id } }",
            json!({ "p": project }),
        )
        .await,
        app.query(
            &team.client,
            "mutation($t: ID!) { deleteTask(id: $t) }",
            json!({ "t": task }),
        )
        .await,
    ] {
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    }
    // Assignees must be workspace members.
    let outsider = app.create_user("x@example.com", "X").await;
    let body = app
        .query(
            &team.owner,
            "mutation($t: ID!, $a: ID) { updateTask(id: $t, input: {assigneeId: $a}) { id } }",
            json!({ "t": task, "a": outsider }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn board_changes_are_published_on_the_project_channel() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Website", &[]).await;
    let channel = portico::pubsub::channel::project(team.workspace_id, project.parse().unwrap());
    let mut events = app.state.bus.subscribe(&channel).await.unwrap();
    let task = app.create_task(&team.owner, &project, "A", "BACKLOG").await;
    data(&move_task(&app, &team.owner, &task, "DONE", None).await);
    data(
        &app.query(
            &team.owner,
            "mutation($t: ID!) { deleteTask(id: $t) }",
            json!({ "t": task }),
        )
        .await,
    );
    let mut kinds = Vec::new();
    let mut timeline = 0;
    while kinds.len() < 3 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), events.next())
            .await
            .unwrap()
            .unwrap();
        let portico::pubsub::BusMessage::Event(payload) = next else {
            panic!("unexpected {next:?}")
        };
        let event: Value = serde_json::from_str(&payload).unwrap();
        // Timeline entries travel on the same channel, published when each change commits.
        if event["type"] == "ACTIVITY" {
            timeline += 1;
            continue;
        }
        assert_eq!(event["taskId"], task.as_str());
        kinds.push(event["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(kinds, ["TASK_CREATED", "TASK_MOVED", "TASK_DELETED"]);
    assert!(timeline >= 2, "create and move each write a timeline entry");
}

/// Seeds `projects` projects of `tasks` tasks each, assigned round-robin to the team's staff.
async fn seed_board(app: &TestApp, team: &Team, projects_count: usize, tasks: usize) {
    let access = app
        .state
        .access
        .resolve(team.workspace_id, team.owner.user_id)
        .await
        .unwrap()
        .unwrap();
    let staff = [
        team.owner.user_id,
        team.admin.user_id,
        team.collaborator.user_id,
    ];
    for p in 0..projects_count {
        let project = projects::create(
            &app.state,
            &access,
            NewProject {
                name: format!("Project {p}"),
                ..NewProject::default()
            },
        )
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
        let scoped = Scoped::new(app.state.db.conn(), team.workspace_id);
        let now = chrono::Utc::now();
        let rows: Vec<entity::task::ActiveModel> = (0..tasks)
            .map(|i| entity::task::ActiveModel {
                id: Set(Uuid::now_v7()),
                workspace_id: Set(team.workspace_id),
                project_id: Set(project.id),
                title: Set(format!("Task {i}")),
                description: Set(None),
                board_column: Set("BACKLOG".into()),
                position: Set(i64::try_from(i).unwrap() * 65_536),
                assignee_id: Set(Some(staff[i % staff.len()])),
                due_date: Set(None),
                blocked_by_client: Set(false),
                blocked_reason: Set(None),
                origin: Set("PROJECT".into()),
                ticket_id: Set(None),
                created_by: Set(team.owner.user_id),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect();
        scoped.insert_many(rows).await.unwrap();
    }
}

#[tokio::test]
async fn a_depth_three_board_query_costs_the_same_statements_for_one_or_fifty_projects() {
    let query = "query($n: Int!) { projects(first: $n) { edges { node { id name tasks(first: 50) { edges { node { id title column position assignee { id name } } } } } } } }";
    let mut counts = Vec::new();
    for n in [1usize, 50] {
        let app = spawn_app().await;
        let team = app.create_team("acme").await;
        seed_board(&app, &team, n, 50).await;
        // Warm the permission cache, as any real session would be.
        data(
            &app.query(&team.owner, "{ workspace { id } }", json!({}))
                .await,
        );
        let (body, statements) = app
            .count_statements(&team.owner, query, json!({ "n": n }))
            .await;
        let projects = data(&body)["projects"]["edges"].as_array().unwrap();
        assert_eq!(projects.len(), n);
        for p in projects {
            let tasks = p["node"]["tasks"]["edges"].as_array().unwrap();
            assert_eq!(tasks.len(), 50);
            assert!(
                tasks
                    .iter()
                    .all(|t| t["node"]["assignee"]["name"].is_string())
            );
        }
        counts.push(statements);
    }
    // Session check, workspace lookup, projects, tasks (all projects at once), assignees.
    assert_eq!(
        counts[0], counts[1],
        "statements for 1 vs 50 projects: {counts:?}"
    );
    assert!(
        counts[1] <= 3 + 2,
        "a depth-3 query must cost at most depth + 2 statements, got {}",
        counts[1]
    );
}

/// The board resolves its connections, cards and assignees in one pass (`graphql::flat`). A
/// directive on a field sends the same selection through async-graphql's general path, so both
/// must answer the same data and the same field errors: here a client, who may not read
/// assignees' emails, and staff, who may.
#[tokio::test]
async fn the_single_pass_board_answers_exactly_like_the_general_path() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    for (i, column) in [
        "DONE",
        "BACKLOG",
        "IN_PROGRESS",
        "BACKLOG",
        "WAITING_CLIENT",
    ]
    .into_iter()
    .enumerate()
    {
        let task = app
            .create_task(&team.owner, &project, &format!("T{i}"), column)
            .await;
        if i != 1 {
            data(
                &app.query(
                    &team.owner,
                    "mutation($t: ID!, $a: ID) { updateTask(id: $t, input: {assigneeId: $a}) { id } }",
                    json!({ "t": task, "a": team.collaborator.user_id }),
                )
                .await,
            );
        }
    }
    let fast = "{ projects(first: 5) { totalCount edges { cursor node { id \
        tasks(first: 4) { __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } \
        edges { __typename cursor node { __typename id title column position card: title \
        assignee { id name email } ...Labels } } \
        nodes { id assignee { __typename name } } } } } } } \
        fragment Labels on Task { labels blockedByClient }";
    let general = fast.replace("edges {", "edges @include(if: true) {");
    assert_ne!(fast, general);
    let errors = |body: &Value| {
        let mut errors: Vec<(String, String)> = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["path"].to_string(),
                    e["extensions"]["code"].as_str().unwrap_or("-").to_owned(),
                )
            })
            .collect();
        errors.sort();
        errors
    };
    for (session, denied) in [(&team.owner, 0), (&team.client, 3)] {
        let one_pass = app.query(session, fast, json!({})).await;
        let general_path = app.query(session, &general, json!({})).await;
        assert_eq!(one_pass["data"], general_path["data"], "{one_pass:#}");
        assert_eq!(errors(&one_pass), errors(&general_path));
        // Three cards of the page are assigned; only their `email` is refused, and only to the
        // client.
        let refused = errors(&one_pass);
        assert_eq!(refused.len(), denied, "{refused:?}");
        assert!(
            refused
                .iter()
                .all(|(path, code)| code == "FORBIDDEN" && path.ends_with("\"email\"]"))
        );
        let tasks = &one_pass["data"]["projects"]["edges"][0]["node"]["tasks"];
        assert_eq!(tasks["totalCount"], 5);
        assert_eq!(tasks["pageInfo"]["hasNextPage"], true);
        let titles: Vec<&str> = tasks["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["T1", "T3", "T2", "T4"], "board order");
        assert_eq!(tasks["edges"][0]["node"]["assignee"], Value::Null);
        assert!(tasks["edges"][1]["node"]["assignee"]["name"].is_string());
    }
}
