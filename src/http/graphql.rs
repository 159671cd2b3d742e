//! `GET|POST /graphql`: authenticates the caller, builds the request context, executes, and makes
//! sure every error carries `extensions.code`. An operation that failed whole because a dependency
//! is down answers 503 with `Retry-After`; mutations honour `Idempotency-Key` (see
//! [`super::idempotency`]).

use super::errors::error_response;
use super::router::REQUEST_ID;
use super::wire;
use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ErrorCode;
use crate::graphql::RequestContext;
use crate::graphql::context::ClientInfo;
use crate::graphql::safe_methods::{MUTATION_OVER_GET, is_mutation};
use async_graphql::{BatchResponse, ErrorExtensionValues, Value};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode, Uri};
use std::net::SocketAddr;
use std::sync::Arc;

/// The bearer token of `Authorization: Bearer …`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Who is calling: anonymous without credentials, otherwise whatever the token proves.
async fn principal_of(state: &AppState, headers: &HeaderMap, ip: Option<&str>) -> Principal {
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    match (bearer(headers), api_key) {
        (Some(_), Some(_)) => {
            Principal::Rejected("send either `Authorization: Bearer` or `X-API-Key`, not both")
        }
        (None, Some(key)) => state.auth.authenticate_from(key.trim(), ip).await,
        (None, None) if headers.contains_key(http::header::AUTHORIZATION) => {
            Principal::Rejected("the Authorization header must be `Bearer <token>`")
        }
        (None, None) => Principal::Anonymous,
        (Some(token), None) => state.auth.authenticate_from(token, ip).await,
    }
}

fn client_info(headers: &HeaderMap, addr: SocketAddr) -> ClientInfo {
    ClientInfo {
        ip: Some(addr.ip().to_string()),
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        request_id: headers
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        via_graphiql: headers
            .get("x-portico-client")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"graphiql")),
    }
}

/// Executes a GraphQL request (or batch).
pub async fn handle(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let media = match wire::negotiate(&headers) {
        Ok(media) => media,
        Err(refused) => return *refused,
    };
    let batch = match wire::read_request(&method, &headers, &uri, &body) {
        Ok(batch) => batch,
        Err(refused) => return *refused,
    };
    drop(body);
    // A fast refusal of a mutation's own text; a hash replaced by a stored text is judged on
    // the final document by `graphql::safe_methods`.
    if method == Method::GET && batch.iter().any(is_mutation) {
        return error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            MUTATION_OVER_GET,
        );
    }
    let operations = batch.iter().count();
    if operations == 0 || operations > state.config.max_batch_operations {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            &format!(
                "a batch holds 1 to {} operations",
                state.config.max_batch_operations
            ),
        );
    }
    let idempotency_key = match super::idempotency::key_of(&headers) {
        Ok(key) if method == Method::POST && batch.iter().any(is_mutation) => key,
        Ok(_) => None,
        Err(refused) => return *refused,
    };
    let ip = addr.ip().to_string();
    let principal = principal_of(&state, &headers, Some(&ip)).await;
    if let Principal::User(user) = &principal {
        state.presence.touch(user.user_id).await;
    }
    let workspace = headers
        .get("x-workspace")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let claimed = match idempotency_key {
        Some(key) => {
            match super::idempotency::begin(&state, &principal, key, &batch, workspace.as_deref())
                .await
            {
                Ok(claimed) => claimed,
                Err(answered) => return *answered,
            }
        }
        None => None,
    };
    let context = Arc::new(RequestContext::new(
        state.clone(),
        principal,
        workspace,
        client_info(&headers, addr),
    ));
    if method == Method::GET {
        context.set_read_only();
    }
    let mut response = state
        .schema
        .execute_batch(batch.data(context.clone()))
        .await;
    ensure_codes(&mut response);
    let unavailable = failed_whole_for_outage(&response);
    let mut reply = wire::write_response(media, response);
    if context.method_refused() {
        *reply.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    } else if let Some(retry_after) = unavailable {
        *reply.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        reply.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from(retry_after),
        );
    }
    if let Some(report) = context.rate_report()
        && report.limit > 0
    {
        let headers = reply.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", report.limit),
            ("x-ratelimit-remaining", report.remaining),
            ("x-ratelimit-reset", report.reset_secs),
        ] {
            headers.insert(name, http::HeaderValue::from(value));
        }
    }
    match claimed {
        Some(claimed) => super::idempotency::finish(&state, claimed, reply).await,
        None => reply,
    }
}

/// `Some(retry_after)` when every operation produced no data and only UNAVAILABLE errors: the
/// request as a whole could not be served (503), rather than one field of it.
fn failed_whole_for_outage(response: &BatchResponse) -> Option<u64> {
    let responses: Vec<&async_graphql::Response> = match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    let mut retry_after = 0;
    for r in responses {
        let no_data = match &r.data {
            Value::Null => true,
            Value::Object(fields) => fields.values().all(|v| *v == Value::Null),
            _ => false,
        };
        if !no_data || r.errors.is_empty() {
            return None;
        }
        for error in &r.errors {
            let ext = error.extensions.as_ref()?;
            if ext.get("code") != Some(&Value::from(ErrorCode::Unavailable.as_str())) {
                return None;
            }
            if let Some(Value::Number(n)) = ext.get("retryAfter") {
                retry_after = retry_after.max(n.as_u64().unwrap_or(1));
            }
        }
    }
    Some(retry_after.max(1))
}

/// A database error outside the executor: 503 UNAVAILABLE, cause logged.
pub fn unavailable_response(err: sea_orm::DbErr) -> Response {
    tracing::warn!(error = ?err, "a dependency is unavailable");
    let mut response = error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        "a service is temporarily unavailable: retry later",
    );
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from(crate::error::UNAVAILABLE_RETRY_AFTER_SECS),
    );
    response
}

/// Errors raised before resolvers run (parse, validation, limits) carry no code: they are all
/// the caller's input, so they get BAD_USER_INPUT.
fn ensure_codes(response: &mut BatchResponse) {
    let responses: Vec<&mut async_graphql::Response> = match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter_mut().collect(),
    };
    for r in responses {
        for error in &mut r.errors {
            let has_code = error
                .extensions
                .as_ref()
                .is_some_and(|e| e.get("code").is_some());
            if !has_code {
                error
                    .extensions
                    .get_or_insert_with(ErrorExtensionValues::default)
                    .set("code", Value::from(ErrorCode::BadUserInput.as_str()));
            }
        }
    }
}
