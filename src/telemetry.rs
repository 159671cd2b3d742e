//! Logging (`RUST_LOG` filters, default `info`; `LOG_FORMAT` picks pretty or JSON lines), the
//! denial counters and the Prometheus [`metrics`].

pub mod metrics;

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Safe to call twice (the second call does nothing).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
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
