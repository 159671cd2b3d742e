//! Routes and middleware: request ids, a tracing span per request, CORS from the allow-list,
//! body and time limits, and panics turned into a JSON GraphQL error.

use super::{errors, graphiql, graphql, health, security, storage, unsubscribe, ws};
use crate::app::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use http::{HeaderName, HeaderValue, Method, Request};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The request-id header, set when the client did not send one.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the router of a running app.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/graphql", get(graphql::handle).post(graphql::handle))
        .route("/graphql/ws", get(ws::handle))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/unsubscribe",
            get(unsubscribe::confirm).post(unsubscribe::apply),
        )
        .route(
            "/webhooks/stripe",
            axum::routing::post(crate::payment::webhook::handle),
        );
    if state.payments.is_local_test() {
        router = router.route(
            "/dev/checkout/{session}",
            get(crate::payment::checkout_page::show).post(crate::payment::checkout_page::complete),
        );
    }
    if state.config.graphiql_enabled() {
        router = router
            .route("/graphiql", get(graphiql::page))
            .route("/graphiql/assets/{name}", get(graphiql::asset));
    }
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    let body_limit = state.config.max_body_bytes;
    let cors = cors_layer(&state.config.cors_origins());
    let objects = objects_router(&state);
    if state.config.observability.metrics_token.is_some() {
        router = router.merge(super::metrics::routes());
    }
    let tracked = state.clone();
    let api = router
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(DefaultBodyLimit::max(body_limit))
                .layer(TimeoutLayer::with_status_code(
                    http::StatusCode::REQUEST_TIMEOUT,
                    timeout,
                )),
        )
        // A declared Content-Length over the limit is refused (413) before anything reads it.
        .layer(RequestBodyLimitLayer::new(body_limit));
    api.merge(objects).layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(
                        |res: &http::Response<_>, _: Duration, span: &tracing::Span| {
                            if crate::telemetry::traces::enabled() {
                                let status = i64::from(res.status().as_u16());
                                span.record("http.response.status_code", status);
                            }
                        },
                    ),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(axum::middleware::from_fn(security::headers))
            .layer(axum::middleware::from_fn_with_state(
                tracked,
                super::metrics::track,
            ))
            .layer(CatchPanicLayer::custom(errors::panic_response))
            .layer(cors),
    )
}

/// The request's span: named `METHOD route` (the route, not the path, so object keys never
/// name a span), with OpenTelemetry's semantic attributes, joined to the caller's trace.
fn request_span<B>(req: &Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
        otel.name = tracing::field::Empty,
        otel.kind = tracing::field::Empty,
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    // What only traces read is recorded only when they are on: the logs keep their fields.
    if crate::telemetry::traces::enabled() {
        let route = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map_or("other", |p| p.as_str());
        span.record("otel.name", format!("{} {route}", req.method()));
        span.record("otel.kind", "server");
        span.record("http.route", route);
        crate::telemetry::traces::adopt_parent(&span, req.headers());
    }
    span
}

/// The embedded default's signed object route. Its uploads are as long as their signed length
/// (bounded by the file size limit), not the GraphQL body limit, and may take longer than a
/// GraphQL request; an empty router on S3.
fn objects_router(state: &AppState) -> Router {
    if state.storage.local().is_none() {
        return Router::new();
    }
    Router::new()
        .route(
            crate::storage::local::ROUTE,
            get(storage::get).put(storage::put),
        )
        .layer(DefaultBodyLimit::disable())
        // A transfer may last as long as its URL (a slow client cannot hold a socket forever).
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.config.files.file_upload_url_ttl_secs.max(1)),
        ))
        .with_state(state.clone())
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::OPTIONS])
        .allow_headers([
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            http::header::IF_NONE_MATCH,
            HeaderName::from_static("x-amz-checksum-sha256"),
            HeaderName::from_static("x-workspace"),
            HeaderName::from_static("x-api-key"),
            REQUEST_ID,
        ])
        .expose_headers([
            REQUEST_ID,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
        ])
        .max_age(Duration::from_secs(600))
}
