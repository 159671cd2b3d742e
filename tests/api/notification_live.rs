//! `notificationAdded` over the websocket: each person receives their own notifications as they
//! are written, on their own channel, and nothing of anyone else's.

use crate::helpers::*;
use crate::realtime::{Socket, connect, next_json, subscribe};
use serde_json::json;
use std::time::Duration;

const ADDED: &str =
    "subscription { notificationAdded { id kind summary projectId actor { name } } }";

/// A socket of `who` subscribed to their notifications, returned once it is live.
async fn watch(app: &TestApp, team: &Team, who: &Session) -> Socket {
    let channel = portico::pubsub::channel::user(team.workspace_id, who.user_id);
    let mut socket = connect(app, who, "graphql-transport-ws").await;
    subscribe(&mut socket, "n", ADDED, json!({}), false).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.state.bus.local_subscribers(&channel).await < 1 {
        assert!(tokio::time::Instant::now() < deadline, "never went live");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    socket
}

#[tokio::test]
async fn each_person_receives_their_own_notifications_live() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Website", &[&team.client])
        .await;
    let mut owner = watch(&app, &team, &team.owner).await;
    let mut client = watch(&app, &team, &team.client).await;

    data(&app.query(&team.client, "mutation($p: ID!) { createTicket(input: {projectId: $p, kind: CHANGE, title: \"Logo\", description: \"Bigger\"}) { id } }", json!({ "p": project })).await);
    let got = next_json(&mut owner).await.unwrap();
    assert_eq!(got["type"], "next", "{got}");
    let n = &got["payload"]["data"]["notificationAdded"];
    assert_eq!(n["kind"], "TICKET_CREATED");
    assert_eq!(n["projectId"], project.as_str());
    assert!(n["actor"]["name"].is_string(), "{got}");

    // The client did it, so the client was not told: their first notification is the next one.
    data(
        &app.query(
            &team.owner,
            "mutation($p: ID!) { postMessage(projectId: $p, body: \"On it\") { id } }",
            json!({ "p": project }),
        )
        .await,
    );
    let got = next_json(&mut client).await.unwrap();
    let n = &got["payload"]["data"]["notificationAdded"];
    assert_eq!(n["kind"], "MESSAGE_ADDED", "{got}");
    assert_eq!(n["summary"], "New message: On it");
    // And the one listed in the center is the one that arrived.
    let listed = app
        .query(
            &team.client,
            "{ notifications(first: 5) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&listed)["notifications"]["nodes"][0]["id"], n["id"]);
}

#[tokio::test]
async fn an_api_key_has_no_notifications_to_follow() {
    let app = spawn_app().await;
    let team = app.create_team("acme").await;
    let (token, _) = crate::apikeys::create_key(
        &app,
        &team.owner,
        json!({ "name": "Partner", "scopes": ["WORKSPACE_READ", "PROJECT_VIEW"] }),
    )
    .await;
    let as_key = Session {
        access_token: token,
        ..team.owner.clone()
    };
    let listed = app
        .query(
            &as_key,
            "{ notifications(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&listed), ["FORBIDDEN"], "{listed}");
    let mut socket = connect(&app, &as_key, "graphql-transport-ws").await;
    subscribe(&mut socket, "n", ADDED, json!({}), false).await;
    let got = next_json(&mut socket).await.unwrap();
    assert_eq!(got["type"], "next", "{got}");
    assert_eq!(error_codes(&got["payload"]), ["FORBIDDEN"], "{got}");
    assert!(got["payload"]["data"].is_null(), "{got}");
}
