//! Threads for tract's matrix products: one pool per process (per wasm instance), made of the
//! thread that starts it and `threads - 1` others.
//!
//! tract-linalg splits a matrix product over rayon's global pool by panels of its output (its
//! `Executor::RayonGlobal`), when the product has enough panels to pay for the dispatch. The
//! starting thread is the pool's thread 0 (rayon's `use_current_thread`): it takes its share of
//! the work while it waits for the others, so `threads` counts every thread that computes, as
//! onnxruntime's `numThreads` does, and a page's main thread never spins idle beside them.
//!
//! Natively the others are `std` threads. In wasm they are Workers that instantiate the same
//! module on its shared memory, started by JavaScript (`src/wasm/threads.rs`, `js/threads.js`);
//! [`start`] then takes the function that hands each of them its rayon thread.
//!
//! Without the `threads` feature, [`start`] says so and every run is single-threaded: the rest of
//! the crate asks [`run`] and [`count`] only, with no `cfg` of its own.

use std::sync::atomic::{AtomicUsize, Ordering};

use thiserror::Error;

/// The threads a run may use: 1 until [`start`] has made a pool.
static THREADS: AtomicUsize = AtomicUsize::new(1);

/// How many runs went on the pool, in this process (or wasm instance).
static POOLED_RUNS: AtomicUsize = AtomicUsize::new(0);

/// The most threads a pool may have (init() refuses more).
pub const MAX_THREADS: usize = 64;

/// The fewest output panels a matrix product must have to be split over the pool. tract's default
/// (64) suits native threads; in wasm it leaves most products of a mobile CNN (MobileNet's
/// pointwise convolutions) on one thread, and a lower gate measured faster there (bench/).
#[cfg(feature = "threads")]
const POOL_PANELS: usize = 4;

/// Why a pool could not be started.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ThreadsError {
    /// The build has no threads (the `threads` feature, the threaded wasm build).
    #[error(
        "this build has no threads: expected the threaded build (wasm built with atomics and the `threads` feature)"
    )]
    NotBuilt,
    /// A count of zero or above [`MAX_THREADS`].
    #[error("threads is {got}: expected an integer from 1 to {MAX_THREADS}")]
    BadCount { got: usize },
    /// A pool was started already (there is one per process or wasm instance).
    #[error("a pool of {running} threads runs already: expected one start per instance")]
    Started { running: usize },
    /// rayon could not build the pool.
    #[error("the thread pool could not be built: {0}")]
    Build(String),
}

/// How many threads a run uses: 1, or the size of the pool [`start`] made.
pub fn count() -> usize {
    THREADS.load(Ordering::Acquire)
}

/// How many runs went on the pool so far, in this process (or wasm instance).
pub fn pooled_runs() -> usize {
    POOLED_RUNS.load(Ordering::Relaxed)
}

/// Runs `f` (a model's run) with tract's matrix products split over the pool if `pooled` and
/// there is one, else on the calling thread alone.
///
/// The executor is set for this thread only (tract's thread-local override), so no lock is taken
/// on the way, which matters on a browser's main thread, where a contended lock cannot wait.
pub fn run<R>(pooled: bool, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "threads")]
    if pooled && count() > 1 {
        use tract_linalg::multithread::{multithread_tract_scope, Executor};
        POOLED_RUNS.fetch_add(1, Ordering::Relaxed);
        return multithread_tract_scope(Executor::RayonGlobal, f);
    }
    let _ = pooled;
    f()
}

/// How many runs of a size [`Choice`] times on one thread before it chooses.
pub const TRIALS: usize = 3;

/// The least time a run must take on one thread for the pool to take it: below it, a run's
/// products are too small to pay for handing work to the other threads (a small CNN, a dense
/// network: they run on the calling thread alone).
pub const POOL_MIN_MS: f64 = 1.0;

/// Whether a graph's runs of a size go on the pool or on the calling thread alone, learnt from
/// its calls. Sizes are classes of input elements (by powers of two): the first [`TRIALS`] runs of
/// a class are timed on one thread; if the quickest took at least [`POOL_MIN_MS`], the later ones
/// go on the pool, where tract splits each product that has the panels for it. With no pool,
/// every run is on one thread and nothing is timed.
#[derive(Debug, Default, Clone)]
pub struct Choice {
    /// Per size class: the milliseconds of its runs on one thread, up to [`TRIALS`].
    classes: Vec<(u32, Vec<f64>)>,
}

impl Choice {
    /// Whether the next run, of `elements` input elements, goes on the pool.
    pub fn pooled(&self, elements: u64) -> bool {
        count() > 1 && self.decide(elements)
    }

    /// Records a run of `elements` input elements that took `ms`, on the pool or not.
    pub fn learn(&mut self, elements: u64, pooled: bool, ms: f64) {
        if count() > 1 && !pooled {
            self.record(elements, ms);
        }
    }

    /// Whether a run of `elements` goes on the pool, were there one.
    fn decide(&self, elements: u64) -> bool {
        match self.classes.iter().find(|(c, _)| *c == class(elements)) {
            Some((_, alone)) if alone.len() >= TRIALS => quickest(alone) >= POOL_MIN_MS,
            _ => false,
        }
    }

    /// Records a run on one thread.
    fn record(&mut self, elements: u64, ms: f64) {
        if !ms.is_finite() {
            return;
        }
        let c = class(elements);
        match self.classes.iter_mut().find(|(k, _)| *k == c) {
            Some((_, alone)) if alone.len() < TRIALS => alone.push(ms),
            Some(_) => {}
            None => self.classes.push((c, vec![ms])),
        }
    }
}

/// The size class of a run of `elements` input elements.
fn class(elements: u64) -> u32 {
    elements.max(1).ilog2()
}

fn quickest(times: &[f64]) -> f64 {
    times.iter().copied().fold(f64::INFINITY, f64::min)
}

/// One of the pool's other threads, to run on a thread of its own: [`PoolThread::run`] returns
/// when the pool ends (never, for the global pool).
#[cfg(feature = "threads")]
pub struct PoolThread(rayon::ThreadBuilder);

#[cfg(feature = "threads")]
impl PoolThread {
    /// Its index in the pool: 1 to `threads - 1` (0 is the thread that started the pool).
    pub fn index(&self) -> usize {
        self.0.index()
    }

    /// Runs rayon's work-stealing loop on the calling thread.
    pub fn run(self) {
        self.0.run()
    }
}

/// Starts the pool of `threads` threads: the calling thread and `threads - 1` others, each given
/// to `spawn` (natively: `std::thread::spawn(move || t.run())`). Returns once every thread runs
/// rayon's loop; with `threads == 1`, records 1 and starts nothing.
#[cfg(feature = "threads")]
pub fn start(threads: usize, mut spawn: impl FnMut(PoolThread) -> std::io::Result<()>) -> Result<(), ThreadsError> {
    check(threads)?;
    if threads > 1 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .use_current_thread()
            .thread_name(|i| format!("edgeserve-{i}"))
            .spawn_handler(move |thread| spawn(PoolThread(thread)))
            .build_global()
            .map_err(|e| ThreadsError::Build(e.to_string()))?;
    }
    tract_linalg::multithread::set_threading_panel_threshold(POOL_PANELS);
    THREADS.store(threads, Ordering::Release);
    Ok(())
}

/// Without the `threads` feature: a pool of 1 (nothing to start), else [`ThreadsError::NotBuilt`].
#[cfg(not(feature = "threads"))]
pub fn start<T>(threads: usize, _spawn: impl FnMut(T) -> std::io::Result<()>) -> Result<(), ThreadsError> {
    check(threads)?;
    if threads > 1 {
        return Err(ThreadsError::NotBuilt);
    }
    Ok(())
}

/// Starts a pool of `threads` on `std` threads (native builds: the command line, tests).
#[cfg(all(feature = "threads", not(target_family = "wasm")))]
pub fn start_native(threads: usize) -> Result<(), ThreadsError> {
    start(threads, |thread| {
        std::thread::Builder::new().name(format!("edgeserve-{}", thread.index())).spawn(move || thread.run())?;
        Ok(())
    })
}

fn check(threads: usize) -> Result<(), ThreadsError> {
    if threads == 0 || threads > MAX_THREADS {
        return Err(ThreadsError::BadCount { got: threads });
    }
    match count() {
        1 => Ok(()),
        running => Err(ThreadsError::Started { running }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_long_enough_on_one_thread_go_on_the_pool() {
        let mut choice = Choice::default();
        for _ in 0..TRIALS {
            assert!(!choice.decide(100) && !choice.decide(100_000));
            choice.record(100, 0.05);
            choice.record(100_000, 20.0);
        }
        // The same classes (elements within a power of two) are decided; another is timed afresh.
        assert!(!choice.decide(127));
        assert!(choice.decide(120_000));
        assert!(!choice.decide(1 << 20));
        // Without a pool (this test's process has none) nothing goes on it, and nothing is timed.
        if count() == 1 {
            assert!(!choice.pooled(100_000));
        }
    }

    #[test]
    fn bad_counts_are_refused() {
        assert_eq!(check(0), Err(ThreadsError::BadCount { got: 0 }));
        assert_eq!(check(MAX_THREADS + 1), Err(ThreadsError::BadCount { got: MAX_THREADS + 1 }));
    }
}
