//! `ModelSet`: models (every embedded one, or those the caller adds), benchmarked on this
//! device, and the choice of the most accurate one that fits a latency budget.

use super::job::Steps;
use super::js::{check_options, number_option, to_value, whole_option};
use super::{BenchmarkOptions, ChooseOptions, Model, Shared, Thrown, Value};
use std::cell::RefCell;
use std::rc::Rc;

use crate::error::Error;
use crate::model::LoadedModel;
use crate::package::Registry;
use crate::serve::choose::{self, Choice, Measurement, MAX_RUNS};

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

/// Samples per model when `benchmark()` is given no `runs`.
const DEFAULT_RUNS: usize = 200;

/// A set of loaded models to choose from by measured latency.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub struct ModelSet {
    models: Vec<Shared>,
    /// The last benchmark's figures; shared with a benchmark still running.
    measurements: Rc<RefCell<Vec<Measurement>>>,
}

impl ModelSet {
    fn add_shared(&mut self, model: &Shared) -> Result<(), Error> {
        let name = model.with(|m| Ok(m.manifest().name.clone()))?;
        for m in &self.models {
            if m.with(|m| Ok(m.manifest().name == name))? {
                return Err(Error::bad_input(
                    format!("model {name:?} is in the set already"),
                    "a model the set does not hold",
                    format!("{name:?} again"),
                ));
            }
        }
        self.measurements.borrow_mut().clear();
        self.models.push(model.clone());
        Ok(())
    }

    fn runs(options: Option<&Value>) -> Result<usize, Error> {
        check_options(options, "benchmark")?;
        whole_option(options, "runs", DEFAULT_RUNS, MAX_RUNS)
    }

    fn choice(&self, options: Option<&Value>) -> Result<Choice, Error> {
        check_options(options, "choose")?;
        let Some(budget) = number_option(options, "budgetMs", None, (0.0, f64::MAX))? else {
            return Err(Error::bad_input(
                "choose() has no budgetMs",
                "a latency budget in milliseconds, e.g. { budgetMs: 0.05 }",
                "none",
            ));
        };
        let percentile = number_option(options, "percentile", Some(95.0), (0.0, 100.0))?.unwrap_or(95.0);
        choose::choose(&self.measurements.borrow(), budget, percentile)
    }
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl ModelSet {
    /// An empty set, to fill with `add()`: e.g. the two text packages fetched on demand,
    /// `set.add(await Model.load('minilm')); set.add(await Model.load('minilm-int8'))`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(constructor))]
    #[allow(clippy::new_without_default)] // a JavaScript constructor
    pub fn new() -> ModelSet {
        ModelSet { models: vec![], measurements: Rc::default() }
    }

    /// Adds a loaded model to the set. The set shares it with `model` (no copy, no second
    /// load): `model.free()` leaves it in the set. A model already in the set (by name) is a
    /// `BAD_INPUT` error. The last benchmark's figures are dropped: `benchmark()` again before
    /// `choose()` (a benchmark still running measures the models it started with).
    pub fn add(&mut self, model: &Model) -> Result<(), Thrown> {
        Ok(self.add_shared(&model.shared)?)
    }

    /// Every model package embedded in this build, loaded.
    pub fn embedded() -> Result<ModelSet, Thrown> {
        let models = Registry::embedded_names()
            .iter()
            .map(|name| LoadedModel::embedded(name).map(Shared::new))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(ModelSet { models, measurements: Rc::default() })
    }

    /// The names of the models in the set.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn names(&self) -> Result<Vec<String>, Thrown> {
        Ok(self.models.iter().map(|m| m.with(|m| Ok(m.manifest().name.clone()))).collect::<Result<_, Error>>()?)
    }

    /// The measurements of the last `benchmark()` (`Measurement[]`; empty before one).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, unchecked_return_type = "Measurement[]"))]
    pub fn measurements(&self) -> Result<Value, Thrown> {
        Ok(to_value(&*self.measurements.borrow())?)
    }

    /// Picks the most accurate model (manifest `metrics.accuracy`) whose measured latency at
    /// `percentile` (default 95) fits `budgetMs`; when none fits, the fastest (of equally fast
    /// ones, the more accurate), with `withinBudget: false` and a reason that says so; a full tie
    /// goes to the model added first. Needs a
    /// `benchmark()` first. Returns `{ model, name, withinBudget, reason, measurements }`;
    /// `model` is a `Model` sharing the set's loaded model.
    #[cfg(target_family = "wasm")]
    #[wasm_bindgen(unchecked_return_type = "Choice")]
    pub fn choose(&self, options: Option<ChooseOptions>) -> Result<JsValue, JsValue> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ChoiceJs<'a> {
            #[serde(with = "serde_wasm_bindgen::preserve")]
            model: JsValue,
            #[serde(flatten)]
            choice: &'a Choice,
        }
        let choice = self.choice(super::options(&options))?;
        let shared = self.models.get(choice.position).cloned().ok_or_else(|| Error::Registry {
            expected: format!("a model at position {}", choice.position),
            found: format!("{} models", self.models.len()),
        })?;
        Ok(to_value(&ChoiceJs { model: Model::from_shared(shared).into(), choice: &choice })?)
    }
}

#[cfg(not(target_family = "wasm"))]
impl ModelSet {
    /// Benchmarks every model on this machine (see the wasm32 docs).
    pub fn benchmark(&self, options: Option<BenchmarkOptions>) -> Result<Value, Thrown> {
        super::job::run(self.benchmark_job(super::options(&options))?)
    }

    /// The choice for a budget (see the wasm32 docs), with the chosen `Model`.
    pub fn choose(&self, options: Option<ChooseOptions>) -> Result<(Model, Value), Thrown> {
        let choice = self.choice(super::options(&options))?;
        let shared = self.models.get(choice.position).cloned().ok_or_else(|| Error::Registry {
            expected: format!("a model at position {}", choice.position),
            found: format!("{} models", self.models.len()),
        })?;
        Ok((Model::from_shared(shared), to_value(&choice)?))
    }
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
impl ModelSet {
    /// Measures every model on THIS device: `runs` samples each (default 200) of one
    /// prediction's latency after a warm-up (where the clock is coarse, each sample times a
    /// block of calls and counts their mean). The event loop gets a turn between models.
    /// Resolves to `Measurement[]` (`{ name, accuracy, p50, p95, p99, mean, ... }`, in ms).
    #[wasm_bindgen(unchecked_return_type = "Promise<Measurement[]>")]
    pub fn benchmark(&self, options: Option<BenchmarkOptions>) -> js_sys::Promise {
        super::job::promise(self.benchmark_job(super::options(&options)), None)
    }
}

/// A benchmark in progress: one model measured per step.
struct Benchmark {
    models: Vec<Shared>,
    runs: usize,
    resolution: f64,
    measured: Vec<Measurement>,
    /// Where the figures go when every model is measured.
    measurements: Rc<RefCell<Vec<Measurement>>>,
}

impl ModelSet {
    fn benchmark_job(&self, options: Option<&Value>) -> Result<Benchmark, Error> {
        let runs = ModelSet::runs(options)?;
        Ok(Benchmark {
            models: self.models.clone(),
            runs,
            resolution: choose::clock_resolution_ms(),
            measured: Vec::with_capacity(self.models.len()),
            measurements: self.measurements.clone(),
        })
    }
}

impl Steps for Benchmark {
    type Output = Value;

    fn step(&mut self) -> Result<Value, Error> {
        if let Some(model) = self.models.get(self.measured.len()) {
            let (runs, resolution) = (self.runs, self.resolution);
            self.measured.push(model.with(|m| choose::benchmark(m, runs, resolution))?);
        }
        to_value(&self.measured.len())
    }

    fn is_done(&self) -> bool {
        self.measured.len() >= self.models.len()
    }

    fn finish(&mut self) -> Result<Value, Error> {
        let value = to_value(&self.measured)?;
        *self.measurements.borrow_mut() = std::mem::take(&mut self.measured);
        Ok(value)
    }
}
