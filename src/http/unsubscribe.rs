//! The one-click unsubscribe route (`GET`/`POST /unsubscribe?…`): `GET` shows a confirmation
//! page with a button, `POST` (the button, or a mail client's RFC 8058 one-click) turns that kind
//! of email off. A link that is not genuine answers 400; a failure, 503 or 500 with the cause
//! logged. Pages are plain HTML with nothing the link's user typed.

use crate::app::AppState;
use crate::error::ApiError;
use crate::notification::unsubscribe;
use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;

fn page(status: StatusCode, title: &str, body: &str, form: Option<&str>) -> Response {
    let button = form.map_or(String::new(), |action| {
        format!(
            "<form method=\"post\" action=\"{action}\"><button type=\"submit\">Stop these emails</button></form>"
        )
    });
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{body}</p>{button}</body></html>"
    );
    (status, Html(html)).into_response()
}

fn invalid() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "This link does not work",
        "It may have been changed or cut. Choose which emails you receive in the portal's notification settings.",
        None,
    )
}

/// The confirmation page.
pub async fn confirm(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    match unsubscribe::check(&state.links, &query) {
        Ok(_) => page(
            StatusCode::OK,
            "Stop these emails?",
            "You will no longer receive emails about this kind of event in this workspace. The portal keeps showing them.",
            // Same path and query: the form posts back what was signed. `&` is escaped for HTML.
            Some(&format!(
                "/unsubscribe?{}",
                query.replace('&', "&amp;").replace('"', "%22")
            )),
        ),
        Err(_) => invalid(),
    }
}

/// Turns the kind of email off (the button, or one-click from the mail client).
pub async fn apply(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let Ok(link) = unsubscribe::check(&state.links, &query.unwrap_or_default()) else {
        return invalid();
    };
    match unsubscribe::apply(&state.db, &link).await {
        Ok(()) => page(
            StatusCode::OK,
            "Done",
            "You will no longer receive these emails. You can turn them back on in the portal's notification settings.",
            None,
        ),
        Err(error) => {
            let status = match &error {
                ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            tracing::error!(error = ?error.into_anyhow(), "an unsubscribe failed");
            page(
                status,
                "Please try again",
                "Something went wrong on our side.",
                None,
            )
        }
    }
}
