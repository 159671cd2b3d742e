//! `Idempotency-Key` on mutations, as Stripe's API has it: a retry with the same key and body
//! answers the first result instead of doing the work twice.
//!
//! Keys belong to one caller (a user, or an API key); anonymous requests are not covered, since
//! their stored answer could not be tied to anyone. The first request claims the key (a row
//! locked for the request timeout); a concurrent one answers 409 CONFLICT; a different body with
//! the same key answers 422; a response is stored sealed for `IDEMPOTENCY_TTL_SECS` and replayed
//! with `Idempotent-Replayed: true`. A response of 5xx (a dependency was down, nothing was done)
//! is not stored, so a retry runs again.

use super::errors::error_response;
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::idempotency::{self, Claim};
use crate::error::ErrorCode;
use async_graphql::BatchRequest;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Responses larger than this are not stored (the request answers normally, and its key stays
/// locked until the lock lapses).
const MAX_STORED_BYTES: usize = 1024 * 1024;

/// A claimed key: the request runs, then [`finish`] stores or releases it.
#[derive(Debug)]
pub struct Claimed {
    scope: String,
    key: String,
}

/// The `Idempotency-Key` of `headers`, checked: 1 to 255 visible ASCII characters.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, Box<Response>> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(Box::new(error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ))),
    }
}

/// Whose keys these are; `None` for callers that are not covered.
fn scope_of(principal: &Principal) -> Option<String> {
    match principal {
        Principal::User(user) => Some(format!("user:{}", user.user_id)),
        Principal::ApiKey(key) => Some(format!("key:{}", key.key_id)),
        Principal::Anonymous | Principal::Rejected(_) | Principal::Unverified => None,
    }
}

/// SHA-256 of what the request asks: every operation's text, name, variables and extensions,
/// and the selected workspace.
fn request_hash(batch: &BatchRequest, workspace: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(workspace.unwrap_or_default().as_bytes());
    for request in batch.iter() {
        hasher.update([0]);
        hasher.update(request.query.as_bytes());
        hasher.update([0]);
        hasher.update(
            request
                .operation_name
                .as_deref()
                .unwrap_or_default()
                .as_bytes(),
        );
        hasher.update([0]);
        hasher.update(serde_json::to_vec(&request.variables).unwrap_or_default());
        let extensions: BTreeMap<_, _> = request.extensions.0.iter().collect();
        hasher.update(serde_json::to_vec(&extensions).unwrap_or_default());
    }
    hex::encode(hasher.finalize())
}

/// Claims `key` for this request, or answers at once (replay, mismatch, still running).
pub async fn begin(
    state: &AppState,
    principal: &Principal,
    key: String,
    batch: &BatchRequest,
    workspace: Option<&str>,
) -> Result<Option<Claimed>, Box<Response>> {
    let Some(scope) = scope_of(principal) else {
        return Ok(None);
    };
    let hash = request_hash(batch, workspace);
    let now = chrono::Utc::now();
    let lock = chrono::Duration::seconds(
        i64::try_from(state.config.request_timeout_secs.saturating_add(5)).unwrap_or(60),
    );
    let ttl = chrono::Duration::seconds(
        i64::try_from(state.config.idempotency_ttl_secs).unwrap_or(86_400),
    );
    let claim = idempotency::claim(&state.db, &scope, &key, &hash, now + lock, now + ttl).await;
    let answer = match claim {
        Ok(Claim::Run) => return Ok(Some(Claimed { scope, key })),
        Ok(Claim::Replay {
            status,
            content_type,
            sealed,
        }) => replay(state, status, &content_type, &sealed),
        Ok(Claim::Mismatch) => error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BadUserInput,
            "this Idempotency-Key was already used with a different request",
        ),
        Ok(Claim::InProgress) => {
            let mut response = error_response(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                "a request with this Idempotency-Key is still running: retry later",
            );
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(1));
            response
        }
        Err(err) => super::graphql::unavailable_response(err),
    };
    Err(Box::new(answer))
}

fn replay(state: &AppState, status: u16, content_type: &str, sealed: &str) -> Response {
    let body = match state.responses.open(sealed) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = ?err, "a stored idempotent response cannot be opened");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
            );
        }
    };
    let mut response = Body::from(body).into_response();
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Stores the response for replay (or releases the key after a 5xx), and returns it.
pub async fn finish(state: &AppState, claimed: Claimed, response: Response) -> Response {
    let status = response.status();
    if status.is_server_error() {
        if let Err(err) = idempotency::release(&state.db, &claimed.scope, &claimed.key).await {
            tracing::warn!(error = ?err, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    // The work is done whatever happens below: the response always goes back to the caller.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(error = ?err, "reading a GraphQL response body");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
            );
        }
    };
    if bytes.len() > MAX_STORED_BYTES {
        // Not kept: the key stays locked until its lock lapses (a retry meanwhile answers 409),
        // rather than released for a retry that would do the work again.
        tracing::warn!(
            bytes = bytes.len(),
            "an idempotent response too large to keep"
        );
        return Response::from_parts(parts, Body::from(bytes));
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let stored = match state.responses.seal(&bytes) {
        Ok(sealed) => idempotency::store(
            &state.db,
            &claimed.scope,
            &claimed.key,
            status.as_u16(),
            &content_type,
            sealed,
        )
        .await
        .map_err(anyhow::Error::from),
        Err(err) => Err(err),
    };
    if let Err(err) = stored {
        // The key stays locked until its lock lapses; a retry meanwhile answers 409.
        tracing::error!(error = ?err, "could not store an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}
