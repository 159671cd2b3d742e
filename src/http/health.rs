//! `/healthz` (the process answers) and `/readyz` (its database, and Redis when configured, answer).

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use serde_json::{Value, json};

/// Liveness.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database and the cache answer.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let db = state.db.ping().await;
    let cache = state.cache.get("readyz").await;
    if let Err(err) = &db {
        tracing::warn!(error = ?err, "readiness: database down");
    }
    if let Err(err) = &cache {
        tracing::warn!(error = ?err, "readiness: cache down");
    }
    let ready = db.is_ok() && cache.is_ok();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "unavailable" },
            "database": if db.is_ok() { "ok" } else { "down" },
            "cache": if cache.is_ok() { "ok" } else { "down" },
        })),
    )
}
