//! Models brought at run time: `Model.fromBytes(bytes, manifest?)`, and `model.run(inputs)` for
//! any graph (several inputs and outputs, any supported element type).

use super::js::describe;
#[cfg(not(target_family = "wasm"))]
use super::Thrown;
use super::{Model, Value};
use crate::error::Error;
use crate::model::LoadedModel;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

impl Model {
    /// Loads `bytes` with an optional manifest object; `sha256`, when given, is their hash.
    fn load_bytes(bytes: Vec<u8>, sha256: Option<String>, manifest: Option<&Value>) -> Result<Model, Error> {
        let text = match manifest {
            None => None,
            Some(m) => Some(manifest_text(m)?),
        };
        Ok(Model::wrap(LoadedModel::from_hashed_bytes(bytes, sha256, text.as_deref())?))
    }
}

/// Starts WebCrypto's sha256 of `data` (an ArrayBuffer or a view) by `crypto.subtle.digest`,
/// which copies the bytes when called and hashes natively (in wasm, hashing ResNet-18's 46 MB took
/// about a second): `None` where the platform has no WebCrypto (a page not in a secure context).
#[cfg(all(target_family = "wasm", feature = "onnx"))]
fn webcrypto_digest(data: &JsValue) -> Option<js_sys::Promise> {
    use js_sys::{Function, Reflect};
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok()?;
    let digest: Function = Reflect::get(&subtle, &JsValue::from_str("digest")).ok()?.dyn_into().ok()?;
    digest.call2(&subtle, &JsValue::from_str("SHA-256"), data).ok()?.dyn_into().ok()
}

/// The sha256 (hex) of `bytes`: the result of `digest` (a [`webcrypto_digest`] of the same
/// bytes), else, where there is none or it fails, computed in wasm.
#[cfg(all(target_family = "wasm", feature = "onnx"))]
async fn sha256_hex_of(digest: Option<js_sys::Promise>, bytes: &[u8]) -> String {
    if let Some(promise) = digest {
        if let Ok(hash) = wasm_bindgen_futures::JsFuture::from(promise).await {
            let hash = js_sys::Uint8Array::new(&hash).to_vec();
            if hash.len() == 32 {
                return crate::package::hex(&hash);
            }
        }
    }
    crate::package::sha256_hex(bytes)
}

/// The sha256 (hex) of `bytes`, which `data` (an ArrayBuffer or a view) holds in JavaScript too.
#[cfg(all(target_family = "wasm", feature = "onnx"))]
async fn sha256_of(data: &JsValue, bytes: &[u8]) -> String {
    sha256_hex_of(webcrypto_digest(data), bytes).await
}

#[cfg(not(target_family = "wasm"))]
fn manifest_text(m: &Value) -> Result<String, Error> {
    if !m.is_object() {
        return Err(Error::bad_input("manifest is not an object", "a manifest object (see schema/manifest.schema.json)", describe(m)));
    }
    Ok(m.to_string())
}

#[cfg(target_family = "wasm")]
fn manifest_text(m: &Value) -> Result<String, Error> {
    if !m.is_object() || js_sys::Array::is_array(m) {
        return Err(Error::bad_input("manifest is not an object", "a manifest object (see schema/manifest.schema.json)", describe(m)));
    }
    let json: serde_json::Value = serde_wasm_bindgen::from_value(m.clone())
        .map_err(|e| Error::bad_input("manifest cannot be read", "a plain object of JSON values", e.to_string()))?;
    Ok(json.to_string())
}

#[cfg(not(target_family = "wasm"))]
impl Model {
    /// Loads an ONNX model from bytes, with a manifest object or without (natively: at once).
    pub fn from_bytes(bytes: Vec<u8>, manifest: Option<Value>) -> Result<Model, Thrown> {
        Model::load_bytes(bytes, None, manifest.as_ref())
    }
}

#[cfg(target_family = "wasm")]
mod js_run {
    use js_sys::{Array, Object, Reflect};
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
    }

    thread_local! {
        /// The keys of every output entry, and of the options' shapes, made once.
        static KEYS: [JsValue; 4] = [JsValue::from_str("dtype"), JsValue::from_str("shape"), JsValue::from_str("data"), JsValue::from_str("shapes")];
    }

    use super::describe;
    use crate::error::Error;
    use crate::manifest::{Dim, GraphIo};
    use crate::tensor::{NamedTensor, TensorData};

    /// The bytes of a Uint8Array, an ArrayBuffer or any other view.
    pub fn bytes(v: &JsValue) -> Result<Vec<u8>, Error> {
        if let Some(u8s) = v.dyn_ref::<js_sys::Uint8Array>() {
            return Ok(u8s.to_vec());
        }
        if v.is_instance_of::<js_sys::ArrayBuffer>() {
            return Ok(js_sys::Uint8Array::new(v).to_vec());
        }
        if js_sys::ArrayBuffer::is_view(v) {
            let buffer = Reflect::get(v, &"buffer".into()).unwrap_or(JsValue::UNDEFINED);
            let offset = Reflect::get(v, &"byteOffset".into()).ok().and_then(|x| x.as_f64()).unwrap_or(0.0) as u32;
            let length = Reflect::get(v, &"byteLength".into()).ok().and_then(|x| x.as_f64()).unwrap_or(0.0) as u32;
            return Ok(js_sys::Uint8Array::new_with_byte_offset_and_length(&buffer, offset, length).to_vec());
        }
        Err(Error::bad_input("bytes are not the bytes of an ONNX file", "a Uint8Array or an ArrayBuffer", describe(v)))
    }

    fn name_of(v: &JsValue) -> String {
        Reflect::get(v, &"constructor".into())
            .and_then(|c| Reflect::get(&c, &"name".into()))
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default()
    }

    /// One input: a typed array (or an array of numbers) of the graph input's element type.
    fn data(input: &GraphIo, v: &JsValue) -> Result<TensorData, Error> {
        let want = input.dtype.as_str();
        // The common case first, with one instanceof check instead of reading the constructor's
        // name (a typed array from another realm takes the general path below).
        if want == "float32" {
            if let Some(f32s) = v.dyn_ref::<js_sys::Float32Array>() {
                return Ok(TensorData::F32(f32s.to_vec()));
            }
        }
        let got = if Array::is_array(v) { "Array".to_owned() } else { name_of(v) };
        let wrong = || {
            Error::bad_input(
                format!("input {:?} has the wrong element type", input.name),
                format!("{want} values ({})", typed_array_for(want)),
                describe(v),
            )
        };
        let numbers = || -> Result<Vec<f64>, Error> {
            Array::from(v).iter().enumerate().map(|(i, x)| x.as_f64().ok_or_else(|| {
                Error::bad_input(format!("input {:?}[{i}] is not a number", input.name), "a number", describe(&x))
            })).collect()
        };
        Ok(match (want, got.as_str()) {
            ("float32", "Float32Array") => TensorData::F32(js_sys::Float32Array::from(v.clone()).to_vec()),
            ("float64", "Float64Array") => TensorData::F64(js_sys::Float64Array::from(v.clone()).to_vec()),
            ("int8", "Int8Array") => TensorData::I8(js_sys::Int8Array::from(v.clone()).to_vec()),
            ("int16", "Int16Array") => TensorData::I16(js_sys::Int16Array::from(v.clone()).to_vec()),
            ("int32", "Int32Array") => TensorData::I32(js_sys::Int32Array::from(v.clone()).to_vec()),
            ("int64", "BigInt64Array") => TensorData::I64(js_sys::BigInt64Array::from(v.clone()).to_vec()),
            ("uint8", "Uint8Array") => TensorData::U8(js_sys::Uint8Array::from(v.clone()).to_vec()),
            ("uint16", "Uint16Array") => TensorData::U16(js_sys::Uint16Array::from(v.clone()).to_vec()),
            ("uint32", "Uint32Array") => TensorData::U32(js_sys::Uint32Array::from(v.clone()).to_vec()),
            ("uint64", "BigUint64Array") => TensorData::U64(js_sys::BigUint64Array::from(v.clone()).to_vec()),
            ("bool", "Uint8Array") => TensorData::Bool(js_sys::Uint8Array::from(v.clone()).to_vec().into_iter().map(|b| b != 0).collect()),
            ("float32", "Array") => TensorData::F32(numbers()?.into_iter().map(|x| x as f32).collect()),
            ("float64", "Array") => TensorData::F64(numbers()?),
            ("bool", "Array") => TensorData::Bool(Array::from(v).iter().map(|x| x.is_truthy()).collect()),
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

    /// The shape of an input: from `options.shapes[name]`, else the graph's when every dimension
    /// is fixed, else the graph's with its one symbolic dimension worked out from the length.
    fn shape(input: &GraphIo, len: usize, shapes: Option<&JsValue>) -> Result<Vec<usize>, Error> {
        if let Some(given) = shapes.and_then(|s| Reflect::get(s, &JsValue::from_str(&input.name)).ok()).filter(|s| !s.is_undefined()) {
            return Array::from(&given)
                .iter()
                .map(|d| d.as_f64().filter(|x| x.fract() == 0.0 && *x >= 0.0).map(|x| x as usize))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Error::bad_input(format!("shapes[{:?}] is not a shape", input.name), "an array of whole numbers", describe(&given)));
        }
        let fixed: usize = input.shape.iter().filter_map(|d| if let Dim::Fixed(n) = d { Some(*n as usize) } else { None }).product();
        let symbolic = input.shape.iter().filter(|d| matches!(d, Dim::Symbol(_))).count();
        match symbolic {
            0 => Ok(input.shape.iter().map(|d| if let Dim::Fixed(n) = d { *n as usize } else { 0 }).collect()),
            1 if fixed > 0 && len.is_multiple_of(fixed) => Ok(input.shape.iter().map(|d| if let Dim::Fixed(n) = d { *n as usize } else { len / fixed }).collect()),
            _ => Err(Error::bad_input(
                format!("input {:?} needs a shape", input.name),
                format!("options.shapes[{:?}], e.g. [1, ...] (its shape is {})", input.name, crate::manifest::shape_string(&input.shape)),
                format!("{len} values and no shape"),
            )),
        }
    }

    /// The named inputs of a run, read by the graph's input names (interned at load: no string
    /// is made per call). The keys of `given` are listed only to find names the graph lacks,
    /// which the core refuses by name.
    pub fn inputs(graph: &[GraphIo], given: &JsValue, options: Option<&JsValue>) -> Result<Vec<NamedTensor>, Error> {
        if !given.is_object() || Array::is_array(given) {
            let names: Vec<&str> = graph.iter().map(|g| g.name.as_str()).collect();
            return Err(Error::bad_input("run() inputs are not an object", format!("an object with a typed array per input: {names:?}"), describe(given)));
        }
        let shapes = options.and_then(|o| KEYS.with(|[.., k_shapes]| Reflect::get(o, k_shapes).ok())).filter(|s| s.is_object());
        let keys = Object::keys(given.unchecked_ref::<Object>());
        let has = |name: &str| keys.iter().any(|k| k.as_string().as_deref() == Some(name));
        let mut tensors = Vec::with_capacity(graph.len());
        for input in graph {
            let value = Reflect::get(given, &JsValue::from_str(&input.name)).unwrap_or(JsValue::UNDEFINED);
            if value.is_undefined() && !has(&input.name) {
                continue; // missing: named in the error by the core
            }
            let data = data(input, &value)?;
            let shape = shape(input, data.len(), shapes.as_ref())?;
            tensors.push(NamedTensor { name: input.name.clone(), shape, data });
        }
        if tensors.len() < keys.length() as usize {
            // A name the graph lacks: named in the error by the core, with the inputs there are.
            for name in keys.iter().filter_map(|k| k.as_string()) {
                if !graph.iter().any(|g| g.name == name) {
                    tensors.push(NamedTensor { name, shape: vec![0], data: TensorData::F32(vec![]) });
                }
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
                TensorData::Bool(v) => js_sys::Uint8Array::from(v.iter().map(|b| u8::from(*b)).collect::<Vec<_>>().as_slice()).into(),
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
#[wasm_bindgen]
impl Model {
    /// Loads an ONNX model given at run time: `bytes` is a Uint8Array or ArrayBuffer of a
    /// model.onnx; `manifest` (optional) is a manifest object (without `sha256` the bytes' hash
    /// is used; with one, it must match). Without a manifest one is inferred from the graph:
    /// inputs and outputs with names, dtypes and shapes (symbolic dimensions kept), labels from
    /// the ONNX `labels` metadata property, and the classification task when the graph looks
    /// like a classifier over those labels (else `run()` only). Resolves to a `Model`; an
    /// unsupported operator rejects with a `MODEL_LOAD` error naming the operator and the node.
    /// The lean build (`edgeserve/lean`) has no ONNX parser and rejects with `MODEL_LOAD`.
    #[wasm_bindgen(js_name = fromBytes, unchecked_return_type = "Promise<Model>")]
    pub fn from_bytes(bytes: JsValue, manifest: Option<super::ManifestInput>) -> js_sys::Promise {
        let read = match js_run::bytes(&bytes) {
            Ok(read) => read,
            Err(e) => return js_sys::Promise::reject(&e.into()),
        };
        let manifest: Option<JsValue> = manifest.map(Into::into);
        #[cfg(not(feature = "onnx"))]
        {
            match Model::load_bytes(read, None, manifest.as_ref()) {
                Ok(model) => js_sys::Promise::resolve(&JsValue::from(model)),
                Err(e) => js_sys::Promise::reject(&e.into()),
            }
        }
        // WebCrypto copies the caller's bytes now, in the same turn as `read` was copied: the
        // future below first runs later, when the caller may have changed their buffer.
        #[cfg(feature = "onnx")]
        let digest = webcrypto_digest(&bytes);
        #[cfg(feature = "onnx")]
        wasm_bindgen_futures::future_to_promise(async move {
            let sha256 = sha256_hex_of(digest, &read).await;
            Ok(JsValue::from(Model::load_bytes(read, Some(sha256), manifest.as_ref())?))
        })
    }

    /// Runs the graph on named inputs, as they are (no preprocessing): `inputs` maps every
    /// input name to a typed array of its dtype (float32: Float32Array, float64: Float64Array,
    /// int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, int8: Int8Array, bool:
    /// Uint8Array of 0/1, ...). Shapes come from `options.shapes[name]`, or from the graph (a
    /// single symbolic dimension is worked out from the length). Returns
    /// `{ [output]: { dtype, shape, data } }` for every output. Errors name the input.
    #[wasm_bindgen(unchecked_return_type = "Record<string, RunOutput>")]
    pub fn run(&self, #[wasm_bindgen(unchecked_param_type = "Record<string, RunInput>")] inputs: JsValue, options: Option<super::RunOptions>) -> Result<JsValue, JsValue> {
        let outputs = self.shared.with(|m| {
            let tensors = js_run::inputs(m.engine.inputs(), &inputs, options.as_ref().map(AsRef::as_ref))?;
            m.run(tensors)
        })?;
        Ok(js_run::outputs(outputs))
    }
}

/// `Model.fromUrl`: fetch with progress, sha256 check, and the Cache API (the full build only).
#[cfg(all(target_family = "wasm", feature = "onnx"))]
mod fetch {
    use js_sys::{Function, Promise, Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use crate::error::Error;

    /// The cache that holds fetched models.
    const CACHE: &str = "edgeserve-models";

    fn load_error(url: &str, detail: impl Into<String>) -> Error {
        Error::ModelLoad { model: url.to_owned(), detail: detail.into() }
    }

    fn get(target: &JsValue, key: &str) -> JsValue {
        Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let f: Function = get(target, method).dyn_into().map_err(|_| JsValue::from_str(&format!("no {method}()")))?;
        let result = f.apply(target, &args.iter().collect())?;
        if result.is_instance_of::<Promise>() {
            JsFuture::from(Promise::from(result)).await
        } else {
            Ok(result)
        }
    }

    fn message(e: &JsValue) -> String {
        e.as_string().or_else(|| get(e, "message").as_string()).unwrap_or_else(|| super::describe(e))
    }

    /// The cache key of a URL's bytes with a given sha256.
    fn key(url: &str, sha256: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}edgeserve-sha256={sha256}")
    }

    /// The Cache API's cache for models, when the platform has one (browsers; not Node).
    async fn cache() -> Option<JsValue> {
        let caches = get(&js_sys::global(), "caches");
        if caches.is_undefined() {
            return None;
        }
        call(&caches, "open", &[JsValue::from_str(CACHE)]).await.ok()
    }

    /// The model's bytes and their sha256: from the cache when a sha256 is given and the cache
    /// has them, else fetched (streaming, with `onProgress({ loaded, total })`), checked, and
    /// cached.
    pub async fn bytes(url: &str, sha256: Option<&str>, on_progress: Option<&Function>) -> Result<(Vec<u8>, String), Error> {
        let cache = match sha256 {
            Some(_) => cache().await,
            None => None,
        };
        if let (Some(cache), Some(sha)) = (&cache, sha256) {
            if let Ok(hit) = call(cache, "match", &[JsValue::from_str(&key(url, sha))]).await {
                if !hit.is_undefined() {
                    if let Ok(buffer) = call(&hit, "arrayBuffer", &[]).await {
                        let bytes = Uint8Array::new(&buffer).to_vec();
                        if super::sha256_of(&buffer, &bytes).await == sha {
                            return Ok((bytes, sha.to_owned()));
                        }
                    }
                }
            }
        }
        let response = call(&js_sys::global(), "fetch", &[JsValue::from_str(url)])
            .await
            .map_err(|e| load_error(url, format!("fetching it failed: {}", message(&e))))?;
        if get(&response, "ok").as_bool() != Some(true) {
            let status = get(&response, "status").as_f64().unwrap_or(0.0);
            return Err(load_error(url, format!("fetching it: expected HTTP 200, got HTTP {status}")));
        }
        let total = call(&get(&response, "headers"), "get", &[JsValue::from_str("content-length")])
            .await
            .ok()
            .and_then(|v| v.as_string())
            .and_then(|v| v.parse::<f64>().ok());
        let reader = call(&get(&response, "body"), "getReader", &[]).await.map_err(|e| load_error(url, message(&e)))?;
        let mut bytes = Vec::new();
        loop {
            let chunk = call(&reader, "read", &[]).await.map_err(|e| load_error(url, format!("reading it failed: {}", message(&e))))?;
            if get(&chunk, "done").as_bool() == Some(true) {
                break;
            }
            bytes.extend(Uint8Array::new(&get(&chunk, "value")).to_vec());
            if let Some(f) = on_progress {
                let progress = js_sys::Object::new();
                let _ = Reflect::set(&progress, &"loaded".into(), &JsValue::from_f64(bytes.len() as f64));
                let _ = Reflect::set(&progress, &"total".into(), &total.map(JsValue::from_f64).unwrap_or(JsValue::UNDEFINED));
                f.call1(&JsValue::UNDEFINED, &progress).map_err(|e| load_error(url, format!("onProgress threw: {}", message(&e))))?;
            }
        }
        let found = super::sha256_of(&Uint8Array::from(bytes.as_slice()).into(), &bytes).await;
        if let Some(sha) = sha256 {
            if found != sha {
                return Err(Error::Integrity { model: url.to_owned(), expected: sha.to_owned(), found });
            }
            if let Some(cache) = &cache {
                let body = Uint8Array::from(bytes.as_slice());
                let ctor: Function = get(&js_sys::global(), "Response").unchecked_into();
                if let Ok(stored) = Reflect::construct(&ctor, &js_sys::Array::of1(&body)) {
                    // A cache that cannot store (quota, private mode) only costs the next visit a fetch.
                    let _ = call(cache, "put", &[JsValue::from_str(&key(url, sha)), stored]).await;
                }
            }
        }
        Ok((bytes, found))
    }
}

#[cfg(target_family = "wasm")]
#[wasm_bindgen]
impl Model {
    /// Fetches an ONNX model and loads it like `fromBytes`. Options: `sha256` (hex; the bytes
    /// must hash to it, and with it the bytes are kept in the Cache API, keyed by URL and
    /// sha256, so a later visit loads offline without fetching), `onProgress({ loaded, total })`
    /// after each chunk of the download (total from Content-Length, when sent), and `manifest`.
    /// The lean build (`edgeserve/lean`) rejects with `MODEL_LOAD` before fetching anything.
    #[wasm_bindgen(js_name = fromUrl, unchecked_return_type = "Promise<Model>")]
    pub fn from_url(url: String, options: Option<super::FromUrlOptions>) -> js_sys::Promise {
        let options: Option<JsValue> = options.map(Into::into);
        #[cfg(not(feature = "onnx"))]
        {
            let _ = options;
            js_sys::Promise::reject(&JsValue::from(crate::model::no_onnx_parser(&url)))
        }
        #[cfg(feature = "onnx")]
        wasm_bindgen_futures::future_to_promise(async move {
            let o = options.as_ref();
            let sha = o.and_then(|o| super::js::field(o, "sha256")).and_then(|s| s.as_string()).map(|s| s.to_lowercase());
            if let Some(s) = &sha {
                if s.len() != 64 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(Error::bad_input("sha256 is not a sha256", "64 hexadecimal digits", format!("{s:?}")).into());
                }
            }
            let progress = o.and_then(|o| super::js::field(o, "onProgress")).and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            let (bytes, found) = fetch::bytes(&url, sha.as_deref(), progress.as_ref()).await?;
            let manifest = o.and_then(|o| super::js::field(o, "manifest"));
            Ok(JsValue::from(Model::load_bytes(bytes, Some(found), manifest.as_ref())?))
        })
    }
}
