//! `/metrics` in the Prometheus text format (OpenMetrics), never public: on the API's address
//! it answers only with `Authorization: Bearer <METRICS_TOKEN>` (and does not exist without
//! one); `METRICS_ADDR` serves it alone on a separate address. Also the middleware that times
//! every HTTP request by method, status and matched route.

use crate::app::AppState;
use crate::telemetry::metrics::{HttpLabels, StateLabels};
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, Method, StatusCode, header};
use std::time::Instant;

/// Times a request; the route is the matched pattern (never the raw path), methods outside the
/// standard ones count as `_OTHER`.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "_OTHER",
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = HttpLabels {
        http_request_method: method,
        http_response_status_code: response.status().as_u16(),
        http_route: route,
    };
    state
        .metrics
        .http
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The `/metrics` route, for the API's router (where a token is required).
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// Serves `/metrics` alone on `listener` (`METRICS_ADDR`) until the task is aborted.
pub fn spawn_separate(
    state: AppState,
    listener: tokio::net::TcpListener,
) -> tokio::task::JoinHandle<()> {
    let app = routes().with_state(state);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    })
}

/// Answers the metrics when the token matches (or none is set on the separate address).
async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.observability.metrics_token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let same: bool =
            subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), token.expose().as_bytes()).into();
        if !same {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "metrics need the bearer token (METRICS_TOKEN)\n",
            )
                .into_response();
        }
    }
    refresh(&state).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// Sets the gauges read from other components: outbox backlog and age, the pool, Redis, mail,
/// open websockets.
async fn refresh(state: &AppState) {
    let m = &state.metrics;
    if let Ok(pending) = crate::db::outbox::pending(&state.db).await {
        m.outbox_backlog
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }
    let oldest = crate::db::outbox::pending_ids(&state.db, 1)
        .await
        .ok()
        .and_then(|ids| ids.first().and_then(uuid::Uuid::get_timestamp))
        .map(|ts| {
            let (secs, nanos) = ts.to_unix();
            #[allow(clippy::cast_precision_loss)]
            let at = secs as f64 + f64::from(nanos) / 1e9;
            let now = chrono::Utc::now().timestamp_micros();
            #[allow(clippy::cast_precision_loss)]
            let now = now as f64 / 1e6;
            (now - at).max(0.0)
        });
    m.outbox_oldest_age.set(oldest.unwrap_or(0.0));
    let (size, idle) = state.db.pool_stats();
    for (name, value) in [("in_use", size.saturating_sub(idle)), ("idle", idle)] {
        let labels = StateLabels {
            state: name.to_owned(),
        };
        m.db_pool.get_or_create(&labels).set(i64::from(value));
    }
    let up = state.cache.ping().await.is_ok() && !state.cache.degraded();
    m.redis_up.set(i64::from(up));
    let (sent, failed) = state.mailer.counts();
    for (name, value) in [("sent", sent), ("failed", failed)] {
        let labels = StateLabels {
            state: name.to_owned(),
        };
        let counter = m.emails.get_or_create(&labels);
        counter
            .inner()
            .store(value, std::sync::atomic::Ordering::Relaxed);
    }
    m.websockets
        .set(i64::try_from(state.shutdown.open_sockets()).unwrap_or(i64::MAX));
}
