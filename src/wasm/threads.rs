//! The thread pool at the boundary: `threadCount()` in every build; in the threaded build (feature
//! `threads`, compiled with atomics) also the three calls js/threads.js makes to start the pool.
//!
//! Starting takes two steps, because a Worker cannot start while the page's main thread is busy:
//! js/threads.js first starts `threads - 1` module Workers, each instantiating this module on its
//! shared memory (`threadPoolShared()`) and then calling `runPoolThread(index)`, where it waits for
//! its rayon thread; once every Worker has said it waits, the main thread calls
//! `startThreadPool(threads)`, which builds rayon's pool and hands each waiting Worker its thread.

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

/// How many threads a model's run uses: 1 in the single-threaded builds and until
/// `init({ threads })` has started a pool, else the pool's size (the calling thread included).
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = threadCount))]
pub fn thread_count() -> u32 {
    crate::threads::count() as u32
}

#[cfg(all(target_family = "wasm", feature = "threads"))]
mod pool {
    use wasm_bindgen::prelude::*;
    use wasm_sync::{Condvar, Mutex};

    use crate::error::Error;
    use crate::threads::{PoolThread, ThreadsError};

    /// The pool's threads, by index, between `startThreadPool` and the Worker that takes each.
    static HANDED: Mutex<Vec<PoolThread>> = Mutex::new(Vec::new());
    /// Wakes the Workers waiting in `runPoolThread` when a thread is handed over.
    static HANDED_OVER: Condvar = Condvar::new();

    /// This module and its shared memory, `[WebAssembly.Module, WebAssembly.Memory]`: what each of
    /// the pool's Workers instantiates.
    #[wasm_bindgen(js_name = threadPoolShared)]
    pub fn thread_pool_shared() -> js_sys::Array {
        js_sys::Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory())
    }

    /// Builds the pool of `threads` (the calling thread is thread 0) once the `threads - 1`
    /// Workers wait in `runPoolThread`; returns when all of them run rayon's loop. Throws code
    /// `THREADS` when `threads` is not from 1 to 64 or a pool runs already.
    #[wasm_bindgen(js_name = startThreadPool)]
    pub fn start_thread_pool(threads: u32) -> Result<(), JsValue> {
        crate::threads::start(threads as usize, |thread| {
            HANDED.lock().map_err(|_| std::io::Error::other(POISONED))?.push(thread);
            HANDED_OVER.notify_all();
            Ok(())
        })
        .map_err(|e| Error::from(e).into())
    }

    const POISONED: &str = "a pool thread panicked while holding the pool's lock";

    /// Runs the pool's thread `index` (1 to `threads - 1`) on the calling Worker: waits until
    /// `startThreadPool` hands it over, then runs rayon's loop, for the life of the instance.
    #[wasm_bindgen(js_name = runPoolThread)]
    pub fn run_pool_thread(index: u32) -> Result<(), JsValue> {
        let index = index as usize;
        let poisoned = |_| JsValue::from(Error::from(ThreadsError::Build(POISONED.into())));
        let mut handed = HANDED.lock().map_err(poisoned)?;
        let thread = loop {
            if let Some(at) = handed.iter().position(|t| t.index() == index) {
                break handed.swap_remove(at);
            }
            handed = HANDED_OVER.wait(handed).map_err(poisoned)?;
        };
        drop(handed);
        thread.run();
        Ok(())
    }
}
