//! Models brought at run time: `Model.fromBytes(bytes, manifest?)`, and `model.run(inputs)` for
//! any graph (several inputs and outputs, any supported element type).

use super::js::describe;
use super::Thrown;
use super::{Model, Value};
use crate::error::Error;
use crate::model::LoadedModel;
use crate::package::GraphBytes;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

impl Model {
    /// Loads `bytes` with an optional manifest (JSON text); `sha256`, when given, is their hash.
    fn load_bytes(
        bytes: GraphBytes<'_>,
        sha256: Option<String>,
        manifest: Option<&str>,
        tokenizer: Option<Vec<u8>>,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<Model, Error> {
        Ok(Model::wrap(LoadedModel::from_hashed_parts(bytes, sha256, manifest, tokenizer, files)?))
    }
}

#[cfg(not(target_family = "wasm"))]
fn manifest_text(m: &Value) -> Result<String, Error> {
    if !m.is_object() {
        return Err(Error::bad_input(
            "manifest is not an object",
            "a manifest object (see schema/manifest.schema.json)",
            describe(m),
        ));
    }
    Ok(m.to_string())
}

/// The manifest object as JSON text, by `JSON.stringify` (which reads it once; a cycle, a
/// BigInt, binary data, a getter that throws or an object of over a million values is an error
/// here).
#[cfg(target_family = "wasm")]
fn manifest_text(m: &Value) -> Result<String, Error> {
    if super::js::array_len(m, &"manifest")?.is_some() || !m.is_object() || m.is_function() {
        return Err(Error::bad_input(
            "manifest is not an object",
            "a manifest object (see schema/manifest.schema.json)",
            describe(m),
        ));
    }
    super::js::json_text(m)?.ok_or_else(|| {
        Error::bad_input(
            "manifest cannot be read",
            "a plain object of JSON values",
            "a value JSON.stringify leaves out",
        )
    })
}

/// [`crate::engine::Details`] as `model.engineDetails` returns it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct EngineDetailsJs {
    executor: &'static str,
    typing: &'static str,
    planned_shapes: Vec<Vec<Vec<usize>>>,
    rows_independent: bool,
    notes: Vec<String>,
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Model {
    /// How the engine runs this model: `{ executor, typing, plannedShapes, rowsIndependent,
    /// notes }`.
    /// `executor`: `'rows'` or `'tract'` (as `engine`); `typing`: `'fixed'` (every input shape
    /// fixed), `'symbolic'` (free dimensions typed as symbols: one plan for any shapes) or
    /// `'per shape set'` (tract could not type the graph for any shapes: it is typed and planned
    /// for the input shapes of each call, as onnxruntime does; the first call with new shapes
    /// plans, see `planFor`); `plannedShapes`: the shape sets with a plan of their own (each an
    /// array of shapes in the order of `manifest.inputs`); `rowsIndependent`: whether each row
    /// of a batch is computed from that row alone, so that a batch may run as smaller ones
    /// where they cost less per row (a CNN's, measured on this device); `notes`: what was done
    /// differently from tract's defaults to load or run the model (an optimizer pass that
    /// failed and was skipped, ...), in words.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, js_name = engineDetails, unchecked_return_type = "EngineDetails"))]
    pub fn engine_details(&self) -> Result<Value, Thrown> {
        Ok(self.shared.with(|m| {
            let d = m.engine_details();
            super::to_value(&EngineDetailsJs {
                executor: d.executor,
                typing: d.typing,
                planned_shapes: d.planned_shapes,
                rows_independent: d.rows_independent,
                notes: d.notes,
            })
        })?)
    }
}

#[cfg(not(target_family = "wasm"))]
impl Model {
    /// Plans ahead for calls with inputs of these shapes (natively: `(name, shape)` pairs).
    pub fn plan_for(&self, shapes: &[(String, Vec<usize>)]) -> Result<(), Thrown> {
        Ok(self.shared.with(|m| m.plan_for(shapes))?)
    }

    /// Loads an ONNX model from bytes, with a manifest object or without (natively: at once).
    pub fn from_bytes(bytes: Vec<u8>, manifest: Option<Value>) -> Result<Model, Thrown> {
        Model::from_bytes_with(bytes, manifest, None)
    }

    /// [`Model::from_bytes`] with the `tokenizer.json` of a text package.
    pub fn from_bytes_with(
        bytes: Vec<u8>,
        manifest: Option<Value>,
        tokenizer: Option<Vec<u8>>,
    ) -> Result<Model, Thrown> {
        let text = manifest.as_ref().map(manifest_text).transpose()?;
        Model::load_bytes(bytes.into(), None, text.as_deref(), tokenizer, vec![])
    }
}

#[cfg(target_family = "wasm")]
mod js_run {
    use js_sys::{Array, Object};
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_bindgen::{JsCast, JsValue};

    #[wasm_bindgen]
    extern "C" {
        /// An object this module made (`{}`): its fields are set with a plain `o[key] = value`,
        /// which cannot throw there. (`Reflect.set` through js-sys goes through a catching shim
        /// that cost ~2 us a call in V8: four per output, most of run()'s boundary time.)
        type Fresh;
        #[wasm_bindgen(method, structural, indexing_setter)]
        fn set(this: &Fresh, key: &JsValue, value: &JsValue);

        #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
        fn object_keys(v: &JsValue) -> Result<Array, JsValue>;
    }

    thread_local! {
        /// The keys of every output entry, and of the options' shapes, made once.
        static KEYS: [JsValue; 4] = [JsValue::from_str("dtype"), JsValue::from_str("shape"), JsValue::from_str("data"), JsValue::from_str("shapes")];
    }

    use super::describe;
    use crate::error::Error;
    use crate::manifest::{Dim, GraphIo};
    use crate::package::GraphBytes;
    use crate::tensor::{NamedTensor, TensorData};
    use crate::wasm::js::{self, copy_typed, unreadable};

    fn not_bytes(v: &JsValue) -> Error {
        Error::bad_input("bytes are not the bytes of an ONNX file", "a Uint8Array or an ArrayBuffer", describe(v))
    }

    /// The bytes of a Uint8Array, an ArrayBuffer or any other view.
    pub fn bytes(v: &JsValue) -> Result<Vec<u8>, Error> {
        js::bytes(v, "bytes")?.ok_or_else(|| not_bytes(v))
    }

    /// A graph's bytes, left in JavaScript's memory (see [`js::JsBytes`]): copied now when the
    /// caller gave them (`copy`), else taken as they are (a file fetched here).
    pub fn graph(v: &JsValue, copy: bool) -> Result<GraphBytes<'static>, Error> {
        let bytes = if copy { js::JsBytes::copied(v, "bytes")? } else { js::JsBytes::taken(v, "bytes")? };
        Ok(GraphBytes::Outside(Box::new(bytes.ok_or_else(|| not_bytes(v))?)))
    }

    /// One input: a typed array (or an array of numbers) of the graph input's element type.
    fn data(input: &GraphIo, v: &JsValue) -> Result<TensorData, Error> {
        let want = input.dtype.as_str();
        let what = format!("input {:?}", input.name);
        let typed = js_sys::ArrayBuffer::is_view(v);
        let got = if typed {
            js::constructor_name(v)
        } else if js::array_len(v, &what)?.is_some() {
            "Array".to_owned()
        } else {
            String::new()
        };
        let wrong = || {
            Error::bad_input(
                format!("input {:?} has the wrong element type", input.name),
                format!("{want} values ({})", typed_array_for(want)),
                describe(v),
            )
        };
        let numbers = || -> Result<Vec<f64>, Error> {
            let len = js::array_len(v, &what)?.unwrap_or(0);
            js::number_array(v, len, &what)
        };
        Ok(match (want, got.as_str()) {
            ("float32", "Float32Array") => TensorData::F32(copy_typed(v, &what)?),
            ("float64", "Float64Array") => TensorData::F64(copy_typed(v, &what)?),
            ("int8", "Int8Array") => TensorData::I8(copy_typed(v, &what)?),
            ("int16", "Int16Array") => TensorData::I16(copy_typed(v, &what)?),
            ("int32", "Int32Array") => TensorData::I32(copy_typed(v, &what)?),
            ("int64", "BigInt64Array") => TensorData::I64(copy_typed(v, &what)?),
            ("uint8", "Uint8Array") => TensorData::U8(copy_typed(v, &what)?),
            ("uint16", "Uint16Array") => TensorData::U16(copy_typed(v, &what)?),
            ("uint32", "Uint32Array") => TensorData::U32(copy_typed(v, &what)?),
            ("uint64", "BigUint64Array") => TensorData::U64(copy_typed(v, &what)?),
            ("bool", "Uint8Array") => {
                TensorData::Bool(copy_typed::<u8>(v, &what)?.into_iter().map(|b| b != 0).collect())
            }
            ("float32", "Array") => TensorData::F32(numbers()?.into_iter().map(|x| x as f32).collect()),
            ("float64", "Array") => TensorData::F64(numbers()?),
            ("bool", "Array") => {
                let len = js::array_len(v, &what)?.unwrap_or(0);
                TensorData::Bool(
                    (0..len).map(|i| js::array_item(v, i, &what).map(|x| x.is_truthy())).collect::<Result<_, _>>()?,
                )
            }
            _ => return Err(wrong()),
        })
    }

    /// The typed array that holds a dtype, for messages and the `.d.ts`.
    pub fn typed_array_for(dtype: &str) -> &'static str {
        match dtype {
            "float32" => "Float32Array",
            "float64" => "Float64Array",
            "int8" => "Int8Array",
            "int16" => "Int16Array",
            "int32" => "Int32Array",
            "int64" => "BigInt64Array",
            "uint8" => "Uint8Array",
            "uint16" => "Uint16Array",
            "uint32" => "Uint32Array",
            "uint64" => "BigUint64Array",
            "bool" => "Uint8Array of 0 and 1",
            _ => "a typed array",
        }
    }

    /// A shape given for `input` (`shapes[name]`): an array of at most 64 whole numbers.
    pub fn given_shape(input: &GraphIo, given: &JsValue) -> Result<Vec<usize>, Error> {
        let what = || format!("shapes[{:?}]", input.name);
        let not_a_shape = || {
            Error::bad_input(
                format!("shapes[{:?}] is not a shape", input.name),
                "an array of whole numbers",
                describe(given),
            )
        };
        let rank = js::array_len(given, &what())?.filter(|r| *r <= 64).ok_or_else(not_a_shape)?;
        (0..rank)
            .map(|i| {
                let d = js::array_item(given, i, &what())?;
                d.as_f64()
                    .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x <= u32::MAX as f64)
                    .map(|x| x as usize)
                    .ok_or_else(not_a_shape)
            })
            .collect()
    }

    /// The shape of an input: from `options.shapes[name]`, else the graph's when every dimension
    /// is fixed, else the graph's with its one symbolic dimension worked out from the length.
    fn shape(input: &GraphIo, len: usize, shapes: Option<&JsValue>) -> Result<Vec<usize>, Error> {
        let what = || format!("shapes[{:?}]", input.name);
        let given = match shapes {
            Some(s) => Some(js::get(s, &JsValue::from_str(&input.name), what)?).filter(|s| !s.is_undefined()),
            None => None,
        };
        if let Some(given) = given {
            return given_shape(input, &given);
        }
        let fixed = input
            .shape
            .iter()
            .filter_map(|d| if let Dim::Fixed(n) = d { Some(*n as usize) } else { None })
            .fold(1usize, usize::saturating_mul);
        let symbolic = input.shape.iter().filter(|d| matches!(d, Dim::Symbol(_))).count();
        match symbolic {
            0 => Ok(input.shape.iter().map(|d| if let Dim::Fixed(n) = d { *n as usize } else { 0 }).collect()),
            1 if fixed > 0 && len.is_multiple_of(fixed) => {
                Ok(input.shape.iter().map(|d| if let Dim::Fixed(n) = d { *n as usize } else { len / fixed }).collect())
            }
            _ => Err(Error::bad_input(
                format!("input {:?} needs a shape", input.name),
                format!(
                    "options.shapes[{:?}], e.g. [1, ...] (its shape is {})",
                    input.name,
                    crate::manifest::shape_string(&input.shape)
                ),
                format!("{len} values and no shape"),
            )),
        }
    }

    /// The named inputs of a run, read by the graph's input names (interned at load: no string
    /// is made per call). The keys of `given` are listed only to find names the graph lacks,
    /// which the core refuses by name.
    pub fn inputs(graph: &[GraphIo], given: &JsValue, options: Option<&JsValue>) -> Result<Vec<NamedTensor>, Error> {
        // A typed array is refused before its keys (one per element) are listed.
        if !given.is_object()
            || given.is_function()
            || js_sys::ArrayBuffer::is_view(given)
            || js::array_len(given, &"run() inputs")?.is_some()
        {
            let names: Vec<&str> = graph.iter().map(|g| g.name.as_str()).collect();
            return Err(Error::bad_input(
                "run() inputs are not an object",
                format!("an object with a typed array per input: {names:?}"),
                describe(given),
            ));
        }
        js::check_options(options, "run")?;
        let shapes = match options {
            Some(o) => KEYS.with(|[.., k_shapes]| js::get(o, k_shapes, || "options.shapes".into()))?,
            None => JsValue::UNDEFINED,
        };
        let shapes = shapes.is_object().then_some(shapes);
        let keys = object_keys(given).map_err(|e| unreadable("run() inputs".into(), &e))?;
        let key_names: Vec<String> = keys.iter().filter_map(|k| k.as_string()).collect();
        let mut tensors = Vec::with_capacity(graph.len());
        for input in graph {
            if !key_names.contains(&input.name) {
                continue; // missing: named in the error by the core
            }
            let value = js::get(given, &JsValue::from_str(&input.name), || format!("input {:?}", input.name))?;
            let data = data(input, &value)?;
            let shape = shape(input, data.len(), shapes.as_ref())?;
            tensors.push(NamedTensor { name: input.name.clone(), shape, data });
        }
        // A name the graph lacks: named in the error by the core, with the inputs there are.
        for name in key_names {
            if !graph.iter().any(|g| g.name == name) {
                tensors.push(NamedTensor { name, shape: vec![0], data: TensorData::F32(vec![]) });
            }
        }
        Ok(tensors)
    }

    /// `{ [name]: { dtype, shape, data } }` for the outputs of a run.
    pub fn outputs(outputs: Vec<NamedTensor>) -> JsValue {
        let result = Object::new().unchecked_into::<Fresh>();
        for t in outputs {
            let dtype = t.data.dtype().as_str();
            let data: JsValue = match &t.data {
                TensorData::F32(v) => js_sys::Float32Array::from(v.as_slice()).into(),
                TensorData::F64(v) => js_sys::Float64Array::from(v.as_slice()).into(),
                TensorData::I8(v) => js_sys::Int8Array::from(v.as_slice()).into(),
                TensorData::I16(v) => js_sys::Int16Array::from(v.as_slice()).into(),
                TensorData::I32(v) => js_sys::Int32Array::from(v.as_slice()).into(),
                TensorData::I64(v) => js_sys::BigInt64Array::from(v.as_slice()).into(),
                TensorData::U8(v) => js_sys::Uint8Array::from(v.as_slice()).into(),
                TensorData::U16(v) => js_sys::Uint16Array::from(v.as_slice()).into(),
                TensorData::U32(v) => js_sys::Uint32Array::from(v.as_slice()).into(),
                TensorData::U64(v) => js_sys::BigUint64Array::from(v.as_slice()).into(),
                TensorData::Bool(v) => {
                    js_sys::Uint8Array::from(v.iter().map(|b| u8::from(*b)).collect::<Vec<_>>().as_slice()).into()
                }
            };
            let entry = Object::new().unchecked_into::<Fresh>();
            let dim = |i: usize| JsValue::from_f64(t.shape[i] as f64);
            // One call to make a short shape array rather than one per dimension.
            let shape = match t.shape.len() {
                1 => Array::of1(&dim(0)),
                2 => Array::of2(&dim(0), &dim(1)),
                3 => Array::of3(&dim(0), &dim(1), &dim(2)),
                4 => Array::of4(&dim(0), &dim(1), &dim(2), &dim(3)),
                _ => t.shape.iter().map(|d| JsValue::from_f64(*d as f64)).collect(),
            };
            KEYS.with(|[k_dtype, k_shape, k_data, _]| {
                entry.set(k_dtype, &JsValue::from_str(dtype));
                entry.set(k_shape, &shape);
                entry.set(k_data, &data);
            });
            result.set(&JsValue::from_str(&t.name), &entry);
        }
        result.into()
    }
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen(module = "/js/fetch.js")]
extern "C" {
    /// Waits for `digest` (WebCrypto's sha256 of the bytes, or null), then `pending.load()`.
    #[wasm_bindgen(js_name = loadHashed)]
    fn load_hashed(digest: &JsValue, pending: PendingLoad) -> js_sys::Promise;
    /// Fetches `url` (the Cache API first, when `sha256` is given), then `pending.load(bytes)`.
    #[wasm_bindgen(js_name = loadUrl)]
    fn load_url(url: &str, sha256: Option<String>, on_progress: &JsValue, pending: PendingLoad) -> js_sys::Promise;
    /// Fetches the files of the package shipped beside the wasm `name` from `models_url` (or
    /// the default), each checked and cached by its sha256, then `pending.load(model bytes)`.
    #[wasm_bindgen(js_name = loadPackage)]
    fn load_package(
        name: &str,
        models_url: Option<String>,
        files: Vec<String>,
        on_progress: &JsValue,
        pending: PendingLoad,
    ) -> js_sys::Promise;
    /// WebCrypto's sha256 of `data` (copied at the call), or null where there is no WebCrypto.
    #[wasm_bindgen(js_name = startDigest)]
    fn start_digest(data: &JsValue) -> JsValue;
}

/// A model load waiting for its bytes' hash (`fromBytes`) or for its bytes (`fromUrl`), finished
/// by the package's JavaScript (js/load.js); not for direct use.
#[cfg(target_family = "wasm")]
#[wasm_bindgen]
pub struct PendingLoad {
    /// The bytes, when the caller gave them (`fromBytes`), copied in JavaScript's memory.
    bytes: Option<GraphBytes<'static>>,
    /// The sha256 the bytes must have (`fromUrl`'s option).
    expected: Option<String>,
    /// The URL, for messages.
    source: String,
    manifest: Option<String>,
    /// The `tokenizer.json` of a text package (`fromBytes`' `options.tokenizer`).
    tokenizer: Option<Vec<u8>>,
    /// The other files of a package shipped beside the wasm, by name (an OCR package's graphs).
    files: Vec<(String, Vec<u8>)>,
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
impl PendingLoad {
    /// Loads the model: from `bytes` (a Uint8Array) or the bytes given at the call, whose sha256
    /// (hex) is `sha256` when WebCrypto made it, else computed here. An expected sha256 must match
    /// (`INTEGRITY`).
    pub fn load(&mut self, bytes: JsValue, sha256: Option<String>) -> Result<Model, JsValue> {
        let bytes = match self.bytes.take() {
            Some(given) => given,
            None => js_run::graph(&bytes, false)?,
        };
        // Without WebCrypto's hash, the core hashes the bytes itself (the lean build refuses
        // before it would).
        let mut found = sha256.filter(|s| s.len() == 64);
        if let Some(expected) = &self.expected {
            let found = found.get_or_insert_with(|| bytes.sha256_hex());
            if expected != found {
                return Err(Error::Integrity {
                    model: self.source.clone(),
                    expected: expected.clone(),
                    found: found.clone(),
                }
                .into());
            }
        }
        Ok(Model::load_bytes(
            bytes,
            found,
            self.manifest.as_deref(),
            self.tokenizer.take(),
            std::mem::take(&mut self.files),
        )?)
    }

    /// The `MODEL_LOAD` error of this load, for a failure in JavaScript (the fetch).
    pub fn error(&self, detail: String) -> JsValue {
        Error::ModelLoad { model: self.source.clone(), detail }.into()
    }

    /// Gives the load a file of the package fetched beside its graph (a Uint8Array): a text
    /// package's tokenizer, an OCR package's other graphs.
    #[wasm_bindgen(js_name = addFile)]
    pub fn add_file(&mut self, name: String, bytes: JsValue) -> Result<(), JsValue> {
        let bytes = js_run::bytes(&bytes)?;
        let manifest = self.manifest.as_deref().and_then(|m| crate::manifest::Manifest::from_json(m).ok());
        let tokenizer = manifest.is_some_and(
            |m| matches!(&m.preprocessing, crate::preprocess::Preprocessing::Text(t) if t.tokenizer.file == name),
        );
        if tokenizer {
            self.tokenizer = Some(bytes);
        } else {
            self.files.push((name, bytes));
        }
        Ok(())
    }
}

/// Starts loading a package shipped beside the wasm: fetches its files (`loadPackage` in
/// js/fetch.js), whose sha256 its compiled-in manifest gives, then loads them as `fromBytes`
/// would.
#[cfg(target_family = "wasm")]
pub(super) fn load_fetched(
    package: &crate::package::FetchedPackage,
    models_url: Option<String>,
    on_progress: Option<JsValue>,
) -> Result<js_sys::Promise, Error> {
    let files = package.files()?;
    let pending = PendingLoad {
        bytes: None,
        expected: Some(files[0].1.clone()),
        source: package.dir.to_owned(),
        manifest: Some(package.manifest.to_owned()),
        tokenizer: None,
        files: vec![],
    };
    // [file, sha256, file, sha256, ...]: model.onnx first.
    let files = files.into_iter().flat_map(|(file, sha)| [file, sha]).collect();
    Ok(load_package(package.dir, models_url, files, &on_progress.unwrap_or(JsValue::UNDEFINED), pending))
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
impl Model {
    /// Loads an ONNX model given at run time: `bytes` is a Uint8Array or ArrayBuffer of a
    /// model.onnx (copied at the call: the caller may reuse its buffer at once); `manifest`
    /// (optional) is a manifest object (without `sha256` the bytes' hash is used; with one, it
    /// must match). Without a manifest one is inferred from the graph: inputs and outputs with
    /// names, dtypes and shapes (symbolic dimensions kept), labels from the ONNX `labels` metadata
    /// property, and the classification task when the graph looks like a classifier over those
    /// labels (else `run()` only). Resolves to a `Model`; an unsupported operator rejects with a
    /// `MODEL_LOAD` error naming the operator and the node; bytes that cannot be read (a detached
    /// buffer) or a manifest that cannot (a cycle, a getter that throws) with `BAD_INPUT`.
    /// The lean build (`edgeserve/lean`) has no ONNX parser and rejects with `MODEL_LOAD`.
    ///
    /// `options.tokenizer`: the `tokenizer.json` of a text package (a Uint8Array, an
    /// ArrayBuffer or the JSON text), which the manifest names with its sha256 (`INTEGRITY` when
    /// it differs; `MODEL_LOAD` when it cannot be read or its ids do not fit the model's
    /// embedding table).
    #[wasm_bindgen(js_name = fromBytes, unchecked_return_type = "Promise<Model>")]
    pub fn from_bytes(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer")] bytes: JsValue,
        manifest: Option<super::ManifestInput>,
        options: Option<super::FromBytesOptions>,
    ) -> js_sys::Promise {
        let pending = (|| {
            let read = js_run::graph(&bytes, true)?;
            let manifest = manifest.as_ref().map(|m| manifest_text(m.as_ref())).transpose()?;
            let o = options.as_ref().map(AsRef::as_ref);
            super::js::check_options(o, "fromBytes")?;
            let tokenizer =
                super::js::value_option(o, "tokenizer")?.map(|t| super::text::tokenizer_bytes(&t)).transpose()?;
            Ok::<_, Error>(PendingLoad {
                bytes: Some(read),
                expected: None,
                source: "model".into(),
                manifest,
                tokenizer,
                files: vec![],
            })
        })();
        match pending {
            // WebCrypto copies the caller's bytes now, in the same turn as they were read.
            Ok(pending) if cfg!(feature = "onnx") => load_hashed(&start_digest(&bytes), pending),
            Ok(pending) => load_hashed(&JsValue::NULL, pending),
            Err(e) => js_sys::Promise::reject(&e.into()),
        }
    }

    /// Runs the graph on named inputs, as they are (no preprocessing): `inputs` maps every
    /// input name to a typed array of its dtype (float32: Float32Array, float64: Float64Array,
    /// int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, int8: Int8Array, bool:
    /// Uint8Array of 0/1, ...). Shapes come from `options.shapes[name]`, or from the graph (a
    /// single symbolic dimension is worked out from the length). Returns
    /// `{ [output]: { dtype, shape, data } }` for every output. Errors name the input.
    #[wasm_bindgen(unchecked_return_type = "Record<string, RunOutput>")]
    pub fn run(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, RunInput>")] inputs: JsValue,
        options: Option<super::RunOptions>,
    ) -> Result<JsValue, JsValue> {
        let engine_inputs = self.shared.with(|m| Ok(m.engine.inputs().to_vec()))?;
        let tensors = js_run::inputs(&engine_inputs, &inputs, options.as_ref().map(AsRef::as_ref))?;
        let outputs = self.shared.with(|m| m.run(tensors))?;
        Ok(js_run::outputs(outputs))
    }

    /// Plans ahead for calls whose inputs have these shapes: `shapes` maps every input name to
    /// its shape (an array of whole numbers), e.g. `{ x: [1, 3, 736, 736] }`. Call it after
    /// loading a model with free dimensions (see `engineDetails.typing`) so that the first
    /// `run()` with these shapes does not wait for tract to type and plan the graph; a model with
    /// fixed shapes is planned at load already. Throws `BAD_INPUT` when an input has no shape,
    /// a name is not an input, or a shape does not fit the input's fixed dimensions; `MODEL_LOAD`
    /// when the graph cannot be planned for these shapes.
    #[wasm_bindgen(js_name = planFor)]
    pub fn plan_for(&self, shapes: super::ShapesInput) -> Result<(), JsValue> {
        let graph = self.shared.with(|m| Ok(m.engine.inputs().to_vec()))?;
        let shapes: &JsValue = shapes.as_ref();
        if !shapes.is_object() || shapes.is_function() || super::js::array_len(shapes, &"planFor() shapes")?.is_some() {
            return Err(Error::bad_input(
                "planFor() shapes are not an object",
                "an object with a shape (an array of whole numbers) per input",
                describe(shapes),
            )
            .into());
        }
        let mut given = Vec::with_capacity(graph.len());
        for input in &graph {
            let value =
                super::js::get(shapes, &JsValue::from_str(&input.name), || format!("shapes[{:?}]", input.name))?;
            if value.is_undefined() {
                continue; // named in the core's error, with the shape it needs
            }
            given.push((input.name.clone(), js_run::given_shape(input, &value)?));
        }
        Ok(self.shared.with(|m| m.plan_for(&given))?)
    }

    /// Fetches an ONNX model and loads it like `fromBytes`. Options: `sha256` (hex; the bytes
    /// must hash to it, and with it the bytes are kept in the Cache API, keyed by URL and
    /// sha256, so a later visit loads offline without fetching), `onProgress({ loaded, total })`
    /// after each chunk of the download (total from Content-Length, when sent; its throw, or the
    /// rejection of a Promise it returns, ends the load with that error), and `manifest`.
    /// The lean build (`edgeserve/lean`) rejects with `MODEL_LOAD` before fetching anything.
    #[wasm_bindgen(js_name = fromUrl, unchecked_return_type = "Promise<Model>")]
    pub fn from_url(
        #[wasm_bindgen(unchecked_param_type = "string")] url: JsValue,
        options: Option<super::FromUrlOptions>,
    ) -> js_sys::Promise {
        let started = (|| {
            use super::js::{check_options, function_option, string_arg, string_option, value_option, MAX_TEXT_UNITS};
            let url = string_arg(&url, "url", "a URL (a string)", MAX_TEXT_UNITS)?;
            let o = options.as_ref().map(AsRef::as_ref);
            check_options(o, "fromUrl")?;
            let sha = string_option(o, "sha256", "64 hexadecimal digits")?.map(|s| s.to_lowercase());
            if let Some(s) = &sha {
                if s.len() != 64 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(Error::bad_input("sha256 is not a sha256", "64 hexadecimal digits", format!("{s:?}")));
                }
            }
            let on_progress = function_option(o, "onProgress")?;
            let manifest = value_option(o, "manifest")?.map(|m| manifest_text(&m)).transpose()?;
            if !cfg!(feature = "onnx") {
                return Err(crate::model::no_onnx_parser(&url));
            }
            Ok((
                PendingLoad {
                    bytes: None,
                    expected: sha.clone(),
                    source: url.clone(),
                    manifest,
                    tokenizer: None,
                    files: vec![],
                },
                url,
                sha,
                on_progress,
            ))
        })();
        match started {
            Ok((pending, url, sha, on_progress)) => {
                load_url(&url, sha, &on_progress.unwrap_or(JsValue::UNDEFINED), pending)
            }
            Err(e) => js_sys::Promise::reject(&e.into()),
        }
    }
}
