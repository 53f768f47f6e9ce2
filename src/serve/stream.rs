//! Near-real-time stream serving: items arrive one at a time, wait in a bounded queue, and are
//! predicted in micro-batches of up to `max_batch` items (the JavaScript glue flushes a
//! micro-batch when it is full or when its first item has waited `maxWaitMs`). Each output
//! carries its item's index in the stream, the time it waited and the micro-batch's inference
//! time; a bad item gets an error output of its own and the stream goes on.

use std::collections::VecDeque;

use crate::error::{Error, Result};
use crate::latency::{Mode, Stopwatch};
use crate::model::{LoadedModel, Prediction, Predictions};
use crate::preprocess::RowName;

/// The largest micro-batch.
pub const MAX_BATCH: usize = 4096;

/// One item of a stream: a row of raw features, or a text (for a text model).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Row(Vec<f32>),
    Text(String),
    Image(crate::image::OwnedImage),
}

struct Pending {
    index: u64,
    /// The item, or why it could not be read.
    raw: std::result::Result<StreamItem, Error>,
    since: Stopwatch,
}

/// What one item of the stream became.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamOutput {
    /// The item's position in the stream, from 0.
    pub index: u64,
    /// The prediction, or the item's error.
    pub result: std::result::Result<Prediction, Error>,
    /// Milliseconds the item waited in the queue before its micro-batch ran.
    pub queued_ms: f64,
    /// Milliseconds its micro-batch took (preprocessing, inference, decoding).
    pub latency_ms: f64,
}

/// The queue and micro-batching of one stream.
pub struct StreamBatcher {
    max_batch: usize,
    queue: VecDeque<Pending>,
    next_index: u64,
    /// Items that passed preprocessing in the current micro-batch: their queue positions.
    good: Vec<usize>,
    /// Preprocessed rows of the good items, laid end to end.
    rows: Vec<f32>,
}

impl StreamBatcher {
    /// A stream that predicts up to `max_batch` items at a time.
    pub fn new(max_batch: usize) -> Result<StreamBatcher> {
        if max_batch == 0 || max_batch > MAX_BATCH {
            return Err(Error::bad_input(
                "maxBatch is out of range",
                format!("a whole number from 1 to {MAX_BATCH}"),
                max_batch.to_string(),
            ));
        }
        Ok(StreamBatcher {
            max_batch,
            queue: VecDeque::with_capacity(max_batch),
            next_index: 0,
            good: vec![],
            rows: vec![],
        })
    }

    /// Queues an item (a raw row or a text, or the error that reading it gave) and returns its
    /// index.
    pub fn push(&mut self, raw: std::result::Result<StreamItem, Error>) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        self.queue.push_back(Pending { index, raw, since: Stopwatch::start() });
        index
    }

    /// The index the next item will get.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Items waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// True when a micro-batch is full and should run now.
    pub fn is_full(&self) -> bool {
        self.queue.len() >= self.max_batch
    }

    /// Predicts the oldest micro-batch (up to `max_batch` items) and returns one output per
    /// item, in stream order. Items that are not valid rows get their own error; the others run
    /// as one batch. Only a failure of the model itself fails every item of the micro-batch.
    pub fn flush(&mut self, model: &mut LoadedModel) -> Vec<StreamOutput> {
        let n = self.queue.len().min(self.max_batch);
        let items: Vec<Pending> = self.queue.drain(..n).collect();
        let queued: Vec<f64> = items.iter().map(|i| i.since.elapsed_ms()).collect();
        let clock = Stopwatch::start();
        let width = model.width();
        let text_model = model.is_text();
        let preprocessing = &model.manifest().preprocessing;
        self.good.clear();
        self.rows.clear();
        let mut texts: Vec<&str> = vec![];
        let image_model = model.is_image();
        let mut images: Vec<&crate::image::OwnedImage> = vec![];
        let mut errors: Vec<Option<Error>> = Vec::with_capacity(n);
        for (pos, item) in items.iter().enumerate() {
            // apply_row appends the preprocessed row, or nothing when the row is bad.
            let at = RowName::Row(item.index as usize);
            let verdict = match &item.raw {
                Ok(StreamItem::Row(raw)) => preprocessing.apply_row(raw, width, at, &mut self.rows),
                Ok(StreamItem::Text(text)) if text_model => {
                    texts.push(text);
                    Ok(())
                }
                Ok(StreamItem::Text(_)) => Err(Error::bad_input(
                    format!("{at} is text"),
                    "a row of numbers (this model takes no text)",
                    "a string",
                )),
                Ok(StreamItem::Image(image)) if image_model => {
                    // Checked here so that a bad image gets its own error, not its micro-batch's.
                    let max = model.manifest().max_image_pixels();
                    match image.pixels().and_then(|_| crate::vision::check_size(max, image.width, image.height)) {
                        Ok(()) => {
                            images.push(image);
                            Ok(())
                        }
                        Err(e) => Err(e.into_error(&model.manifest().name).named(&at.to_string())),
                    }
                }
                Ok(StreamItem::Image(_)) => Err(Error::bad_input(
                    format!("{at} is an image"),
                    "the input this model takes (it takes no images)",
                    "an image",
                )),
                Err(e) => Err(e.clone()),
            };
            match verdict {
                Ok(()) => {
                    self.good.push(pos);
                    errors.push(None);
                }
                Err(e) => errors.push(Some(e)),
            }
        }
        let mut predictions = Predictions::default();
        let run = if self.good.is_empty() {
            Ok(())
        } else {
            let rows = self.good.len();
            if text_model {
                model.decode_texts(&texts, None, &mut predictions)
            } else if image_model {
                // Each image's error is its own, named by its index in the stream.
                let first = items[self.good[0]].index as usize;
                model.decode_images(&images, first, &mut predictions)
            } else {
                model
                    .run_prepared(&self.rows, rows)
                    .and_then(|outputs| model.decode_rows(&outputs, rows, &mut predictions))
            }
        };
        let latency_ms = clock.elapsed_ms();
        if run.is_ok() && !self.good.is_empty() {
            model.record(Mode::Stream, latency_ms, self.good.len() as u64);
        }
        let per_row_values = predictions.values.len().checked_div(predictions.rows).unwrap_or(0);
        let mut next_good = 0usize;
        items
            .iter()
            .zip(errors)
            .zip(queued)
            .map(|((item, error), queued_ms)| {
                let result = match (error, &run) {
                    (Some(e), _) => Err(e),
                    (None, Err(e)) => Err(e.clone()),
                    (None, Ok(())) => {
                        let r = next_good;
                        next_good += 1;
                        Ok(predictions.row(r, model.labels(), per_row_values))
                    }
                };
                StreamOutput { index: item.index, result, queued_ms, latency_ms }
            })
            .collect()
    }
}
