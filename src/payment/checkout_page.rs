//! The embedded default's local test checkout (mounted only without Stripe in the embedded
//! default): a clearly labelled page standing in for Stripe's, whose button completes the payment
//! through the same code path as a `checkout.session.completed` webhook. Knowing the session id
//! (a random 128-bit value handed to the paying client) is what allows paying, as on Stripe.

use super::events::{self, CheckoutFacts, EventBody, Incoming};
use crate::app::AppState;
use crate::db::AcrossTenants;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use entity::payment_request;
use http::StatusCode;
use sea_orm::{ColumnTrait, QueryFilter};

/// `GET /dev/checkout/{session}`: what is being paid, and a button.
pub async fn show(State(state): State<AppState>, Path(session): Path<String>) -> Response {
    match find(&state, &session).await {
        Ok(Some(request)) => page(
            StatusCode::OK,
            &format!(
                "<p>Pay <strong>{}</strong>: {}</p>\
                 <form method=\"post\"><button type=\"submit\">Pay (test, no money moves)</button></form>",
                escape(&request.title),
                amount(&request)
            ),
        ),
        Ok(None) => page(
            StatusCode::NOT_FOUND,
            "<p>This checkout does not exist or has expired.</p>",
        ),
        Err(err) => failure(err),
    }
}

/// `POST /dev/checkout/{session}`: completes the payment as a webhook would.
pub async fn complete(State(state): State<AppState>, Path(session): Path<String>) -> Response {
    let request = match find(&state, &session).await {
        Ok(Some(request)) => request,
        Ok(None) => {
            return page(
                StatusCode::NOT_FOUND,
                "<p>This checkout does not exist or has expired.</p>",
            );
        }
        Err(err) => return failure(err),
    };
    let incoming = Incoming {
        id: format!("local_evt_{session}"),
        kind: "checkout.session.completed".to_owned(),
        body: EventBody::CheckoutCompleted(CheckoutFacts {
            session_id: session.clone(),
            request_id: Some(request.id),
            amount_total: Some(request.amount_minor),
            currency: Some(request.currency.clone()),
            paid: true,
            payment_intent: Some(format!("local_pi_{session}")),
        }),
    };
    match events::apply(&state, incoming).await {
        Ok(outcome) => page(
            StatusCode::OK,
            &format!(
                "<p><strong>{}</strong> is paid (test). Outcome: {}.</p>",
                escape(&request.title),
                outcome.as_str()
            ),
        ),
        Err(err) => failure(err.into_anyhow()),
    }
}

async fn find(state: &AppState, session: &str) -> anyhow::Result<Option<payment_request::Model>> {
    if !session.starts_with("local_cs_") {
        return Ok(None);
    }
    let found =
        AcrossTenants::because("the local test checkout names its session, not its workspace")
            .find::<payment_request::Entity>()
            .filter(payment_request::Column::CheckoutSessionId.eq(session))
            .one(state.db.conn())
            .await?;
    Ok(found.filter(|r| r.checkout_expires_at.is_none_or(|at| at > Utc::now())))
}

fn amount(request: &payment_request::Model) -> String {
    format!(
        "{}.{:02} {}",
        request.amount_minor / 100,
        request.amount_minor % 100,
        escape(&request.currency)
    )
}

fn failure(err: anyhow::Error) -> Response {
    tracing::error!(error = ?err, "local test checkout failed");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "<p>Something went wrong; try again.</p>",
    )
}

fn page(status: StatusCode, body: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Portico test checkout</title></head>\
             <body>\
             <p><mark><strong>LOCAL TEST CHECKOUT</strong>: \
             this Portico runs without Stripe. No real payment happens here.</mark></p>{body}</body></html>"
        )),
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
