//! A lock-free histogram for the hot paths (every delivery of every live subscription, every
//! request and phase): an observation is two relaxed atomic additions, where prometheus-client's
//! `Histogram` takes a mutex, which thousands of deliveries of one event contend on.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Cumulative buckets, a count and a sum, exported as a Prometheus histogram.
#[derive(Debug, Clone)]
pub struct AtomicHistogram(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Upper bounds, ascending; one more bucket (`+Inf`) follows them.
    bounds: Vec<f64>,
    counts: Vec<AtomicU64>,
    /// The sum of observations, in nanoseconds (seconds are observed).
    sum_nanos: AtomicU64,
}

impl AtomicHistogram {
    /// A histogram with these upper bounds (ascending).
    pub fn new(bounds: impl IntoIterator<Item = f64>) -> Self {
        let bounds: Vec<f64> = bounds.into_iter().collect();
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self(Arc::new(Inner {
            bounds,
            counts,
            sum_nanos: AtomicU64::new(0),
        }))
    }

    /// Records one observation (in seconds; a negative or NaN value counts as 0).
    pub fn observe(&self, value: f64) {
        let value = if value.is_nan() { 0.0 } else { value.max(0.0) };
        // The first bucket whose bound is at least the value (`le`), else `+Inf`.
        let bucket = self.0.bounds.partition_point(|bound| *bound < value);
        if let Some(count) = self.0.counts.get(bucket) {
            count.fetch_add(1, Relaxed);
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let nanos = (value * 1e9) as u64;
        self.0.sum_nanos.fetch_add(nanos, Relaxed);
    }
}

impl TypedMetric for AtomicHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for AtomicHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let mut count = 0;
        let buckets: Vec<(f64, u64)> = self
            .0
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(&self.0.counts)
            .map(|(bound, n)| {
                let n = n.load(Relaxed);
                count += n;
                (bound, n)
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let sum = self.0.sum_nanos.load(Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use prometheus_client::registry::Registry;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them_and_encode_cumulatively() {
        let histogram = AtomicHistogram::new([0.1, 1.0]);
        for value in [0.05, 0.1, 0.5, 3.0, f64::NAN, -1.0] {
            histogram.observe(value);
        }
        let mut registry = Registry::default();
        registry.register("latency", "test", histogram);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        assert!(text.contains("latency_bucket{le=\"0.1\"} 4\n"), "{text}");
        assert!(text.contains("latency_bucket{le=\"1.0\"} 5\n"), "{text}");
        assert!(text.contains("latency_bucket{le=\"+Inf\"} 6\n"), "{text}");
        assert!(text.contains("latency_count 6\n"), "{text}");
        assert!(text.contains("latency_sum 3.65\n"), "{text}");
    }
}
