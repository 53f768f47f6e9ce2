//! The primitives over real JavaScript values (wasm32).
//!
//! Every read of a caller's value that can run JavaScript (a getter, a Proxy trap, an iterator,
//! a detached buffer's check) goes through an import marked `catch`, so that a JavaScript
//! exception comes back here as an `Err` instead of unwinding through Rust frames: an exception
//! that unwinds skips their destructors, which would leave the export's borrow of its object
//! held (every later call on it failing) and its work half done. The plain js-sys calls used
//! here are the ones that cannot throw: typeof checks (`is_object`, `as_f64`, `as_string`),
//! `ArrayBuffer.isView` (an internal-slot check, no trap) and operations on values this module
//! made itself. `tests/boundary_reads.rs` keeps the throwing js-sys calls out of src/wasm/.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{too_large, too_many, unreadable, Value, A_ROW};
use crate::error::Error;
use crate::package::ReadAt;
use crate::preprocess::RowName;

#[wasm_bindgen(module = "/js/read.js")]
extern "C" {
    /// `array[0..length]` as a fresh Float64Array, or the index of the first element that is not
    /// a number.
    #[wasm_bindgen(catch, js_name = readNumbers)]
    fn read_numbers(array: &JsValue, length: u32) -> Result<JsValue, JsValue>;
    /// Whether a view's (or an ArrayBuffer's) buffer is detached.
    #[wasm_bindgen(catch, js_name = isDetached)]
    fn is_detached(view_or_buffer: &JsValue) -> Result<bool, JsValue>;
    /// A manifest object as JSON text (bounded, no binary data), or undefined for a value that
    /// JSON leaves out.
    #[wasm_bindgen(catch, js_name = manifestJson)]
    fn manifest_json(manifest: &JsValue) -> Result<JsValue, JsValue>;
    /// `{ name, message }` of a thrown value, read without letting a second exception out.
    #[wasm_bindgen(js_name = thrownText)]
    fn thrown_text(thrown: &JsValue) -> String;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array(v: &JsValue) -> Result<bool, JsValue>;

    /// Any typed array.
    type TypedArray;
    /// `TypedArray.prototype.set` on a view this module made over its own memory, with the
    /// caller's typed array as the source: reads the source's elements from its internal slots
    /// (no getter runs), converting them to the view's element type; throws for a detached source
    /// or one of another content type (BigInt against Number).
    #[wasm_bindgen(catch, method, js_name = set)]
    fn fill_from(this: &TypedArray, source: &JsValue) -> Result<(), JsValue>;
}

/// An element type of typed arrays.
pub trait Element: Copy + Default {
    /// A typed array over `len` elements of wasm memory at `ptr`.
    ///
    /// # Safety
    /// `ptr..ptr + len` must stay allocated, and wasm memory must not grow, while the view is used.
    unsafe fn view(ptr: *mut Self, len: usize) -> JsValue;
}

macro_rules! element {
    ($($t:ty => $array:ident),*) => {$(
        impl Element for $t {
            unsafe fn view(ptr: *mut Self, len: usize) -> JsValue {
                // SAFETY: as the trait says; the caller keeps the memory.
                unsafe { js_sys::$array::view_mut_raw(ptr, len) }.into()
            }
        }
    )*};
}
element!(f32 => Float32Array, f64 => Float64Array, i8 => Int8Array, i16 => Int16Array, i32 => Int32Array, i64 => BigInt64Array,
         u8 => Uint8Array, u16 => Uint16Array, u32 => Uint32Array, u64 => BigUint64Array);

/// Copies `len` elements of the caller's typed array `source` into `out` (appended), converted
/// to `E` as `TypedArray.prototype.set` converts them.
fn fill<E: Element>(source: &JsValue, len: usize, out: &mut Vec<E>, what: &dyn std::fmt::Display) -> Result<(), Error> {
    let start = out.len();
    reserve(out, len, what)?;
    out.resize(start + len, E::default());
    // SAFETY: the view covers the tail of `out` just sized, which outlives it; `set` reads the
    // source's internal slots and runs no JavaScript that could allocate in wasm memory.
    let view = unsafe { E::view(out[start..].as_mut_ptr(), len) };
    view.unchecked_ref::<TypedArray>().fill_from(source).map_err(|e| {
        out.truncate(start);
        unreadable(what.to_string(), &e)
    })
}

/// The elements of a typed array (of the element type `E`, or converted to it).
pub fn copy_typed<E: Element>(source: &JsValue, what: &dyn std::fmt::Display) -> Result<Vec<E>, Error> {
    let len = view_len(source, what)?;
    let mut out = Vec::new();
    fill(source, len, &mut out, what)?;
    Ok(out)
}

/// The `len` numbers of a JavaScript array.
pub fn number_array(v: &Value, len: usize, what: &dyn std::fmt::Display) -> Result<Vec<f64>, Error> {
    let read = read_numbers(v, len as u32).map_err(|e| unreadable(what.to_string(), &e))?;
    if let Some(i) = read.as_f64() {
        let i = i as usize;
        let item = array_item(v, i, what).map(|item| describe(&item)).unwrap_or_else(|e| e.to_string());
        return Err(Error::bad_input(format!("{what}[{i}] is not a number"), "a number", item));
    }
    let values: js_sys::Float64Array = read.unchecked_into();
    let mut out = Vec::new();
    reserve(&mut out, len, what)?;
    out.resize(len, 0.0);
    values.copy_to(&mut out);
    Ok(out)
}

/// What a thrown value said, for messages: `TypeError: ...`.
pub fn thrown(e: &JsValue) -> String {
    thrown_text(e)
}

/// A manifest object as JSON text, read once; None for a value JSON leaves out (a function).
pub fn json_text(manifest: &JsValue) -> Result<Option<String>, Error> {
    Ok(manifest_json(manifest).map_err(|e| unreadable("manifest".into(), &e))?.as_string())
}

/// The property `key` of `target`; an exception (a getter, a Proxy trap) is an `Err` naming `what`.
pub fn get(target: &JsValue, key: &JsValue, what: impl FnOnce() -> String) -> Result<JsValue, Error> {
    js_sys::Reflect::get(target, key).map_err(|e| unreadable(what(), &e))
}

/// Serializes a result for JavaScript: plain objects (not Maps), typed arrays where the result
/// types say so (see [`super::F32s`]).
pub fn to_value<T: Serialize>(v: &T) -> Result<Value, Error> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| Error::Inference {
        model: "(boundary)".into(),
        detail: format!("converting the result for JavaScript: {e}"),
    })
}

/// The property `key` of an options object, unless it is missing, `undefined` or `null`.
pub fn field(options: &Value, key: &str) -> Result<Option<Value>, Error> {
    if !options.is_object() {
        return Ok(None);
    }
    let v = get(options, &JsValue::from_str(key), || format!("options.{key}"))?;
    Ok(Some(v).filter(|v| !v.is_undefined() && !v.is_null()))
}

pub fn is_function(v: &Value) -> bool {
    v.is_function()
}

pub fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// A string (no other value is converted to one: its `toString` is never called).
pub fn string(v: &Value) -> Option<String> {
    v.as_string()
}

#[wasm_bindgen]
extern "C" {
    /// A string, for `String.prototype.isWellFormed`.
    type Text;
    /// True when the string has no lone surrogate; throws where the platform lacks the method.
    #[wasm_bindgen(method, structural, catch, js_name = isWellFormed)]
    fn is_well_formed(this: &Text) -> Result<bool, JsValue>;
}

/// The index (in UTF-16 units) of the first lone surrogate of a string, or None when it has
/// none (or is no string).
pub fn lone_surrogate(v: &Value) -> Option<usize> {
    let s: &js_sys::JsString = v.dyn_ref()?;
    if let Ok(true) = v.unchecked_ref::<Text>().is_well_formed() {
        return None;
    }
    let units: Vec<u16> = s.iter().collect();
    let mut i = 0;
    while i < units.len() {
        match units[i] {
            0xD800..=0xDBFF if matches!(units.get(i + 1), Some(0xDC00..=0xDFFF)) => i += 2,
            0xD800..=0xDFFF => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The length of a string in UTF-16 units, or None for a value that is not a string.
pub fn string_units(v: &Value) -> Option<usize> {
    v.is_string().then(|| v.unchecked_ref::<js_sys::JsString>().length() as usize)
}

pub fn is_options_object(v: &Value, what: &str) -> Result<bool, Error> {
    Ok(v.is_object() && !v.is_function() && !is_array(v).map_err(|e| unreadable(format!("{what} options"), &e))?)
}

/// The length of a JavaScript array, or None when the value is not one.
pub fn array_len(v: &Value, what: &dyn std::fmt::Display) -> Result<Option<usize>, Error> {
    if !v.is_object() || !is_array(v).map_err(|e| unreadable(what.to_string(), &e))? {
        return Ok(None);
    }
    let len = get(v, &JsValue::from_str("length"), || format!("{what}.length"))?;
    // An array's length is a whole number below 2^32 (a Proxy may say otherwise).
    match len.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n < 4_294_967_296.0 => Ok(Some(n as usize)),
        _ => Err(Error::bad_input(
            format!("{what} has no length"),
            "an array with a whole-number length",
            describe(&len),
        )),
    }
}

/// Element `i` of an array.
pub fn array_item(v: &Value, i: usize, what: &dyn std::fmt::Display) -> Result<Value, Error> {
    get(v, &JsValue::from_f64(i as f64), || format!("{what}[{i}]"))
}

/// Appends the `len` numbers of a JavaScript array to `out` (each rounded to float32).
pub fn numbers(v: &Value, len: usize, row: RowName, out: &mut Vec<f32>) -> Result<(), Error> {
    let values = number_array(v, len, &row)?;
    reserve(out, len, &row)?;
    out.extend(values.into_iter().map(|x| x as f32));
    Ok(())
}

/// Room for `more` values in `out`, or a `BAD_INPUT` error where wasm memory cannot hold them
/// (rather than the out-of-memory abort of a plain allocation).
fn reserve<T>(out: &mut Vec<T>, more: usize, what: &dyn std::fmt::Display) -> Result<(), Error> {
    out.try_reserve(more).map_err(|_| too_large(what, more))
}

/// Appends a typed array's values (converted to f32) to `out`; None when `v` is not a numeric
/// typed array. 32-bit integers beyond 2^24 are refused: f32 cannot hold them exactly.
pub fn typed_array(v: &Value, row: RowName, out: &mut Vec<f32>, max: usize) -> Option<Result<(), Error>> {
    use js_sys::{BigInt64Array, BigUint64Array, DataView, Int32Array, Uint32Array};
    // An internal-slot check: true for real typed arrays and DataViews only (not for a Proxy).
    if !js_sys::ArrayBuffer::is_view(v)
        || v.is_instance_of::<DataView>()
        || v.is_instance_of::<BigInt64Array>()
        || v.is_instance_of::<BigUint64Array>()
    {
        return None;
    }
    Some((|| {
        let len = view_len(v, &row)?;
        if len > max {
            return Err(too_many(&row, max, len));
        }
        if v.is_instance_of::<Int32Array>() || v.is_instance_of::<Uint32Array>() {
            // Checked for exactness as integers before anything is converted.
            let mut ints: Vec<f64> = Vec::new();
            fill(v, len, &mut ints, &row)?;
            const EXACT: f64 = 16_777_216.0; // 2^24
            if let Some(i) = ints.iter().position(|x| x.abs() > EXACT) {
                return Err(Error::bad_input(
                    format!("{row}[{i}] cannot be represented exactly as float32"),
                    "32-bit integers within +-16777216 (2^24)",
                    ints[i].to_string(),
                ));
            }
            reserve(out, len, &row)?;
            out.extend(ints.iter().map(|x| *x as f32));
            return Ok(());
        }
        fill(v, len, out, &row)
    })())
}

/// The length of a real typed array; an empty one whose buffer is detached is an error that
/// says so (a buffer transferred to a Worker leaves its views empty).
fn view_len(v: &Value, row: &dyn std::fmt::Display) -> Result<usize, Error> {
    let len = get(v, &JsValue::from_str("length"), || format!("{row}.length"))?;
    let len = match len.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 => n as usize,
        _ => {
            return Err(Error::bad_input(
                format!("{row} has no length"),
                "a typed array with a whole-number length",
                describe(&len),
            ))
        }
    };
    if len == 0 && is_detached(v).unwrap_or(false) {
        return Err(detached(row, v));
    }
    Ok(len)
}

fn detached(what: &dyn std::fmt::Display, v: &Value) -> Error {
    Error::bad_input(
        format!("{what} is detached"),
        format!("{A_ROW} (or bytes) whose buffer is still usable"),
        format!(
            "{} whose buffer was transferred (detached; e.g. posted to a Worker with a transfer list)",
            constructor_name(v)
        ),
    )
}

/// True for a Uint8Array, an ArrayBuffer or a SharedArrayBuffer: bytes, where other typed
/// arrays hold numbers.
pub fn is_bytes(v: &Value) -> bool {
    v.is_instance_of::<js_sys::Uint8Array>()
        || v.is_instance_of::<js_sys::ArrayBuffer>()
        || v.is_instance_of::<js_sys::SharedArrayBuffer>()
}

/// The bytes of a Uint8Array, an ArrayBuffer, a SharedArrayBuffer or any other view.
pub fn bytes(v: &Value, what: &str) -> Result<Option<Vec<u8>>, Error> {
    let Some(view) = byte_view(v, what)? else { return Ok(None) };
    let mut out = Vec::new();
    fill(&view, view.length() as usize, &mut out, &what)?;
    Ok(Some(out))
}

/// A Uint8Array over the bytes of a Uint8Array, an ArrayBuffer, a SharedArrayBuffer or any other
/// view (the same memory); `None` for any other value.
fn byte_view(v: &Value, what: &str) -> Result<Option<js_sys::Uint8Array>, Error> {
    let view = if js_sys::ArrayBuffer::is_view(v) {
        let buffer = get(v, &JsValue::from_str("buffer"), || format!("{what}.buffer"))?;
        let offset = get(v, &JsValue::from_str("byteOffset"), || format!("{what}.byteOffset"))?.as_f64().unwrap_or(0.0);
        let length = get(v, &JsValue::from_str("byteLength"), || format!("{what}.byteLength"))?.as_f64().unwrap_or(0.0);
        if length == 0.0 && is_detached(v).unwrap_or(false) {
            return Err(detached(&what, v));
        }
        js_sys::Reflect::construct(&uint8_array(), &js_sys::Array::of3(&buffer, &offset.into(), &length.into()))
    } else if v.is_instance_of::<js_sys::ArrayBuffer>() || v.is_instance_of::<js_sys::SharedArrayBuffer>() {
        if is_detached(v).unwrap_or(false) {
            return Err(detached(&what, v));
        }
        js_sys::Reflect::construct(&uint8_array(), &js_sys::Array::of1(v))
    } else {
        return Ok(None);
    };
    Ok(Some(view.map_err(|e| unreadable(what.to_owned(), &e))?.unchecked_into()))
}

/// Bytes that JavaScript holds and only this module refers to (see
/// [`crate::package::GraphBytes::Outside`]): a model's file stays out of the wasm memory, which
/// the decoder reads in pieces.
pub struct JsBytes(js_sys::Uint8Array);

impl JsBytes {
    /// A copy, made now in JavaScript's memory, of the bytes of a Uint8Array, an ArrayBuffer or
    /// any other view (the caller may reuse its buffer at once); `None` for any other value.
    pub fn copied(v: &Value, what: &str) -> Result<Option<JsBytes>, Error> {
        let Some(view) = byte_view(v, what)? else { return Ok(None) };
        let copy = js_sys::Reflect::construct(&uint8_array(), &js_sys::Array::of1(&view))
            .map_err(|e| unreadable(what.to_owned(), &e))?;
        Ok(Some(JsBytes(copy.unchecked_into())))
    }

    /// The bytes of a Uint8Array or an ArrayBuffer that no one else holds (a fetched file),
    /// not copied; `None` for any other value.
    pub fn taken(v: &Value, what: &str) -> Result<Option<JsBytes>, Error> {
        Ok(byte_view(v, what)?.map(JsBytes))
    }
}

impl ReadAt for JsBytes {
    fn size(&self) -> usize {
        self.0.length() as usize
    }

    fn read_at(&self, offset: usize, into: &mut [u8]) {
        // The range is inside the array (the caller keeps it so): `copy_to` sees equal lengths.
        self.0.subarray(offset as u32, (offset + into.len()) as u32).copy_to(into);
    }
}

fn uint8_array() -> js_sys::Function {
    js_sys::Uint8Array::new_with_length(0).constructor()
}

/// The name of a value's constructor, `Object` when it has none that can be read.
pub fn constructor_name(v: &JsValue) -> String {
    use js_sys::Reflect;
    Reflect::get(v, &JsValue::from_str("constructor"))
        .and_then(|c| {
            if c.is_object() || c.is_function() {
                Reflect::get(&c, &JsValue::from_str("name"))
            } else {
                Ok(JsValue::UNDEFINED)
            }
        })
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| "Object".into())
}

/// Says what a JavaScript value is, for error messages: `null`, `a string ("abc")`,
/// `Int32Array(64)`, `an array of 3 items`, `an object (Map)`. Never throws: a part that
/// cannot be read is left out.
pub fn describe(v: &JsValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    if v.is_undefined() {
        return "undefined".into();
    }
    if v.is_string() {
        // Only the head is copied into wasm memory: the string may be huge.
        let head = v.unchecked_ref::<js_sys::JsString>().slice(0, 40);
        return format!("a string ({:?})", String::from(head));
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
    if v.is_symbol() {
        return "a symbol".into();
    }
    if v.is_function() {
        return "a function".into();
    }
    match is_array(v) {
        Err(_) => return "an object that cannot be read (a revoked Proxy?)".into(),
        Ok(true) => {
            let len = js_sys::Reflect::get(v, &JsValue::from_str("length")).ok().and_then(|l| l.as_f64());
            return match len {
                Some(n) => format!("an array of {n} items"),
                None => "an array".into(),
            };
        }
        Ok(false) => {}
    }
    let constructor = constructor_name(v);
    if js_sys::ArrayBuffer::is_view(v) {
        let len = js_sys::Reflect::get(v, &JsValue::from_str("length")).ok().and_then(|l| l.as_f64()).unwrap_or(0.0);
        return format!("{constructor}({len})");
    }
    format!("an object ({constructor})")
}

/// An AudioBuffer (Web Audio's, or an object with its shape: `numberOfChannels`, `sampleRate`,
/// `length` and `getChannelData(channel)` giving a Float32Array): its channels averaged into at
/// most `max` samples, and its rate in Hz. None for anything else (a typed array, bytes, an
/// array of numbers: anything without a `getChannelData` function).
pub fn audio_buffer(v: &Value, max: usize) -> Option<Result<(Vec<f32>, f64), Error>> {
    if !v.is_object() || js_sys::ArrayBuffer::is_view(v) || is_bytes(v) {
        return None;
    }
    let method = match get(v, &JsValue::from_str("getChannelData"), || "audio.getChannelData".into()) {
        Ok(m) if m.is_function() => m.unchecked_into::<js_sys::Function>(),
        Ok(_) => return None,
        Err(e) => return Some(Err(e)),
    };
    Some((|| {
        let whole = |key: &str, low: f64, high: f64| -> Result<f64, Error> {
            let x = get(v, &JsValue::from_str(key), || format!("audio.{key}"))?;
            match x.as_f64() {
                Some(n) if n >= low && n <= high && (key == "sampleRate" || n.fract() == 0.0) => Ok(n),
                _ => Err(Error::bad_input(
                    format!("audio.{key} is out of range"),
                    format!("an AudioBuffer's {key}, from {low} to {high}"),
                    describe(&x),
                )),
            }
        };
        let channels = whole("numberOfChannels", 1.0, 32.0)? as usize;
        let rate = whole("sampleRate", 0.0, f64::MAX)?;
        let length = whole("length", 0.0, f64::MAX)?;
        if length > max as f64 {
            return Err(too_many(&"audio", max, length as usize));
        }
        let length = length as usize;
        let mut mix: Vec<f32> = Vec::new();
        let mut channel: Vec<f32> = Vec::new();
        for c in 0..channels {
            let what = format!("audio.getChannelData({c})");
            let data = method.call1(v, &JsValue::from(c as u32)).map_err(|e| unreadable(what.clone(), &e))?;
            if !data.is_instance_of::<js_sys::Float32Array>() {
                return Err(Error::bad_input(
                    format!("{what} is not a Float32Array"),
                    "a Float32Array",
                    describe(&data),
                ));
            }
            let found = view_len(&data, &what)?;
            if found != length {
                return Err(Error::bad_input(
                    format!("{what} has the wrong length"),
                    format!("audio.length ({length}) samples"),
                    format!("{found} samples"),
                ));
            }
            channel.clear();
            fill(&data, length, &mut channel, &what)?;
            if c == 0 {
                mix = std::mem::take(&mut channel);
            } else {
                mix.iter_mut().zip(&channel).for_each(|(m, x)| *m += x);
            }
        }
        if channels > 1 {
            let n = channels as f32;
            mix.iter_mut().for_each(|m| *m /= n);
        }
        Ok((mix, rate))
    })())
}

/// The property `key` of a caller's object (`what.key` in errors), unless it is missing,
/// `undefined` or `null`.
pub fn property(v: &Value, key: &str, what: &str) -> Result<Option<Value>, Error> {
    let x = get(v, &JsValue::from_str(key), || format!("{what}.{key}"))?;
    Ok(Some(x).filter(|x| !x.is_undefined() && !x.is_null()))
}

/// The pixels of an image's `data`: a Uint8Array or a Uint8ClampedArray of exactly
/// `width * height * channels` bytes (checked before they are copied).
pub fn pixel_bytes(data: &Value, width: u32, height: u32, channels: u8) -> Result<Vec<u8>, Error> {
    if !(data.is_instance_of::<js_sys::Uint8Array>() || data.is_instance_of::<js_sys::Uint8ClampedArray>()) {
        return Err(Error::bad_input(
            "image.data is not 8-bit pixels",
            "a Uint8Array or a Uint8ClampedArray (an ImageData's data)",
            describe(data),
        ));
    }
    let len = view_len(data, &"image.data")?;
    if len != width as usize * height as usize * channels as usize {
        return Err(super::data_length(len, width, height, channels));
    }
    let mut out = Vec::new();
    fill(data, len, &mut out, &"image.data")?;
    Ok(out)
}
