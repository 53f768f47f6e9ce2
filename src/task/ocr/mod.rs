//! The OCR task: reading the lines of text in an image with three graphs, as PaddleOCR's
//! pipeline (and RapidOCR's, its ONNX port) does:
//! 1. the package's own graph, a text detector (DBNet), gives a probability of text per pixel of
//!    the image made into its tensor (the manifest's image preprocessing);
//! 2. [`regions`]: that map to the four corners of each line (threshold, contours, minimum-area
//!    rectangles, grown by the unclip ratio), in the image's pixels, in reading order;
//! 3. [`crop`]: each line cut out of the image and straightened by a perspective warp;
//! 4. an orientation classifier (optional) turns lines that are upside down;
//! 5. a recogniser gives, per column of the line, a probability per character; [`ctc`] makes
//!    them the line's text and score.
//!
//! The settings here are the manifest's `ocr` field; [`reader`] runs the pipeline (the `ocr`
//! feature). The classifier's and the recogniser's graphs are files of the package beside
//! `model.onnx`, named with their sha256 in these settings.

#[cfg(feature = "ocr")]
pub mod crop;
pub mod ctc;
#[cfg(feature = "ocr")]
pub mod reader;
#[cfg(feature = "ocr")]
pub mod regions;

use serde::{Deserialize, Serialize};

use crate::manifest::NnefForm;
use crate::package::Form;

/// The manifest's `ocr` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OcrSettings {
    /// How the detector's map becomes lines.
    #[serde(default)]
    pub detector: DetectorSettings,
    /// The orientation classifier; without it, lines are read as they are cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier: Option<ClassifierSettings>,
    /// The recogniser.
    pub recognizer: RecognizerSettings,
}

/// DB's post-processing (PaddleOCR's `DBPostProcess`), with RapidOCR's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DetectorSettings {
    /// A pixel whose probability is above this is text (default 0.3).
    #[serde(default = "threshold")]
    pub threshold: f32,
    /// A line whose mean probability is below this is dropped (default 0.5).
    #[serde(default = "box_threshold")]
    pub box_threshold: f32,
    /// How much a line's rectangle grows: by its area times this over its perimeter on each side
    /// (default 1.6).
    #[serde(default = "unclip_ratio")]
    pub unclip_ratio: f64,
    /// The text pixels grown by one pixel up and left before their contours are taken (default
    /// true).
    #[serde(default = "yes")]
    pub dilate: bool,
    /// The most contours looked at (default 1000).
    #[serde(default = "max_candidates")]
    pub max_candidates: usize,
    /// An image whose longer side is over this is first scaled down to it, each side rounded to
    /// a multiple of 32 (RapidOCR's `max_side_len`; default 2000): the lines are cut from that.
    #[serde(default = "max_image_side")]
    pub max_image_side: u32,
    /// An image whose shorter side is under this is first scaled up to it, likewise (RapidOCR's
    /// `min_side_len`; default 30).
    #[serde(default = "min_image_side")]
    pub min_image_side: u32,
    /// An image this tall or less, or wider than `maxAspect` times its height, gets black rows
    /// above and below before detection (RapidOCR's letterbox; default 30). 0: never.
    #[serde(default = "min_height")]
    pub min_height: u32,
    /// See `minHeight` (default 8). 0: no limit.
    #[serde(default = "max_aspect")]
    pub max_aspect: u32,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            threshold: threshold(),
            box_threshold: box_threshold(),
            unclip_ratio: unclip_ratio(),
            dilate: true,
            max_candidates: max_candidates(),
            max_image_side: max_image_side(),
            min_image_side: min_image_side(),
            min_height: min_height(),
            max_aspect: max_aspect(),
        }
    }
}

fn threshold() -> f32 {
    0.3
}
fn box_threshold() -> f32 {
    0.5
}
fn unclip_ratio() -> f64 {
    1.6
}
fn yes() -> bool {
    true
}
fn max_candidates() -> usize {
    1000
}
fn max_image_side() -> u32 {
    2000
}
fn min_image_side() -> u32 {
    30
}
fn min_height() -> u32 {
    30
}
fn max_aspect() -> u32 {
    8
}

/// A stage that reads lines: its graph (a file of the package beside `model.onnx`, with its
/// sha256) and the size its lines are resized to: `height` pixels tall, their width following
/// (at least `width` for the recogniser, at most `width` for the classifier), `batch` at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineStage {
    /// The graph's file name in the package's directory.
    pub file: String,
    /// Its sha256, lowercase hex.
    pub sha256: String,
    /// Its NNEF form, for the lean build (`make models-nnef` writes it beside the file, named
    /// as [`LineStage::file_in`] says): its sha256 and the tract version that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nnef: Option<NnefForm>,
    pub height: u32,
    pub width: u32,
    /// Lines run together (default 6).
    #[serde(default = "batch")]
    pub batch: usize,
}

/// The orientation classifier: a line resized to `height` (its width following, at most
/// `width`, the rest zeros) and classified as upright (class 0) or turned half a turn (class 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClassifierSettings {
    #[serde(flatten)]
    pub stage: LineStage,
    /// A line is turned when class 1's probability is above this (default 0.9).
    #[serde(default = "turn_threshold")]
    pub threshold: f32,
}

/// The recogniser: lines resized to `height`, their width following, batched by width and
/// padded with zeros to the widest of a batch (at least `width`); its output `[N, columns,
/// classes]` holds each column's probabilities, class 0 CTC's blank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecognizerSettings {
    #[serde(flatten)]
    pub stage: LineStage,
    /// The metadata property of the recogniser's graph that holds its characters, one a line
    /// (classes 1 to n; class n + 1 is a space).
    pub characters: String,
    /// Lines read with a lower score are dropped (default 0.5).
    #[serde(default = "box_threshold")]
    pub score_threshold: f32,
}

fn batch() -> usize {
    6
}
fn turn_threshold() -> f32 {
    0.9
}

impl LineStage {
    /// The stage's graph file for a package in `form`: `file` (ONNX), or for the NNEF form,
    /// `file` with `.onnx` replaced by `.nnef.tar` (`recognizer.onnx`: `recognizer.nnef.tar`).
    pub fn file_in(&self, form: Form) -> String {
        match form {
            Form::Nnef => format!("{}.nnef.tar", self.file.strip_suffix(".onnx").unwrap_or(&self.file)),
            Form::Onnx | Form::Rows => self.file.clone(),
        }
    }

    /// The sha256 of [`LineStage::file_in`] `form`, if the manifest gives it.
    pub fn sha256_in(&self, form: Form) -> Option<&str> {
        match form {
            Form::Nnef => self.nnef.as_ref().map(|n| n.sha256.as_str()),
            Form::Onnx | Form::Rows => Some(&self.sha256),
        }
    }
}

impl OcrSettings {
    /// The stages after the detector, classifier first.
    pub fn stages(&self) -> Vec<&LineStage> {
        self.classifier.iter().map(|c| &c.stage).chain([&self.recognizer.stage]).collect()
    }

    /// The package files these settings name for a package in `form`, as (file, sha256); a
    /// stage without that form is left out (its load says which).
    pub fn files(&self, form: Form) -> Vec<(String, String)> {
        self.stages()
            .into_iter()
            .filter_map(|stage| Some((stage.file_in(form), stage.sha256_in(form)?.to_owned())))
            .collect()
    }

    /// Checks the settings: (field, expected, found) of the first that is wrong.
    pub fn validate(&self) -> Result<(), (String, String, String)> {
        let e = |field: &str, expected: &str, found: String| Err((format!("ocr.{field}"), expected.to_owned(), found));
        let d = &self.detector;
        for (field, value) in [("detector.threshold", d.threshold), ("detector.boxThreshold", d.box_threshold)] {
            if !(0.0..1.0).contains(&value) {
                return e(field, "a probability from 0 to below 1", value.to_string());
            }
        }
        if !(d.unclip_ratio.is_finite() && d.unclip_ratio >= 0.0 && d.unclip_ratio <= 10.0) {
            return e("detector.unclipRatio", "a number from 0 to 10", d.unclip_ratio.to_string());
        }
        if !(32..=crate::image::MAX_SIDE).contains(&d.max_image_side) {
            return e(
                "detector.maxImageSide",
                &format!("32 to {} pixels", crate::image::MAX_SIDE),
                d.max_image_side.to_string(),
            );
        }
        if d.min_image_side > d.max_image_side {
            return e(
                "detector.minImageSide",
                &format!("at most maxImageSide, {}", d.max_image_side),
                d.min_image_side.to_string(),
            );
        }
        if d.max_candidates == 0 || d.max_candidates > 100_000 {
            return e("detector.maxCandidates", "1 to 100000", d.max_candidates.to_string());
        }
        let mut stages = vec![("recognizer", &self.recognizer.stage)];
        if let Some(c) = &self.classifier {
            stages.push(("classifier", &c.stage));
            if !(0.0..=1.0).contains(&c.threshold) {
                return e("classifier.threshold", "a probability from 0 to 1", c.threshold.to_string());
            }
        }
        for (name, stage) in stages {
            let LineStage { file, sha256, height, width, batch, nnef } = stage;
            let (height, width, batch) = (*height, *width, *batch);
            let plain = !file.is_empty()
                && file.len() <= 128
                && file.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && !file.starts_with('.')
                && file != "model.onnx"
                && file != "manifest.json";
            if !plain {
                return e(
                    &format!("{name}.file"),
                    "a file name of the package (letters, digits, '-', '_', '.'; not model.onnx)",
                    format!("{file:?}"),
                );
            }
            if !crate::manifest::is_sha256(sha256) {
                return e(&format!("{name}.sha256"), "64 lowercase hexadecimal digits", format!("{sha256:?}"));
            }
            if let Some(nnef) = nnef.as_ref().filter(|n| !crate::manifest::is_sha256(&n.sha256)) {
                return e(
                    &format!("{name}.nnef.sha256"),
                    "64 lowercase hexadecimal digits",
                    format!("{:?}", nnef.sha256),
                );
            }
            if !(1..=1024).contains(&height) {
                return e(&format!("{name}.height"), "1 to 1024 pixels", height.to_string());
            }
            if !(1..=crate::image::MAX_SIDE).contains(&width) {
                return e(
                    &format!("{name}.width"),
                    &format!("1 to {} pixels", crate::image::MAX_SIDE),
                    width.to_string(),
                );
            }
            if !(1..=64).contains(&batch) {
                return e(&format!("{name}.batch"), "1 to 64 lines", batch.to_string());
            }
        }
        if let Some(c) = &self.classifier {
            if c.stage.file == self.recognizer.stage.file {
                return e("classifier.file", "a file other than the recognizer's", format!("{:?}", c.stage.file));
            }
        }
        if self.recognizer.characters.is_empty() {
            return e(
                "recognizer.characters",
                "the name of a metadata property of the recogniser's graph",
                "\"\"".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.recognizer.score_threshold) {
            return e("recognizer.scoreThreshold", "a score from 0 to 1", self.recognizer.score_threshold.to_string());
        }
        Ok(())
    }
}

/// A build without the `ocr` feature reads no text.
#[cfg(not(feature = "ocr"))]
impl crate::model::LoadedModel {
    /// Refuses: this build does not read text (see the `ocr` feature).
    pub fn read_text(&mut self, _: &crate::image::Pixels) -> crate::error::Result<TextReading> {
        Err(crate::error::Error::bad_input(
            "this build does not read text",
            "the full build (edgeserve, with the `ocr` feature)",
            "readText(image)",
        ))
    }
}

/// A line of text read in an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextLine {
    pub text: String,
    /// The mean of the recogniser's probabilities of the line's characters, 0 to 1.
    pub score: f32,
    /// The line's four corners in the image's pixels: top left, top right, bottom right, bottom
    /// left, as the line reads.
    pub corners: [[f64; 2]; 4],
}

/// How long each stage of one reading took, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OcrTimings {
    /// The image made into the detector's tensor, the detector run and its map made into lines.
    pub detector_ms: f64,
    /// The lines cut out and straightened.
    pub crop_ms: f64,
    /// The orientation classifier (0 without one).
    pub classifier_ms: f64,
    /// The recogniser and the decoding of its output.
    pub recognizer_ms: f64,
}

/// What `read_text` returns: the lines in reading order (top to bottom, then left to right),
/// and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct TextReading {
    pub lines: Vec<TextLine>,
    pub timings: OcrTimings,
    /// The whole call, in milliseconds.
    pub latency_ms: f64,
}
