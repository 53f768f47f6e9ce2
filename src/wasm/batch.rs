//! Batch exports: `model.predictBatch(rows, options)` and `model.predictCsv(text, options)`.
//! On wasm32 they return Promises and yield to the event loop after each chunk (calling
//! `onProgress` first); natively they run to the end.

use super::js::{self, check_options, label_column_option, whole_option};
use super::{BatchInput, BatchOptions, CsvOptions, Model, Shared, Thrown, Value};
use crate::error::Error;
use crate::model::Predictions;
use crate::serve::batch::{BatchJob, BatchOutput, DEFAULT_CHUNK, MAX_CHUNK};
use crate::serve::csv;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

/// The predictions of a batch (`predictBatch`, `predictCsv`), in flat typed arrays. Each read
/// of `labels`, `indices`, `scores`, `values` or `truth` makes a new copy: read it once into a
/// variable rather than in a loop. Call `free()` when done (garbage collection also frees it).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub struct BatchResult {
    predictions: Predictions,
    /// The model's class labels (empty for a regression).
    classes: Vec<String>,
    truth: Option<Vec<String>>,
    latency_ms: f64,
    rows_per_second: f64,
}

impl BatchResult {
    fn new(out: BatchOutput, classes: Vec<String>, truth: Option<Vec<String>>) -> BatchResult {
        BatchResult { predictions: out.predictions, classes, truth, latency_ms: out.latency_ms, rows_per_second: out.rows_per_second }
    }
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl BatchResult {
    /// How many rows were predicted.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn rows(&self) -> usize {
        self.predictions.rows
    }

    /// The predicted label of each row (classification; empty for a regression).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn labels(&self) -> Vec<String> {
        self.predictions.indices.iter().map(|i| self.classes.get(*i as usize).cloned().unwrap_or_default()).collect()
    }

    /// The predicted class index of each row (`Int32Array`, one per row).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn indices(&self) -> Vec<i32> {
        self.predictions.indices.clone()
    }

    /// The scores of every row, row after row (`Float32Array` of rows * labels values).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn scores(&self) -> Vec<f32> {
        self.predictions.scores.clone()
    }

    /// Regression values of every row, row after row (`Float32Array`; empty for a classifier).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn values(&self) -> Vec<f32> {
        self.predictions.values.clone()
    }

    /// Wall-clock milliseconds from the start of the batch to its end.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, js_name = latencyMs))]
    pub fn latency_ms(&self) -> f64 {
        self.latency_ms
    }

    /// Rows per second over the whole batch (wall clock).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, js_name = rowsPerSecond))]
    pub fn rows_per_second(&self) -> f64 {
        self.rows_per_second
    }

    /// The share of rows predicted right (0..1), when the CSV had a label column; else
    /// `undefined`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn accuracy(&self) -> Option<f64> {
        self.truth.as_ref().and_then(|t| csv::accuracy(&self.predictions, &self.classes, t))
    }

    /// The true labels from the CSV's label column, when it had one.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn truth(&self) -> Option<Vec<String>> {
        self.truth.clone()
    }

    /// The predictions as CSV text: `row`, `truth` (when known), `label`, `index` and one
    /// `score_<label>` column per class (a regression: `value_<i>` columns).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = toCsv))]
    pub fn to_csv(&self) -> Result<String, Thrown> {
        Ok(csv::to_csv(&self.predictions, &self.classes, self.truth.as_deref())?)
    }
}

/// A batch ready to run: the job, the model, and what the result needs besides predictions.
struct Prepared {
    job: BatchJob,
    shared: Shared,
    classes: Vec<String>,
    truth: Option<Vec<String>>,
    /// `onProgress`, called after each chunk (on wasm32; natively there is no callback).
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    on_progress: Option<Value>,
}

impl Model {
    fn prepare_rows(&self, rows: &Value, options: Option<&Value>) -> Result<Prepared, Error> {
        check_options(options, "predictBatch")?;
        let chunk = whole_option(options, "chunkSize", DEFAULT_CHUNK, MAX_CHUNK)?;
        let (width, classes) = self.shared.with(|m| Ok((m.width(), m.labels().to_vec())))?;
        let raw = js::read_rows(rows, width)?;
        let job = self.shared.with(|m| BatchJob::new(m, raw, chunk))?;
        let on_progress = options.and_then(|o| js::field(o, "onProgress"));
        Ok(Prepared { job, shared: self.shared.clone(), classes, truth: None, on_progress })
    }

    fn prepare_csv(&self, text: &str, options: Option<&Value>) -> Result<Prepared, Error> {
        check_options(options, "predictCsv")?;
        let chunk = whole_option(options, "chunkSize", DEFAULT_CHUNK, MAX_CHUNK)?;
        let label_column = label_column_option(options)?;
        let (width, classes) = self.shared.with(|m| Ok((m.width(), m.labels().to_vec())))?;
        let table = csv::parse(text, width, label_column.as_ref())?;
        let job = self.shared.with(|m| BatchJob::new(m, table.features, chunk))?;
        let on_progress = options.and_then(|o| js::field(o, "onProgress"));
        Ok(Prepared { job, shared: self.shared.clone(), classes, truth: table.truth, on_progress })
    }
}

/// Runs a prepared batch to the end without yielding (natively).
#[cfg(not(target_family = "wasm"))]
fn run(mut p: Prepared) -> Result<BatchResult, Error> {
    while !p.job.is_done() {
        p.shared.with(|m| p.job.step(m))?;
    }
    Ok(BatchResult::new(p.job.finish(), p.classes, p.truth))
}

/// Runs a prepared batch chunk by chunk: after each, `onProgress` is called and the event loop
/// gets a turn, so a page stays responsive and the model can serve other calls meanwhile.
#[cfg(target_family = "wasm")]
async fn run(mut p: Prepared) -> Result<BatchResult, JsValue> {
    loop {
        let progress = p.shared.with(|m| p.job.step(m))?;
        if let Some(callback) = p.on_progress.as_ref().and_then(|f| f.dyn_ref::<js_sys::Function>()) {
            callback.call1(&JsValue::UNDEFINED, &js::to_value(&progress)?)?;
        }
        if p.job.is_done() {
            break;
        }
        js::yield_to_event_loop().await;
    }
    Ok(BatchResult::new(p.job.finish(), p.classes, p.truth))
}

/// A Promise of the batch's result; errors in the arguments reject it too.
#[cfg(target_family = "wasm")]
fn promise(prepared: Result<Prepared, Error>) -> js_sys::Promise {
    match prepared {
        Ok(p) => wasm_bindgen_futures::future_to_promise(async move { run(p).await.map(JsValue::from) }),
        Err(e) => js_sys::Promise::reject(&e.into()),
    }
}

#[cfg(not(target_family = "wasm"))]
impl Model {
    /// Predicts a batch of rows (natively: to the end, at once). See the wasm32 docs.
    pub fn predict_batch(&self, rows: BatchInput, options: Option<BatchOptions>) -> Result<BatchResult, Thrown> {
        run(self.prepare_rows(&rows, super::options(&options))?)
    }

    /// Predicts the rows of a CSV text (natively: to the end, at once). See the wasm32 docs.
    pub fn predict_csv(&self, text: &str, options: Option<CsvOptions>) -> Result<BatchResult, Thrown> {
        run(self.prepare_csv(text, super::options(&options))?)
    }
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
impl Model {
    /// Predicts a batch: `rows` is one typed array of `n * inputWidth` raw values, or an array of
    /// rows (typed arrays or number arrays). The model runs on the batch dimension, one tensor
    /// per chunk of `chunkSize` rows (default 256); after each chunk `onProgress({ done, total,
    /// rowsPerSecond })` is called and the event loop gets a turn. Resolves to a `BatchResult`
    /// (`labels`, `indices: Int32Array`, `scores: Float32Array` of n * labels values, `latencyMs`,
    /// `rowsPerSecond`). A bad row rejects with a `BAD_INPUT` error that names the row.
    #[wasm_bindgen(js_name = predictBatch, unchecked_return_type = "Promise<BatchResult>")]
    pub fn predict_batch(&self, rows: BatchInput, options: Option<BatchOptions>) -> js_sys::Promise {
        promise(self.prepare_rows(&rows, super::options(&options)))
    }

    /// Predicts the rows of CSV text (with or without a header line; a UTF-8 BOM and CRLF line
    /// ends are fine). `labelColumn` (a header name or a 0-based index) names the column of true
    /// labels: its cells are not features, and the result then has `accuracy`. Every other
    /// column is a raw feature, `inputWidth` of them. Chunks and `onProgress` as in
    /// `predictBatch`. `result.toCsv()` gives the predictions as CSV text. A bad cell or a
    /// ragged line rejects with a `BAD_INPUT` error that names the line and the column.
    #[wasm_bindgen(js_name = predictCsv, unchecked_return_type = "Promise<BatchResult>")]
    pub fn predict_csv(&self, text: &str, options: Option<CsvOptions>) -> js_sys::Promise {
        promise(self.prepare_csv(text, super::options(&options)))
    }
}
