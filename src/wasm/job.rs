//! Long calls (a batch, a benchmark) run step by step. On wasm32, JavaScript drives them
//! (`js/jobs.js`): each step is one synchronous call into wasm made from an async function there,
//! so whatever a step throws, an edgeserve `Error` or a trap of the wasm instance, rejects the
//! call's Promise, where the caller (and the package's guard, js/guard.js) sees it. Nothing runs
//! in wasm from a microtask that no caller awaits, and a callback's throw or rejection ends the
//! call with that very error. Natively, [`run`] runs the steps to the end.

use super::Value;
use crate::error::Error;

/// A call done in parts.
pub(crate) trait Steps {
    /// What the call gives.
    type Output;
    /// Does the next part; returns the progress to report (`onProgress`'s argument).
    fn step(&mut self) -> Result<Value, Error>;
    /// True when every part is done.
    fn is_done(&self) -> bool;
    /// The call's result, once every part is done (called once).
    fn finish(&mut self) -> Result<Self::Output, Error>;
}

/// Runs `steps` to the end at once (natively: there is no event loop to yield to).
#[cfg(not(target_family = "wasm"))]
pub(crate) fn run<S: Steps>(mut steps: S) -> Result<S::Output, Error> {
    while !steps.is_done() {
        steps.step()?;
    }
    steps.finish()
}

#[cfg(target_family = "wasm")]
pub use web::*;

#[cfg(target_family = "wasm")]
mod web {
    use wasm_bindgen::prelude::*;

    use super::Steps;

    #[wasm_bindgen(module = "/js/jobs.js")]
    extern "C" {
        /// Runs a job to its end from JavaScript: a Promise of `finish()`'s value.
        fn drive(job: Job, on_progress: &JsValue) -> js_sys::Promise;
    }

    /// A long call in progress, driven by the package's JavaScript (js/jobs.js); not for direct
    /// use.
    #[wasm_bindgen]
    pub struct Job(Box<dyn Steps<Output = JsValue>>);

    /// A job whose result becomes a JavaScript value.
    struct ToJs<S>(S);

    impl<S: Steps> Steps for ToJs<S>
    where
        S::Output: Into<JsValue>,
    {
        type Output = JsValue;
        fn step(&mut self) -> Result<JsValue, crate::error::Error> {
            self.0.step()
        }
        fn is_done(&self) -> bool {
            self.0.is_done()
        }
        fn finish(&mut self) -> Result<JsValue, crate::error::Error> {
            self.0.finish().map(Into::into)
        }
    }

    #[wasm_bindgen]
    impl Job {
        /// Does the next part; returns its progress.
        pub fn step(&mut self) -> Result<JsValue, JsValue> {
            Ok(self.0.step()?)
        }

        /// True when every part is done.
        #[wasm_bindgen(getter)]
        pub fn done(&self) -> bool {
            self.0.is_done()
        }

        /// The result, once every part is done.
        pub fn finish(&mut self) -> Result<JsValue, JsValue> {
            Ok(self.0.finish()?)
        }
    }

    /// A Promise of the job's result; `on_progress` (a function, or undefined) is called after
    /// each step.
    pub(crate) fn promise<S>(steps: Result<S, crate::error::Error>, on_progress: Option<JsValue>) -> js_sys::Promise
    where
        S: Steps + 'static,
        S::Output: Into<JsValue>,
    {
        match steps {
            Ok(steps) => drive(Job(Box::new(ToJs(steps))), &on_progress.unwrap_or(JsValue::UNDEFINED)),
            Err(e) => js_sys::Promise::reject(&e.into()),
        }
    }
}
