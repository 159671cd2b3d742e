//! The metrics extension: times parsing, validation and execution, and counts every operation
//! by type and name and every error by `extensions.code`. An operation's name becomes a label
//! only when it ran as a registered trusted document; any other name counts as `other`, so no
//! client can grow the number of series.

use crate::graphql::RequestContext;
use crate::telemetry::metrics::{CodeLabels, Metrics, OperationLabels, PhaseLabels};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    NextValidation,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value, Variables};
use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Builds [`ObserveExtension`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observe;

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObserveExtension::default())
    }
}

/// One per request.
#[derive(Debug, Default)]
struct ObserveExtension {
    /// The type of the operation that ran, once the document is parsed.
    kind: Mutex<Option<&'static str>>,
    /// The request's context, kept at parse time: the request hook runs before it is reachable.
    rc: std::sync::OnceLock<Arc<RequestContext>>,
}

fn metrics(ctx: &ExtensionContext<'_>) -> Option<Arc<Metrics>> {
    ctx.data_opt::<Arc<RequestContext>>()
        .map(|rc| rc.app.metrics.clone())
}

fn phase(metrics: Option<&Arc<Metrics>>, name: &'static str, started: Instant) {
    if let Some(metrics) = metrics {
        let labels = PhaseLabels { phase: name };
        metrics
            .phases
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
}

fn type_name(kind: OperationType) -> &'static str {
    match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

#[async_trait::async_trait]
impl Extension for ObserveExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let Some(rc) = self.rc.get() else {
            return response;
        };
        let metrics = &rc.app.metrics;
        let kind = self.kind.lock().ok().and_then(|k| *k).unwrap_or("unknown");
        // No allocation unless the operation ran as a trusted document.
        let name = rc
            .trusted_document()
            .map_or(Cow::Borrowed("other"), |name| Cow::Owned(name.to_owned()));
        let labels = OperationLabels {
            graphql_operation_type: kind,
            graphql_operation_name: name,
        };
        metrics.operations.get_or_create(&labels).inc();
        for error in &response.errors {
            let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
                Some(Value::String(code)) => code.clone(),
                _ => "GRAPHQL_ERROR".to_owned(),
            };
            metrics.errors.get_or_create(&CodeLabels { code }).inc();
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(rc) = ctx.data_opt::<Arc<RequestContext>>() {
            let _ = self.rc.set(rc.clone());
        }
        let started = Instant::now();
        let document = next.run(ctx, query, variables).await;
        phase(metrics(ctx).as_ref(), "parse", started);
        if let Ok(document) = &document {
            // One operation (the usual case), or the first: its type for the labels.
            let kind = match &document.operations {
                DocumentOperations::Single(op) => Some(op.node.ty),
                DocumentOperations::Multiple(ops) => ops.values().next().map(|op| op.node.ty),
            };
            if let (Ok(mut slot), Some(kind)) = (self.kind.lock(), kind) {
                *slot = Some(type_name(kind));
            }
        }
        document
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let started = Instant::now();
        let result = next.run(ctx).await;
        phase(metrics(ctx).as_ref(), "validate", started);
        result
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let started = Instant::now();
        let response = next.run(ctx, operation_name).await;
        phase(metrics(ctx).as_ref(), "execute", started);
        response
    }
}
