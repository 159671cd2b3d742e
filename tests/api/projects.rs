//! Projects: creation with phases, visibility (clients see their projects only), edits, derived
//! progress, and cross-project probes.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn a_project_starts_with_the_default_timeline() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.collaborator, "Website", &[]).await;
    let body = app
        .query(&team.owner, "query($p: ID!) { project(id: $p) { name status progress phases { name position current } currentPhase { name } } }", json!({ "p": project }))
        .await;
    let p = &data(&body)["project"];
    assert_eq!(p["status"], "IN_PROGRESS");
    assert_eq!(p["progress"], 0);
    let names: Vec<&str> = p["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ph| ph["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Design", "Development", "Review", "Delivery"]);
    assert_eq!(p["currentPhase"]["name"], "Design");
}

#[tokio::test]
async fn clients_see_only_their_projects_and_staff_see_all() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let mine = app
        .create_project(&team.owner, "Client's site", &[&team.client])
        .await;
    let other = app
        .create_project(&team.owner, "Someone else's shop", &[])
        .await;
    let task = app
        .create_task(&team.owner, &other, "Secret task", "BACKLOG")
        .await;

    let list = app
        .query(
            &team.client,
            "{ projects(first: 10) { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&list)["projects"]["totalCount"], 1);
    assert_eq!(
        data(&list)["projects"]["edges"][0]["node"]["id"],
        mine.as_str()
    );

    // The other project, its task and its members answer NOT_FOUND, like missing IDs.
    for (document, id) in [
        ("query($i: ID!) { project(id: $i) { id } }", &other),
        ("query($i: ID!) { task(id: $i) { id } }", &task),
        (
            "query($i: ID!) { projectMembers(projectId: $i) { id } }",
            &other,
        ),
    ] {
        let body = app.query(&team.client, document, json!({ "i": id })).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("NOT_FOUND"),
            "{document}"
        );
    }

    let staff = app
        .query(
            &team.collaborator,
            "{ projects(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&staff)["projects"]["totalCount"], 2);
    // Guests see nothing until added.
    let guest = app
        .query(
            &team.guest,
            "{ projects(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&guest)["projects"]["totalCount"], 0);
}

#[tokio::test]
async fn another_workspaces_projects_are_not_found() {
    let app = spawn_app().await;
    let acme = app.create_team("acme").await;
    let globex = app.create_team("globex").await;
    let theirs = app.create_project(&globex.owner, "Globex app", &[]).await;
    let task = app
        .create_task(&globex.owner, &theirs, "Globex task", "BACKLOG")
        .await;
    for document in [
        "query($i: ID!) { project(id: $i) { id } }",
        "query($i: ID!) { task(id: $i) { id } }",
        "mutation($i: ID!) { updateProject(id: $i, input: {name: \"pwned\"}) { id } }",
        "mutation($i: ID!) { moveTask(id: $i, column: DONE) { id } }",
        "mutation($i: ID!) { deleteTask(id: $i) }",
        "mutation($i: ID!) { createTask(input: {projectId: $i, title: \"x\"}) { id } }",
    ] {
        let id = if document.contains("Task(id") || document.contains("task(id") {
            &task
        } else {
            &theirs
        };
        let body = app.query(&acme.owner, document, json!({ "i": id })).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("NOT_FOUND"),
            "{document}: {body}"
        );
    }
    let still = app
        .query(
            &globex.owner,
            "query($i: ID!) { project(id: $i) { name tasks(first: 5) { totalCount } } }",
            json!({ "i": theirs }),
        )
        .await;
    assert_eq!(data(&still)["project"]["name"], "Globex app");
    assert_eq!(data(&still)["project"]["tasks"]["totalCount"], 1);
}

#[tokio::test]
async fn staff_edit_status_next_step_phase_and_progress() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let phases = app
        .query(
            &team.owner,
            "query($p: ID!) { project(id: $p) { phases { id name } } }",
            json!({ "p": project }),
        )
        .await;
    let review = data(&phases)["project"]["phases"][2]["id"].clone();
    let body = app
        .query(
            &team.admin,
            "mutation($p: ID!, $ph: ID!) { updateProject(id: $p, input: {status: WAITING_CLIENT, nextStep: \"Validate the mockup\", clientAction: \"Review the mockup\", currentPhaseId: $ph, progress: 40, estimatedDelivery: \"2027-01-15\"}) { status nextStep clientAction progress estimatedDelivery currentPhase { name } } }",
            json!({ "p": project, "ph": review }),
        )
        .await;
    let p = &data(&body)["updateProject"];
    assert_eq!(p["status"], "WAITING_CLIENT");
    assert_eq!(p["currentPhase"]["name"], "Review");
    assert_eq!(p["progress"], 40);
    assert_eq!(p["estimatedDelivery"], "2027-01-15");

    // Progress derives from tasks once the override is cleared.
    for (title, column) in [
        ("a", "DONE"),
        ("b", "BACKLOG"),
        ("c", "DONE"),
        ("d", "IN_PROGRESS"),
    ] {
        app.create_task(&team.owner, &project, title, column).await;
    }
    let body = app
        .query(
            &team.owner,
            "mutation($p: ID!) { updateProject(id: $p, input: {progress: null}) { progress } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(data(&body)["updateProject"]["progress"], 50);

    for bad in ["{progress: 101}", "{name: \"\"}"] {
        let body = app
            .query(
                &team.admin,
                &format!("mutation($p: ID!) {{ updateProject(id: $p, input: {bad}) {{ id }} }}"),
                json!({ "p": project }),
            )
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{bad}"
        );
    }
    // Clients read but do not edit.
    let body = app
        .query(
            &team.client,
            "mutation($p: ID!) { updateProject(id: $p, input: {name: \"x\"}) { id } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    let seen = app
        .query(
            &team.client,
            "query($p: ID!) { project(id: $p) { nextStep clientAction } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(data(&seen)["project"]["clientAction"], "Review the mockup");
}

#[tokio::test]
async fn project_membership_is_managed_by_staff() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app.create_project(&team.owner, "Website", &[]).await;
    let before = app
        .query(
            &team.client,
            "{ projects(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&before)["projects"]["totalCount"], 0);
    data(
        &app.query(
            &team.owner,
            "mutation($p: ID!, $u: ID!) { addProjectMember(projectId: $p, userId: $u) { id } }",
            json!({ "p": project, "u": team.client.user_id }),
        )
        .await,
    );
    let members = app
        .query(
            &team.client,
            "query($p: ID!) { projectMembers(projectId: $p) { id name } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(
        data(&members)["projectMembers"].as_array().unwrap().len(),
        1
    );
    data(
        &app.query(
            &team.owner,
            "mutation($p: ID!, $u: ID!) { removeProjectMember(projectId: $p, userId: $u) { id } }",
            json!({ "p": project, "u": team.client.user_id }),
        )
        .await,
    );
    let after = app
        .query(
            &team.client,
            "query($p: ID!) { project(id: $p) { id } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(error_code(&after).as_deref(), Some("NOT_FOUND"));

    // Only workspace members can join a project.
    let outsider = app.create_user("outsider@example.com", "Outsider").await;
    let body = app
        .query(
            &team.owner,
            "mutation($p: ID!, $u: ID!) { addProjectMember(projectId: $p, userId: $u) { id } }",
            json!({ "p": project, "u": outsider }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
}
