//! The S3 backend: the client (short retries, so an unreachable S3 answers UNAVAILABLE within
//! seconds rather than minutes) and its SigV4-presigned URLs.

use crate::config::FilesConfig;
use crate::error::{ApiError, ApiResult};
use anyhow::Context;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::{HeaderName, HeaderValue, Method, SignedUrlOptions, Signer};
use object_store::{ClientOptions, RetryConfig};
use std::time::Duration;

/// The client of `S3_BUCKET`, at `endpoint` when set (path-style, as MinIO wants).
pub(super) fn build(files: &FilesConfig, endpoint: Option<&str>) -> anyhow::Result<AmazonS3> {
    let bucket = files.s3_bucket.as_deref().context("S3_BUCKET is not set")?;
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_region(&files.s3_region)
        .with_retry(RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(5),
            ..RetryConfig::default()
        })
        .with_client_options(
            ClientOptions::new()
                .with_connect_timeout(Duration::from_secs(3))
                .with_timeout(Duration::from_secs(60)),
        );
    if let Some(endpoint) = endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    if let (Some(id), Some(secret)) = (&files.s3_access_key_id, &files.s3_secret_access_key) {
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret.expose());
    }
    builder.build().context("configuring S3")
}

/// A SigV4 `PUT` URL binding `headers` (content type, checksum, `If-None-Match`).
pub(super) async fn presign_put(
    s3: &AmazonS3,
    path: &Path,
    headers: &[(String, String)],
    ttl: Duration,
) -> ApiResult<String> {
    let mut options = SignedUrlOptions::new();
    for (name, value) in headers {
        let name = HeaderName::try_from(name.as_str()).map_err(ApiError::internal)?;
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|_| ApiError::bad_field("contentType", "not a valid header value"))?;
        options = options.with_signed_header(name, value);
    }
    s3.signed_url_opts(Method::PUT, path, ttl, &options)
        .await
        .map(String::from)
        .map_err(ApiError::unavailable)
}

/// A SigV4 `GET` URL whose response carries `content_type` and `disposition`.
pub(super) async fn presign_get(
    s3: &AmazonS3,
    path: &Path,
    content_type: &str,
    disposition: &str,
    ttl: Duration,
) -> ApiResult<String> {
    let options = SignedUrlOptions::new().with_query([
        ("response-content-type", content_type),
        ("response-content-disposition", disposition),
    ]);
    s3.signed_url_opts(Method::GET, path, ttl, &options)
        .await
        .map(String::from)
        .map_err(ApiError::unavailable)
}
