//! Logging (`RUST_LOG` filters, default `info`; `LOG_FORMAT` picks pretty or JSON lines), the
//! OpenTelemetry [`traces`] (when `OTEL_EXPORTER_OTLP_ENDPOINT` is set), the denial counters and
//! the Prometheus [`metrics`].

pub mod histogram;
pub mod metrics;
pub mod traces;

use crate::config::LogFormat;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Installs the global subscriber: logs, and traces when `traces` names a collector. Keep the
/// answer alive until the process ends: dropping it flushes the spans still buffered. Safe to
/// call twice (the second call installs nothing).
pub fn init(format: LogFormat, traces: Option<&traces::TraceConfig>) -> traces::Flush {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let spans = match traces.map(traces::layer) {
        Some(Ok(layer)) => Some(layer),
        Some(Err(err)) => {
            eprintln!("traces are off: the OTLP exporter could not be built: {err:#}");
            None
        }
        None => None,
    };
    match spans {
        // Each layer filters for itself: the logs by `RUST_LOG`, the traces by their own rule.
        Some((layer, flush)) => {
            let _ = tracing_subscriber::registry()
                .with(logs(format).with_filter(filter))
                .with(layer)
                .try_init();
            flush
        }
        // One global filter: a callsite `RUST_LOG` disables costs nothing at all (no layer
        // that says "always", as an absent one would).
        None => {
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(logs(format))
                .try_init();
            traces::Flush::default()
        }
    }
}

/// The log lines: JSON or compact, with targets.
fn logs<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    let logs = tracing_subscriber::fmt::layer().with_target(true);
    match format {
        LogFormat::Json => logs.json().flatten_event(true).boxed(),
        LogFormat::Pretty => logs.compact().boxed(),
    }
}

/// Denied accesses since start, by code: what the Prometheus work will export. Every denial is
/// also logged on target `portico::denied` with principal, operation, field path and IP.
#[derive(Debug, Default)]
pub struct Denials {
    unauthenticated: std::sync::atomic::AtomicU64,
    forbidden: std::sync::atomic::AtomicU64,
    not_found: std::sync::atomic::AtomicU64,
    rate_limited: std::sync::atomic::AtomicU64,
}

/// A snapshot of [`Denials`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct DenialCounts {
    pub unauthenticated: u64,
    pub forbidden: u64,
    pub not_found: u64,
    pub rate_limited: u64,
}

impl Denials {
    /// Counts one denial answered with `code`; other codes are not denials.
    pub fn count(&self, code: crate::error::ErrorCode) {
        use crate::error::ErrorCode;
        use std::sync::atomic::Ordering;
        let counter = match code {
            ErrorCode::Unauthenticated => &self.unauthenticated,
            ErrorCode::Forbidden => &self.forbidden,
            ErrorCode::NotFound => &self.not_found,
            ErrorCode::RateLimited => &self.rate_limited,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> DenialCounts {
        use std::sync::atomic::Ordering;
        DenialCounts {
            unauthenticated: self.unauthenticated.load(Ordering::Relaxed),
            forbidden: self.forbidden.load(Ordering::Relaxed),
            not_found: self.not_found.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn denials_are_counted_by_code_and_other_codes_ignored() {
        let denials = Denials::default();
        for code in [
            ErrorCode::Forbidden,
            ErrorCode::Forbidden,
            ErrorCode::RateLimited,
            ErrorCode::Unauthenticated,
            ErrorCode::BadUserInput,
            ErrorCode::Internal,
        ] {
            denials.count(code);
        }
        assert_eq!(
            denials.snapshot(),
            DenialCounts {
                unauthenticated: 1,
                forbidden: 2,
                not_found: 0,
                rate_limited: 1,
            }
        );
    }
}
