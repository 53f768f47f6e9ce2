//! Reading text, through the boundary: `model.readText(image)` for an OCR package (task `ocr`).
//! The core does the work ([`crate::task::ocr`]); this module reads the image and shapes the
//! result.

use serde::Serialize;

use super::image::ImageInput;
use super::js::{self, read_image};
use super::{Model, Thrown};
use crate::task::ocr::OcrTimings;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

/// A line (`TextLine` in the `.d.ts`).
#[derive(Serialize)]
struct LineJs<'a> {
    text: &'a str,
    score: f32,
    #[serde(rename = "box")]
    corners: [[f64; 2]; 4],
}

/// `readText()`'s result (`TextReading` in the `.d.ts`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadingJs<'a> {
    lines: Vec<LineJs<'a>>,
    timings: OcrTimings,
    latency_ms: f64,
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Model {
    /// The lines of text in one image, read (an OCR package, e.g. `await Model.load('ocr')`):
    /// `image` as `detect()` takes it, an `ImageData` (`imageData()` of `edgeserve` makes one of
    /// an element, a bitmap, a video frame or a file) or `{ data, width, height, channels }`.
    ///
    /// Returns `{ lines, timings, latencyMs }`: `lines` in reading order (top to bottom, then
    /// left to right), each `{ text, score, box }` with `score` from 0 to 1 (the mean probability
    /// of its characters; lines under the package's `ocr.recognizer.scoreThreshold` are left
    /// out) and `box` its four corners `[x, y]` in the image's pixels (top left, top right,
    /// bottom right, bottom left); `timings` the milliseconds of each stage (`detectorMs`,
    /// `cropMs`, `classifierMs`, `recognizerMs`), `latencyMs` the whole call's.
    ///
    /// Throws `BAD_INPUT` for an image that is none of these (naming the field, as `detect()`)
    /// or a model that does not read text; the model keeps working.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = readText, unchecked_return_type = "TextReading"))]
    pub fn read_text(&self, image: ImageInput) -> Result<super::Value, Thrown> {
        let max = self.shared.with(|m| Ok(m.manifest().max_image_pixels()))?;
        let image = read_image(super::image::value(&image), max)?;
        let pixels = image.pixels().map_err(|e| e.into_error("(boundary)"))?;
        let reading = self.shared.with(|m| m.read_text(&pixels))?;
        let lines =
            reading.lines.iter().map(|l| LineJs { text: &l.text, score: l.score, corners: l.corners }).collect();
        Ok(js::to_value(&ReadingJs { lines, timings: reading.timings, latency_ms: reading.latency_ms })?)
    }
}
