//! Batch exports: `model.predictBatch(rows, options)` and `model.predictCsv(text, options)`.
//! On wasm32 they return Promises, driven chunk by chunk from JavaScript (see [`super::job`]),
//! yielding to the event loop after each chunk (calling `onProgress` first); natively they run
//! to the end.

use super::job::{self, Steps};
use super::js::{self, check_options, function_option, label_column_option, whole_option};
#[cfg(target_family = "wasm")]
use super::js::{string_arg, MAX_TEXT_UNITS};
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
        BatchResult {
            predictions: out.predictions,
            classes,
            truth,
            latency_ms: out.latency_ms,
            rows_per_second: out.rows_per_second,
        }
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
    job: Option<BatchJob>,
    shared: Shared,
    classes: Vec<String>,
    truth: Option<Vec<String>>,
}

impl Model {
    /// The batch, and its `onProgress` (a function, or None).
    fn prepare_rows(&self, rows: &Value, options: Option<&Value>) -> Result<(Prepared, Option<Value>), Error> {
        check_options(options, "predictBatch")?;
        let chunk = whole_option(options, "chunkSize", DEFAULT_CHUNK, MAX_CHUNK)?;
        let on_progress = function_option(options, "onProgress")?;
        let (width, classes, max_rows, is_text) =
            self.shared.with(|m| Ok((m.width(), m.labels().to_vec(), m.manifest().max_batch_rows(), m.is_text())))?;
        let max_rows = usize::try_from(max_rows).unwrap_or(usize::MAX);
        let image_pixels = self.shared.with(|m| Ok(m.is_image().then(|| m.manifest().max_image_pixels())))?;
        let job = if let Some(max_pixels) = image_pixels {
            let images = js::read_images(rows, max_rows, max_pixels)?;
            self.shared.with(|m| BatchJob::images(m, images, chunk))?
        } else if is_text {
            let (texts, _) = super::text::read_texts(rows, max_rows)?;
            self.shared.with(|m| BatchJob::texts(m, texts, chunk))?
        } else {
            let raw = js::read_rows(rows, width, max_rows)?;
            self.shared.with(|m| BatchJob::new(m, raw, chunk))?
        };
        Ok((Prepared { job: Some(job), shared: self.shared.clone(), classes, truth: None }, on_progress))
    }

    fn prepare_csv(
        &self,
        text: Result<String, Error>,
        options: Option<&Value>,
    ) -> Result<(Prepared, Option<Value>), Error> {
        let text = text?;
        check_options(options, "predictCsv")?;
        let chunk = whole_option(options, "chunkSize", DEFAULT_CHUNK, MAX_CHUNK)?;
        let label_column = label_column_option(options)?;
        let on_progress = function_option(options, "onProgress")?;
        let (width, classes) = self.shared.with(|m| Ok((m.width(), m.labels().to_vec())))?;
        let table = csv::parse(&text, width, label_column.as_ref())?;
        let job = self.shared.with(|m| BatchJob::new(m, table.features, chunk))?;
        Ok((Prepared { job: Some(job), shared: self.shared.clone(), classes, truth: table.truth }, on_progress))
    }
}

impl Steps for Prepared {
    type Output = BatchResult;

    /// Predicts the next chunk; the model can serve other calls between chunks.
    fn step(&mut self) -> Result<Value, Error> {
        let job = self.job.as_mut().ok_or_else(finished)?;
        let progress = self.shared.with(|m| job.step(m))?;
        js::to_value(&progress)
    }

    fn is_done(&self) -> bool {
        self.job.as_ref().is_none_or(BatchJob::is_done)
    }

    fn finish(&mut self) -> Result<BatchResult, Error> {
        let job = self.job.take().ok_or_else(finished)?;
        Ok(BatchResult::new(job.finish(), std::mem::take(&mut self.classes), self.truth.take()))
    }
}

/// The error of a step after the end (the package's JavaScript never makes one).
fn finished() -> Error {
    Error::Inference {
        model: "(boundary)".into(),
        detail: "a batch step after its end: expected a batch in progress, got a finished one".into(),
    }
}

#[cfg(not(target_family = "wasm"))]
use job::run;

#[cfg(not(target_family = "wasm"))]
impl Model {
    /// Predicts a batch of rows (natively: to the end, at once). See the wasm32 docs.
    pub fn predict_batch(&self, rows: BatchInput, options: Option<BatchOptions>) -> Result<BatchResult, Thrown> {
        run(self.prepare_rows(&rows, super::options(&options))?.0)
    }

    /// Predicts the rows of a CSV text (natively: to the end, at once). See the wasm32 docs.
    pub fn predict_csv(&self, text: &str, options: Option<CsvOptions>) -> Result<BatchResult, Thrown> {
        run(self.prepare_csv(Ok(text.to_owned()), super::options(&options))?.0)
    }
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
impl Model {
    /// Predicts a batch: `rows` is one typed array of `n * inputWidth` raw values, or an array of
    /// rows (typed arrays or number arrays). The model runs on the batch dimension, one tensor
    /// per chunk of `chunkSize` rows (default 256); after each chunk `onProgress({ done, total,
    /// rowsPerSecond })` is called and the event loop gets a turn (a throw of `onProgress`, or the
    /// rejection of a Promise it returns, ends the batch with that very error). Resolves to a
    /// `BatchResult` (`labels`, `indices: Int32Array`, `scores: Float32Array` of n * labels
    /// values, `latencyMs`, `rowsPerSecond`). A bad row rejects with a `BAD_INPUT` error that
    /// names the row; so does a row that cannot be read (a detached buffer, a getter that throws).
    /// A text model takes an array of strings; an embedding model's vectors come back as
    /// `values` (n * dim), a text classifier's as for rows. An image classifier takes an array of
    /// images (as `predict` takes one; those of one size run together on the batch dimension),
    /// and a bad image rejects naming it (`rows[i]: ...`).
    #[wasm_bindgen(js_name = predictBatch, unchecked_return_type = "Promise<BatchResult>")]
    pub fn predict_batch(&self, rows: BatchInput, options: Option<BatchOptions>) -> js_sys::Promise {
        let prepared = self.prepare_rows(&rows, super::options(&options));
        let (prepared, on_progress) = prepared.map_or_else(|e| (Err(e), None), |(p, f)| (Ok(p), f));
        job::promise(prepared, on_progress)
    }

    /// Predicts the rows of CSV text (with or without a header line; a UTF-8 BOM and CRLF line
    /// ends are fine). `labelColumn` (a header name or a 0-based index) names the column of true
    /// labels: its cells are not features, and the result then has `accuracy`. Every other
    /// column is a raw feature, `inputWidth` of them. Chunks and `onProgress` as in
    /// `predictBatch`. `result.toCsv()` gives the predictions as CSV text. A bad cell or a
    /// ragged line rejects with a `BAD_INPUT` error that names the line and the column.
    #[wasm_bindgen(js_name = predictCsv, unchecked_return_type = "Promise<BatchResult>")]
    pub fn predict_csv(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
        options: Option<CsvOptions>,
    ) -> js_sys::Promise {
        let text = string_arg(&text, "text", "CSV text (a string)", MAX_TEXT_UNITS);
        let prepared = self.prepare_csv(text, super::options(&options));
        let (prepared, on_progress) = prepared.map_or_else(|e| (Err(e), None), |(p, f)| (Ok(p), f));
        job::promise(prepared, on_progress)
    }
}
