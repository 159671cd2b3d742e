//! Who calls, in the probes and the policy matrix: the five built-in roles of a workspace, a
//! custom staff role holding `project:read`, and an API key restricted to one project. Each
//! answers over HTTP, or for a subscription with the first message of its websocket.

use crate::helpers::*;
use crate::realtime::{next_json, subscribe};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Who calls: a session or an API key.
pub(crate) enum Caller {
    Session(&'static str, Session),
    Key(&'static str, String),
}

impl Caller {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Caller::Session(n, _) | Caller::Key(n, _) => n,
        }
    }

    /// The answer to `query`: over HTTP, or for a subscription the first message of the
    /// websocket (`null` when none comes: the subscription started).
    pub(crate) async fn call(
        &self,
        app: &TestApp,
        keyword: &str,
        query: &str,
        vars: &Value,
    ) -> Value {
        if keyword == "subscription" {
            return self.first_message(app, query, vars).await;
        }
        match self {
            Caller::Session(_, s) => app.query(s, query, vars.clone()).await,
            Caller::Key(_, key) => {
                crate::apikeys::with_key(app, key, false, query, vars.clone()).await
            }
        }
    }
}

impl Caller {
    async fn first_message(&self, app: &TestApp, query: &str, vars: &Value) -> Value {
        let mut socket = self.socket(app).await;
        subscribe(&mut socket, "1", query, vars.clone(), false).await;
        next_json(&mut socket).await.unwrap_or(Value::Null)
    }

    /// A graphql-transport-ws socket of this caller, acknowledged.
    pub(crate) async fn socket(&self, app: &TestApp) -> crate::realtime::Socket {
        let url = format!("{}/graphql/ws", app.address.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        let protocol = "graphql-transport-ws".parse().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocol);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let payload = match self {
            Caller::Session(_, s) => {
                json!({ "authorization": format!("Bearer {}", s.access_token), "workspace": s.workspace })
            }
            Caller::Key(_, key) => json!({ "apiKey": key }),
        };
        let init = json!({ "type": "connection_init", "payload": payload });
        socket.send(Frame::text(init.to_string())).await.unwrap();
        let ack = next_json(&mut socket).await;
        assert_eq!(
            ack.as_ref().map(|a| a["type"].clone()),
            Some(json!("connection_ack")),
            "{ack:?}"
        );
        socket
    }
}

/// The callers of the home workspace: five built-in roles, a custom staff role with
/// `project:read`, and an API key restricted to `project`.
pub(crate) async fn callers(app: &TestApp, home: &Team, project: &str) -> Vec<Caller> {
    let reader = app
        .add_member_with_role(
            home,
            &format!("reader@{}.test", home.workspace_id.simple()),
            "Reader",
            "WORKSPACE_READ, MEMBER_READ, PROJECT_VIEW, PROJECT_READ",
        )
        .await;
    let key = app
        .query(&home.owner, "mutation($p: ID!) { createApiKey(input: {name: \"Partner\", projectIds: [$p], scopes: [WORKSPACE_READ, MEMBER_READ, PROJECT_VIEW, PROJECT_READ, PROJECT_WRITE, TASK_WRITE, TASK_MOVE, TICKET_CREATE, TICKET_DECIDE, MESSAGE_WRITE, PAYMENT_READ, PAYMENT_MANAGE, FILE_WRITE, NOTE_PRIVATE]}) { key } }", json!({ "p": project }))
        .await;
    let key = data(&key)["createApiKey"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    vec![
        Caller::Session("owner", home.owner.clone()),
        Caller::Session("admin", home.admin.clone()),
        Caller::Session("collaborator", home.collaborator.clone()),
        Caller::Session("client", home.client.clone()),
        Caller::Session("guest", home.guest.clone()),
        Caller::Session("reader (custom role)", reader),
        Caller::Key("API key", key),
    ]
}

/// Callers that do not see a project they are not a member of.
pub(crate) fn outsider(caller: &Caller) -> bool {
    matches!(caller.name(), "client" | "guest" | "API key")
}
