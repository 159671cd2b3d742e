//! A lock-free, sharded histogram for the hot paths (every delivery of every live subscription,
//! every request and phase). An observation is two relaxed atomic additions on its thread's
//! shard, so worker threads never write the same cache line: prometheus-client's `Histogram`
//! takes one mutex, and a single set of shared atomics made each of the 10,000 deliveries of
//! one event move three cache lines between cores (`bench/README.md`). Shards are summed when
//! scraped.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Shards per histogram: at least the worker threads of a usual instance.
const SHARDS: usize = 8;

/// Cumulative buckets, a count and a sum, exported as a Prometheus histogram.
#[derive(Debug, Clone)]
pub struct AtomicHistogram(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Upper bounds, ascending; one more bucket (`+Inf`) follows them.
    bounds: Vec<f64>,
    shards: Vec<Shard>,
}

/// One thread group's counts, on cache lines of its own.
#[derive(Debug)]
#[repr(align(128))]
struct Shard {
    counts: Box<[AtomicU64]>,
    /// The sum of observations, in nanoseconds (seconds are observed).
    sum_nanos: AtomicU64,
}

/// This thread's shard, assigned round-robin on first use.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

impl AtomicHistogram {
    /// A histogram with these upper bounds (ascending).
    pub fn new(bounds: impl IntoIterator<Item = f64>) -> Self {
        let bounds: Vec<f64> = bounds.into_iter().collect();
        let shards = (0..SHARDS)
            .map(|_| Shard {
                counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
                sum_nanos: AtomicU64::new(0),
            })
            .collect();
        Self(Arc::new(Inner { bounds, shards }))
    }

    /// Records one observation (in seconds; a negative or NaN value counts as 0).
    pub fn observe(&self, value: f64) {
        let value = if value.is_nan() { 0.0 } else { value.max(0.0) };
        // The first bucket whose bound is at least the value (`le`), else `+Inf`.
        let bucket = self.0.bounds.partition_point(|bound| *bound < value);
        let Some(shard) = self.0.shards.get(shard_index()) else {
            return;
        };
        if let Some(count) = shard.counts.get(bucket) {
            count.fetch_add(1, Relaxed);
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let nanos = (value * 1e9) as u64;
        shard.sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.0
            .shards
            .iter()
            .flat_map(|s| s.counts.iter())
            .map(|c| c.load(Relaxed))
            .sum()
    }

    /// A counter of this histogram's observations, for a `_total` of its own.
    pub fn counter(&self) -> ObservationCount {
        ObservationCount(self.clone())
    }
}

/// The number of observations of a histogram, exported as a counter (no write of its own on
/// the hot path).
#[derive(Debug, Clone)]
pub struct ObservationCount(AtomicHistogram);

impl TypedMetric for ObservationCount {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for ObservationCount {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.0.count(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
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
            .enumerate()
            .map(|(i, bound)| {
                let n: u64 = self
                    .0
                    .shards
                    .iter()
                    .filter_map(|s| s.counts.get(i))
                    .map(|c| c.load(Relaxed))
                    .sum();
                count += n;
                (bound, n)
            })
            .collect();
        let nanos: u64 = self
            .0
            .shards
            .iter()
            .map(|s| s.sum_nanos.load(Relaxed))
            .sum();
        #[allow(clippy::cast_precision_loss)]
        let sum = nanos as f64 / 1e9;
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
        registry.register("latency", "test", histogram.clone());
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        assert!(text.contains("latency_bucket{le=\"0.1\"} 4\n"), "{text}");
        assert!(text.contains("latency_bucket{le=\"1.0\"} 5\n"), "{text}");
        assert!(text.contains("latency_bucket{le=\"+Inf\"} 6\n"), "{text}");
        assert!(text.contains("latency_count 6\n"), "{text}");
        assert!(text.contains("latency_sum 3.65\n"), "{text}");
        // Observations from other threads land in other shards and are summed.
        let shared = histogram.clone();
        std::thread::spawn(move || shared.observe(0.2))
            .join()
            .unwrap();
        assert_eq!(histogram.count(), 7);
        assert_eq!(histogram.counter().0.count(), 7);
    }
}
