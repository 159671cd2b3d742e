//! The embedded default's object route (`PUT`/`GET /storage/object?…`): signed URLs minted by the
//! file service, answered like S3 would (403 for a bad or expired signature, 400 for a body that
//! differs from its signed terms, 412 when the object already exists), streaming both ways.

use crate::app::AppState;
use crate::storage::local::{LocalSigner, Refusal};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

/// The local signer; on S3 the route does not exist.
fn signer(state: &AppState) -> Result<&LocalSigner, Refusal> {
    state.storage.local().ok_or(Refusal::Missing)
}

fn refused(refusal: Refusal) -> Response {
    let status = match &refusal {
        Refusal::BadSignature | Refusal::Expired => StatusCode::FORBIDDEN,
        Refusal::HeaderMismatch(_) | Refusal::TooLarge | Refusal::DigestMismatch => {
            StatusCode::BAD_REQUEST
        }
        Refusal::Exists => StatusCode::PRECONDITION_FAILED,
        Refusal::Missing => StatusCode::NOT_FOUND,
        Refusal::Io(e) => {
            tracing::error!(error = ?e, "local storage failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "storage failed").into_response();
        }
    };
    (status, refusal.to_string()).into_response()
}

/// Stores one upload, if its URL, headers and body match what was signed.
pub async fn put(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match store(&state, query.as_deref().unwrap_or_default(), &headers, body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(refusal) => refused(refusal),
    }
}

async fn store(
    state: &AppState,
    query: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), Refusal> {
    let signer = signer(state)?;
    let grant = signer.verify_put(query)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    use base64::Engine;
    let checksum = base64::engine::general_purpose::STANDARD.encode(grant.terms.sha256);
    let expected = [
        ("content-type", grant.terms.content_type.as_str()),
        ("x-amz-checksum-sha256", checksum.as_str()),
        ("if-none-match", "*"),
    ];
    for (name, value) in expected {
        if header(name) != Some(value) {
            return Err(Refusal::HeaderMismatch(name));
        }
    }
    signer.receive(&grant, body.into_data_stream()).await
}

/// Streams one object, typed and disposed as its URL says.
pub async fn get(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    match serve(&state, query.as_deref().unwrap_or_default()).await {
        Ok(response) => response,
        Err(refusal) => refused(refusal),
    }
}

async fn serve(state: &AppState, query: &str) -> Result<Response, Refusal> {
    let signer = signer(state)?;
    let grant = signer.verify_get(query)?;
    let (file, len) = signer.open(&grant.key).await?;
    let (Ok(content_type), Ok(disposition)) = (
        HeaderValue::from_str(&grant.content_type),
        HeaderValue::from_str(&grant.disposition),
    ) else {
        return Err(Refusal::BadSignature);
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    // Nothing served here runs in the portal's origin.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; object-src 'self'; sandbox"),
    );
    Ok(response)
}
