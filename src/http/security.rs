//! Security headers on every response: `nosniff` and a referrer policy everywhere; on HTML pages
//! (GraphiQL, the local test checkout, the portal to come) a strict Content-Security-Policy with
//! no third-party origin and no framing; `Cache-Control: no-store` on API answers, which hold
//! personal data.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};

/// The policy of every HTML page: scripts and stylesheets from this origin only (nothing inline),
/// data: fonts and images, requests to this origin only, never framed, forms posted only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the headers once the handler answered.
pub async fn headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/graphql")
        && !request.uri().path().starts_with("/graphiql");
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if api || html {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
