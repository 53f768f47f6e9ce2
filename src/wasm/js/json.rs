//! The primitives over JSON values, which stand in for JavaScript values natively (`cargo test`
//! covers the rules of the parent module through them). Reading JSON cannot throw, and JSON has
//! no typed arrays, bytes, getters or Proxies: those paths are wasm32's alone.

use serde::Serialize;

use super::Value;
use crate::error::Error;
use crate::preprocess::RowName;

pub fn to_value<T: Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_value(v)
        .map_err(|e| Error::Inference { model: "(boundary)".into(), detail: format!("converting the result: {e}") })
}

pub fn field(options: &Value, key: &str) -> Result<Option<Value>, Error> {
    Ok(options.get(key).filter(|v| !v.is_null()).cloned())
}

/// JSON has no functions.
pub fn is_function(_v: &Value) -> bool {
    false
}

pub fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

pub fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

pub fn string_units(v: &Value) -> Option<usize> {
    v.as_str().map(|s| s.encode_utf16().count())
}

/// A JSON string holds no lone surrogate (serde_json refuses one).
pub fn lone_surrogate(_v: &Value) -> Option<usize> {
    None
}

pub fn is_options_object(v: &Value, _what: &str) -> Result<bool, Error> {
    Ok(v.is_object())
}

pub fn array_len(v: &Value, _what: &dyn std::fmt::Display) -> Result<Option<usize>, Error> {
    Ok(v.as_array().map(Vec::len))
}

pub fn array_item(v: &Value, i: usize, _what: &dyn std::fmt::Display) -> Result<Value, Error> {
    Ok(v.get(i).cloned().unwrap_or(Value::Null))
}

pub fn numbers(v: &Value, len: usize, row: RowName, out: &mut Vec<f32>) -> Result<(), Error> {
    for i in 0..len {
        let item = array_item(v, i, &row)?;
        match item.as_f64() {
            Some(x) => out.push(x as f32),
            None => return Err(Error::bad_input(format!("{row}[{i}] is not a number"), "a number", describe(&item))),
        }
    }
    Ok(())
}

pub fn is_bytes(_v: &Value) -> bool {
    false
}

pub fn bytes(_v: &Value, _what: &str) -> Result<Option<Vec<u8>>, Error> {
    Ok(None)
}

pub fn typed_array(_v: &Value, _row: RowName, _out: &mut Vec<f32>, _max: usize) -> Option<Result<(), Error>> {
    None
}

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

/// JSON has no AudioBuffer.
pub fn audio_buffer(_v: &Value, _max: usize) -> Option<Result<(Vec<f32>, f64), Error>> {
    None
}

pub fn property(v: &Value, key: &str, _what: &str) -> Result<Option<Value>, Error> {
    Ok(v.get(key).filter(|x| !x.is_null()).cloned())
}

/// JSON pixels: an array of whole numbers 0 to 255.
pub fn pixel_bytes(data: &Value, width: u32, height: u32, channels: u8) -> Result<Vec<u8>, Error> {
    let Some(items) = data.as_array() else {
        return Err(Error::bad_input("image.data is not 8-bit pixels", "an array of bytes", describe(data)));
    };
    if items.len() != width as usize * height as usize * channels as usize {
        return Err(super::data_length(items.len(), width, height, channels));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_u64().filter(|b| *b <= 255).map(|b| b as u8).ok_or_else(|| {
                Error::bad_input(format!("image.data[{i}] is not a byte"), "a whole number from 0 to 255", describe(x))
            })
        })
        .collect()
}
