//! Batch serving: predictions over a whole collection, in chunks on the batch dimension (one
//! tensor per chunk, not one run per row), with progress after each chunk so that the caller can
//! yield to its event loop between chunks.

use crate::error::{Error, Result};
use crate::image::OwnedImage;
use crate::latency::{Mode, Stopwatch};
use crate::model::{LoadedModel, Predictions};

/// The chunk size when the caller gives none.
pub const DEFAULT_CHUNK: usize = 256;
/// The largest chunk: larger ones would only grow memory, not throughput.
pub const MAX_CHUNK: usize = 65_536;

/// Where a batch stands, after a chunk.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Rows predicted so far.
    pub done: usize,
    /// Rows in the batch.
    pub total: usize,
    /// Rows per second so far (wall clock since the batch started).
    pub rows_per_second: f64,
}

/// A finished batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutput {
    pub predictions: Predictions,
    /// Wall-clock milliseconds from the start of the batch to its end.
    pub latency_ms: f64,
    /// Rows per second over the whole batch.
    pub rows_per_second: f64,
}

/// What a batch is made of: rows of raw features laid end to end, texts (a text model) or
/// images (an image model).
#[derive(Debug)]
enum Items {
    Rows { raw: Vec<f32>, width: usize },
    Texts(Vec<String>),
    Images(Vec<OwnedImage>),
}

/// A batch being predicted, one chunk per [`BatchJob::step`]. It does not hold the model, so
/// the model can serve other calls between chunks.
#[derive(Debug)]
pub struct BatchJob {
    items: Items,
    total: usize,
    chunk: usize,
    out: Predictions,
    clock: Stopwatch,
}

impl BatchJob {
    /// Prepares a batch of `raw` rows laid end to end (`rows * model.width()` values).
    pub fn new(model: &LoadedModel, raw: Vec<f32>, chunk_size: usize) -> Result<BatchJob> {
        model.require_task()?;
        if model.is_text() {
            return Err(Error::bad_input(
                "rows of numbers",
                "texts (this is a text model: a batch is an array of strings)",
                "rows",
            ));
        }
        let width = model.width();
        check_chunk(chunk_size)?;
        if width == 0 || !raw.len().is_multiple_of(width) {
            return Err(Error::bad_input(
                "rows do not divide into whole rows",
                format!("a multiple of {width} values ({width} raw features per row)"),
                format!("{} values", raw.len()),
            ));
        }
        let total = raw.len() / width;
        check_limit(model, total)?;
        Ok(BatchJob {
            items: Items::Rows { raw, width },
            total,
            chunk: chunk_size,
            out: Predictions::default(),
            clock: Stopwatch::start(),
        })
    }

    /// Prepares a batch of texts for a text model (an embedding model's vectors come out as
    /// `values`, `dim` per text).
    pub fn texts(model: &LoadedModel, texts: Vec<String>, chunk_size: usize) -> Result<BatchJob> {
        model.require_task()?;
        // A chunk is one call's worth of texts at most.
        let most = model.max_texts()?;
        check_chunk(chunk_size)?;
        let chunk_size = chunk_size.min(most);
        if texts.is_empty() {
            return Err(Error::bad_input("texts is empty", "at least one text", "an empty array"));
        }
        check_limit(model, texts.len())?;
        let total = texts.len();
        Ok(BatchJob {
            items: Items::Texts(texts),
            total,
            chunk: chunk_size,
            out: Predictions::default(),
            clock: Stopwatch::start(),
        })
    }

    /// Prepares a batch of images (an image model).
    pub fn images(model: &LoadedModel, images: Vec<OwnedImage>, chunk_size: usize) -> Result<BatchJob> {
        model.require_task()?;
        check_chunk(chunk_size)?;
        if images.is_empty() {
            return Err(Error::bad_input("images is empty", "at least one image", "an empty array"));
        }
        check_limit(model, images.len())?;
        let total = images.len();
        Ok(BatchJob {
            items: Items::Images(images),
            total,
            chunk: chunk_size,
            out: Predictions::default(),
            clock: Stopwatch::start(),
        })
    }

    /// Rows in the batch.
    pub fn total(&self) -> usize {
        self.total
    }

    /// True when every row is predicted.
    pub fn is_done(&self) -> bool {
        self.out.rows >= self.total
    }

    /// Predicts the next chunk. A bad row fails the batch with an error that names the row.
    pub fn step(&mut self, model: &mut LoadedModel) -> Result<Progress> {
        let start = self.out.rows;
        let end = (start + self.chunk).min(self.total);
        if start < end {
            let clock = Stopwatch::start();
            let rows = end - start;
            match &self.items {
                Items::Rows { raw, width } => {
                    let (rows, outputs) = model.run_raw_rows(&raw[start * width..end * width], Some(start))?;
                    model.decode_rows(&outputs, rows, &mut self.out)?;
                }
                Items::Texts(texts) => model.decode_texts(&texts[start..end], Some(start), &mut self.out)?,
                Items::Images(images) => {
                    let chunk: Vec<&OwnedImage> = images[start..end].iter().collect();
                    model.decode_images(&chunk, start, &mut self.out)?
                }
            }
            let ms = clock.elapsed_ms();
            model.record(Mode::Batch, ms / rows.max(1) as f64, rows as u64);
        }
        Ok(Progress { done: self.out.rows, total: self.total, rows_per_second: self.rows_per_second() })
    }

    fn rows_per_second(&self) -> f64 {
        let ms = self.clock.elapsed_ms();
        if ms > 0.0 {
            self.out.rows as f64 / (ms / 1e3)
        } else {
            0.0
        }
    }

    /// The predictions, once every chunk is done.
    pub fn finish(self) -> BatchOutput {
        let latency_ms = self.clock.elapsed_ms();
        let rows_per_second = self.rows_per_second();
        BatchOutput { predictions: self.out, latency_ms, rows_per_second }
    }
}

fn check_chunk(chunk_size: usize) -> Result<()> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK {
        return Err(Error::bad_input(
            "chunkSize is out of range",
            format!("a whole number from 1 to {MAX_CHUNK}"),
            chunk_size.to_string(),
        ));
    }
    Ok(())
}

/// A batch of `total` rows or texts within the manifest's `limits.maxBatchRows`.
fn check_limit(model: &LoadedModel, total: usize) -> Result<()> {
    let limit = model.manifest().max_batch_rows();
    if total as u64 > limit {
        return Err(Error::bad_input(
            format!("the batch is over the size limit of '{}'", model.manifest().name),
            format!("at most {limit} rows per call (manifest limits.maxBatchRows)"),
            format!("{total} rows"),
        ));
    }
    Ok(())
}

impl LoadedModel {
    /// Predicts `raw` rows laid end to end in chunks of `chunk_size` rows, all at once (the
    /// boundary drives a [`BatchJob`] itself to yield between chunks).
    pub fn predict_batch(&mut self, raw: Vec<f32>, chunk_size: usize) -> Result<BatchOutput> {
        let mut job = BatchJob::new(self, raw, chunk_size)?;
        while !job.is_done() {
            job.step(self)?;
        }
        Ok(job.finish())
    }
}
