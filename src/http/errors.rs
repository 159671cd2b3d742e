//! Errors outside the executor, answered in the GraphQL response shape with `extensions.code`.

use crate::error::ErrorCode;
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;
use std::any::Any;

/// A GraphQL-shaped error body.
pub fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (
        status,
        Json(
            json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] }),
        ),
    )
        .into_response()
}

/// What a panic turns into: logged, and answered as INTERNAL without details.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "internal error",
    )
}
