//! The server loop: bind, serve with client addresses, stop gracefully on Ctrl-C or SIGTERM
//! (see [`super::shutdown`]).

use super::router;
use crate::app::AppState;
use anyhow::Context;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves `state` on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    serve_until(state, listener, shutdown_signal()).await
}

/// Serves until `signal` resolves, then drains: no new connections, websockets closed with 1001,
/// in-flight requests finished, all within `SHUTDOWN_GRACE_SECS`.
pub async fn serve_until(
    state: AppState,
    listener: TcpListener,
    signal: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    let app = router(state.clone());
    let switch = state.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        signal.await;
        switch.shutdown.begin();
    })
    .into_future();
    let drain = async {
        state.shutdown.begun().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server => served.context("HTTP server")?,
        () = drain => {
            tracing::warn!(grace_secs = grace.as_secs(), "shutdown grace over: dropping what is left");
            return Ok(());
        }
    }
    // Requests are done; websockets were told to close and may still be sending their frame.
    if tokio::time::timeout(grace, state.shutdown.drained())
        .await
        .is_err()
    {
        tracing::warn!(
            open = state.shutdown.open_sockets(),
            "websockets still open after the grace period"
        );
    }
    // Refusals still being written to the audit log.
    if tokio::time::timeout(grace, state.db.detached_settled())
        .await
        .is_err()
    {
        tracing::warn!("audit writes still running after the grace period");
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
