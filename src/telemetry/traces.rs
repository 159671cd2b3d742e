//! OpenTelemetry traces over OTLP/HTTP, on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: one
//! server span per HTTP request (named `METHOD route`, joined to the caller's trace when it sends
//! `traceparent`), a child span per root field (`Query.me`, `Mutation.moveTask`) and per batched
//! relation load. Spans are exported by the SDK's batch processor on its own thread; a slow or
//! absent collector costs dropped spans, never a slower request.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::sync::OnceLock;
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::registry::LookupSpan;

/// The propagator, set once traces are on (`None`: incoming trace context is ignored).
static PROPAGATOR: OnceLock<TraceContextPropagator> = OnceLock::new();

/// Where and as whom spans are exported.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    /// The collector's base URL (`http://collector:4318`); spans go to `{endpoint}/v1/traces`.
    pub endpoint: String,
    /// `service.name` of every span.
    pub service_name: String,
}

/// Flushes and stops the exporter when dropped (at the end of the process).
#[derive(Debug, Default)]
pub struct Flush(Option<SdkTracerProvider>);

impl Drop for Flush {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(err) = provider.shutdown()
        {
            tracing::warn!(error = %err, "traces not flushed at exit");
        }
    }
}

/// What is exported: Portico's spans (down to `debug`, where the per-field spans live) and its
/// warnings and errors as span events.
fn exported(meta: &Metadata<'_>) -> bool {
    let ceiling = if meta.is_span() {
        Level::DEBUG
    } else {
        Level::WARN
    };
    meta.target().starts_with("portico") && *meta.level() <= ceiling
}

/// The layer exporting spans to `config`, and the handle that flushes them at exit.
pub fn layer<S>(config: &TraceConfig) -> anyhow::Result<(impl Layer<S> + use<S>, Flush)>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let endpoint = format!("{}/v1/traces", config.endpoint.trim_end_matches('/'));
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .build()?;
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("portico");
    let _ = PROPAGATOR.set(TraceContextPropagator::new());
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(FilterFn::new(exported));
    Ok((layer, Flush(Some(provider))))
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Whether spans are exported (the fields only traces read are then recorded).
pub fn enabled() -> bool {
    PROPAGATOR.get().is_some()
}

/// Joins `span` to the trace the caller named in `traceparent` (when traces are on).
pub fn adopt_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if let Some(propagator) = PROPAGATOR.get()
        && headers.contains_key("traceparent")
    {
        let parent = propagator.extract(&Headers(headers));
        let _ = span.set_parent(parent);
    }
}
