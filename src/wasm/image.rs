//! Images in, through the boundary: `model.predict(image)` for an image classifier and
//! `model.detect(image)` for a detector. The core does the work ([`crate::vision`]); this module
//! reads the image (an `ImageData`, or `{ data, width, height, channels }`) and shapes the
//! results. js/image.js turns the browser's images (elements, bitmaps, video frames, files) into
//! an `ImageData` first.

use serde::Serialize;

use super::js::{self, read_image};
use super::{Model, Thrown, Value};
use crate::error::Error;
use crate::model::Prediction;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
extern "C" {
    /// An image as the exports take it (`ImageInput` in the `.d.ts`).
    #[wasm_bindgen(typescript_type = "ImageInput")]
    pub type ImageInput;
}
/// An image (natively: JSON, `{ data: [bytes], width, height, channels }`).
#[cfg(not(target_family = "wasm"))]
pub type ImageInput = serde_json::Value;

/// A box (`DetectedBox` in the `.d.ts`).
#[derive(Serialize)]
struct BoxJs<'a> {
    label: &'a str,
    index: usize,
    score: f32,
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

/// `detect()`'s result (`Detections` in the `.d.ts`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DetectionsJs<'a> {
    boxes: Vec<BoxJs<'a>>,
    latency_ms: f64,
}

/// Predicts one image with an image model (what `predict` does for one).
pub(super) fn predict_image(model: &Model, input: &Value) -> Result<(Prediction, f64), Error> {
    let image = read_image(input, model.shared.with(|m| Ok(m.manifest().max_image_pixels()))?)?;
    let pixels = image.pixels().map_err(|e| e.into_error("(boundary)"))?;
    let timed = model.shared.with(|m| m.predict_image(&pixels))?;
    Ok((timed.prediction, timed.latency_ms))
}

#[cfg(target_family = "wasm")]
pub(super) fn value(image: &ImageInput) -> &Value {
    image.as_ref()
}
#[cfg(not(target_family = "wasm"))]
pub(super) fn value(image: &ImageInput) -> &Value {
    image
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Model {
    /// The objects a detector finds in one image: `image` is an `ImageData` (from a canvas's
    /// `getImageData`, or `imageData()` of `edgeserve/image` for an element, a bitmap, a video
    /// frame or a file) or `{ data, width, height, channels }` with `data` a Uint8Array or
    /// Uint8ClampedArray of 8-bit pixels row after row (`channels` 1, 3 or 4; default 4). The
    /// image is resized and normalised in the core as the package's manifest says, the same in
    /// every browser and in Node.
    ///
    /// Returns `{ boxes, latencyMs }`: boxes `[{ label, index, score, x, y, width, height }]`,
    /// best first, in the image's pixels (`x`, `y` the top left corner), after the score
    /// threshold and non-maximum suppression of the manifest's `detection` settings.
    ///
    /// Throws `BAD_INPUT` for an image that is none of these (naming the field: a missing or
    /// wrong size, more pixels than the manifest's `limits.maxImagePixels` (default 8192 x 8192),
    /// a channel count other than 1, 3 or 4, data of the wrong type or length, a detached buffer)
    /// or a model that is not a detector; the model keeps working.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(unchecked_return_type = "Detections"))]
    pub fn detect(&self, image: ImageInput) -> Result<Value, Thrown> {
        let max = self.shared.with(|m| Ok(m.manifest().max_image_pixels()))?;
        let image = read_image(value(&image), max)?;
        let pixels = image.pixels().map_err(|e| e.into_error("(boundary)"))?;
        let found = self.shared.with(|m| m.detect(&pixels))?;
        let boxes = found
            .boxes
            .iter()
            .zip(&found.labels)
            .map(|(b, label)| BoxJs {
                label,
                index: b.index,
                score: b.score,
                x: b.x,
                y: b.y,
                width: b.width,
                height: b.height,
            })
            .collect();
        Ok(js::to_value(&DetectionsJs { boxes, latency_ms: found.latency_ms })?)
    }
}
