//! Latency: the clock, and one HDR histogram per serving mode.
//!
//! The clock is `performance.now()` on wasm32 (through the `web-time` crate;
//! `std::time::Instant` panics there) and `std::time::Instant` natively. In browsers its
//! resolution is 5 us on a cross-origin-isolated page and 100 us otherwise, so a single fast
//! prediction can read as 0 or 0.1 ms: the histograms keep what the clock says.

use hdrhistogram::Histogram;
use serde::Serialize;
use web_time::Instant;

/// Measures the time since it was started.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts a stopwatch now.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Milliseconds since the start.
    pub fn elapsed_ms(&self) -> f64 {
        self.0.elapsed().as_secs_f64() * 1e3
    }
}

/// The serving modes whose latencies are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One prediction per call: the call's latency.
    Realtime,
    /// Chunks of a collection: each row is recorded with its chunk's time divided by its rows.
    Batch,
    /// Micro-batches of a stream: each item is recorded with its micro-batch's inference time.
    Stream,
}

/// Summary of one mode's latencies, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LatencyStats {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// The summaries of every mode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LatencyReport {
    pub realtime: LatencyStats,
    pub batch: LatencyStats,
    pub stream: LatencyStats,
}

/// Nanoseconds per histogram unit.
const NS: f64 = 1e6;
/// Largest latency kept exactly: one minute, in nanoseconds (longer ones are clamped).
const HIGHEST_NS: u64 = 60_000_000_000;

/// An HDR histogram of latencies (3 significant digits, 1 ns to 1 min).
#[derive(Debug, Clone)]
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram(new_histogram())
    }
}

/// The bounds are constants that hdrhistogram accepts (low >= 1, high >= 2 * low, sigfig <= 5):
/// the constructor cannot fail, and a test checks it.
fn new_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, HIGHEST_NS, 3) {
        Ok(h) => h,
        Err(e) => unreachable!("constant histogram bounds rejected: {e:?}"),
    }
}

impl LatencyHistogram {
    /// Records `count` observations of `ms` milliseconds. Values below the histogram's range
    /// (a clock that did not tick) count as its lowest value; above it, as its highest.
    pub fn record(&mut self, ms: f64, count: u64) {
        if count == 0 || !ms.is_finite() {
            return;
        }
        let ns = (ms.max(0.0) * NS).round().clamp(1.0, HIGHEST_NS as f64) as u64;
        // Saturating: in range by construction.
        self.0.saturating_record_n(ns, count);
    }

    /// count, mean, p50, p95, p99 and max, in milliseconds.
    pub fn stats(&self) -> LatencyStats {
        let h = &self.0;
        if h.is_empty() {
            return LatencyStats::default();
        }
        let q = |p: f64| h.value_at_quantile(p) as f64 / NS;
        LatencyStats {
            count: h.len(),
            mean: h.mean() / NS,
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            max: h.max() as f64 / NS,
        }
    }

    /// The latency at a percentile (0..100), in milliseconds.
    pub fn percentile(&self, percentile: f64) -> f64 {
        self.0.value_at_percentile(percentile) as f64 / NS
    }

    /// Forgets every observation.
    pub fn reset(&mut self) {
        self.0.reset();
    }
}

/// One histogram per serving mode.
#[derive(Debug, Clone, Default)]
pub struct Latency {
    realtime: LatencyHistogram,
    batch: LatencyHistogram,
    stream: LatencyHistogram,
}

impl Latency {
    fn histogram(&mut self, mode: Mode) -> &mut LatencyHistogram {
        match mode {
            Mode::Realtime => &mut self.realtime,
            Mode::Batch => &mut self.batch,
            Mode::Stream => &mut self.stream,
        }
    }

    /// Records `count` predictions of `ms` milliseconds each in `mode`.
    pub fn record(&mut self, mode: Mode, ms: f64, count: u64) {
        self.histogram(mode).record(ms, count);
    }

    /// The summaries of every mode.
    pub fn report(&self) -> LatencyReport {
        LatencyReport { realtime: self.realtime.stats(), batch: self.batch.stats(), stream: self.stream.stats() }
    }

    /// Forgets every observation of every mode.
    pub fn reset(&mut self) {
        for mode in [Mode::Realtime, Mode::Batch, Mode::Stream] {
            self.histogram(mode).reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_in_milliseconds() {
        let mut h = LatencyHistogram::default();
        for i in 1..=100 {
            h.record(i as f64 * 0.01, 1); // 0.01 .. 1.00 ms
        }
        let s = h.stats();
        assert_eq!(s.count, 100);
        assert!((s.p50 - 0.50).abs() < 0.001, "{s:?}");
        assert!((s.p95 - 0.95).abs() < 0.001, "{s:?}");
        assert!((s.p99 - 0.99).abs() < 0.001, "{s:?}");
        assert!((s.max - 1.00).abs() < 0.001, "{s:?}");
        assert!((s.mean - 0.505).abs() < 0.001, "{s:?}");
    }

    #[test]
    fn modes_are_kept_apart_and_reset() {
        let mut l = Latency::default();
        l.record(Mode::Realtime, 0.0, 1); // a clock that did not tick still counts
        l.record(Mode::Batch, 2.0, 256);
        let r = l.report();
        assert_eq!((r.realtime.count, r.batch.count, r.stream.count), (1, 256, 0));
        assert!((r.batch.p99 - 2.0).abs() < 0.002);
        l.reset();
        assert_eq!(l.report(), LatencyReport::default());
    }
}
