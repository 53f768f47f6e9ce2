//! The clock for latency figures: `performance.now()` on wasm32 (through the `web-time`
//! crate; `std::time::Instant` panics there) and `std::time::Instant` natively.

use web_time::Instant;

/// Measures the time since it was started.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts a stopwatch now.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Milliseconds since the start. In browsers the resolution is that of `performance.now()`:
    /// 5 us on a cross-origin-isolated page, 100 us otherwise.
    pub fn elapsed_ms(&self) -> f64 {
        self.0.elapsed().as_secs_f64() * 1e3
    }
}
