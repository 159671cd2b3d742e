//! The GraphQL-over-HTTP wire format, as the specification states it: reading a request (a JSON
//! body on POST, the query string on GET) with 400 for anything that is not a well-formed GraphQL
//! request and 415 for a body that is not `application/json`; and writing the response in the
//! media type `Accept` asks for (`application/json` when it names none or `*/*`), where
//! `application/graphql-response+json` answers a request error (parsing, validation, variable
//! coercion) with 400 and no `data` entry.

use super::errors::error_response;
use crate::error::ErrorCode;
use async_graphql::{BatchRequest, BatchResponse};
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde_json::Value;

/// The response media types Portico speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: status codes carry request errors.
    GraphQLResponse,
    /// `application/json`: 200 for every well-formed request.
    Json,
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

fn refuse(status: StatusCode, message: &str) -> Box<Response> {
    Box::new(error_response(status, ErrorCode::BadUserInput, message))
}

/// The response media type `Accept` asks for: the `application/graphql-response+json` the client
/// names, unless it weighs `application/json` higher; `application/json` without `Accept`, or for
/// `*/*` and `application/*`; 406 when it accepts neither.
pub fn negotiate(headers: &HeaderMap) -> Result<MediaType, Box<Response>> {
    let Some(accept) = headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(MediaType::Json);
    };
    let (mut graphql, mut json) = (None::<f32>, None::<f32>);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let best = |slot: &mut Option<f32>| *slot = Some(slot.map_or(q, |s| s.max(q)));
        match media.as_str() {
            GRAPHQL_RESPONSE => best(&mut graphql),
            JSON | "*/*" | "application/*" => best(&mut json),
            _ => {}
        }
    }
    match (graphql.filter(|q| *q > 0.0), json.filter(|q| *q > 0.0)) {
        (Some(g), Some(j)) if j > g => Ok(MediaType::Json),
        (Some(_), _) => Ok(MediaType::GraphQLResponse),
        (None, Some(_)) => Ok(MediaType::Json),
        (None, None) => Err(refuse(
            StatusCode::NOT_ACCEPTABLE,
            "this endpoint answers application/graphql-response+json or application/json",
        )),
    }
}

/// Reads the GraphQL request (or batch) of a GET or POST.
pub fn read_request(
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
) -> Result<BatchRequest, Box<Response>> {
    if method == Method::GET {
        let query = uri.query().unwrap_or_default();
        let request = async_graphql::http::parse_query_string(query).map_err(|err| {
            refuse(
                StatusCode::BAD_REQUEST,
                &format!("invalid GraphQL request: {err}"),
            )
        })?;
        let persisted = request.extensions.0.contains_key("persistedQuery");
        if request.query.is_empty() && !persisted {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "the `query` parameter is missing",
            ));
        }
        return Ok(BatchRequest::Single(request));
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or_default().trim();
    let utf8 = parts
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .all(|c| c.trim_matches('"').eq_ignore_ascii_case("utf-8"));
    if !media.eq_ignore_ascii_case(JSON) || !utf8 {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json (UTF-8)",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        refuse(
            StatusCode::BAD_REQUEST,
            &format!("invalid GraphQL request: {err}"),
        )
    })?;
    match &value {
        Value::Array(items) => {
            for item in items {
                check_params(item)?;
            }
        }
        single => check_params(single)?,
    }
    serde_json::from_value(value).map_err(|err| {
        refuse(
            StatusCode::BAD_REQUEST,
            &format!("invalid GraphQL request: {err}"),
        )
    })
}

/// The parameters of one request have the types the specification gives them: `query` a string
/// (absent only for a persisted query), `operationName` a string, `variables` and `extensions`
/// maps (each may be null).
fn check_params(request: &Value) -> Result<(), Box<Response>> {
    let Value::Object(params) = request else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "a GraphQL request is a JSON object",
        ));
    };
    let is =
        |name: &str, ok: fn(&Value) -> bool| params.get(name).is_none_or(|v| v.is_null() || ok(v));
    let persisted = params
        .get("extensions")
        .and_then(|e| e.get("persistedQuery"))
        .is_some();
    if !params.get("query").is_some_and(Value::is_string) && !persisted {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "`query` must be a string with the GraphQL document",
        ));
    }
    for (name, ok) in [
        ("query", Value::is_string as fn(&Value) -> bool),
        ("operationName", Value::is_string),
        ("variables", Value::is_object),
        ("extensions", Value::is_object),
    ] {
        if !is(name, ok) {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                &format!("`{name}` has the wrong type"),
            ));
        }
    }
    Ok(())
}

/// Whether `response` is a request error: nothing executed (no data) and no error has a path.
fn request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// Writes `response` in `media`.
pub fn write_response(media: MediaType, response: BatchResponse) -> Response {
    let mut status = StatusCode::OK;
    let mut body = match serde_json::to_value(&response) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = ?err, "serializing a GraphQL response");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
            );
        }
    };
    if let (MediaType::GraphQLResponse, BatchResponse::Single(single)) = (media, &response)
        && request_error(single)
    {
        let rate_limited = single.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from(ErrorCode::RateLimited.as_str()))
        });
        status = if rate_limited {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::BAD_REQUEST
        };
        if let Value::Object(fields) = &mut body {
            fields.remove("data");
        }
    }
    let mut reply = Body::from(body.to_string()).into_response();
    *reply.status_mut() = status;
    let content_type = match media {
        MediaType::GraphQLResponse => GRAPHQL_RESPONSE,
        MediaType::Json => JSON,
    };
    let headers = reply.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if response.is_ok()
        && let Some(cache_control) = response.cache_control().value()
        && let Ok(value) = HeaderValue::from_str(&cache_control)
    {
        headers.insert(http::header::CACHE_CONTROL, value);
    }
    headers.extend(response.http_headers());
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> MediaType {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ACCEPT, HeaderValue::from_str(value).unwrap());
        negotiate(&headers).unwrap()
    }

    #[test]
    fn accept_picks_the_media_type_the_specification_says() {
        assert_eq!(negotiate(&HeaderMap::new()).unwrap(), MediaType::Json);
        assert_eq!(accept("application/json"), MediaType::Json);
        assert_eq!(accept("*/*"), MediaType::Json);
        assert_eq!(accept(GRAPHQL_RESPONSE), MediaType::GraphQLResponse);
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            MediaType::GraphQLResponse
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            MediaType::Json
        );
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ACCEPT, HeaderValue::from_static("text/html"));
        assert_eq!(
            negotiate(&headers).unwrap_err().status(),
            StatusCode::NOT_ACCEPTABLE
        );
    }
}
