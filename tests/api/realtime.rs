//! Project conversations (edit and delete windows, read state, unread counts) and subscriptions
//! over websockets: authorization at subscribe and on every event, token expiry, private-field
//! filtering, limits, and delivery across instances through Redis.

use crate::helpers::*;
use chrono::{Duration, Utc};
use futures_util::{SinkExt, StreamExt};
use portico::db::Scoped;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) const POST: &str = "mutation($p: ID!, $b: String!) { postMessage(projectId: $p, body: $b) { id body edited deleted author { name } } }";

pub(crate) async fn post(app: &TestApp, who: &Session, project: &str, body: &str) -> Value {
    app.query(who, POST, json!({ "p": project, "b": body }))
        .await
}

/// Opens a websocket with `protocol` and completes the handshake for `who`.
pub(crate) async fn connect(app: &TestApp, who: &Session, protocol: &str) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": {
        "authorization": format!("Bearer {}", who.access_token),
        "workspace": who.workspace,
    }});
    socket.send(Frame::text(init.to_string())).await.unwrap();
    let ack = next_json(&mut socket)
        .await
        .expect("an answer to connection_init");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
}

pub(crate) async fn subscribe(
    socket: &mut Socket,
    id: &str,
    query: &str,
    variables: Value,
    legacy: bool,
) {
    let kind = if legacy { "start" } else { "subscribe" };
    let message =
        json!({ "type": kind, "id": id, "payload": { "query": query, "variables": variables } });
    socket.send(Frame::text(message.to_string())).await.unwrap();
}

/// The next JSON message (pings answered, keepalives skipped); `None` on close or silence.
pub(crate) async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .ok()??
            .ok()?;
        match frame {
            Frame::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                match value["type"].as_str() {
                    Some("ping") => {
                        let pong = json!({ "type": "pong" }).to_string();
                        socket.send(Frame::text(pong)).await.ok()?;
                    }
                    Some("ka" | "pong") => {}
                    _ => return Some(value),
                }
            }
            Frame::Close(_) => return None,
            _ => {}
        }
    }
}

/// The close code that ends the socket.
pub(crate) async fn close_code(socket: &mut Socket) -> Option<u16> {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .ok()??
            .ok()?;
        if let Frame::Close(frame) = frame {
            return frame.map(|f| u16::from(f.code));
        }
    }
}

/// How many subscriptions of `app` are attached to `project`'s channel now.
pub(crate) async fn attached(app: &TestApp, team: &Team, project: &str) -> usize {
    let channel = portico::pubsub::channel::project(team.workspace_id, project.parse().unwrap());
    app.state.bus.local_subscribers(&channel).await
}

/// Returns once `n` subscriptions of `app` are attached to `project`'s channel (at most 10 s):
/// each receives every event published afterwards. No fixed sleep: the bus says when.
pub(crate) async fn live(app: &TestApp, team: &Team, project: &str, n: usize) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while attached(app, team, project).await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} subscriptions never went live on {project}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Returns once exactly `n` subscriptions of `app` are attached to `project`'s channel (at
/// most 10 s): earlier ones have left.
pub(crate) async fn settle(app: &TestApp, team: &Team, project: &str, n: usize) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while attached(app, team, project).await != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{project} never settled at {n} subscriptions"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A socket of `who` subscribed to `messageAdded` on `project`, returned once it is live.
pub(crate) async fn watch_messages(
    app: &TestApp,
    team: &Team,
    who: &Session,
    project: &str,
) -> Socket {
    let before = attached(app, team, project).await;
    let mut socket = connect(app, who, "graphql-transport-ws").await;
    subscribe(
        &mut socket,
        "1",
        MESSAGE_ADDED,
        json!({ "p": project }),
        false,
    )
    .await;
    live(app, team, project, before + 1).await;
    socket
}

/// The owner removes `member` from `project`.
async fn remove_from_project(app: &TestApp, owner: &Session, project: &str, member: &Session) {
    data(
        &app.query(
            owner,
            "mutation($p: ID!, $u: ID!) { removeProjectMember(projectId: $p, userId: $u) { id } }",
            json!({ "p": project, "u": member.user_id }),
        )
        .await,
    );
}

pub(crate) async fn setup(app: &TestApp) -> (Team, String, String) {
    let team = app.create_team("acme").await;
    let project = app
        .create_project(&team.owner, "Site", &[&team.client, &team.collaborator])
        .await;
    let other = app.create_project(&team.owner, "Other", &[]).await;
    (team, project, other)
}

#[tokio::test]
async fn messages_are_validated_listed_newest_first_and_edited_only_by_their_author_in_time() {
    let app = spawn_app().await;
    let (team, project, other) = setup(&app).await;
    let empty = post(&app, &team.client, &project, "   ").await;
    assert_eq!(error_code(&empty).as_deref(), Some("BAD_USER_INPUT"));
    let long = post(&app, &team.client, &project, &"x".repeat(10_001)).await;
    assert_eq!(error_code(&long).as_deref(), Some("BAD_USER_INPUT"));
    // A client of the workspace who is not a member of the project: NOT_FOUND.
    let outside = post(&app, &team.client, &other, "hello").await;
    assert_eq!(error_code(&outside).as_deref(), Some("NOT_FOUND"));

    let mut ids = Vec::new();
    for i in 0..5 {
        let body = post(&app, &team.client, &project, &format!("**message** {i}")).await;
        ids.push(
            data(&body)["postMessage"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let page = |before: Option<String>| json!({ "p": project, "before": before });
    const LIST: &str = "query($p: ID!, $before: String) { messages(projectId: $p, first: 2, before: $before) { pageInfo { hasNextPage } edges { cursor node { id body } } } }";
    let first = app.query(&team.collaborator, LIST, page(None)).await;
    let edges = data(&first)["messages"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges[0]["node"]["body"], "**message** 4");
    assert_eq!(edges[1]["node"]["body"], "**message** 3");
    assert_eq!(data(&first)["messages"]["pageInfo"]["hasNextPage"], true);
    let older = app
        .query(
            &team.collaborator,
            LIST,
            page(edges[1]["cursor"].as_str().map(str::to_owned)),
        )
        .await;
    let older = data(&older)["messages"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(older[0]["node"]["body"], "**message** 2");

    // Only the author edits; the edit is marked.
    let edit = "mutation($id: ID!, $b: String!) { editMessage(id: $id, body: $b) { body edited } }";
    let theirs = app
        .query(
            &team.collaborator,
            edit,
            json!({ "id": ids[0], "b": "hijack" }),
        )
        .await;
    assert_eq!(error_code(&theirs).as_deref(), Some("FORBIDDEN"));
    let mine = app
        .query(&team.client, edit, json!({ "id": ids[0], "b": "fixed" }))
        .await;
    assert_eq!(
        data(&mine)["editMessage"],
        json!({ "body": "fixed", "edited": true })
    );
    let delete = "mutation($id: ID!) { deleteMessage(id: $id) { body deleted } }";
    let deleted = app
        .query(&team.client, delete, json!({ "id": ids[1] }))
        .await;
    assert_eq!(
        data(&deleted)["deleteMessage"],
        json!({ "body": null, "deleted": true })
    );
    let again = app
        .query(&team.client, edit, json!({ "id": ids[1], "b": "back" }))
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("BAD_USER_INPUT"));

    // After 15 minutes, neither edit nor delete.
    let message_id: Uuid = ids[2].parse().unwrap();
    Scoped::new(app.state.db.conn(), team.workspace_id)
        .update_many::<entity::message::Entity>()
        .col_expr(
            entity::message::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::minutes(16)),
        )
        .filter(entity::message::Column::Id.eq(message_id))
        .exec(app.state.db.conn())
        .await
        .unwrap();
    for (document, variables) in [
        (edit, json!({ "id": ids[2], "b": "late" })),
        (delete, json!({ "id": ids[2] })),
    ] {
        let late = app.query(&team.client, document, variables).await;
        assert_eq!(
            error_code(&late).as_deref(),
            Some("BAD_USER_INPUT"),
            "{late}"
        );
        assert!(
            late["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("15 minutes")
        );
    }
}

#[tokio::test]
async fn unread_counts_follow_read_positions_and_show_on_the_dashboard() {
    let app = spawn_app().await;
    let (team, project, _) = setup(&app).await;
    let unread = |who: &Session| {
        let who = who.clone();
        let app = &app;
        let project = project.clone();
        async move {
            let body = app
                .query(&who, "query($p: ID!) { unreadMessageCount(projectId: $p) projectDashboard(projectId: $p) { unreadMessages } }", json!({ "p": project }))
                .await;
            let d = data(&body);
            assert_eq!(
                d["unreadMessageCount"],
                d["projectDashboard"]["unreadMessages"]
            );
            d["unreadMessageCount"].as_u64().unwrap()
        }
    };
    let mut ids = Vec::new();
    for i in 0..3 {
        let body = post(&app, &team.collaborator, &project, &format!("update {i}")).await;
        ids.push(
            data(&body)["postMessage"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // One's own messages are read.
    assert_eq!(unread(&team.collaborator).await, 0);
    assert_eq!(unread(&team.client).await, 3);
    let mark = "mutation($p: ID!, $u: ID) { markConversationRead(projectId: $p, upTo: $u) }";
    let body = app
        .query(&team.client, mark, json!({ "p": project, "u": ids[1] }))
        .await;
    assert_eq!(data(&body)["markConversationRead"], 1);
    // Read positions never move back.
    let body = app
        .query(&team.client, mark, json!({ "p": project, "u": ids[0] }))
        .await;
    assert_eq!(data(&body)["markConversationRead"], 1);
    // A deleted message no longer counts.
    data(
        &app.query(
            &team.collaborator,
            "mutation($id: ID!) { deleteMessage(id: $id) { id } }",
            json!({ "id": ids[2] }),
        )
        .await,
    );
    assert_eq!(unread(&team.client).await, 0);
    post(&app, &team.collaborator, &project, "new").await;
    assert_eq!(unread(&team.client).await, 1);
    let body = app
        .query(&team.client, mark, json!({ "p": project, "u": null }))
        .await;
    assert_eq!(data(&body)["markConversationRead"], 0);
    // A message of another project is not a valid position.
    let other_tenant = app.create_team("rival").await;
    let foreign = app.create_project(&other_tenant.owner, "Theirs", &[]).await;
    let body = post(&app, &other_tenant.owner, &foreign, "secret").await;
    let foreign_message = data(&body)["postMessage"]["id"].clone();
    let body = app
        .query(
            &team.client,
            mark,
            json!({ "p": project, "u": foreign_message }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_USER_INPUT"));
}

const MESSAGE_ADDED: &str =
    "subscription($p: ID!) { messageAdded(projectId: $p) { id body author { name } } }";

#[tokio::test]
async fn both_protocols_deliver_new_messages() {
    let app = spawn_app().await;
    let (team, project, _) = setup(&app).await;
    for (protocol, legacy) in [("graphql-transport-ws", false), ("graphql-ws", true)] {
        // The previous protocol's subscription has left the bus (its socket was dropped).
        settle(&app, &team, &project, 0).await;
        let mut socket = connect(&app, &team.client, protocol).await;
        subscribe(
            &mut socket,
            "1",
            MESSAGE_ADDED,
            json!({ "p": project }),
            legacy,
        )
        .await;
        live(&app, &team, &project, 1).await;
        post(
            &app,
            &team.collaborator,
            &project,
            &format!("over {protocol}"),
        )
        .await;
        let event = next_json(&mut socket).await.unwrap();
        let kind = if legacy { "data" } else { "next" };
        assert_eq!(event["type"], kind, "{event}");
        assert_eq!(
            event["payload"]["data"]["messageAdded"]["body"],
            format!("over {protocol}")
        );
        assert_eq!(
            event["payload"]["data"]["messageAdded"]["author"]["name"],
            "Collaborator person"
        );
    }
}

#[tokio::test]
async fn subscribing_to_another_project_or_tenant_is_refused() {
    let app = spawn_app().await;
    let (team, _, other) = setup(&app).await;
    let rival = app.create_team("rival").await;
    let foreign = app.create_project(&rival.owner, "Theirs", &[]).await;
    let random = Uuid::now_v7().to_string();
    // A client: another project of the workspace. Staff holding `project:read`, who skip the
    // per-event membership check: another tenant's project and a random ID.
    let mut socket = connect(&app, &team.client, "graphql-transport-ws").await;
    let mut staff = connect(&app, &team.collaborator, "graphql-transport-ws").await;
    for (as_staff, id, project) in [
        (false, "1", &other),
        (false, "2", &foreign),
        (true, "3", &foreign),
        (true, "4", &random),
    ] {
        let socket = if as_staff { &mut staff } else { &mut socket };
        subscribe(socket, id, MESSAGE_ADDED, json!({ "p": project }), false).await;
        let answer = next_json(socket).await.unwrap();
        assert_eq!(answer["id"], id, "{answer}");
        assert_eq!(
            answer["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{answer}"
        );
        assert_eq!(answer["payload"]["data"], Value::Null, "{answer}");
        let end = next_json(socket).await.unwrap();
        assert_eq!((&end["type"], &end["id"]), (&json!("complete"), &json!(id)));
    }
}

#[tokio::test]
async fn removal_from_the_project_ends_the_stream_at_the_next_event() {
    let app = spawn_app().await;
    let (team, project, _) = setup(&app).await;
    let mut socket = watch_messages(&app, &team, &team.client, &project).await;
    post(&app, &team.collaborator, &project, "before").await;
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "next");

    remove_from_project(&app, &team.owner, &project, &team.client).await;
    post(&app, &team.collaborator, &project, "after").await;
    let denied = next_json(&mut socket).await.unwrap();
    assert_eq!(denied["type"], "next", "{denied}");
    assert_eq!(
        denied["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{denied}"
    );
    assert!(
        denied["payload"]["data"].is_null() || denied["payload"]["data"]["messageAdded"].is_null()
    );
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "complete");
}

#[tokio::test]
async fn a_disabled_user_and_a_lost_permission_stop_receiving() {
    let app = spawn_app().await;
    let (team, project, _) = setup(&app).await;
    let before = attached(&app, &team, &project).await;
    let mut client = connect(&app, &team.client, "graphql-transport-ws").await;
    subscribe(
        &mut client,
        "1",
        MESSAGE_ADDED,
        json!({ "p": project }),
        false,
    )
    .await;
    let mut collaborator = connect(&app, &team.collaborator, "graphql-transport-ws").await;
    let board = "subscription($p: ID!) { boardChanged(projectId: $p) { change taskId column } }";
    subscribe(
        &mut collaborator,
        "1",
        board,
        json!({ "p": project }),
        false,
    )
    .await;
    live(&app, &team, &project, before + 2).await;

    // The client's account is disabled: the next event ends the stream, UNAUTHENTICATED.
    app.create_user("ops@example.com", "Ops").await;
    app.make_platform_admin("ops@example.com").await;
    let ops = app.login("ops@example.com").await;
    data(
        &app.query(
            &ops,
            "mutation($id: ID!) { setUserStatus(userId: $id, status: DISABLED) { status } }",
            json!({ "id": team.client.user_id }),
        )
        .await,
    );
    post(&app, &team.owner, &project, "after disabling").await;
    let denied = next_json(&mut client).await.unwrap();
    assert_eq!(
        denied["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{denied}"
    );

    // The collaborator receives board events until their role loses `project:view`.
    app.create_task(&team.owner, &project, "Wireframes", "BACKLOG")
        .await;
    let event = next_json(&mut collaborator).await.unwrap();
    assert_eq!(
        event["payload"]["data"]["boardChanged"]["change"], "TASK_CREATED",
        "{event}"
    );
    let role = data(
        &app.query(
            &team.owner,
            "mutation { createRole(input: {name: \"Blind\", permissions: [TASK_WRITE]}) { id } }",
            json!({}),
        )
        .await,
    )["createRole"]["id"]
        .clone();
    data(
        &app.query(
            &team.owner,
            "mutation($u: ID!, $r: ID!) { updateMemberRole(userId: $u, roleId: $r) { id } }",
            json!({ "u": team.collaborator.user_id, "r": role }),
        )
        .await,
    );
    app.create_task(&team.owner, &project, "Copy", "BACKLOG")
        .await;
    let denied = next_json(&mut collaborator).await.unwrap();
    assert_eq!(
        denied["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{denied}"
    );
    assert_eq!(
        next_json(&mut collaborator).await.unwrap()["type"],
        "complete"
    );
}

#[tokio::test]
async fn the_socket_closes_when_the_access_token_expires() {
    let app = spawn_app_with(|c| c.access_token_ttl_secs = 2).await;
    let (team, project, _) = setup(&app).await;
    let client = app.login(&team.client.email).await.in_workspace(&team.slug);
    let mut socket = connect(&app, &client, "graphql-transport-ws").await;
    subscribe(
        &mut socket,
        "1",
        MESSAGE_ADDED,
        json!({ "p": project }),
        false,
    )
    .await;
    let started = std::time::Instant::now();
    assert_eq!(close_code(&mut socket).await, Some(4403));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn subscriptions_per_socket_are_limited() {
    let app = spawn_app_with(|c| c.ws_max_subscriptions = 2).await;
    let (team, project, _) = setup(&app).await;
    let mut socket = connect(&app, &team.client, "graphql-transport-ws").await;
    for id in ["1", "2", "3"] {
        subscribe(
            &mut socket,
            id,
            MESSAGE_ADDED,
            json!({ "p": project }),
            false,
        )
        .await;
    }
    // They start concurrently: one of the three, whichever came last, is refused.
    let refused = next_json(&mut socket).await.unwrap();
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    assert!(
        refused["payload"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 2")
    );
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "complete");
    // The other two are live.
    live(&app, &team, &project, 2).await;
    post(&app, &team.collaborator, &project, "to both").await;
    for _ in 0..2 {
        let event = next_json(&mut socket).await.unwrap();
        assert_eq!(
            event["payload"]["data"]["messageAdded"]["body"], "to both",
            "{event}"
        );
    }
}

#[tokio::test]
async fn sockets_per_user_are_limited() {
    let app = spawn_app_with(|c| c.ws_max_sockets_per_user = 1).await;
    let (team, _, _) = setup(&app).await;
    let _first = connect(&app, &team.client, "graphql-transport-ws").await;
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut second, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "authorization": team.client.access_token } });
    second.send(Frame::text(init.to_string())).await.unwrap();
    assert_eq!(close_code(&mut second).await, Some(4429));
}

#[tokio::test]
async fn private_fields_never_travel_in_events() {
    let app = spawn_app().await;
    let (team, project, _) = setup(&app).await;
    let mut socket = connect(&app, &team.client, "graphql-transport-ws").await;
    // A client may select the staff-only email of the author: the field is null and FORBIDDEN.
    let with_email =
        "subscription($p: ID!) { messageAdded(projectId: $p) { body author { name email } } }";
    let before = attached(&app, &team, &project).await;
    subscribe(&mut socket, "1", with_email, json!({ "p": project }), false).await;
    live(&app, &team, &project, before + 1).await;
    post(&app, &team.collaborator, &project, "hello").await;
    let event = next_json(&mut socket).await.unwrap();
    assert_eq!(
        event["payload"]["data"]["messageAdded"]["author"]["email"],
        Value::Null,
        "{event}"
    );
    assert_eq!(
        event["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{event}"
    );
    assert!(!event.to_string().contains("collaborator@acme.test"));
    // Staff see it.
    let mut staff = connect(&app, &team.owner, "graphql-transport-ws").await;
    let before = attached(&app, &team, &project).await;
    subscribe(&mut staff, "1", with_email, json!({ "p": project }), false).await;
    live(&app, &team, &project, before + 1).await;
    post(&app, &team.collaborator, &project, "again").await;
    let event = next_json(&mut staff).await.unwrap();
    assert_eq!(
        event["payload"]["data"]["messageAdded"]["author"]["email"],
        "collaborator@acme.test"
    );
}

#[tokio::test]
async fn a_message_posted_on_one_instance_reaches_a_subscriber_on_another() {
    let a = spawn_app_with_redis(|_| {}).await;
    let b = spawn_instance_like(&a).await;
    let (team, project, _) = setup(&a).await;
    let mut socket = watch_messages(&a, &team, &team.client, &project).await;
    post(&b, &team.collaborator, &project, "from B").await;
    let event = next_json(&mut socket).await.unwrap();
    assert_eq!(
        event["payload"]["data"]["messageAdded"]["body"], "from B",
        "{event}"
    );
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_gets_an_explicit_error_not_silent_loss() {
    let app = spawn_app_with(|c| c.bus_subscriber_queue = 8).await;
    let (team, project, _) = setup(&app).await;
    let project_id: Uuid = project.parse().unwrap();
    let mut socket = watch_messages(&app, &team, &team.client, &project).await;
    // A burst far larger than the subscriber's queue (8), published all at once (pipelined on
    // Redis), faster than any subscriber drains it.
    let channel = portico::pubsub::channel::project(team.workspace_id, project_id);
    let bus = &app.state.bus;
    let burst = (0..1_000).map(|i| {
        let event = json!({ "type": "MESSAGE_ADDED", "projectId": project_id, "message": {
            "id": Uuid::now_v7(), "authorId": team.owner.user_id, "body": format!("burst {i}"),
            "createdAt": Utc::now(), "editedAt": null, "deletedAt": null,
        }});
        let channel = channel.clone();
        async move { bus.publish(&channel, event.to_string()).await.unwrap() }
    });
    futures_util::future::join_all(burst).await;
    let mut delivered = 0;
    let error = loop {
        let message = next_json(&mut socket)
            .await
            .expect("the stream ends with an error");
        if message["payload"]["errors"].is_array() {
            break message;
        }
        let body = message["payload"]["data"]["messageAdded"]["body"].as_str();
        assert!(body.is_some_and(|b| b.starts_with("burst ")), "{message}");
        delivered += 1;
    };
    assert!(delivered < 1_000);
    assert_eq!(
        error["payload"]["errors"][0]["extensions"]["code"], "CONFLICT",
        "{error}"
    );
    assert!(
        error["payload"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("events were dropped")
    );
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "complete");
}

#[tokio::test]
async fn the_live_timeline_hides_private_notes_and_internal_comments_from_clients() {
    let app = spawn_app().await;
    let (team, project, _) = setup(&app).await;
    let activity =
        "subscription($p: ID!) { projectActivity(projectId: $p) { action summary payload } }";
    let before = attached(&app, &team, &project).await;
    let mut client = connect(&app, &team.client, "graphql-transport-ws").await;
    subscribe(&mut client, "1", activity, json!({ "p": project }), false).await;
    let mut staff = connect(&app, &team.collaborator, "graphql-transport-ws").await;
    subscribe(&mut staff, "1", activity, json!({ "p": project }), false).await;
    live(&app, &team, &project, before + 2).await;

    // Staff-only: a private note, then an internal comment on a client's ticket.
    data(&app.query(&team.owner, "mutation($p: ID!) { setPrivateNote(subject: PROJECT, subjectId: $p, body: \"budget is tight\") }", json!({ "p": project })).await);
    let ticket = data(&app.query(&team.client, "mutation($p: ID!) { createTicket(input: {projectId: $p, kind: BUG, title: \"Broken link\", description: \"On the home page\"}) { id } }", json!({ "p": project })).await)["createTicket"]["id"].clone();
    data(&app.query(&team.collaborator, "mutation($t: ID!) { commentTicket(ticketId: $t, body: \"Client is difficult\", internal: true) { id } }", json!({ "t": ticket })).await);
    // Public: a task.
    app.create_task(&team.owner, &project, "Fix the link", "BACKLOG")
        .await;

    let mut seen_by_client = Vec::new();
    for _ in 0..2 {
        let event = next_json(&mut client).await.unwrap();
        seen_by_client.push(event["payload"]["data"]["projectActivity"]["action"].clone());
        let text = event.to_string();
        assert!(
            !text.contains("budget") && !text.contains("difficult"),
            "{text}"
        );
    }
    assert_eq!(
        seen_by_client,
        vec![json!("ticket.created"), json!("task.created")]
    );

    let mut seen_by_staff = Vec::new();
    for _ in 0..4 {
        let event = next_json(&mut staff).await.unwrap();
        seen_by_staff.push(event["payload"]["data"]["projectActivity"]["action"].clone());
    }
    // Staff see all four, in order.
    assert_eq!(
        seen_by_staff,
        vec![
            json!("note.updated"),
            json!("ticket.created"),
            json!("ticket.commented"),
            json!("task.created")
        ]
    );
}

/// Opens a websocket with `protocol` and sends `first` (if any) as its first message.
async fn raw_socket(app: &TestApp, protocol: &str, first: Option<Value>) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    if let Some(first) = first {
        socket.send(Frame::text(first.to_string())).await.unwrap();
    }
    socket
}

#[tokio::test]
async fn the_legacy_protocol_handshake_refuses_bad_missing_and_out_of_order_inits() {
    let app = spawn_app_with(|c| c.ws_init_timeout_secs = 1).await;
    let (team, _, _) = setup(&app).await;
    // A bad token: `connection_error`, then 4403.
    let bad = json!({ "type": "connection_init", "payload": { "authorization": "Bearer nope" } });
    let mut socket = raw_socket(&app, "graphql-ws", Some(bad)).await;
    let error = next_json(&mut socket).await.unwrap();
    assert_eq!(error["type"], "connection_error", "{error}");
    assert_eq!(close_code(&mut socket).await, Some(4403));
    // No token at all: the same.
    let empty = json!({ "type": "connection_init", "payload": {} });
    let mut socket = raw_socket(&app, "graphql-ws", Some(empty)).await;
    assert_eq!(
        next_json(&mut socket).await.unwrap()["type"],
        "connection_error"
    );
    // Anything before the init: 4401.
    let start = json!({ "type": "start", "id": "1", "payload": { "query": "{ __typename }" } });
    let mut socket = raw_socket(&app, "graphql-ws", Some(start)).await;
    assert_eq!(close_code(&mut socket).await, Some(4401));
    // Not JSON: 4400.
    let mut socket = raw_socket(&app, "graphql-ws", None).await;
    socket.send(Frame::text("{not json")).await.unwrap();
    assert_eq!(close_code(&mut socket).await, Some(4400));
    // Silence: 4408 once the init timeout passes, on both protocols.
    for protocol in ["graphql-ws", "graphql-transport-ws"] {
        let mut socket = raw_socket(&app, protocol, None).await;
        assert_eq!(close_code(&mut socket).await, Some(4408), "{protocol}");
    }
    // A good init is acknowledged; a second one is refused with `connection_error`.
    let mut socket = connect(&app, &team.client, "graphql-ws").await;
    let again = json!({ "type": "connection_init", "payload": {} });
    socket.send(Frame::text(again.to_string())).await.unwrap();
    let answer = next_json(&mut socket).await.unwrap();
    assert_eq!(answer["type"], "connection_error", "{answer}");
    assert!(
        answer["payload"]["message"]
            .as_str()
            .unwrap()
            .contains("Too many")
    );
}

#[tokio::test]
async fn a_removal_on_one_instance_stops_a_subscriber_on_another_at_the_next_event() {
    let a = spawn_app_with_redis(|_| {}).await;
    let b = spawn_instance_like(&a).await;
    let (team, project, _) = setup(&a).await;
    let mut socket = watch_messages(&a, &team, &team.client, &project).await;
    post(&b, &team.collaborator, &project, "before").await;
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "next");
    // Removed on B; the next message, also posted on B, is refused on A.
    remove_from_project(&b, &team.owner, &project, &team.client).await;
    post(&b, &team.collaborator, &project, "after").await;
    let denied = next_json(&mut socket).await.unwrap();
    assert_eq!(
        denied["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{denied}"
    );
}

#[tokio::test]
async fn subscribing_is_charged_to_the_same_budget() {
    let app = spawn_app_with(|c| {
        c.rate_limit_points = 5;
        // One point in 100 s: nothing comes back while the test runs.
        c.rate_limit_refill_per_sec = 0.01;
    })
    .await;
    let (team, project, _) = setup(&app).await;
    let mut socket = connect(&app, &team.client, "graphql-transport-ws").await;
    // Each subscription costs 2 (the message and its author) when it starts: two fit in 5 points,
    // a third does not.
    for (n, id) in ["1", "2", "3"].into_iter().enumerate() {
        subscribe(
            &mut socket,
            id,
            "subscription($p: ID!) { messageAdded(projectId: $p) { id author { id } } }",
            json!({ "p": project }),
            false,
        )
        .await;
        if n < 2 {
            // Charged and live before the next one is sent.
            live(&app, &team, &project, n + 1).await;
        }
    }
    let refused = next_json(&mut socket).await.unwrap();
    assert_eq!(refused["id"], "3", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );
    assert!(
        refused["payload"]["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some()
    );
}

/// The server pings every `WS_KEEPALIVE_SECS` and closes only a socket that stops answering: a
/// default client (it sends nothing itself, and answers pings as every client does) keeps its
/// subscription for many intervals; a client that stops reading is closed with 3008.
#[tokio::test]
async fn keepalive_pings_keep_a_silent_client_and_close_a_dead_one() {
    let app = spawn_app_with(|c| c.ws_keepalive_secs = 1).await;
    let (team, project, _) = setup(&app).await;
    let mut alive = watch_messages(&app, &team, &team.client, &project).await;
    let mut dead = watch_messages(&app, &team, &team.collaborator, &project).await;
    // Five intervals: `alive` is read (pings answered), `dead` is not read at all.
    let mut pings = 0;
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while let Ok(frame) = tokio::time::timeout_at(until, alive.next()).await {
        match frame.unwrap().unwrap() {
            Frame::Text(text) if text.contains("\"ping\"") => {
                pings += 1;
                let pong = json!({ "type": "pong" }).to_string();
                alive.send(Frame::text(pong)).await.unwrap();
            }
            Frame::Close(close) => panic!("a live client was closed: {close:?}"),
            _ => {}
        }
    }
    assert!(pings >= 3, "the server pinged {pings} times in 5 s");
    post(&app, &team.owner, &project, "still there?").await;
    let delivered = next_json(&mut alive)
        .await
        .expect("the subscription lives on");
    assert_eq!(
        delivered["payload"]["data"]["messageAdded"]["body"], "still there?",
        "{delivered}"
    );
    // The dead client learns it only when it reads again: its automatic pong then finds the
    // connection closed (or it reads the close frame first, which says 3008).
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match dead.next().await {
                Some(Ok(Frame::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await;
    let code = ended.expect("the server closed the silent socket");
    assert!(code.is_none_or(|c| c == 3008), "closed with {code:?}");
}
