//! The real binary, stopped with SIGTERM while a subscription is open: the socket gets close 1001
//! "going away" (not a dropped connection), and the process exits cleanly within its grace time.
//! Its JSON logs name the operation of a denied field.

use crate::helpers::{serve_process, signal};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn graphql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    workspace: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(workspace) = workspace {
        request = request.header("X-Workspace", workspace);
    }
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn sigterm_closes_open_subscriptions_with_1001_and_exits_cleanly() {
    // The embedded default: this test is about the process, not the database.
    let (mut child, base, dir) = serve_process("shutdown", &[("SHUTDOWN_GRACE_SECS", "5")]).await;
    let client = reqwest::Client::new();
    let registered = graphql(
        &client,
        &base,
        None,
        None,
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        json!({ "i": { "email": "owner@stop.test", "name": "Owner", "password": "correct horse battery staple", "workspaceName": "Stop studio" } }),
    )
    .await;
    let token = registered["register"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let workspaces = graphql(
        &client,
        &base,
        Some(&token),
        None,
        "{ myWorkspaces { workspace { slug } } }",
        json!({}),
    )
    .await;
    let slug = workspaces["myWorkspaces"][0]["workspace"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = graphql(
        &client,
        &base,
        Some(&token),
        Some(&slug),
        "mutation { createProject(input: { name: \"Site\" }) { id } }",
        json!({}),
    )
    .await;
    let project = project["createProject"]["id"].as_str().unwrap().to_owned();

    let mut request = format!("{}/graphql/ws", base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}"), "workspace": slug } });
    socket.send(Frame::text(init.to_string())).await.unwrap();
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription($p: ID!) { messageAdded(projectId: $p) { id } }", "variables": { "p": project } } });
    socket
        .send(Frame::text(subscribe.to_string()))
        .await
        .unwrap();
    // The ack arrives before the subscription could be refused; read until the socket is quiet.
    let ack = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");

    // A denied field: its log line names the operation.
    let denied: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "query WhoAmI { me { id } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(denied["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let stopped_at = Instant::now();
    signal(child.id(), "-TERM");
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Frame::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            other => panic!("no close frame before the connection ended: {other:?}"),
        }
    };
    assert_eq!(code, Some(1001), "going away");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(8),
            "the process did not exit within its grace time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut logs).unwrap();
    let denial = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["target"] == "portico::denied")
        .unwrap_or_else(|| panic!("no denial logged:\n{logs}"));
    assert_eq!(denial["operation"], "WhoAmI", "{denial}");
    assert_eq!(denial["field"], "Query.me", "{denial}");
    let _ = std::fs::remove_dir_all(&dir);
}
