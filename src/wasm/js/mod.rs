//! JavaScript values in and out: rows of features, options objects, strings, results. Each
//! primitive has a wasm32 version over real JavaScript values (`web`) and a native one over their
//! JSON stand-ins (`json`); the rules built on them (what a row is, what an option may be, what
//! errors say, how much may be read) are written once, here.
//!
//! Every read of a caller's value is fallible: a JavaScript exception raised while reading (a
//! getter, a Proxy trap, a detached buffer) becomes a `BAD_INPUT` error that names what could not
//! be read, and the export returns it like any other error, with nothing of its own left behind.

use serde::{Serialize, Serializer};

use super::Value;
use crate::error::Error;
use crate::model::Prediction;
use crate::preprocess::RowName;

#[cfg(not(target_family = "wasm"))]
mod json;
#[cfg(not(target_family = "wasm"))]
pub use json::*;
#[cfg(target_family = "wasm")]
mod web;
#[cfg(target_family = "wasm")]
pub use web::*;

const AN_IMAGE: &str = "an image: { data, width, height, channels } with data a Uint8Array or Uint8ClampedArray of 8-bit pixels row after row and channels 1, 3 or 4 (default 4, as an ImageData has)";

/// Reads an image: an `ImageData`, or any object with its shape (`data`, `width`, `height`, and
/// `channels` where it is not 4). The sizes are checked (at most `max_pixels`) before the pixels
/// are copied, once.
pub fn read_image(v: &Value, max_pixels: u64) -> Result<crate::image::OwnedImage, Error> {
    use crate::image::{ImageError, MAX_SIDE};
    if !is_options_object(v, "image")? {
        return Err(Error::bad_input("image is not an image", AN_IMAGE, describe(v)));
    }
    let whole = |key: &str, default: Option<u64>| -> Result<u64, Error> {
        match property(v, key, "image")? {
            None => default.ok_or_else(|| Error::bad_input(format!("image.{key} is missing"), AN_IMAGE, "none")),
            Some(x) => match number(&x) {
                Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(n as u64),
                _ => Err(Error::bad_input(format!("image.{key} is not a whole number"), AN_IMAGE, describe(&x))),
            },
        }
    };
    let width = whole("width", None)?;
    let height = whole("height", None)?;
    let channels = whole("channels", Some(4))?;
    for (field, value) in [("width", width), ("height", height)] {
        if value == 0 || value > MAX_SIDE as u64 {
            return Err(ImageError::Side { field, value }.into_error("(boundary)"));
        }
    }
    if !matches!(channels, 1 | 3 | 4) {
        return Err(ImageError::Channels { channels }.into_error("(boundary)"));
    }
    let (width, height, channels) = (width as u32, height as u32, channels as u8);
    crate::vision::check_size(max_pixels, width, height).map_err(|e| e.into_error("(boundary)"))?;
    let data =
        property(v, "data", "image")?.ok_or_else(|| Error::bad_input("image.data is missing", AN_IMAGE, "none"))?;
    let data = pixel_bytes(&data, width, height, channels)?;
    Ok(crate::image::OwnedImage { data, width, height, channels })
}

/// Reads an array of images (a batch), at most `max` of them, each as [`read_image`] reads one;
/// an error names the image (`rows[i]: ...`).
pub fn read_images(v: &Value, max: usize, max_pixels: u64) -> Result<Vec<crate::image::OwnedImage>, Error> {
    let what = "images";
    let Some(len) = array_len(v, &what)? else {
        return Err(Error::bad_input("images is not an array of images", AN_IMAGE, describe(v)));
    };
    if len > max {
        return Err(too_many(&what, max, len));
    }
    let mut images = Vec::with_capacity(len.min(1024));
    for i in 0..len {
        let item = array_item(v, i, &format!("rows[{i}]"))?;
        images.push(read_image(&item, max_pixels).map_err(|e| e.named(&format!("rows[{i}]")))?);
    }
    Ok(images)
}

/// The length error of pixel data.
fn data_length(got: usize, width: u32, height: u32, channels: u8) -> Error {
    let expected = width as usize * height as usize * channels as usize;
    crate::image::ImageError::DataLength { expected, got, width, height, channels }.into_error("(boundary)")
}

/// The most values one row may have: a longer one is refused before it is copied into wasm
/// memory (which never shrinks).
pub const MAX_ROW_VALUES: usize = 1 << 24;
/// The longest string an export reads, in UTF-16 units (a CSV text; names are far shorter): a
/// string is copied into wasm memory as UTF-8, up to three bytes a unit.
pub const MAX_TEXT_UNITS: usize = 1 << 27;

/// The most columns a CSV text may have (a label column index is below it).
pub const MAX_COLUMNS: usize = 1 << 24;

/// The longest name an export reads (a model, an engine), in UTF-16 units.
pub const MAX_NAME_UNITS: usize = 1 << 10;

/// The error for a value whose reading threw `thrown` in JavaScript.
#[cfg(target_family = "wasm")]
pub fn unreadable(what: String, thrown: &wasm_bindgen::JsValue) -> Error {
    Error::bad_input(
        format!("{what} could not be read"),
        "a value that can be read without an exception",
        format!("an exception: {}", web::thrown(thrown)),
    )
}

/// The error for a value too large to copy into wasm memory.
pub fn too_large(what: &dyn std::fmt::Display, values: usize) -> Error {
    Error::bad_input(format!("{what} is too large"), "a value that fits in wasm memory", format!("{values} values"))
}

/// A string argument of at most `max_units` UTF-16 units; anything else is refused (its
/// `toString` is never called).
pub fn string_arg(value: &Value, what: &str, expected: &str, max_units: usize) -> Result<String, Error> {
    match string_units(value) {
        None => Err(Error::bad_input(format!("{what} is not a string"), expected, describe(value))),
        Some(n) if n > max_units => Err(Error::bad_input(
            format!("{what} is too long"),
            format!("{expected} of at most {max_units} characters"),
            format!("{n} characters"),
        )),
        Some(_) => {
            string(value).ok_or_else(|| Error::bad_input(format!("{what} is not a string"), expected, describe(value)))
        }
    }
}

// ---- rules, written once ---------------------------------------------------------------------

pub const A_ROW: &str = "a Float32Array, another numeric typed array, or an array of numbers";

/// Appends one row of raw features, read from a JavaScript value, to `out`.
pub fn read_row(value: &Value, row: RowName, out: &mut Vec<f32>) -> Result<(), Error> {
    read_values(value, row, out, MAX_ROW_VALUES)
}

/// Audio samples or a model state (`what` names them): a Float32Array (or another numeric typed
/// array, or an array of numbers) of at most `max` values.
pub fn read_samples(value: &Value, what: RowName, max: usize) -> Result<Vec<f32>, Error> {
    let mut out = Vec::new();
    read_values(value, what, &mut out, max)?;
    Ok(out)
}

/// Appends at most `max` values of a typed array or an array of numbers to `out`.
fn read_values(value: &Value, row: RowName, out: &mut Vec<f32>, max: usize) -> Result<(), Error> {
    if let Some(done) = typed_array(value, row, out, max) {
        return done;
    }
    let Some(len) = array_len(value, &row)? else {
        return Err(Error::bad_input(format!("{row} is not a row of numbers"), A_ROW, describe(value)));
    };
    if len > max {
        return Err(too_many(&row, max, len));
    }
    numbers(value, len, row, out)
}

/// The error for an array longer than may be read.
pub fn too_many(what: &dyn std::fmt::Display, max: usize, got: usize) -> Error {
    Error::bad_input(format!("{what} has too many values"), format!("at most {max} values"), format!("{got} values"))
}

/// Reads a batch of at most `max_rows` rows: one typed array (or array of numbers) of
/// `n * width` values, or an array of rows. Each row of an array of rows must have `width` values.
/// A batch over the limit is refused before its values are copied.
pub fn read_rows(value: &Value, width: usize, max_rows: usize) -> Result<Vec<f32>, Error> {
    let mut out = Vec::new();
    // One row over the limit, so that the core says which limit a batch is over.
    let max_values = max_rows.saturating_add(1).saturating_mul(width.max(1));
    if typed_array(value, RowName::Flat, &mut out, max_values).transpose()?.is_some() {
        return Ok(out);
    }
    let Some(len) = array_len(value, &RowName::Flat)? else {
        return Err(Error::bad_input(
            "rows is not a batch",
            format!("a Float32Array of n * {width} values, or an array of rows ({A_ROW})"),
            describe(value),
        ));
    };
    let first = if len > 0 { Some(array_item(value, 0, &RowName::Flat)?) } else { None };
    if first.as_ref().is_some_and(|first| number(first).is_some()) {
        // A flat array of numbers, like a typed array.
        return read_values(value, RowName::Flat, &mut out, max_values).map(|_| out);
    }
    if len > max_rows.saturating_add(1) {
        return Err(too_many(&RowName::Flat, max_rows.saturating_add(1), len));
    }
    // No room is reserved for the rows an array says it has: a sparse array's length is a claim,
    // and wasm memory, once grown, never shrinks. Each row reserves its own as it is read.
    for i in 0..len {
        let item = match (i, &first) {
            (0, Some(first)) => first.clone(),
            _ => array_item(value, i, &RowName::Flat)?,
        };
        let start = out.len();
        read_row(&item, RowName::Row(i), &mut out)?;
        let got = out.len() - start;
        if got != width {
            return Err(Error::bad_input(
                format!("rows[{i}] has the wrong length"),
                format!("{width} raw features"),
                format!("{got} values"),
            ));
        }
    }
    Ok(out)
}

/// Checks that `options` is an options object (or absent).
pub fn check_options(options: Option<&Value>, what: &str) -> Result<(), Error> {
    match options {
        Some(o) if !is_options_object(o, what)? => Err(Error::bad_input(
            format!("{what} options are not an object"),
            "an object such as { chunkSize: 256 }",
            describe(o),
        )),
        _ => Ok(()),
    }
}

/// The option `key`, unless absent.
fn option(options: Option<&Value>, key: &str) -> Result<Option<Value>, Error> {
    match options {
        Some(o) => field(o, key),
        None => Ok(None),
    }
}

/// A whole-number option within `1..=max`, or `default` when absent.
pub fn whole_option(options: Option<&Value>, key: &str, default: usize, max: usize) -> Result<usize, Error> {
    let Some(v) = option(options, key)? else { return Ok(default) };
    match number(&v) {
        Some(x) if x.fract() == 0.0 && x >= 1.0 && x <= max as f64 => Ok(x as usize),
        _ => Err(Error::bad_input(
            format!("{key} is out of range"),
            format!("a whole number from 1 to {max}"),
            describe(&v),
        )),
    }
}

/// A positive number option, or `default` when absent.
pub fn number_option(
    options: Option<&Value>,
    key: &str,
    default: Option<f64>,
    range: (f64, f64),
) -> Result<Option<f64>, Error> {
    let Some(v) = option(options, key)? else { return Ok(default) };
    match number(&v) {
        Some(x) if x.is_finite() && x >= range.0 && x <= range.1 => Ok(Some(x)),
        _ => Err(Error::bad_input(
            format!("{key} is out of range"),
            format!("a number from {} to {}", range.0, range.1),
            describe(&v),
        )),
    }
}

/// A callback option (`onProgress`), or None when absent.
pub fn function_option(options: Option<&Value>, key: &str) -> Result<Option<Value>, Error> {
    let Some(v) = option(options, key)? else { return Ok(None) };
    if is_function(&v) {
        Ok(Some(v))
    } else {
        Err(Error::bad_input(format!("{key} is not a function"), "a function", describe(&v)))
    }
}

/// A string option, or None when absent.
pub fn string_option(options: Option<&Value>, key: &str, expected: &str) -> Result<Option<String>, Error> {
    match option(options, key)? {
        None => Ok(None),
        Some(v) => string_arg(&v, key, expected, MAX_TEXT_UNITS).map(Some),
    }
}

/// Any other option, as it is (`manifest`, `shapes`), or None when absent.
pub fn value_option(options: Option<&Value>, key: &str) -> Result<Option<Value>, Error> {
    option(options, key)
}

/// The label column of a CSV: a header name (string) or a 0-based index (number).
pub fn label_column_option(options: Option<&Value>) -> Result<Option<crate::serve::csv::LabelColumn>, Error> {
    use crate::serve::csv::LabelColumn;
    let Some(v) = option(options, "labelColumn")? else { return Ok(None) };
    if string_units(&v).is_some() {
        return Ok(Some(LabelColumn::Name(string_arg(&v, "labelColumn", "a header name", MAX_TEXT_UNITS)?)));
    }
    match number(&v) {
        Some(x) if x.fract() == 0.0 && x >= 0.0 && x < MAX_COLUMNS as f64 => Ok(Some(LabelColumn::Index(x as usize))),
        _ => Err(Error::bad_input(
            "labelColumn is not a column",
            format!("a header name or a 0-based column index below {MAX_COLUMNS}"),
            describe(&v),
        )),
    }
}

/// A slice of f32 that becomes a `Float32Array` in JavaScript (natively: a JSON array).
pub struct F32s<'a>(pub &'a [f32]);

impl Serialize for F32s<'_> {
    #[cfg(target_family = "wasm")]
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let array: wasm_bindgen::JsValue = js_sys::Float32Array::from(self.0).into();
        serde_wasm_bindgen::preserve::serialize(&array, s)
    }

    #[cfg(not(target_family = "wasm"))]
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0)
    }
}

/// A slice of u32 that becomes a `Uint32Array` in JavaScript (natively: a JSON array).
pub struct U32s<'a>(pub &'a [u32]);

impl Serialize for U32s<'_> {
    #[cfg(target_family = "wasm")]
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let array: wasm_bindgen::JsValue = js_sys::Uint32Array::from(self.0).into();
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
            Prediction::Class { label, index, scores } => {
                PredictionJs::Class { label, index: *index, scores: F32s(scores), latency_ms }
            }
            Prediction::Values { values } => PredictionJs::Values { values: F32s(values), latency_ms },
        }
    }
}
