//! `Idempotency-Key`: concurrent and later retries of a mutation do its work once and answer its
//! first result; keys are per caller and tied to one request body.

use crate::helpers::*;
use crate::realtime::POST;
use serde_json::{Value, json};

struct Answer {
    status: u16,
    replayed: bool,
    body: Value,
}

async fn send(app: &TestApp, who: &Session, key: &str, body: &str, project: &str) -> Answer {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&who.access_token)
        .header("X-Workspace", who.workspace.clone().unwrap_or_default())
        .header("Idempotency-Key", key)
        .json(&json!({ "query": POST, "variables": { "p": project, "b": body } }))
        .send()
        .await
        .unwrap();
    Answer {
        status: response.status().as_u16(),
        replayed: response.headers().get("idempotent-replayed").is_some(),
        body: response.json().await.unwrap(),
    }
}

async fn bodies(app: &TestApp, who: &Session, project: &str) -> Vec<String> {
    let listed = app
        .query(
            who,
            "query($p: ID!) { messages(projectId: $p, first: 100) { edges { node { body } } } }",
            json!({ "p": project }),
        )
        .await;
    data(&listed)["messages"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["body"].as_str().unwrap().to_owned())
        .collect()
}

/// A race that can be lost: `RACERS` sends of one key at once on a multi-threaded server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_key_sent_concurrently_and_later_does_the_work_once() {
    let app = spawn_app().await;
    let team = app.create_team("retry").await;
    let project = app
        .create_project(&team.owner, "Site", &[&team.collaborator])
        .await;

    let attempts = race(RACERS, |_| send(&app, &team.owner, "k-1", "once", &project)).await;
    let first: Vec<&Answer> = attempts
        .iter()
        .filter(|a| a.status == 200 && !a.replayed)
        .collect();
    assert_eq!(first.len(), 1, "exactly one attempt ran");
    for answer in &attempts {
        match answer.status {
            200 => assert_eq!(
                answer.body, first[0].body,
                "replays answer the first result"
            ),
            409 => assert_eq!(error_code(&answer.body).as_deref(), Some("CONFLICT")),
            other => panic!("unexpected HTTP {other}: {}", answer.body),
        }
    }
    assert_eq!(bodies(&app, &team.owner, &project).await, ["once"]);

    let later = send(&app, &team.owner, "k-1", "once", &project).await;
    assert_eq!((later.status, later.replayed), (200, true));
    assert_eq!(later.body, first[0].body);
    assert_eq!(bodies(&app, &team.owner, &project).await, ["once"]);

    // Another body under the same key is refused, and changes nothing.
    let other = send(&app, &team.owner, "k-1", "twice", &project).await;
    assert_eq!(other.status, 422);
    assert_eq!(error_code(&other.body).as_deref(), Some("BAD_USER_INPUT"));
    // Keys belong to their caller: another member's k-1 is theirs.
    let theirs = send(&app, &team.collaborator, "k-1", "mine", &project).await;
    assert_eq!((theirs.status, theirs.replayed), (200, false));
    assert_eq!(data(&theirs.body)["postMessage"]["body"], "mine");
    let mut listed = bodies(&app, &team.owner, &project).await;
    listed.sort();
    assert_eq!(listed, ["mine", "once"]);

    // A malformed key is refused before anything runs.
    let bad = send(&app, &team.owner, "", "x", &project).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bodies(&app, &team.owner, &project).await.len(), 2);
}

#[tokio::test]
async fn a_refused_mutation_is_replayed_as_refused_and_queries_ignore_the_key() {
    let app = spawn_app().await;
    let team = app.create_team("refused").await;
    let project = app.create_project(&team.owner, "Site", &[]).await;
    // The guest is not in the project: the refusal is stored like any other answer.
    let refused = send(&app, &team.guest, "g-1", "hi", &project).await;
    assert_eq!(refused.status, 200);
    assert!(error_code(&refused.body).is_some(), "{}", refused.body);
    let again = send(&app, &team.guest, "g-1", "hi", &project).await;
    assert!(again.replayed);
    assert_eq!(again.body, refused.body);
    // A query under a key runs each time (reads are idempotent by nature).
    for _ in 0..2 {
        let read = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&team.owner.access_token)
            .header(
                "X-Workspace",
                team.owner.workspace.clone().unwrap_or_default(),
            )
            .header("Idempotency-Key", "q-1")
            .json(&json!({ "query": "{ me { id } }" }))
            .send()
            .await
            .unwrap();
        assert!(read.headers().get("idempotent-replayed").is_none());
        assert_eq!(read.status(), 200);
    }
}
