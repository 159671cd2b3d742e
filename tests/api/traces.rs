//! OpenTelemetry traces: a real `portico serve` with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a
//! local OTLP/HTTP receiver (here, decoding the protobuf the exporter posts) exports one server
//! span per request, joined to the caller's `traceparent`, with a child span per root field.

use crate::helpers::*;
use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Received = Arc<Mutex<Vec<(String, Span)>>>;

/// An OTLP/HTTP receiver on a free port: every span posted to `/v1/traces`, with the
/// `service.name` of its resource.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let store = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let store = store.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                for resource in request.resource_spans {
                    let service = resource
                        .resource
                        .iter()
                        .flat_map(|r| &r.attributes)
                        .find(|a| a.key == "service.name")
                        .and_then(|a| a.value.as_ref()?.value.clone());
                    let service = match service {
                        Some(Any::StringValue(name)) => name,
                        _ => String::new(),
                    };
                    for scope in resource.scope_spans {
                        for span in scope.spans {
                            store.lock().unwrap().push((service.clone(), span));
                        }
                    }
                }
                (
                    [("content-type", "application/x-protobuf")],
                    ExportTraceServiceResponse::default().encode_to_vec(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, received)
}

fn attribute(span: &Span, key: &str) -> Option<Any> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref()?.value.clone())
}

#[tokio::test]
async fn requests_and_root_fields_are_exported_as_spans_of_the_callers_trace() {
    let (collector, received) = receiver().await;
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.as_str()),
        ("OTEL_SERVICE_NAME", "portico-under-test"),
    ];
    let (mut child, base, _dir) = serve_process("traces", &env).await;
    let client = reqwest::Client::new();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let register = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }";
    let input = json!({ "email": "owner@traces.test", "name": "Owner",
        "password": "correct horse battery staple", "workspaceName": "Traced" });
    let body: Value = client
        .post(format!("{base}/graphql"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({ "query": register, "variables": { "i": input } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        succeeded(&body, "register")["accessToken"].is_string(),
        "{body}"
    );

    // Stopping the process flushes what the batch processor still holds.
    signal(child.id(), "-TERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let find = |name: &str| {
        received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, s)| s.name == name)
            .cloned()
    };
    while find("Mutation.register").is_none() {
        assert!(Instant::now() < deadline, "no span arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (service, server) = find("POST /graphql").expect("the request's span");
    assert_eq!(service, "portico-under-test");
    assert_eq!(
        hex::encode(&server.trace_id),
        trace_id,
        "joined to the caller's trace"
    );
    assert_eq!(hex::encode(&server.parent_span_id), "00f067aa0ba902b7");
    assert_eq!(server.kind, 2, "a server span");
    assert_eq!(
        attribute(&server, "http.response.status_code"),
        Some(Any::IntValue(200))
    );
    assert_eq!(
        attribute(&server, "http.route"),
        Some(Any::StringValue("/graphql".into()))
    );
    let (_, field) = find("Mutation.register").unwrap();
    assert_eq!(field.trace_id, server.trace_id);
    assert_eq!(
        field.parent_span_id, server.span_id,
        "the field's span is the request's child"
    );
}
