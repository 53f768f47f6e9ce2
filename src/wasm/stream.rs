//! `model.stream(options)`: a WHATWG TransformStream of raw rows in, predictions out, in
//! micro-batches. The batching lives in [`crate::serve::stream`]; `js/stream.js` wires it to the
//! platform's TransformStream and timer.

use wasm_bindgen::prelude::*;

use super::js::{check_options, number_option, read_row, to_value, whole_option, PredictionJs};
use super::{Model, Shared, StreamOptions};
use crate::preprocess::RowName;
use crate::serve::stream::{StreamBatcher, StreamItem, StreamOutput, MAX_BATCH};

#[wasm_bindgen(module = "/js/stream.js")]
extern "C" {
    #[wasm_bindgen(js_name = createStream)]
    fn create_stream(core: StreamCore, max_batch: u32, max_wait_ms: f64) -> JsValue;
}

/// The Rust side of one stream (used by the stream's JavaScript glue; not for direct use).
#[wasm_bindgen]
pub struct StreamCore {
    model: Shared,
    batcher: StreamBatcher,
}

#[wasm_bindgen]
impl StreamCore {
    /// Queues one item (a row of raw features, or a text); a bad item is queued with its error.
    pub fn push(&mut self, item: JsValue) {
        let row = RowName::Row(self.batcher.next_index() as usize);
        let text_model = self.model.with(|m| Ok(m.is_text())).unwrap_or(false);
        let image_pixels =
            self.model.with(|m| Ok(m.is_image().then(|| m.manifest().max_image_pixels()))).unwrap_or(None);
        let read = if let Some(max_pixels) = image_pixels {
            super::js::read_image(&item, max_pixels).map(StreamItem::Image).map_err(|e| e.named(&row.to_string()))
        } else if text_model && item.is_string() {
            super::text::read_text(&item, &row).map(StreamItem::Text)
        } else {
            let mut raw = Vec::new();
            read_row(&item, row, &mut raw).map(|_| StreamItem::Row(raw))
        };
        self.batcher.push(read);
    }

    /// True when a micro-batch is full.
    #[wasm_bindgen(js_name = isFull)]
    pub fn is_full(&self) -> bool {
        self.batcher.is_full()
    }

    /// Items waiting.
    #[wasm_bindgen(getter)]
    pub fn queued(&self) -> usize {
        self.batcher.queued()
    }

    /// Runs the oldest micro-batch and returns its outputs (`StreamOutput[]`).
    pub fn flush(&mut self) -> Result<js_sys::Array, JsValue> {
        let batcher = &mut self.batcher;
        let outputs = self.model.with(|m| Ok(batcher.flush(m)))?;
        let array = js_sys::Array::new();
        for output in &outputs {
            array.push(&output_js(output)?);
        }
        Ok(array)
    }
}

fn output_js(o: &StreamOutput) -> Result<JsValue, JsValue> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Good<'a> {
        index: u64,
        prediction: PredictionJs<'a>,
        queued_ms: f64,
        latency_ms: f64,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Bad {
        index: u64,
        #[serde(with = "serde_wasm_bindgen::preserve")]
        error: JsValue,
        queued_ms: f64,
        latency_ms: f64,
    }
    Ok(match &o.result {
        Ok(p) => to_value(&Good {
            index: o.index,
            prediction: PredictionJs::new(p, None),
            queued_ms: o.queued_ms,
            latency_ms: o.latency_ms,
        })?,
        Err(e) => to_value(&Bad {
            index: o.index,
            error: e.clone().into(),
            queued_ms: o.queued_ms,
            latency_ms: o.latency_ms,
        })?,
    })
}

#[wasm_bindgen]
impl Model {
    /// A `TransformStream` for near-real-time serving: write rows of raw features (as for
    /// `predict`), read one `StreamOutput` per row, in order:
    /// `{ index, prediction: { label, index, scores }, queuedMs, latencyMs }`, or
    /// `{ index, error, queuedMs, latencyMs }` for a bad item (the stream goes on). Items run in
    /// micro-batches of up to `maxBatch` (default 32), or whatever arrived within `maxWaitMs`
    /// (default 5) of a micro-batch's first item. `queuedMs` is the item's wait, `latencyMs` its
    /// micro-batch's inference time. Backpressure: a writer that awaits `ready`, or a pipe, is
    /// slowed to the model's pace.
    #[wasm_bindgen(unchecked_return_type = "TransformStream<RowInput, StreamOutput>")]
    pub fn stream(&self, options: Option<StreamOptions>) -> Result<JsValue, JsValue> {
        let o = super::options(&options);
        check_options(o, "stream")?;
        let max_batch = whole_option(o, "maxBatch", 32, MAX_BATCH)?;
        let max_wait_ms = number_option(o, "maxWaitMs", Some(5.0), (0.0, 60_000.0))?.unwrap_or(5.0);
        let batcher = StreamBatcher::new(max_batch)?;
        let core = StreamCore { model: self.shared.clone(), batcher };
        Ok(create_stream(core, max_batch as u32, max_wait_ms))
    }
}
