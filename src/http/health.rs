//! `/healthz` (the process answers) and `/readyz` (which dependencies answer, each within a
//! bounded time, so a load balancer learns of an outage in under a second).

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// How long readiness waits for each dependency.
const CHECK_TIMEOUT: Duration = Duration::from_millis(800);

/// Liveness.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn check(name: &str, probe: impl Future<Output = anyhow::Result<()>>) -> bool {
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            tracing::warn!(error = ?err, dependency = name, "readiness: down");
            false
        }
        Err(_) => {
            tracing::warn!(dependency = name, "readiness: no answer in time");
            false
        }
    }
}

/// Readiness. 503 when the database is down (nothing works without it) or the instance is
/// stopping; 200 with `"status": "degraded"` when only Redis is down, since every Redis use has
/// an in-process fallback and pulling every instance out would turn a Redis outage into a full
/// one.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (database, redis) = tokio::join!(
        check("database", async {
            state.db.ping().await.map_err(Into::into)
        }),
        check("redis", state.cache.ping()),
    );
    let stopping = state.shutdown.has_begun();
    let redis_state = match (state.config.redis_url.is_some(), redis) {
        (false, _) => "not configured",
        (true, true) => "ok",
        (true, false) => "down",
    };
    let (status, label) = if stopping {
        (StatusCode::SERVICE_UNAVAILABLE, "stopping")
    } else if !database {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    } else if redis_state == "down" {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "ready")
    };
    (
        status,
        Json(json!({
            "status": label,
            "database": if database { "ok" } else { "down" },
            "redis": redis_state,
        })),
    )
}
