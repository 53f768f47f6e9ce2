//! JavaScript values in and out: rows of features, options objects, results. Each primitive has
//! a wasm32 version over real JavaScript values and a native one over their JSON stand-ins; the
//! rules built on them (what a row is, what an option may be, what errors say) are written once.

use serde::{Serialize, Serializer};

use super::Value;
use crate::error::Error;
use crate::model::Prediction;
use crate::preprocess::RowName;

#[cfg(target_family = "wasm")]
use wasm_bindgen::{JsCast, JsValue};

// ---- primitives, wasm32 ----------------------------------------------------------------------

/// Serializes a result for JavaScript: plain objects (not Maps), typed arrays where the result
/// types say so (see [`F32s`]).
#[cfg(target_family = "wasm")]
pub fn to_value<T: Serialize>(v: &T) -> Result<Value, Error> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| Error::Inference { model: "(boundary)".into(), detail: format!("converting the result for JavaScript: {e}") })
}

/// The property `key` of an options object, unless it is missing, `undefined` or `null`.
#[cfg(target_family = "wasm")]
pub fn field(options: &Value, key: &str) -> Option<Value> {
    if !options.is_object() {
        return None;
    }
    js_sys::Reflect::get(options, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

#[cfg(target_family = "wasm")]
fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[cfg(target_family = "wasm")]
fn string(v: &Value) -> Option<String> {
    v.as_string()
}

#[cfg(target_family = "wasm")]
fn is_options_object(v: &Value) -> bool {
    v.is_object() && !js_sys::Array::is_array(v) && !v.is_function()
}

/// The elements of a JavaScript array, or None when the value is not one.
#[cfg(target_family = "wasm")]
fn array_items(v: &Value) -> Option<Vec<Value>> {
    js_sys::Array::is_array(v).then(|| js_sys::Array::from(v).iter().collect())
}

/// Appends a typed array's values (converted to f32) to `out`; None when `v` is not a numeric
/// typed array. 32-bit integers beyond 2^24 are refused: f32 cannot hold them exactly.
#[cfg(target_family = "wasm")]
fn typed_array(v: &Value, row: RowName, out: &mut Vec<f32>) -> Option<Result<(), Error>> {
    use js_sys::{ArrayBuffer, Float32Array, Int32Array, Uint32Array};
    const EXACT: f64 = 16_777_216.0; // 2^24
    if let Some(f) = v.dyn_ref::<Float32Array>() {
        let start = out.len();
        out.resize(start + f.length() as usize, 0.0);
        f.copy_to(&mut out[start..]);
        return Some(Ok(()));
    }
    let big = v.is_instance_of::<js_sys::BigInt64Array>() || v.is_instance_of::<js_sys::BigUint64Array>();
    if !ArrayBuffer::is_view(v) || v.is_instance_of::<js_sys::DataView>() || big {
        return None;
    }
    let wide: Option<Vec<f64>> = v
        .dyn_ref::<Int32Array>()
        .map(|a| a.to_vec().into_iter().map(f64::from).collect())
        .or_else(|| v.dyn_ref::<Uint32Array>().map(|a| a.to_vec().into_iter().map(f64::from).collect()));
    if let Some(i) = wide.as_ref().and_then(|w| w.iter().position(|x| x.abs() > EXACT)) {
        let got = wide.as_ref().map(|w| w[i].to_string()).unwrap_or_default();
        return Some(Err(Error::bad_input(
            format!("{row}[{i}] cannot be represented exactly as float32"),
            "32-bit integers within +-16777216 (2^24)",
            got,
        )));
    }
    let f = Float32Array::new(v);
    let start = out.len();
    out.resize(start + f.length() as usize, 0.0);
    f.copy_to(&mut out[start..]);
    Some(Ok(()))
}

/// Says what a JavaScript value is, for error messages: `null`, `a string ("abc")`,
/// `Int32Array(64)`, `an array of 3 items`, `an object (Map)`.
#[cfg(target_family = "wasm")]
pub fn describe(v: &JsValue) -> String {
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

/// Gives the event loop a turn (a macrotask, through a MessageChannel: no 4 ms timer clamp), so
/// that a page renders and handles input between the chunks of a batch.
#[cfg(target_family = "wasm")]
pub async fn yield_to_event_loop() {
    let Ok(channel) = web_sys::MessageChannel::new() else {
        return;
    };
    let (receiver, sender) = (channel.port1(), channel.port2());
    let turn = js_sys::Promise::new(&mut |resolve, _reject| {
        receiver.set_onmessage(Some(&resolve));
        let _ = sender.post_message(&JsValue::NULL);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(turn).await;
    // Open ports would keep Node's event loop alive.
    receiver.set_onmessage(None);
    receiver.close();
    sender.close();
}

// ---- primitives, native (JSON stands in for JavaScript values) -------------------------------

#[cfg(not(target_family = "wasm"))]
pub fn to_value<T: Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_value(v).map_err(|e| Error::Inference { model: "(boundary)".into(), detail: format!("converting the result: {e}") })
}

#[cfg(not(target_family = "wasm"))]
pub fn field(options: &Value, key: &str) -> Option<Value> {
    options.get(key).filter(|v| !v.is_null()).cloned()
}

#[cfg(not(target_family = "wasm"))]
fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[cfg(not(target_family = "wasm"))]
fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

#[cfg(not(target_family = "wasm"))]
fn is_options_object(v: &Value) -> bool {
    v.is_object()
}

#[cfg(not(target_family = "wasm"))]
fn array_items(v: &Value) -> Option<Vec<Value>> {
    v.as_array().cloned()
}

#[cfg(not(target_family = "wasm"))]
fn typed_array(_v: &Value, _row: RowName, _out: &mut Vec<f32>) -> Option<Result<(), Error>> {
    None
}

#[cfg(not(target_family = "wasm"))]
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({:?})", s.chars().take(40).collect::<String>()),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object (Object)".into(),
    }
}

// ---- rules, written once ---------------------------------------------------------------------

const A_ROW: &str = "a Float32Array, another numeric typed array, or an array of numbers";

/// Appends one row of raw features, read from a JavaScript value, to `out`.
pub fn read_row(value: &Value, row: RowName, out: &mut Vec<f32>) -> Result<(), Error> {
    if let Some(done) = typed_array(value, row, out) {
        return done;
    }
    let Some(items) = array_items(value) else {
        return Err(Error::bad_input(format!("{row} is not a row of numbers"), A_ROW, describe(value)));
    };
    for (i, item) in items.iter().enumerate() {
        match number(item) {
            Some(x) => out.push(x as f32),
            None => return Err(Error::bad_input(format!("{row}[{i}] is not a number"), "a number", describe(item))),
        }
    }
    Ok(())
}

/// Reads a batch: one typed array (or array of numbers) of `n * width` values, or an array of
/// rows. Each row of an array of rows must have `width` values.
pub fn read_rows(value: &Value, width: usize) -> Result<Vec<f32>, Error> {
    let mut out = Vec::new();
    if typed_array(value, RowName::Flat, &mut out).transpose()?.is_some() {
        return Ok(out);
    }
    let Some(items) = array_items(value) else {
        return Err(Error::bad_input(
            "rows is not a batch",
            format!("a Float32Array of n * {width} values, or an array of rows ({A_ROW})"),
            describe(value),
        ));
    };
    if items.first().is_some_and(|first| number(first).is_some()) {
        // A flat array of numbers, like a typed array.
        return read_row(value, RowName::Flat, &mut out).map(|_| out);
    }
    out.reserve(items.len() * width);
    for (i, item) in items.iter().enumerate() {
        let start = out.len();
        read_row(item, RowName::Row(i), &mut out)?;
        let got = out.len() - start;
        if got != width {
            return Err(Error::bad_input(format!("rows[{i}] has the wrong length"), format!("{width} raw features"), format!("{got} values")));
        }
    }
    Ok(out)
}

/// Checks that `options` is an options object (or absent).
pub fn check_options(options: Option<&Value>, what: &str) -> Result<(), Error> {
    match options {
        Some(o) if !is_options_object(o) => Err(Error::bad_input(format!("{what} options are not an object"), "an object such as { chunkSize: 256 }", describe(o))),
        _ => Ok(()),
    }
}

/// A whole-number option within `1..=max`, or `default` when absent.
pub fn whole_option(options: Option<&Value>, key: &str, default: usize, max: usize) -> Result<usize, Error> {
    let Some(v) = options.and_then(|o| field(o, key)) else { return Ok(default) };
    match number(&v) {
        Some(x) if x.fract() == 0.0 && x >= 1.0 && x <= max as f64 => Ok(x as usize),
        _ => Err(Error::bad_input(format!("{key} is out of range"), format!("a whole number from 1 to {max}"), describe(&v))),
    }
}

/// A positive number option, or `default` when absent.
pub fn number_option(options: Option<&Value>, key: &str, default: Option<f64>, range: (f64, f64)) -> Result<Option<f64>, Error> {
    let Some(v) = options.and_then(|o| field(o, key)) else { return Ok(default) };
    match number(&v) {
        Some(x) if x.is_finite() && x >= range.0 && x <= range.1 => Ok(Some(x)),
        _ => Err(Error::bad_input(format!("{key} is out of range"), format!("a number from {} to {}", range.0, range.1), describe(&v))),
    }
}

/// The label column of a CSV: a header name (string) or a 0-based index (number).
pub fn label_column_option(options: Option<&Value>) -> Result<Option<crate::serve::csv::LabelColumn>, Error> {
    use crate::serve::csv::LabelColumn;
    let Some(v) = options.and_then(|o| field(o, "labelColumn")) else { return Ok(None) };
    if let Some(name) = string(&v) {
        return Ok(Some(LabelColumn::Name(name)));
    }
    match number(&v) {
        Some(x) if x.fract() == 0.0 && x >= 0.0 => Ok(Some(LabelColumn::Index(x as usize))),
        _ => Err(Error::bad_input("labelColumn is not a column", "a header name or a 0-based column index", describe(&v))),
    }
}

/// A slice of f32 that becomes a `Float32Array` in JavaScript (natively: a JSON array).
pub struct F32s<'a>(pub &'a [f32]);

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

/// The JavaScript shape of a prediction (`Prediction` in the `.d.ts`); without `latencyMs`
/// inside a stream output, which carries its own timings.
#[derive(Serialize)]
#[serde(untagged)]
pub enum PredictionJs<'a> {
    Class {
        label: &'a str,
        index: usize,
        scores: F32s<'a>,
        #[serde(rename = "latencyMs", skip_serializing_if = "Option::is_none")]
        latency_ms: Option<f64>,
    },
    Values {
        values: F32s<'a>,
        #[serde(rename = "latencyMs", skip_serializing_if = "Option::is_none")]
        latency_ms: Option<f64>,
    },
}

impl<'a> PredictionJs<'a> {
    pub fn new(p: &'a Prediction, latency_ms: Option<f64>) -> Self {
        match p {
            Prediction::Class { label, index, scores } => PredictionJs::Class { label, index: *index, scores: F32s(scores), latency_ms },
            Prediction::Values { values } => PredictionJs::Values { values: F32s(values), latency_ms },
        }
    }
}
