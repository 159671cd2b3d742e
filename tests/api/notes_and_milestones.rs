//! Private notes (staff-only, field-guarded, hidden from introspection, absent from every other
//! path), milestones the client validates once, and the project dashboard.

use crate::helpers::*;
use serde_json::{Value, json};

async fn set_note(app: &TestApp, s: &Session, subject: &str, id: &str, body: &str) -> Value {
    app.query(s, "mutation($s: NoteSubject!, $i: ID!, $b: String) { setPrivateNote(subject: $s, subjectId: $i, body: $b) }", json!({ "s": subject, "i": id, "b": body }))
        .await
}

#[tokio::test]
async fn private_notes_are_null_and_forbidden_for_clients_only_on_that_field() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    data(
        &set_note(
            &app,
            &team.collaborator,
            "PROJECT",
            &project,
            "Pays late; insist on deposit",
        )
        .await,
    );
    data(
        &set_note(
            &app,
            &team.collaborator,
            "MEMBER",
            &team.client.user_id.to_string(),
            "Prefers calls",
        )
        .await,
    );

    let q = "query($p: ID!) { project(id: $p) { name privateNote } }";
    let staff = app.query(&team.owner, q, json!({ "p": project })).await;
    assert_eq!(
        data(&staff)["project"]["privateNote"],
        "Pays late; insist on deposit"
    );

    let client = app.query(&team.client, q, json!({ "p": project })).await;
    assert_eq!(client["data"]["project"]["name"], "Website");
    assert_null_at(&client, &["project", "privateNote"]);
    assert_eq!(client["errors"].as_array().unwrap().len(), 1);
    assert_eq!(client["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        client["errors"][0]["extensions"]["permission"],
        "note:private"
    );
    assert_eq!(
        client["errors"][0]["path"],
        json!(["project", "privateNote"])
    );

    // Same through the projects list.
    let listed = app
        .query(
            &team.client,
            "{ projects(first: 5) { edges { node { name privateNote } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["data"]["projects"]["edges"][0]["node"]["name"],
        "Website"
    );
    assert!(listed["data"]["projects"]["edges"][0]["node"]["privateNote"].is_null());

    // Member notes: staff see them, a member-reader without note:private does not.
    let members = app
        .query(
            &team.collaborator,
            "{ members(first: 10) { edges { node { user { id } privateNote } } } }",
            json!({}),
        )
        .await;
    let notes: Vec<&Value> = data(&members)["members"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["privateNote"])
        .collect();
    assert!(notes.contains(&&json!("Prefers calls")));
    // A custom role that reads members but does not hold note:private.
    let reader = app
        .add_member_with_role(
            &team,
            "reader@acme.test",
            "Member reader",
            "WORKSPACE_READ, MEMBER_READ",
        )
        .await;
    let seen = app
        .query(
            &reader,
            "{ members(first: 10) { edges { node { user { id } privateNote } } } }",
            json!({}),
        )
        .await;
    let edges = seen["data"]["members"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 6, "the reader lists every member: {seen}");
    assert!(
        edges.iter().all(|e| e["node"]["privateNote"].is_null()),
        "{seen}"
    );
    assert!(!seen.to_string().contains("Prefers calls"), "{seen}");
    let codes = error_codes(&seen);
    assert_eq!(codes.len(), edges.len(), "one refusal per note: {seen}");
    assert!(codes.iter().all(|c| c == "FORBIDDEN"), "{seen}");

    // Nor does the note travel through the timeline: its entry is staff-only and carries no text.
    let timeline = "query($p: ID!) { projectActivity(projectId: $p, first: 50) { edges { node { summary payload } } } }";
    let client_view = app
        .query(&team.client, timeline, json!({ "p": project }))
        .await;
    assert!(
        !client_view.to_string().contains("Private note"),
        "{client_view}"
    );
    let staff_view = app
        .query(&team.owner, timeline, json!({ "p": project }))
        .await;
    assert!(staff_view.to_string().contains("Private note updated"));
    assert!(!staff_view.to_string().contains("Pays late"));

    // Clients cannot write them.
    let body = set_note(&app, &team.client, "PROJECT", &project, "mine").await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn introspection_hides_private_notes_from_those_who_cannot_read_them() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let q = "{ __type(name: \"Project\") { fields { name } } }";
    let names = |body: &Value| -> Vec<String> {
        data(body)["__type"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let owner = app.query(&team.owner, q, json!({})).await;
    assert!(names(&owner).contains(&"privateNote".to_owned()));
    let client = app.query(&team.client, q, json!({})).await;
    match backend() {
        // Embedded default: introspection is open, but the field is hidden from the client.
        Backend::Sqlite => {
            let fields = names(&client);
            assert!(fields.contains(&"name".to_owned()));
            assert!(!fields.contains(&"privateNote".to_owned()), "{fields:?}");
        }
        Backend::Postgres => assert_eq!(error_code(&client).as_deref(), Some("FORBIDDEN")),
    }
}

#[tokio::test]
async fn clients_validate_milestones_once() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let requested = app
        .query(&team.collaborator, "mutation($p: ID!) { requestValidation(projectId: $p, kind: MOCKUP) { id title status } }", json!({ "p": project }))
        .await;
    let milestone = data(&requested)["requestValidation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(data(&requested)["requestValidation"]["title"], "Mockup");

    let decide = "mutation($m: ID!, $v: Boolean!, $c: String) { decideMilestone(id: $m, validate: $v, comment: $c) { status comment decidedAt decidedBy { name } } }";
    // Staff do not validate for the client.
    for staff in [&team.collaborator, &team.admin, &team.owner] {
        let body = app
            .query(staff, decide, json!({ "m": milestone, "v": true }))
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    }
    let body = app
        .query(
            &team.client,
            decide,
            json!({ "m": milestone, "v": true, "c": "Love it" }),
        )
        .await;
    let decided = &data(&body)["decideMilestone"];
    assert_eq!(decided["status"], "VALIDATED");
    assert_eq!(decided["comment"], "Love it");
    assert_eq!(decided["decidedBy"]["name"], "Client person");
    assert!(decided["decidedAt"].is_string());
    // No silent undo.
    let again = app
        .query(&team.client, decide, json!({ "m": milestone, "v": false }))
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("BAD_USER_INPUT"));
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("new validation request")
    );

    let timeline = app.query(&team.client, "query($p: ID!) { projectActivity(projectId: $p, first: 1) { edges { node { summary } } } }", json!({ "p": project })).await;
    assert_eq!(
        data(&timeline)["projectActivity"]["edges"][0]["node"]["summary"],
        "Milestone Mockup validated"
    );
}

#[tokio::test]
async fn the_dashboard_shows_what_awaits_the_client() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    data(&app.query(&team.owner, "mutation($p: ID!) { updateProject(id: $p, input: {status: WAITING_CLIENT, nextStep: \"Content\", clientAction: \"Send the texts\"}) { id } }", json!({ "p": project })).await);
    data(
        &app.query(
            &team.owner,
            "mutation($p: ID!) { requestValidation(projectId: $p, kind: CONTENT) { id } }",
            json!({ "p": project }),
        )
        .await,
    );
    let blocked = app
        .create_task(&team.owner, &project, "Write about page", "IN_PROGRESS")
        .await;
    data(&app.query(&team.owner, "mutation($t: ID!) { updateTask(id: $t, input: {blockedByClient: true, blockedReason: \"Waiting for texts\"}) { id } }", json!({ "t": blocked })).await);
    app.create_task(&team.owner, &project, "Done already", "DONE")
        .await;
    let ticket = app
        .query(&team.client, "mutation($p: ID!) { createTicket(input: {projectId: $p, kind: IMPROVEMENT, title: \"Blog\", description: \"Add a blog\"}) { id } }", json!({ "p": project }))
        .await;
    let ticket = data(&ticket)["createTicket"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(&app.query(&team.owner, "mutation($t: ID!) { decideTicket(id: $t, status: QUOTED, quote: {amountMinor: 90000, currency: \"EUR\"}) { id } }", json!({ "t": ticket })).await);
    app.query(&team.client, "mutation($p: ID!) { createTicket(input: {projectId: $p, kind: BUG, title: \"Typo\", description: \"On home\"}) { id } }", json!({ "p": project }))
        .await;

    let body = app
        .query(
            &team.client,
            "query($p: ID!) { projectDashboard(projectId: $p) { openTickets project { status progress nextStep clientAction currentPhase { name } } lastUpdate { summary actor { name } } awaitingClient { milestones { kind status } quotes { number quote { amountMinor } } blockedTasks { title blockedReason } } } }",
            json!({ "p": project }),
        )
        .await;
    let d = &data(&body)["projectDashboard"];
    assert_eq!(d["openTickets"], 2);
    assert_eq!(d["project"]["status"], "WAITING_CLIENT");
    assert_eq!(d["project"]["clientAction"], "Send the texts");
    assert_eq!(d["project"]["progress"], 50);
    assert_eq!(d["project"]["currentPhase"]["name"], "Design");
    assert_eq!(d["lastUpdate"]["summary"], "Ticket #2 created");
    assert_eq!(
        d["awaitingClient"]["milestones"],
        json!([{ "kind": "CONTENT", "status": "PENDING" }])
    );
    assert_eq!(
        d["awaitingClient"]["quotes"],
        json!([{ "number": 1, "quote": { "amountMinor": 90000 } }])
    );
    assert_eq!(
        d["awaitingClient"]["blockedTasks"],
        json!([{ "title": "Write about page", "blockedReason": "Waiting for texts" }])
    );
}
