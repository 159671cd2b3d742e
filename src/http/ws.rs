//! `/graphql/ws`: graphql-transport-ws (and the legacy subscriptions-transport-ws).
//!
//! Portico performs the `connection_init` handshake itself, before async-graphql sees the socket,
//! so that it answers with the protocol's close codes: 4403 when the init carries no valid
//! credentials, 4401 when something else comes first, 4400 for garbage, 4408 when no init arrives
//! in time. The payload is `{"authorization": "Bearer …", "workspace": "slug"}`.
//!
//! After the handshake: the connection's credentials are kept for per-event re-checks
//! ([`LiveCredentials`]); the socket is closed with 4403 when the access token expires; outgoing
//! messages pass through a bounded queue (a slow reader makes its subscriptions fall behind and
//! end with an explicit error, never silent loss); keepalive pings run; a user holds at most
//! `ws_max_sockets_per_user` sockets per instance; an init whose credentials cannot be checked
//! (database down) is closed with 1013; and a shutting-down server closes every socket with 1001.

use crate::app::AppState;
use crate::auth::Principal;
use crate::graphql::RequestContext;
use crate::graphql::context::ClientInfo;
use crate::graphql::live::LiveCredentials;
use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use http::HeaderMap;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// Read in small chunks (larger frames still arrive whole, up to `ws_max_message_bytes`): an idle
/// connection costs a few KiB instead of axum's ~130 KB default.
const READ_CHUNK_BYTES: usize = 1024;

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
        .read_buffer_size(READ_CHUNK_BYTES)
        // Write each message at once rather than batching them in a per-socket buffer.
        .write_buffer_size(0)
        .max_frame_size(state.config.ws_max_message_bytes)
        .max_message_size(state.config.ws_max_message_bytes)
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
    let _open = state.shutdown.socket();
    let going_away = state.shutdown.begun();
    tokio::pin!(going_away);
    if state.shutdown.has_begun() {
        return close(&mut sink, 1001, GOING_AWAY).await;
    }
    let init_timeout = Duration::from_secs(state.config.ws_init_timeout_secs.max(1));
    let first = match tokio::time::timeout(init_timeout, stream.next()).await {
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
    // Boxed: this task lives as long as the socket, and an inline handshake future would keep
    // its (large) state for the socket's whole life.
    let (data, user_id, expires_at, is_key) = match Box::pin(authenticate(&state, addr, &payload))
        .await
    {
        Ok(found) => found,
        Err(Refused::Unavailable) => {
            return close(
                &mut sink,
                1013,
                "Try again later: the credentials could not be checked",
            )
            .await;
        }
        Err(Refused::Forbidden(reason)) => {
            if legacy {
                let error = json!({ "type": "connection_error", "payload": { "message": reason } });
                let _ = sink.send(Message::Text(error.to_string().into())).await;
            }
            return close(&mut sink, 4403, &format!("Forbidden: {reason}")).await;
        }
    };
    let Some(_socket_slot) = state
        .sockets
        .enter(user_id, state.config.ws_max_sockets_per_user)
    else {
        return close(&mut sink, 4429, "Too many connections for this user").await;
    };
    // Put the init back in front of the stream: async-graphql acknowledges it with our data.
    // Every frame the client sends (pongs included) proves it is alive.
    let started = tokio::time::Instant::now();
    let heard = Arc::new(AtomicU64::new(0));
    let heard_in = heard.clone();
    let stream = futures_util::stream::once(async move { Ok(first) })
        .chain(stream)
        .inspect(move |_| heard_in.store(millis_since(started), Ordering::Relaxed));
    // The bounded outgoing queue: GraphQL output goes to `tx`; this task writes it to the socket.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(state.config.ws_outbound_queue.max(1));
    let outgoing = futures_util::sink::unfold(tx, |tx, message: Message| async move {
        tx.send(message)
            .await
            .map_err(|_| axum::Error::new(std::io::Error::other("socket writer stopped")))?;
        Ok::<_, axum::Error>(tx)
    });
    let serve =
        GraphQLWebSocket::new_with_pair(Box::pin(outgoing), stream, state.schema.clone(), protocol)
            .on_connection_init(move |_| async move { Ok(data) })
            .serve();
    tokio::pin!(serve);
    let expiry = tokio::time::Instant::now()
        + Duration::from_secs(
            u64::try_from(expires_at - chrono::Utc::now().timestamp()).unwrap_or(0),
        );
    // Keepalive: the server pings every interval (a websocket ping frame, which every client
    // answers, and the protocol's own `ping`, or `ka` for the legacy protocol), and closes only
    // a socket that has sent nothing for three intervals.
    let interval = Duration::from_secs(state.config.ws_keepalive_secs.max(1));
    let mut keepalive = tokio::time::interval_at(started + interval, interval);
    let keepalive_message = if legacy {
        r#"{"type":"ka"}"#
    } else {
        r#"{"type":"ping"}"#
    };
    let mut serving = true;
    loop {
        tokio::select! {
            _ = keepalive.tick() => {
                let silent = millis_since(started).saturating_sub(heard.load(Ordering::Relaxed));
                if u128::from(silent) > 3 * interval.as_millis() {
                    return close(&mut sink, 3008, "Keepalive timeout: the client stopped answering").await;
                }
                // An open socket of a person keeps them active (an API key's counts for nobody).
                if !is_key {
                    state.presence.touch(user_id).await;
                }
                let ping = sink.send(Message::Ping(Default::default())).await;
                let message = sink.send(Message::Text(keepalive_message.into())).await;
                if ping.is_err() || message.is_err() {
                    return;
                }
            }
            () = &mut serve, if serving => serving = false,
            () = &mut going_away => return close(&mut sink, 1001, GOING_AWAY).await,
            message = rx.recv() => match message {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            () = tokio::time::sleep_until(expiry) => {
                return close(&mut sink, 4403, "Forbidden: the access token expired; reconnect with a fresh token").await;
            }
        }
    }
}

/// The reason of the close frame every socket gets when the server shuts down.
const GOING_AWAY: &str = "Going away: the server is shutting down; reconnect";

/// Why a `connection_init` was refused.
enum Refused {
    /// Closed with 4403 and this reason.
    Forbidden(String),
    /// The credentials could not be checked (the database is down): closed with 1013.
    Unavailable,
}

impl From<String> for Refused {
    fn from(reason: String) -> Self {
        Self::Forbidden(reason)
    }
}

/// Milliseconds since `start` (fits any socket's life).
fn millis_since(start: tokio::time::Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Open websockets per user on this instance.
#[derive(Debug, Default)]
pub struct SocketCounts(Mutex<HashMap<Uuid, usize>>);

/// One open socket; leaves its count when dropped.
#[derive(Debug)]
pub struct SocketSlot<'a> {
    counts: &'a SocketCounts,
    user_id: Uuid,
}

impl SocketCounts {
    /// Takes a slot for `user_id`, or `None` when they already hold `max`.
    pub fn enter(&self, user_id: Uuid, max: usize) -> Option<SocketSlot<'_>> {
        let mut counts = self.0.lock().ok()?;
        let count = counts.entry(user_id).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            counts: self,
            user_id,
        })
    }
}

impl Drop for SocketSlot<'_> {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.0.lock()
            && let Some(count) = counts.get_mut(&self.user_id)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.user_id);
            }
        }
    }
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

/// Checks `connection_init`: the socket's request data, the user it counts against, when its
/// credentials expire, and whether they are an API key's.
async fn authenticate(
    state: &AppState,
    addr: SocketAddr,
    payload: &Value,
) -> Result<(Data, Uuid, i64, bool), Refused> {
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| payload.get(*n).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let Some(raw) = field(&[
        "authorization",
        "Authorization",
        "token",
        "apiKey",
        "x-api-key",
    ]) else {
        return Err("connection_init must carry an access token or an API key"
            .to_owned()
            .into());
    };
    let token = match raw.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => raw[7..].trim().to_owned(),
        _ => raw.trim().to_owned(),
    };
    let ip = addr.ip().to_string();
    let principal = state.auth.authenticate_from(&token, Some(&ip)).await;
    let (user_id, expires_at) = match &principal {
        Principal::User(user) => {
            state.presence.touch(user.user_id).await;
            let expires_at = state
                .auth
                .keys()
                .verify(&token)
                .map(|claims| claims.exp)
                .map_err(|_| Refused::from("invalid or expired access token".to_owned()))?;
            (user.user_id, expires_at)
        }
        // A key's sockets count against its creator; a key without expiry keeps its socket.
        Principal::ApiKey(key) => (key.created_by, key.expires_at.unwrap_or(i64::MAX / 2)),
        Principal::Anonymous => {
            return Err("connection_init must carry an access token or an API key"
                .to_owned()
                .into());
        }
        Principal::Rejected(reason) => return Err((*reason).to_owned().into()),
        Principal::Unverified => return Err(Refused::Unavailable),
    };
    let workspace = field(&["workspace", "X-Workspace", "x-workspace"]);
    let client = ClientInfo {
        ip: Some(ip),
        via_graphiql: field(&["client"]).is_some_and(|c| c.eq_ignore_ascii_case("graphiql")),
        ..ClientInfo::default()
    };
    let is_key = matches!(principal, Principal::ApiKey(_));
    let mut data = Data::default();
    data.insert(Arc::new(RequestContext::for_connection(
        state.clone(),
        principal,
        workspace,
        client,
    )));
    data.insert(Arc::new(LiveCredentials {
        token,
        expires_at,
        subscriptions: Arc::new(AtomicUsize::new(0)),
        max_subscriptions: state.config.ws_max_subscriptions,
    }));
    Ok((data, user_id, expires_at, is_key))
}
