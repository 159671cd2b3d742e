//! `/graphql/ws`: graphql-transport-ws (and the legacy subscriptions-transport-ws).
//!
//! Portico performs the `connection_init` handshake itself, before async-graphql sees the socket,
//! so that it answers with the protocol's close codes: 4403 when the init carries no valid
//! credentials, 4401 when something else comes first, 4400 for garbage, 4408 when no init arrives
//! in time. The payload is `{"authorization": "Bearer …", "workspace": "slug"}`.

use super::graphql::principal_of;
use crate::app::AppState;
use crate::auth::Principal;
use crate::graphql::RequestContext;
use crate::graphql::context::ClientInfo;
use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Small buffers: an idle connection costs a few KiB instead of axum's ~130 KB default.
const BUFFER_BYTES: usize = 4 * 1024;
/// Largest websocket frame and message accepted.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// How long a client has to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Upgrades to a GraphQL websocket.
pub async fn handle(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let legacy = headers
        .get(http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.contains("graphql-transport-ws") && v.contains("graphql-ws"));
    upgrade
        .read_buffer_size(BUFFER_BYTES)
        .write_buffer_size(BUFFER_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_socket(state, addr, protocol, legacy, socket))
        .into_response()
}

async fn serve_socket(
    state: AppState,
    addr: SocketAddr,
    protocol: GraphQLProtocol,
    legacy: bool,
    socket: WebSocket,
) {
    let (mut sink, mut stream) = socket.split();
    let first = match tokio::time::timeout(INIT_TIMEOUT, stream.next()).await {
        Err(_) => return close(&mut sink, 4408, "Connection initialisation timeout").await,
        Ok(None | Some(Err(_))) => return,
        Ok(Some(Ok(message))) => message,
    };
    let init = match &first {
        Message::Text(text) => serde_json::from_str::<Value>(text.as_str()).ok(),
        _ => None,
    };
    let Some(init) = init else {
        return close(&mut sink, 4400, "Invalid message").await;
    };
    if init["type"] != "connection_init" {
        return close(&mut sink, 4401, "Unauthorized").await;
    }
    let payload = init.get("payload").cloned().unwrap_or(Value::Null);
    let data = match authenticate(&state, addr, &payload).await {
        Ok(data) => data,
        Err(reason) => {
            if legacy {
                let error = json!({ "type": "connection_error", "payload": { "message": reason } });
                let _ = sink.send(Message::Text(error.to_string().into())).await;
            }
            return close(&mut sink, 4403, &format!("Forbidden: {reason}")).await;
        }
    };
    // Put the init back in front of the stream: async-graphql acknowledges it with our data.
    let stream = futures_util::stream::once(async move { Ok(first) }).chain(stream);
    GraphQLWebSocket::new_with_pair(sink, stream, state.schema.clone(), protocol)
        .on_connection_init(move |_| async move { Ok(data) })
        .serve()
        .await;
}

async fn close<S>(sink: &mut S, code: u16, reason: &str)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: reason.chars().take(120).collect::<String>().into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}

async fn authenticate(state: &AppState, addr: SocketAddr, payload: &Value) -> Result<Data, String> {
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| payload.get(*n).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let mut headers = HeaderMap::new();
    if let Some(token) = field(&["authorization", "Authorization"]) {
        let value = if token.to_ascii_lowercase().starts_with("bearer ") {
            token
        } else {
            format!("Bearer {token}")
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(http::header::AUTHORIZATION, v);
        }
    }
    let principal = principal_of(state, &headers).await;
    match &principal {
        Principal::User(_) => {}
        Principal::Anonymous => return Err("connection_init must carry an access token".to_owned()),
        Principal::Rejected(reason) => return Err((*reason).to_owned()),
    }
    let workspace = field(&["workspace", "X-Workspace", "x-workspace"]);
    let client = ClientInfo {
        ip: Some(addr.ip().to_string()),
        ..ClientInfo::default()
    };
    let mut data = Data::default();
    data.insert(Arc::new(RequestContext::new(
        state.clone(),
        principal,
        workspace,
        client,
    )));
    Ok(data)
}
