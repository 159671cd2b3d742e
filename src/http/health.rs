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
/// stopping; 200 with `"status": "degraded"` when only Redis, the object store or the SMTP
/// server is down: Redis has an in-process fallback, mail waits in the outbox and is retried, and
/// only file transfers need the store, so pulling every instance out would turn a partial outage
/// into a full one. Each dependency is reported: `ok`, `down` or `not configured`.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let smtp_configured = state.config.mail.smtp_url.is_some();
    let (database, redis, storage, smtp) = tokio::join!(
        check("database", async {
            state.db.ping().await.map_err(Into::into)
        }),
        check("redis", state.cache.ping()),
        check("object store", state.storage.ping()),
        check("smtp", async {
            state.mailer.ping().await.unwrap_or(Ok(()))
        }),
    );
    let stopping = state.shutdown.has_begun();
    let state_of = |configured: bool, up: bool| match (configured, up) {
        (false, _) => "not configured",
        (true, true) => "ok",
        (true, false) => "down",
    };
    let redis_state = state_of(state.config.redis_url.is_some(), redis);
    let smtp_state = state_of(smtp_configured, smtp);
    let storage_state = state_of(true, storage);
    let degraded = [redis_state, smtp_state, storage_state].contains(&"down");
    let (status, label) = if stopping {
        (StatusCode::SERVICE_UNAVAILABLE, "stopping")
    } else if !database {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    } else if degraded {
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
            "objectStore": storage_state,
            "smtp": smtp_state,
        })),
    )
}
