//! `POST /webhooks/stripe`: verify the signature over the raw body, then apply the event. A bad
//! signature, a stale timestamp or a malformed body answers 400 and changes nothing; a database
//! failure answers 503 so that Stripe delivers the event again.

use super::{events, stripe};
use crate::app::AppState;
use crate::db::audit::{self, Actor, ActorType, Frame, Source};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::json;
use std::sync::Arc;

/// Handles one Stripe delivery.
pub async fn handle(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = state.config.stripe_webhook_secret.as_ref() else {
        return reply(
            StatusCode::NOT_FOUND,
            json!({ "error": "Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)" }),
        );
    };
    let Ok(payload) = std::str::from_utf8(&body) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "error": "the body is not UTF-8" }),
        );
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let incoming = match stripe::verify_webhook(payload, signature, secret) {
        Ok(incoming) => incoming,
        Err(rejection) => {
            tracing::warn!(%rejection, "Stripe webhook refused");
            return reply(
                StatusCode::BAD_REQUEST,
                json!({ "error": rejection.to_string() }),
            );
        }
    };
    let id = incoming.id.clone();
    // Received webhooks are audited in the transaction that records them.
    let actor = Actor {
        actor_type: ActorType::Webhook,
        ..Actor::system(Source::Webhook)
    };
    let args = json!({ "id": incoming.id, "type": incoming.kind });
    let frame = Frame::new(actor, "stripeEvent.receive".to_owned(), true, args);
    match audit::within(Arc::new(frame), events::apply(&state, incoming)).await {
        Ok(outcome) => reply(
            StatusCode::OK,
            json!({ "received": true, "outcome": outcome.as_str() }),
        ),
        Err(err) => {
            tracing::error!(event = %id, error = ?err.into_anyhow(), "Stripe webhook not applied; Stripe will retry");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "temporarily unavailable" }),
            )
        }
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}
