//! Prometheus metrics: one registry per running app (never a process-wide recorder), typed
//! label sets whose values come from closed sets (routes, operation types, error codes, schema
//! fields, job names, event kinds) or from registered trusted documents: cardinality is bounded
//! by construction. Gauges of other components (outbox backlog, pool, Redis, mail) are set when
//! `/metrics` is scraped.

use super::histogram::AtomicHistogram as Histogram;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

/// `http_server_request_duration_seconds` labels (OpenTelemetry semantic names).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub http_request_method: &'static str,
    pub http_response_status_code: u16,
    /// The matched route (`/graphql`), or `other`.
    pub http_route: String,
}

/// `graphql_operations_total` labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// `query`, `mutation` or `subscription`.
    pub graphql_operation_type: &'static str,
    /// A registered trusted document's name, else `other`.
    pub graphql_operation_name: std::borrow::Cow<'static, str>,
}

/// Labels of one code (`graphql_errors_total`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

/// `authz_denials_total` labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DenialLabels {
    /// `Type.field` of the schema, or `(operation)` / `(document)`.
    pub field: String,
    pub code: String,
}

/// `graphql_phase_duration_seconds` labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    /// `parse`, `validate` or `execute`.
    pub phase: &'static str,
}

/// Labels of a job's runs.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub job: String,
    /// `succeeded` or `failed`.
    pub status: String,
}

/// Labels of a domain event kind.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

/// Labels of a status (`sent`, `failed`; `in_use`, `idle`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

fn latency() -> Histogram {
    // 1 ms … ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Every metric Portico exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub http: Family<HttpLabels, Histogram, fn() -> Histogram>,
    pub operations: Family<OperationLabels, Counter>,
    pub errors: Family<CodeLabels, Counter>,
    pub phases: Family<PhaseLabels, Histogram, fn() -> Histogram>,
    pub cost_charged: Counter,
    pub denials: Family<DenialLabels, Counter>,
    pub websockets: Gauge,
    pub subscriptions: Gauge,
    pub publish_to_deliver: Histogram,
    pub domain_events: Family<KindLabels, Counter>,
    pub jobs: Family<JobLabels, Counter>,
    pub outbox_backlog: Gauge,
    pub outbox_oldest_age: Gauge<f64, AtomicU64>,
    pub db_pool: Family<StateLabels, Gauge>,
    pub redis_up: Gauge,
    pub emails: Family<StateLabels, Counter<u64, AtomicU64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut m = Self {
            registry: Registry::default(),
            http: Family::new_with_constructor(latency as fn() -> Histogram),
            operations: Family::default(),
            errors: Family::default(),
            phases: Family::new_with_constructor(latency as fn() -> Histogram),
            cost_charged: Counter::default(),
            denials: Family::default(),
            websockets: Gauge::default(),
            subscriptions: Gauge::default(),
            publish_to_deliver: latency(),
            domain_events: Family::default(),
            jobs: Family::default(),
            outbox_backlog: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            db_pool: Family::default(),
            redis_up: Gauge::default(),
            emails: Family::default(),
        };
        let r = &mut m.registry;
        let s = Unit::Seconds;
        r.register_with_unit(
            "http_server_request_duration",
            "HTTP requests by method, status and route",
            s.clone(),
            m.http.clone(),
        );
        r.register(
            "graphql_operations",
            "GraphQL operations by type and trusted-document name",
            m.operations.clone(),
        );
        r.register(
            "graphql_errors",
            "GraphQL errors by extensions.code",
            m.errors.clone(),
        );
        r.register_with_unit(
            "graphql_phase_duration",
            "Time spent parsing, validating and executing operations",
            s.clone(),
            m.phases.clone(),
        );
        r.register(
            "graphql_cost_charged",
            "Cost points charged to rate-limit budgets",
            m.cost_charged.clone(),
        );
        r.register(
            "authz_denials",
            "Authorization denials by field and code",
            m.denials.clone(),
        );
        r.register(
            "websocket_connections_active",
            "Open graphql-transport-ws connections",
            m.websockets.clone(),
        );
        r.register(
            "subscriptions_active",
            "Live subscriptions",
            m.subscriptions.clone(),
        );
        r.register(
            "subscription_events_delivered",
            "Events delivered to subscribers",
            m.publish_to_deliver.counter(),
        );
        r.register_with_unit(
            "subscription_publish_to_deliver",
            "From the change's commit to its delivery on a subscription",
            s.clone(),
            m.publish_to_deliver.clone(),
        );
        r.register(
            "domain_events",
            "Domain events dispatched from the outbox, by kind (uploads, payments, …)",
            m.domain_events.clone(),
        );
        r.register(
            "job_runs",
            "Background job runs by job and status",
            m.jobs.clone(),
        );
        r.register(
            "outbox_backlog",
            "Outbox events not yet dispatched",
            m.outbox_backlog.clone(),
        );
        r.register_with_unit(
            "outbox_oldest_age",
            "Age of the oldest undispatched outbox event",
            s,
            m.outbox_oldest_age.clone(),
        );
        r.register(
            "db_pool_connections",
            "Database pool connections by state",
            m.db_pool.clone(),
        );
        r.register(
            "redis_up",
            "1 when Redis answers (or is not used), 0 when it does not",
            m.redis_up.clone(),
        );
        r.register("emails", "Emails sent and failed", m.emails.clone());
        m
    }

    /// The registry in the text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %err, "metrics not encoded");
        }
        out
    }
}
