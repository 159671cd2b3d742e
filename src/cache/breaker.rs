//! A circuit breaker for Redis: one failed or slow call opens it for a cooldown, during which
//! callers use their fallback at once instead of waiting on a dead server; afterwards a single
//! caller probes, and its success closes it for everyone.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a caller may do with Redis right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Closed: call Redis.
    Call,
    /// Half open, and this caller won the probe: call Redis, then report.
    Probe,
    /// Open (or another caller is probing): use the fallback.
    Skip,
}

/// Shared by the cache and the bus of one instance.
#[derive(Debug)]
pub struct Breaker {
    /// `Some(until)` while open.
    open_until: Mutex<Option<Instant>>,
    /// One probe at a time.
    probing: AtomicBool,
    cooldown: Duration,
}

impl Breaker {
    pub fn new(cooldown: Duration) -> Self {
        Self {
            open_until: Mutex::new(None),
            probing: AtomicBool::new(false),
            cooldown,
        }
    }

    /// Whether to call Redis.
    pub fn gate(&self) -> Gate {
        let Ok(open_until) = self.open_until.lock() else {
            return Gate::Call;
        };
        match *open_until {
            None => Gate::Call,
            Some(until) if Instant::now() < until => Gate::Skip,
            Some(_) => {
                if self
                    .probing
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    Gate::Probe
                } else {
                    Gate::Skip
                }
            }
        }
    }

    /// Whether the breaker is open (Redis is being skipped).
    pub fn is_open(&self) -> bool {
        self.open_until.lock().is_ok_and(|open| open.is_some())
    }

    /// A call failed or timed out: open (again) for the cooldown.
    pub fn failed(&self, error: &anyhow::Error) {
        if let Ok(mut open_until) = self.open_until.lock() {
            if open_until.is_none() {
                tracing::error!(
                    error = ?error,
                    cooldown_ms = self.cooldown.as_millis() as u64,
                    "redis unavailable: serving from in-process fallbacks"
                );
            }
            *open_until = Some(Instant::now() + self.cooldown);
        }
        self.probing.store(false, Ordering::Release);
    }

    /// A probe succeeded: close. Returns whether this closed an open breaker.
    pub fn recovered(&self) -> bool {
        let was_open = self
            .open_until
            .lock()
            .is_ok_and(|mut open| open.take().is_some());
        self.probing.store(false, Ordering::Release);
        if was_open {
            tracing::info!("redis is back: caches, counters and the bus use it again");
        }
        was_open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failure_opens_it_and_one_probe_closes_it() {
        let breaker = Breaker::new(Duration::from_millis(30));
        assert_eq!(breaker.gate(), Gate::Call);
        breaker.failed(&anyhow::anyhow!("down"));
        assert!(breaker.is_open());
        assert_eq!(breaker.gate(), Gate::Skip);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.gate(), Gate::Probe);
        assert_eq!(breaker.gate(), Gate::Skip, "one probe at a time");
        breaker.failed(&anyhow::anyhow!("still down"));
        assert_eq!(breaker.gate(), Gate::Skip, "a failed probe opens it again");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.gate(), Gate::Probe);
        assert!(breaker.recovered());
        assert_eq!(breaker.gate(), Gate::Call);
        assert!(!breaker.recovered());
    }
}
