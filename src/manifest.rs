//! The manifest of a model package (`manifest.json`): what the model is, its inputs and outputs,
//! its labels, the preprocessing edgeserve applies to raw inputs, and its held-out metrics.
//!
//! Parsing checks types (serde, with the path of a bad field); [`Manifest::validate`] checks the
//! rules between fields; [`Manifest::check_against_graph`] checks the manifest against the ONNX
//! graph that tract loaded. The JSON Schema in `schema/manifest.schema.json` states the same
//! format for other tools; the tests validate every shipped manifest against it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::preprocess::Preprocessing;
use crate::state::StateSpec;
use crate::task::detection::DetectionSettings;
use crate::task::embedding::EmbeddingSettings;
use crate::task::ocr::OcrSettings;
use crate::task::voice_activity::VoiceActivitySettings;

/// The name of the batch dimension in manifest shapes.
pub const BATCH_DIM: &str = "N";

/// A model package's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Package name: lowercase letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// Package version (semver).
    pub version: String,
    /// One or two sentences for people.
    pub description: String,
    /// What the model predicts; none for a model served only through `run()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// The graph's inputs, in order. Packages have exactly one, shaped `["N", ...]`.
    pub inputs: Vec<TensorSpec>,
    /// The graph's outputs, each with its role.
    pub outputs: Vec<OutputSpec>,
    /// Class names, in the order of the scores (classification only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// What edgeserve applies to a raw input before the model (`predict` only): for rows of
    /// numbers a scaling, for text the tokenizer.
    #[serde(default)]
    pub preprocessing: Preprocessing,
    /// How the embedding output becomes one vector per text (task `embedding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<EmbeddingSettings>,
    /// Pairs of graph input and output that form a recurrent state, carried from one chunk to
    /// the next (audio models; see [`crate::state`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state: Vec<StateSpec>,
    /// Thresholds and durations that turn speech probabilities into segments (task
    /// `voice-activity`; silero-vad's defaults when absent).
    #[serde(default, rename = "voiceActivity", skip_serializing_if = "Option::is_none")]
    pub voice_activity: Option<VoiceActivitySettings>,
    /// How a detector's output becomes boxes (task `detection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<DetectionSettings>,
    /// The stages of reading text after the package's detector (task `ocr`): how its map becomes
    /// lines, and the classifier's and recogniser's graphs, files of the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr: Option<OcrSettings>,
    /// Quality measured on held-out data when the package was made (none when inferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    /// sha256 of `model.onnx`, lowercase hex.
    pub sha256: String,
    /// True on exactly one package of a set: the one `Model.default()` loads.
    #[serde(default)]
    pub default: bool,
    /// How the package was made (free-form, for people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<serde_json::Value>,
    /// Limits on what one call may ask of the model (defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// The package's NNEF form (`model.nnef.tar`, tract's typed and simplified graph, written by
    /// `make models-nnef`): what the lean build embeds instead of `model.onnx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nnef: Option<NnefForm>,
    /// The package's rows form (`model.rows`, the graph as edgeserve's row program, written by
    /// `make models-nnef` when the row executor covers the graph): what a lean build without
    /// tract embeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<RowsForm>,
}

/// The rows form of a package: `model.rows`, made from `model.onnx` by edgeserve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RowsForm {
    /// sha256 of `model.rows`, lowercase hex.
    pub sha256: String,
    /// The version of the rows form's layout (edgeserve reads the one it writes).
    pub format: u32,
}

/// The NNEF form of a package: `model.nnef.tar`, made from `model.onnx` by tract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NnefForm {
    /// sha256 of `model.nnef.tar`, lowercase hex.
    pub sha256: String,
    /// The tract version that wrote it (it reads it back; the format is tract's own extension).
    pub tract: String,
}

/// The most rows one batch call (`predictBatch`, `predictCsv`) takes when the manifest sets no
/// `limits.maxBatchRows`.
pub const DEFAULT_MAX_BATCH_ROWS: u64 = 1_000_000;

/// Limits on what one call may ask of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// The most rows one batch call takes; a larger batch is refused before any row runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch_rows: Option<u64>,
    /// The most pixels (width x height) of one image an image model takes; a larger image is
    /// refused before its pixels are read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_image_pixels: Option<u64>,
}

/// The most pixels of one image when the manifest sets no `limits.maxImagePixels`: 8192 x 8192.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 1 << 26;

/// What a model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Classification,
    Regression,
    /// One vector per input (text): `model.embed()`.
    Embedding,
    /// Speech probability per chunk of audio, and speech segments: `model.session()`,
    /// `model.speechSegments()`.
    #[serde(rename = "voice-activity")]
    VoiceActivity,
    /// Boxes of the classes in an image: `model.detect()`.
    Detection,
    /// The lines of text in an image, read: `model.readText()`.
    Ocr,
}

/// Element types of tensors, named as in numpy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Bool,
}

impl DType {
    /// Every element type.
    pub const ALL: [DType; 11] = [
        DType::Float32,
        DType::Float64,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Uint8,
        DType::Uint16,
        DType::Uint32,
        DType::Uint64,
        DType::Bool,
    ];

    /// The numpy name, as in manifests (`"float32"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Uint8 => "uint8",
            DType::Uint16 => "uint16",
            DType::Uint32 => "uint32",
            DType::Uint64 => "uint64",
            DType::Bool => "bool",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dimension of a shape: a fixed size or a named symbol such as `"N"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Dim {
    Fixed(u64),
    Symbol(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbol(s) => f.write_str(s),
        }
    }
}

/// A shape written as in the manifest, e.g. `[N, 64]`.
pub fn shape_string(shape: &[Dim]) -> String {
    let dims: Vec<String> = shape.iter().map(Dim::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// A graph input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<Dim>,
}

/// What an output means to edgeserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The predicted class, as an index into `labels` (shape `["N"]`).
    Label,
    /// One score per class, in the order of `labels` (shape `["N", labels.length]`).
    Scores,
    /// Regression values (shape `["N", ...]`).
    Value,
    /// What the embedding task pools: token states `["N", L, D]`, or one vector per input
    /// `["N", D]` when the manifest's `embedding.pooling` is `"none"`.
    Embedding,
    /// A probability per input, `["N", 1]` (voice activity: of speech in the chunk).
    Probability,
    /// The next value of a recurrent state: the manifest's `state` names the input it feeds.
    State,
    /// A detector's candidates, in the layout of the manifest's `detection.head`.
    Detections,
}

/// A graph output and its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<Dim>,
    /// What the output means to `predict` (required when the manifest has a task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// Quality measured on held-out data. `accuracy` is required for classification; other
/// numeric metrics (e.g. `r2`) may stand beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub dataset: String,
    pub split: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(flatten)]
    pub other: BTreeMap<String, f64>,
}

/// An input or output of a loaded graph, as the engine reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphIo {
    pub name: String,
    /// numpy-style name of the element type, or tract's name for types the manifest lacks.
    pub dtype: String,
    pub shape: Vec<Dim>,
}

impl Manifest {
    /// Parses and validates a manifest. Errors name the field (as a path such as
    /// `inputs[0].dtype`), what was expected and what was found.
    pub fn from_json(text: &str) -> Result<Manifest> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::manifest("(unparsed)", "(document)", "a JSON object", format!("invalid JSON: {e}")))?;
        let name = value.get("name").and_then(|n| n.as_str()).unwrap_or("(unnamed)").to_owned();
        if !value.is_object() {
            return Err(Error::manifest(name, "(document)", "a JSON object", json_kind(&value)));
        }
        let manifest: Manifest = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            describe_serde_error(&name, &path, &message)
        })?;
        manifest.validate()?;
        Ok(manifest)
    }

    fn err(&self, field: impl Into<String>, expected: impl Into<String>, found: impl Into<String>) -> Error {
        Error::manifest(&self.name, field, expected, found)
    }

    /// The number of raw values in one input row (the product of the non-batch dimensions).
    pub fn row_width(&self) -> usize {
        self.inputs
            .first()
            .map(|i| i.shape.iter().skip(1).map(|d| if let Dim::Fixed(n) = d { *n as usize } else { 0 }).product())
            .unwrap_or(0)
    }

    /// The most rows one batch call takes (`limits.maxBatchRows`, else the default).
    pub fn max_batch_rows(&self) -> u64 {
        self.limits.as_ref().and_then(|l| l.max_batch_rows).unwrap_or(DEFAULT_MAX_BATCH_ROWS)
    }

    /// The most pixels of one image (`limits.maxImagePixels`, else the default).
    pub fn max_image_pixels(&self) -> u64 {
        self.limits.as_ref().and_then(|l| l.max_image_pixels).unwrap_or(DEFAULT_MAX_IMAGE_PIXELS)
    }

    /// The files the manifest names beside the graph and the tokenizer, as (file name, sha256),
    /// for a package whose graphs are in `form`: an OCR package's classifier and recogniser.
    pub fn files(&self, form: crate::package::Form) -> Vec<(String, String)> {
        self.ocr.as_ref().map(|ocr| ocr.files(form)).unwrap_or_default()
    }

    /// What the manifest knows of its graph's free input dimensions beyond their names, for
    /// typing the graph (see [`crate::engine::DimHint`]): an image resized to multiples of `of`
    /// has its height and width typed as such.
    pub fn dim_hints(&self) -> Vec<crate::engine::DimHint> {
        let Preprocessing::Image(image) = &self.preprocessing else { return vec![] };
        match self.inputs.iter().position(|i| i.name == image.input) {
            Some(input) => image.dim_hints(input),
            None => vec![],
        }
    }

    /// The output with a role, if any.
    pub fn output_with_role(&self, role: Role) -> Option<(usize, &OutputSpec)> {
        self.outputs.iter().enumerate().find(|(_, o)| o.role == Some(role))
    }

    /// Checks the rules between fields that types alone cannot express.
    pub fn validate(&self) -> Result<()> {
        let valid_name = !self.name.is_empty()
            && self.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        if !valid_name {
            return Err(self.err(
                "name",
                "a non-empty name of lowercase letters, digits, '-', '_' or '.'",
                format!("{:?}", self.name),
            ));
        }
        if let Err(e) = semver::Version::parse(&self.version) {
            return Err(self.err("version", "a semantic version such as 1.0.0", format!("{:?} ({e})", self.version)));
        }
        let hex = is_sha256;
        if !hex(&self.sha256) {
            return Err(self.err("sha256", "64 lowercase hexadecimal digits", format!("{:?}", self.sha256)));
        }
        if let Some(nnef) = self.nnef.as_ref().filter(|n| !hex(&n.sha256)) {
            return Err(self.err("nnef.sha256", "64 lowercase hexadecimal digits", format!("{:?}", nnef.sha256)));
        }
        if let Some(rows) = self.rows.as_ref().filter(|r| !hex(&r.sha256)) {
            return Err(self.err("rows.sha256", "64 lowercase hexadecimal digits", format!("{:?}", rows.sha256)));
        }
        if self.max_batch_rows() == 0 {
            return Err(self.err("limits.maxBatchRows", "a whole number of rows, at least 1", "0"));
        }
        if self.max_image_pixels() == 0 {
            return Err(self.err("limits.maxImagePixels", "a whole number of pixels, at least 1", "0"));
        }
        if self.task.is_none() {
            return self.validate_generic();
        }
        match &self.preprocessing {
            Preprocessing::Text(text) => self.validate_text_inputs(text)?,
            Preprocessing::Audio(audio) => self.validate_audio_inputs(audio)?,
            Preprocessing::Image(image) => self.validate_image_input(image)?,
            _ => self.validate_input()?,
        }
        if !self.state.is_empty() && !matches!(self.preprocessing, Preprocessing::Audio(_)) {
            return Err(self.err("state", "no state (only audio models carry one)", "a state"));
        }
        crate::state::validate(self).map_err(|(field, expected, found)| self.err(field, expected, found))?;
        self.validate_outputs()?;
        if let Some(acc) = self.metrics.as_ref().and_then(|m| m.accuracy) {
            if !(0.0..=1.0).contains(&acc) {
                return Err(self.err("metrics.accuracy", "a fraction between 0 and 1", acc.to_string()));
            }
        }
        self.preprocessing
            .validate(self.row_width())
            .map_err(|(field, expected, found)| self.err(format!("preprocessing.{field}"), expected, found))
    }

    /// The inputs of a text model: the ones the tokenizer feeds, int64 or int32 `["N", L]`.
    fn validate_text_inputs(&self, text: &crate::text::TextPreprocessing) -> Result<()> {
        text.validate()
            .map_err(|(field, expected, found)| self.err(format!("preprocessing.{field}"), expected, found))?;
        let fed = text.input_names();
        for (i, input) in self.inputs.iter().enumerate() {
            if !fed.contains(&input.name.as_str()) {
                return Err(self.err(
                    format!("inputs[{i}].name"),
                    format!("an input the tokenizer feeds (preprocessing.inputs: {fed:?})"),
                    format!("{:?}", input.name),
                ));
            }
            if !matches!(input.dtype, DType::Int64 | DType::Int32) {
                return Err(self.err(
                    format!("inputs[{i}].dtype"),
                    "int64 or int32 (token ids and masks)",
                    input.dtype.to_string(),
                ));
            }
            let fits = input.shape.len() == 2 && matches!(&input.shape[0], Dim::Symbol(s) if s == BATCH_DIM);
            if !fits {
                return Err(self.err(
                    format!("inputs[{i}].shape"),
                    format!("[\"{BATCH_DIM}\", a length], e.g. [\"N\", \"L\"]"),
                    shape_string(&input.shape),
                ));
            }
        }
        if let Some(name) = fed.iter().find(|n| !self.inputs.iter().any(|i| i.name == **n)) {
            return Err(self.err(
                "preprocessing.inputs",
                "names of the manifest's inputs",
                format!("{name:?}, which is not one"),
            ));
        }
        Ok(())
    }

    /// The inputs of an audio model: the samples' input, float32 `["N", length]`; the sample
    /// rate's, an int64 or int32 scalar; every other one a state's (see [`crate::state::validate`]).
    fn validate_audio_inputs(&self, audio: &crate::audio::AudioPreprocessing) -> Result<()> {
        audio
            .validate()
            .map_err(|(field, expected, found)| self.err(format!("preprocessing.{field}"), expected, found))?;
        for (i, input) in self.inputs.iter().enumerate() {
            if input.name == audio.input {
                let batch_first = matches!(input.shape.first(), Some(Dim::Symbol(s)) if s == BATCH_DIM);
                let length_fits = match input.shape.get(1) {
                    Some(Dim::Fixed(n)) => *n as usize == audio.chunk(),
                    Some(Dim::Symbol(s)) => s != BATCH_DIM,
                    None => false,
                };
                if input.dtype != DType::Float32 || input.shape.len() != 2 || !batch_first || !length_fits {
                    return Err(self.err(
                        format!("inputs[{i}]"),
                        format!(
                            "float32 [\"{BATCH_DIM}\", {}] or [\"{BATCH_DIM}\", a length] (context + frame samples)",
                            audio.chunk()
                        ),
                        format!("{} {}", input.dtype, shape_string(&input.shape)),
                    ));
                }
            } else if audio.sample_rate_input.as_deref() == Some(input.name.as_str()) {
                if !matches!(input.dtype, DType::Int64 | DType::Int32) || !input.shape.is_empty() {
                    return Err(self.err(
                        format!("inputs[{i}]"),
                        "an int64 or int32 scalar, shape [] (the sample rate)",
                        format!("{} {}", input.dtype, shape_string(&input.shape)),
                    ));
                }
            } else if !crate::state::is_state_input(self, input) {
                return Err(self.err(
                    format!("inputs[{i}].name"),
                    "the samples' input, the sample rate's, or a state's (preprocessing.input, preprocessing.sampleRateInput, state[].input)",
                    format!("{:?}", input.name),
                ));
            }
        }
        for (field, name) in [
            ("preprocessing.input", Some(&audio.input)),
            ("preprocessing.sampleRateInput", audio.sample_rate_input.as_ref()),
        ] {
            if let Some(name) = name.filter(|n| !self.inputs.iter().any(|i| &i.name == *n)) {
                return Err(self.err(field, "the name of one of the manifest's inputs", format!("{name:?}")));
            }
        }
        Ok(())
    }

    /// The input of an image model: one, `preprocessing.input`, of the preprocessing's dtype, and
    /// `["N", C, H, W]` or `["N", H, W, C]` with the channel count and, where the preprocessing
    /// gives the model's size, that size (named sizes where the tensor follows the image).
    fn validate_image_input(&self, image: &crate::image::ImagePreprocessing) -> Result<()> {
        image
            .validate()
            .map_err(|(field, expected, found)| self.err(format!("preprocessing.{field}"), expected, found))?;
        if self.inputs.len() != 1 {
            return Err(self.err("inputs", "exactly one input (the image)", format!("{} inputs", self.inputs.len())));
        }
        let input = &self.inputs[0];
        if input.name != image.input {
            return Err(self.err(
                "preprocessing.input",
                format!("the name of the manifest's input, {:?}", input.name),
                format!("{:?}", image.input),
            ));
        }
        let dtype = match image.dtype {
            crate::image::PixelDType::Float32 => DType::Float32,
            crate::image::PixelDType::Uint8 => DType::Uint8,
        };
        if input.dtype != dtype {
            return Err(self.err("inputs[0].dtype", format!("{dtype} (preprocessing.dtype)"), input.dtype.to_string()));
        }
        let size = |d: Option<u32>| match d {
            Some(n) => Dim::Fixed(n as u64),
            None => Dim::Symbol("a name".into()),
        };
        let (h, w) = match image.fixed_size() {
            Some((h, w)) => (Some(h), Some(w)),
            None => (None, None),
        };
        let c = Some(image.channels.count() as u32);
        let want = match image.layout {
            crate::image::Layout::Nchw => [c, h, w],
            crate::image::Layout::Nhwc => [h, w, c],
        };
        let fits = input.shape.len() == 4
            && matches!(&input.shape[0], Dim::Symbol(s) if s == BATCH_DIM)
            && input.shape[1..].iter().zip(want).all(|(d, w)| match (d, w) {
                (Dim::Fixed(n), Some(w)) => *n == w as u64,
                (Dim::Symbol(s), None) => s != BATCH_DIM,
                _ => false,
            });
        if !fits {
            let mut expected = vec![Dim::Symbol(BATCH_DIM.into())];
            expected.extend(want.map(size));
            return Err(self.err(
                "inputs[0].shape",
                format!("{} (preprocessing: channels, layout and size)", shape_string(&expected)),
                shape_string(&input.shape),
            ));
        }
        Ok(())
    }

    fn validate_input(&self) -> Result<()> {
        if self.inputs.len() != 1 {
            return Err(self.err("inputs", "exactly one input", format!("{} inputs", self.inputs.len())));
        }
        let input = &self.inputs[0];
        if input.dtype != DType::Float32 {
            return Err(self.err("inputs[0].dtype", "float32", input.dtype.to_string()));
        }
        let batch_first = matches!(input.shape.first(), Some(Dim::Symbol(s)) if s == BATCH_DIM);
        let rest_fixed =
            input.shape.len() >= 2 && input.shape[1..].iter().all(|d| matches!(d, Dim::Fixed(n) if *n > 0));
        if !batch_first || !rest_fixed {
            return Err(self.err(
                "inputs[0].shape",
                format!("[\"{BATCH_DIM}\", then one or more fixed sizes], e.g. [\"N\", 64]"),
                shape_string(&input.shape),
            ));
        }
        Ok(())
    }

    fn validate_outputs(&self) -> Result<()> {
        if self.outputs.is_empty() {
            return Err(self.err("outputs", "at least one output", "none"));
        }
        for (i, o) in self.outputs.iter().enumerate() {
            if self.outputs[..i].iter().any(|p| p.name == o.name) {
                return Err(self.err(
                    format!("outputs[{i}].name"),
                    "a name no other output has",
                    format!("{:?} twice", o.name),
                ));
            }
            if !crate::state::is_state_output(o) && !matches!(o.shape.first(), Some(Dim::Symbol(s)) if s == BATCH_DIM) {
                return Err(self.err(
                    format!("outputs[{i}].shape"),
                    format!("a shape starting with \"{BATCH_DIM}\""),
                    shape_string(&o.shape),
                ));
            }
        }
        if let Some(i) = self.outputs.iter().position(|o| o.role.is_none()) {
            return Err(self.err(
                format!("outputs[{i}].role"),
                "\"label\", \"scores\", \"value\", \"embedding\", \"probability\", \"state\" or \"detections\" (the manifest has a task)",
                "none",
            ));
        }
        let count = |role| self.outputs.iter().filter(|o| o.role == Some(role)).count();
        let is_text = matches!(self.preprocessing, Preprocessing::Text(_));
        if self.embedding.is_some() && self.task != Some(Task::Embedding) {
            return Err(self.err("embedding", "no embedding settings (task is not embedding)", "embedding settings"));
        }
        let is_audio = matches!(self.preprocessing, Preprocessing::Audio(_));
        if self.voice_activity.is_some() && self.task != Some(Task::VoiceActivity) {
            return Err(self.err(
                "voiceActivity",
                "no voice-activity settings (task is not voice-activity)",
                "settings",
            ));
        }
        if is_audio && self.task != Some(Task::VoiceActivity) {
            return Err(self.err("task", "voice-activity (the task of audio models)", format!("{:?}", self.task)));
        }
        let probability_or_state = count(Role::Probability) + count(Role::State);
        let ocr_map = self.task == Some(Task::Ocr) && count(Role::State) == 0;
        if probability_or_state > 0 && self.task != Some(Task::VoiceActivity) && !ocr_map {
            return Err(self.err(
                "outputs",
                "no \"probability\" or \"state\" output (task is not voice-activity or ocr)",
                probability_or_state.to_string(),
            ));
        }
        if self.ocr.is_some() && self.task != Some(Task::Ocr) {
            return Err(self.err("ocr", "no ocr settings (task is not ocr)", "settings"));
        }
        let is_image = matches!(self.preprocessing, Preprocessing::Image(_));
        if self.detection.is_some() && self.task != Some(Task::Detection) {
            return Err(self.err("detection", "no detection settings (task is not detection)", "settings"));
        }
        if count(Role::Detections) > 0 && self.task != Some(Task::Detection) {
            return Err(self.err(
                "outputs",
                "no \"detections\" output (task is not detection)",
                count(Role::Detections).to_string(),
            ));
        }
        match self.task {
            None => {}
            Some(Task::Detection) => {
                let Some(settings) = self.detection else {
                    return Err(self.err(
                        "detection",
                        "the detector's head and thresholds, e.g. { \"head\": \"yolov8\" } (task is detection)",
                        "none",
                    ));
                };
                settings.validate().map_err(|(field, expected, found)| self.err(field, expected, found))?;
                if !is_image {
                    return Err(self.err(
                        "preprocessing.type",
                        "\"image\" (task is detection: edgeserve detects in images)",
                        format!("{:?}", self.preprocessing.kind()),
                    ));
                }
                let labels =
                    self.labels.as_ref().filter(|l| !l.is_empty()).ok_or_else(|| {
                        self.err("labels", "a non-empty list of class names (task is detection)", "none")
                    })?;
                if self.outputs.len() != 1 || count(Role::Detections) != 1 {
                    return Err(self.err(
                        "outputs",
                        "exactly one output, with role \"detections\" (task is detection)",
                        format!("{} outputs, {} with role \"detections\"", self.outputs.len(), count(Role::Detections)),
                    ));
                }
                let o = &self.outputs[0];
                if o.dtype != DType::Float32 {
                    return Err(self.err("outputs[0].dtype", "float32", o.dtype.to_string()));
                }
                let classes = match settings.head {
                    crate::task::detection::Head::Yolov5 => o.shape.get(2),
                    crate::task::detection::Head::Yolov8 => o.shape.get(1),
                };
                let extra = settings.head.extra() as u64;
                let fits =
                    o.shape.len() == 3 && matches!(classes, Some(Dim::Fixed(n)) if *n == extra + labels.len() as u64);
                if !fits {
                    let want = match settings.head {
                        crate::task::detection::Head::Yolov5 => format!(
                            "[\"N\", anchors, {}] (YOLOv5: box, objectness, a score per label)",
                            extra + labels.len() as u64
                        ),
                        crate::task::detection::Head::Yolov8 => format!(
                            "[\"N\", {}, anchors] (YOLOv8: box, a score per label)",
                            extra + labels.len() as u64
                        ),
                    };
                    return Err(self.err("outputs[0].shape", want, shape_string(&o.shape)));
                }
            }
            Some(Task::Ocr) => {
                let Some(settings) = &self.ocr else {
                    return Err(self.err(
                        "ocr",
                        "the recogniser's graph and settings, e.g. { \"recognizer\": { \"file\": ..., \"sha256\": ..., \"height\": 48, \"width\": 320, \"characters\": \"character\" } } (task is ocr)",
                        "none",
                    ));
                };
                settings.validate().map_err(|(field, expected, found)| self.err(field, expected, found))?;
                let Preprocessing::Image(image) = &self.preprocessing else {
                    return Err(self.err(
                        "preprocessing.type",
                        "\"image\" (task is ocr: edgeserve reads text in images)",
                        format!("{:?}", self.preprocessing.kind()),
                    ));
                };
                let scaled = matches!(
                    image.resize,
                    crate::image::Resize::Multiple { .. } | crate::image::Resize::Stretch { .. }
                );
                if !scaled
                    || image.layout != crate::image::Layout::Nchw
                    || image.dtype != crate::image::PixelDType::Float32
                {
                    return Err(self.err(
                        "preprocessing",
                        "the whole image scaled (resize mode \"multiple\" or \"stretch\"), float32, NCHW (task is ocr: the detector's map covers the image)",
                        "another resize, layout or dtype",
                    ));
                }
                if self.labels.is_some() {
                    return Err(self.err("labels", "no labels (task is ocr)", "a list of labels"));
                }
                if self.outputs.len() != 1 || count(Role::Probability) != 1 {
                    return Err(self.err(
                        "outputs",
                        "exactly one output, with role \"probability\" (task is ocr: the detector's map)",
                        format!(
                            "{} outputs, {} with role \"probability\"",
                            self.outputs.len(),
                            count(Role::Probability)
                        ),
                    ));
                }
                let o = &self.outputs[0];
                if o.dtype != DType::Float32 || o.shape.len() != 4 || o.shape[1] != Dim::Fixed(1) {
                    return Err(self.err(
                        "outputs[0]",
                        "float32 [\"N\", 1, height, width]: a probability of text per pixel",
                        format!("{} {}", o.dtype, shape_string(&o.shape)),
                    ));
                }
            }
            Some(Task::VoiceActivity) => crate::task::voice_activity::validate(self)
                .map_err(|(field, expected, found)| self.err(field, expected, found))?,
            Some(Task::Embedding) => {
                let Some(settings) = self.embedding else {
                    return Err(self.err("embedding", "the pooling of the embedding output, e.g. { \"pooling\": \"mean\", \"normalize\": true } (task is embedding)", "none"));
                };
                if !is_text {
                    return Err(self.err(
                        "preprocessing.type",
                        "\"text\" (task is embedding: edgeserve embeds texts)",
                        format!("{:?}", self.preprocessing.kind()),
                    ));
                }
                if self.labels.is_some() {
                    return Err(self.err("labels", "no labels (task is embedding)", "a list of labels"));
                }
                if self.outputs.len() != 1 || count(Role::Embedding) != 1 {
                    return Err(self.err(
                        "outputs",
                        "exactly one output, with role \"embedding\" (task is embedding)",
                        format!("{} outputs, {} with role \"embedding\"", self.outputs.len(), count(Role::Embedding)),
                    ));
                }
                let o = &self.outputs[0];
                if o.dtype != DType::Float32 {
                    return Err(self.err("outputs[0].dtype", "float32", o.dtype.to_string()));
                }
                let rank = settings.pooling.output_rank();
                let fits = o.shape.len() == rank && matches!(o.shape.last(), Some(Dim::Fixed(n)) if *n > 0);
                if !fits {
                    let want = if rank == 3 {
                        "[\"N\", a length, a fixed size] (token states, for pooling mean or cls)"
                    } else {
                        "[\"N\", a fixed size] (one vector per text, pooling none)"
                    };
                    return Err(self.err("outputs[0].shape", want, shape_string(&o.shape)));
                }
            }
            Some(Task::Classification) => {
                let labels = match &self.labels {
                    Some(l) if !l.is_empty() => l,
                    _ => {
                        return Err(self.err(
                            "labels",
                            "a non-empty list of class names (task is classification)",
                            "none",
                        ))
                    }
                };
                if let Some((i, dup)) = labels.iter().enumerate().find(|(i, l)| labels[..*i].contains(l)) {
                    return Err(self.err(
                        format!("labels[{i}]"),
                        "class names that are all different",
                        format!("{dup:?} twice"),
                    ));
                }
                if count(Role::Embedding) > 0 {
                    return Err(self.err(
                        "outputs",
                        "no \"embedding\" output (task is classification)",
                        format!("{}", count(Role::Embedding)),
                    ));
                }
                if count(Role::Scores) != 1 {
                    return Err(self.err(
                        "outputs",
                        "exactly one output with role \"scores\" (task is classification)",
                        format!("{}", count(Role::Scores)),
                    ));
                }
                if count(Role::Label) > 1 || count(Role::Value) > 0 {
                    return Err(self.err(
                        "outputs",
                        "at most one \"label\" output and no \"value\" output (task is classification)",
                        format!("{} label, {} value", count(Role::Label), count(Role::Value)),
                    ));
                }
                if self.metrics.as_ref().is_some_and(|m| m.accuracy.is_none()) {
                    return Err(self.err("metrics.accuracy", "the held-out accuracy (task is classification)", "none"));
                }
                for (i, o) in self.outputs.iter().enumerate() {
                    let (want_dtypes, want_shape): (&[DType], Vec<Dim>) = match o.role {
                        Some(Role::Scores) => {
                            (&[DType::Float32], vec![Dim::Symbol(BATCH_DIM.into()), Dim::Fixed(labels.len() as u64)])
                        }
                        _ => (&[DType::Int64, DType::Int32], vec![Dim::Symbol(BATCH_DIM.into())]),
                    };
                    if !want_dtypes.contains(&o.dtype) {
                        let names: Vec<String> = want_dtypes.iter().map(DType::to_string).collect();
                        return Err(self.err(format!("outputs[{i}].dtype"), names.join(" or "), o.dtype.to_string()));
                    }
                    if o.shape != want_shape {
                        return Err(self.err(
                            format!("outputs[{i}].shape"),
                            shape_string(&want_shape),
                            shape_string(&o.shape),
                        ));
                    }
                }
            }
            Some(Task::Regression) => {
                if is_text {
                    return Err(self.err("task", "classification or embedding (for text)", "regression"));
                }
                if self.labels.is_some() {
                    return Err(self.err("labels", "no labels (task is regression)", "a list of labels"));
                }
                if count(Role::Value) == 0 || count(Role::Value) != self.outputs.len() {
                    return Err(self.err(
                        "outputs",
                        "only outputs with role \"value\" (task is regression)",
                        format!("{} of {} outputs", count(Role::Value), self.outputs.len()),
                    ));
                }
                for (i, o) in self.outputs.iter().enumerate() {
                    if o.dtype != DType::Float32 {
                        return Err(self.err(format!("outputs[{i}].dtype"), "float32", o.dtype.to_string()));
                    }
                    if !o.shape[1..].iter().all(|d| matches!(d, Dim::Fixed(_))) {
                        return Err(self.err(
                            format!("outputs[{i}].shape"),
                            "fixed sizes after the batch dimension",
                            shape_string(&o.shape),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A manifest without a task: any inputs and outputs, served by `run()` only; no
    /// preprocessing (there is no row to apply it to).
    fn validate_generic(&self) -> Result<()> {
        if self.inputs.is_empty() || self.outputs.is_empty() {
            return Err(self.err(
                "inputs",
                "at least one input and one output",
                format!("{} inputs, {} outputs", self.inputs.len(), self.outputs.len()),
            ));
        }
        if !matches!(self.preprocessing, Preprocessing::None { range: None }) {
            return Err(self.err(
                "preprocessing",
                "none (the manifest has no task: run() takes tensors as they are)",
                "a preprocessing",
            ));
        }
        Ok(())
    }

    /// The manifest edgeserve infers for an ONNX file that came without one: the graph's inputs
    /// and outputs (symbolic dimensions kept), labels from the `labels` metadata property (a
    /// JSON array or comma-separated), and, when the graph looks like a classifier over those
    /// labels (one float32 input `[N, ...]`, a float32 `[N, labels]` output), the classification
    /// task; otherwise no task (`run()` only).
    pub fn inferred(
        name: &str,
        sha256: String,
        inputs: &[GraphIo],
        outputs: &[GraphIo],
        properties: &[(String, String)],
    ) -> Manifest {
        let prop = |k: &str| properties.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let labels: Option<Vec<String>> = prop("metadata_props.labels").map(|v| {
            serde_json::from_str::<Vec<String>>(&v)
                .unwrap_or_else(|_| v.split(',').map(|l| l.trim().to_owned()).collect())
        });
        let dtype = |d: &str| {
            serde_json::from_value::<DType>(serde_json::Value::String(d.to_owned())).unwrap_or(DType::Float32)
        };
        let spec = |g: &GraphIo| TensorSpec { name: g.name.clone(), dtype: dtype(&g.dtype), shape: g.shape.clone() };
        let batch = Dim::Symbol(BATCH_DIM.into());
        let classifier = labels.as_ref().is_some_and(|l| {
            inputs.len() == 1
                && inputs[0].dtype == "float32"
                && inputs[0].shape.first() == Some(&batch)
                && inputs[0].shape.len() >= 2
                && inputs[0].shape[1..].iter().all(|d| matches!(d, Dim::Fixed(_)))
                && outputs
                    .iter()
                    .filter(|o| o.dtype == "float32" && o.shape == [batch.clone(), Dim::Fixed(l.len() as u64)])
                    .count()
                    == 1
        });
        let role = |o: &GraphIo| -> Option<Role> {
            if !classifier {
                return None;
            }
            if o.dtype == "float32" {
                Some(Role::Scores)
            } else if o.shape == [batch.clone()] && (o.dtype == "int64" || o.dtype == "int32") {
                Some(Role::Label)
            } else {
                None
            }
        };
        let roles: Vec<Option<Role>> = outputs.iter().map(role).collect();
        let classifier = classifier
            && roles.iter().all(Option::is_some)
            && roles.iter().filter(|r| **r == Some(Role::Label)).count() <= 1;
        Manifest {
            name: name.to_owned(),
            version: "0.0.0".into(),
            description: prop("doc_string").unwrap_or_else(|| "inferred from the ONNX graph".into()),
            task: classifier.then_some(Task::Classification),
            inputs: inputs.iter().map(spec).collect(),
            outputs: outputs
                .iter()
                .zip(roles)
                .map(|(g, r)| OutputSpec {
                    name: g.name.clone(),
                    dtype: dtype(&g.dtype),
                    shape: g.shape.clone(),
                    role: r.filter(|_| classifier),
                })
                .collect(),
            labels,
            preprocessing: Preprocessing::None { range: None },
            embedding: None,
            state: vec![],
            voice_activity: None,
            detection: None,
            ocr: None,
            metrics: None,
            sha256,
            default: false,
            training: None,
            limits: None,
            nnef: None,
            rows: None,
        }
    }

    /// Checks that the manifest describes the graph tract loaded: the same inputs and outputs,
    /// by name, dtype and shape. The error names the field, the graph's value (expected) and
    /// the manifest's (found).
    pub fn check_against_graph(&self, inputs: &[GraphIo], outputs: &[GraphIo]) -> Result<()> {
        if inputs.len() != self.inputs.len() {
            let names: Vec<&str> = inputs.iter().map(|g| g.name.as_str()).collect();
            return Err(self.err(
                "inputs",
                format!("{} input(s) as in model.onnx: {names:?}", inputs.len()),
                format!("{}", self.inputs.len()),
            ));
        }
        for (i, (m, g)) in self.inputs.iter().zip(inputs).enumerate() {
            self.check_io(&format!("inputs[{i}]"), &m.name, m.dtype, &m.shape, g)?;
        }
        if outputs.len() != self.outputs.len() {
            let names: Vec<&str> = outputs.iter().map(|g| g.name.as_str()).collect();
            return Err(self.err(
                "outputs",
                format!("{} output(s) as in model.onnx: {names:?}", outputs.len()),
                format!("{}", self.outputs.len()),
            ));
        }
        for (i, m) in self.outputs.iter().enumerate() {
            let Some(g) = outputs.iter().find(|g| g.name == m.name) else {
                let names: Vec<&str> = outputs.iter().map(|g| g.name.as_str()).collect();
                return Err(self.err(
                    format!("outputs[{i}].name"),
                    format!("one of the graph's outputs {names:?}"),
                    format!("{:?}", m.name),
                ));
            };
            self.check_io(&format!("outputs[{i}]"), &m.name, m.dtype, &m.shape, g)?;
        }
        Ok(())
    }

    fn check_io(&self, field: &str, name: &str, dtype: DType, shape: &[Dim], g: &GraphIo) -> Result<()> {
        if name != g.name {
            return Err(self.err(
                format!("{field}.name"),
                format!("{:?} (as in model.onnx)", g.name),
                format!("{name:?}"),
            ));
        }
        if dtype.to_string() != g.dtype {
            return Err(self.err(
                format!("{field}.dtype"),
                format!("{} (as in model.onnx)", g.dtype),
                dtype.to_string(),
            ));
        }
        if shape != g.shape.as_slice() {
            return Err(self.err(
                format!("{field}.shape"),
                format!("{} (as in model.onnx)", shape_string(&g.shape)),
                shape_string(shape),
            ));
        }
        Ok(())
    }
}

/// True for a sha256 as manifests write it: 64 lowercase hexadecimal digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

fn json_kind(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(_) => "a boolean".into(),
        serde_json::Value::Number(_) => "a number".into(),
        serde_json::Value::String(_) => "a string".into(),
        serde_json::Value::Array(_) => "an array".into(),
        serde_json::Value::Object(_) => "an object".into(),
    }
}

/// Turns a serde error at `path` into a manifest error that names the field: serde reports
/// missing and unknown fields at their parent, with the field's name in backticks.
fn describe_serde_error(model: &str, path: &str, message: &str) -> Error {
    let backticked = |m: &str| m.split('`').nth(1).map(str::to_owned);
    let join = |field: &str| if path == "." { field.to_owned() } else { format!("{path}.{field}") };
    let message = message.split(" at line ").next().unwrap_or(message);
    if let (true, Some(field)) = (message.starts_with("missing field"), backticked(message)) {
        return Error::manifest(model, join(&field), "a value (the field is required)", "no such field");
    }
    if let (true, Some(field)) = (message.starts_with("unknown field"), backticked(message)) {
        let known = message.split(", expected ").nth(1).unwrap_or("the fields of the format");
        // serde_path_to_error's path already ends with the unknown field.
        let field = if path == "." { field } else { path.to_owned() };
        return Error::manifest(model, field, format!("no such field: the format has {known}"), "an unknown field");
    }
    let field = if path == "." { "(document)" } else { path };
    Error::manifest(model, field, "a value of the manifest format (schema/manifest.schema.json)", message)
}
