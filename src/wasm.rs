//! The boundary: the only module with `#[wasm_bindgen]` items, thin over the core.
//!
//! It compiles natively too: there, a JavaScript value is stood for by a `serde_json::Value`
//! and errors stay [`crate::Error`], so `cargo test` covers the same code paths and result
//! shapes; on wasm32 the same methods take and return real JavaScript values.
//!
//! Errors reach JavaScript as `Error` objects whose `message` says what was wrong, what was
//! expected and what came, and whose `code` is [`crate::Error::code`].

use serde::{Serialize, Serializer};

use crate::error::Error;
use crate::model::{LoadedModel, Prediction};
use crate::package::Registry;
use crate::serve::realtime::Timed;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

/// A JavaScript value (natively: its JSON stand-in).
#[cfg(target_family = "wasm")]
pub type Value = JsValue;
/// A JavaScript value (natively: its JSON stand-in).
#[cfg(not(target_family = "wasm"))]
pub type Value = serde_json::Value;

/// One row of raw features as JavaScript passes it (`RowInput` in the `.d.ts`).
#[cfg(target_family = "wasm")]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "RowInput")]
    pub type RowInput;
}
/// One row of raw features (natively: the JSON stand-in of the JavaScript value).
#[cfg(not(target_family = "wasm"))]
pub type RowInput = serde_json::Value;

/// What a failing export throws (natively: the core error).
#[cfg(target_family = "wasm")]
pub type Thrown = JsValue;
/// What a failing export throws (natively: the core error).
#[cfg(not(target_family = "wasm"))]
pub type Thrown = Error;

#[cfg(target_family = "wasm")]
impl From<Error> for JsValue {
    /// A JavaScript `Error` with the message and a `code` property.
    fn from(e: Error) -> JsValue {
        let js = js_sys::Error::new(&e.to_string());
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&js, &JsValue::from_str("code"), &JsValue::from_str(e.code()));
        js.into()
    }
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Element types of tensors, named as in numpy. */
export type DType = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';
/** A dimension: a fixed size, or a symbol such as "N" (the batch dimension). */
export type Dim = number | string;
export interface TensorSpec { name: string; dtype: DType; shape: Dim[] }
export interface OutputSpec extends TensorSpec {
  /** label: class index into labels, shape [N]; scores: one per class, [N, labels.length]; value: regression values. */
  role: 'label' | 'scores' | 'value';
}
/** What edgeserve applies to a raw input before the model; `range` is the allowed raw [min, max]. */
export type Preprocessing =
  | { type: 'none'; range?: [number, number] }
  | { type: 'affine'; scale: number; offset: number; range?: [number, number] }
  | { type: 'standardize'; mean: number[]; std: number[]; range?: [number, number] };
/** A model package's manifest.json. */
export interface Manifest {
  name: string;
  /** semver */
  version: string;
  description: string;
  task: 'classification' | 'regression';
  /** Exactly one input, shaped ["N", ...]. */
  inputs: TensorSpec[];
  outputs: OutputSpec[];
  /** Class names in the order of the scores (classification). */
  labels?: string[];
  preprocessing: Preprocessing;
  /** Measured on held-out data when the package was made; accuracy is a fraction 0..1. */
  metrics: { dataset: string; split: string; accuracy?: number; [metric: string]: string | number | undefined };
  /** sha256 of model.onnx, lowercase hex. */
  sha256: string;
  default: boolean;
  training?: Record<string, unknown>;
}
/** A classification: the predicted class, its index into manifest.labels, one score per class. */
export interface ClassPrediction {
  label: string;
  index: number;
  /** One score (probability) per class, length labels.length. */
  scores: Float32Array;
  /** Milliseconds from the raw input to the prediction, on performance.now(). */
  latencyMs: number;
}
/** A regression: the values of every "value" output, concatenated. */
export interface ValuesPrediction {
  values: Float32Array;
  /** Milliseconds from the raw input to the prediction, on performance.now(). */
  latencyMs: number;
}
export type Prediction = ClassPrediction | ValuesPrediction;
/**
 * One row of raw features (model.inputWidth values). Float32Array is used as is; Float64Array
 * values are rounded to float32; 8- and 16-bit integer arrays are converted exactly; Int32Array and
 * Uint32Array values must lie within +-2^24 (exact in float32).
 */
export type RowInput = Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | number[];
/** Every error edgeserve throws is an Error with one of these codes. */
export type ErrorCode = 'UNKNOWN_MODEL' | 'BAD_INPUT' | 'BAD_MANIFEST' | 'INTEGRITY' | 'MODEL_LOAD' | 'INFERENCE' | 'REGISTRY';
export interface EdgeserveError extends Error { code: ErrorCode }
"#;

/// Installs the panic hook (feature `console_error_panic_hook`), once, when the module starts.
#[cfg(target_family = "wasm")]
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(feature = "console_error_panic_hook")]
    console_error_panic_hook::set_once();
}

/// Serializes a result for JavaScript: plain objects (not Maps), typed arrays where the result
/// types say so (see [`F32s`]).
#[cfg(target_family = "wasm")]
fn to_value<T: Serialize>(v: &T) -> Result<Value, Error> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| Error::Inference { model: "(boundary)".into(), detail: format!("converting the result for JavaScript: {e}") })
}

#[cfg(not(target_family = "wasm"))]
fn to_value<T: Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_value(v)
        .map_err(|e| Error::Inference { model: "(boundary)".into(), detail: format!("converting the result: {e}") })
}

/// A slice of f32 that becomes a `Float32Array` in JavaScript (natively: a JSON array).
struct F32s<'a>(&'a [f32]);

impl Serialize for F32s<'_> {
    #[cfg(target_family = "wasm")]
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let array: JsValue = js_sys::Float32Array::from(self.0).into();
        serde_wasm_bindgen::preserve::serialize(&array, s)
    }

    #[cfg(not(target_family = "wasm"))]
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0)
    }
}

/// The JavaScript shape of a prediction (`Prediction` in the `.d.ts`).
#[derive(Serialize)]
#[serde(untagged)]
enum PredictionJs<'a> {
    Class {
        label: &'a str,
        index: usize,
        scores: F32s<'a>,
        #[serde(rename = "latencyMs")]
        latency_ms: f64,
    },
    Values {
        values: F32s<'a>,
        #[serde(rename = "latencyMs")]
        latency_ms: f64,
    },
}

impl<'a> PredictionJs<'a> {
    fn new(p: &'a Prediction, latency_ms: f64) -> Self {
        match p {
            Prediction::Class { label, index, scores } => {
                PredictionJs::Class { label, index: *index, scores: F32s(scores), latency_ms }
            }
            Prediction::Values { values } => PredictionJs::Values { values: F32s(values), latency_ms },
        }
    }
}

/// Reads one row of raw features from a JavaScript value into `out`.
#[cfg(target_family = "wasm")]
fn read_row(value: &JsValue, out: &mut Vec<f32>) -> Result<(), Error> {
    use js_sys::{Array, ArrayBuffer, Float32Array, Int32Array, Uint32Array};
    use wasm_bindgen::JsCast;
    const EXACT: f64 = 16_777_216.0; // 2^24: integers up to this are exact in f32
    out.clear();
    if let Some(f) = value.dyn_ref::<Float32Array>() {
        out.resize(f.length() as usize, 0.0);
        f.copy_to(out);
        return Ok(());
    }
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        for (i, item) in array.iter().enumerate() {
            match item.as_f64() {
                Some(x) => out.push(x as f32),
                None => return Err(Error::bad_input(format!("input[{i}] is not a number"), "a number", describe(&item))),
            }
        }
        return Ok(());
    }
    let big = value.is_instance_of::<js_sys::BigInt64Array>() || value.is_instance_of::<js_sys::BigUint64Array>();
    if ArrayBuffer::is_view(value) && !value.is_instance_of::<js_sys::DataView>() && !big {
        let wide = value.dyn_ref::<Int32Array>().map(|a| a.to_vec().into_iter().map(f64::from).collect::<Vec<_>>()).or_else(|| {
            value.dyn_ref::<Uint32Array>().map(|a| a.to_vec().into_iter().map(f64::from).collect())
        });
        if let Some(wide) = wide {
            if let Some(i) = wide.iter().position(|v| v.abs() > EXACT) {
                return Err(Error::bad_input(
                    format!("input[{i}] cannot be represented exactly as float32"),
                    "32-bit integers within +-16777216 (2^24)",
                    wide[i].to_string(),
                ));
            }
        }
        let f = Float32Array::new(value);
        out.resize(f.length() as usize, 0.0);
        f.copy_to(out);
        return Ok(());
    }
    Err(Error::bad_input(
        "input is not a row of numbers",
        "a Float32Array, another numeric typed array, or an array of numbers",
        describe(value),
    ))
}

/// Reads one row of raw features from the JSON stand-in of a JavaScript value into `out`.
#[cfg(not(target_family = "wasm"))]
fn read_row(value: &Value, out: &mut Vec<f32>) -> Result<(), Error> {
    out.clear();
    let Some(array) = value.as_array() else {
        return Err(Error::bad_input(
            "input is not a row of numbers",
            "a Float32Array, another numeric typed array, or an array of numbers",
            describe(value),
        ));
    };
    for (i, item) in array.iter().enumerate() {
        match item.as_f64() {
            Some(x) => out.push(x as f32),
            None => return Err(Error::bad_input(format!("input[{i}] is not a number"), "a number", describe(item))),
        }
    }
    Ok(())
}

/// Says what a JavaScript value is, for error messages: `null`, `a string ("abc")`,
/// `Int32Array(64)`, `an array of 3 items`, `an object (Map)`.
#[cfg(target_family = "wasm")]
fn describe(v: &JsValue) -> String {
    use js_sys::{Array, ArrayBuffer, Reflect};
    if v.is_null() {
        return "null".into();
    }
    if v.is_undefined() {
        return "undefined".into();
    }
    if let Some(s) = v.as_string() {
        return format!("a string ({:?})", s.chars().take(40).collect::<String>());
    }
    if let Some(x) = v.as_f64() {
        return format!("a number ({x})");
    }
    if let Some(b) = v.as_bool() {
        return format!("a boolean ({b})");
    }
    if v.is_bigint() {
        return "a bigint".into();
    }
    if v.is_function() {
        return "a function".into();
    }
    if Array::is_array(v) {
        return format!("an array of {} items", Array::from(v).length());
    }
    let constructor = Reflect::get(v, &JsValue::from_str("constructor"))
        .and_then(|c| Reflect::get(&c, &JsValue::from_str("name")))
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| "Object".into());
    if ArrayBuffer::is_view(v) {
        let len = Reflect::get(v, &JsValue::from_str("length")).ok().and_then(|l| l.as_f64()).unwrap_or(0.0);
        return format!("{constructor}({len})");
    }
    format!("an object ({constructor})")
}

#[cfg(not(target_family = "wasm"))]
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({:?})", s.chars().take(40).collect::<String>()),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object (Object)".into(),
    }
}

/// A model package loaded and ready to predict, on this device.
///
/// ```js
/// const model = Model.default();          // or Model.load('digits-fast')
/// const r = model.predict(new Float32Array(64));
/// ```
/// Call `free()` when done to release its wasm memory at once.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub struct Model {
    inner: LoadedModel,
    /// The raw input row, reused across predictions.
    raw: Vec<f32>,
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Model {
    fn wrap(inner: LoadedModel) -> Model {
        let raw = Vec::with_capacity(inner.width());
        Model { inner, raw }
    }

    /// Names of the model packages embedded in this build, sorted, e.g.
    /// `['digits-accurate', 'digits-fast']`.
    pub fn names() -> Vec<String> {
        Registry::names()
    }

    /// Loads the embedded package `name`: checks its sha256, parses and optimizes its graph,
    /// and checks its manifest against the graph. Throws `UNKNOWN_MODEL` for a name no package
    /// has (the message lists the names there are).
    pub fn load(name: &str) -> Result<Model, Thrown> {
        Ok(Model::wrap(LoadedModel::embedded(name)?))
    }

    /// Loads the embedded package whose manifest says `"default": true`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = "default"))]
    pub fn default_model() -> Result<Model, Thrown> {
        Ok(Model::wrap(LoadedModel::embedded_default()?))
    }

    /// The package's name, e.g. `'digits-accurate'`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn name(&self) -> String {
        self.inner.manifest().name.clone()
    }

    /// The number of raw features in one input row (64 for the digits packages: 8x8 pixels).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, js_name = inputWidth))]
    pub fn input_width(&self) -> usize {
        self.inner.width()
    }

    /// The package's manifest as a plain object (`Manifest` in the `.d.ts`).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, unchecked_return_type = "Manifest"))]
    pub fn manifest(&self) -> Result<Value, Thrown> {
        Ok(to_value(self.inner.manifest())?)
    }

    /// Predicts one row of raw features (`inputWidth` values; for the digits packages 64 pixel
    /// intensities 0..16, row by row). Returns `{ label, index, scores: Float32Array, latencyMs }`
    /// for classification and `{ values: Float32Array, latencyMs }` for regression; `latencyMs`
    /// is the time from the raw input to the prediction, in milliseconds.
    ///
    /// Throws a `BAD_INPUT` error that names the problem for input that is not a row of numbers,
    /// has the wrong length, or holds NaN, an infinity or a value outside the manifest's raw
    /// range; the model keeps working.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(unchecked_return_type = "Prediction"))]
    pub fn predict(&mut self, input: RowInput) -> Result<Value, Thrown> {
        read_row(&input, &mut self.raw)?;
        let Timed { prediction, latency_ms } = self.inner.predict(&self.raw)?;
        Ok(to_value(&PredictionJs::new(&prediction, latency_ms))?)
    }
}
