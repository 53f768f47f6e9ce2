//! The JS API inside real wasm: in Node (`wasm-pack test --node`) and in headless Chromium
//! (`WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome`). Golden outputs, result
//! shapes as JavaScript sees them, and bad JavaScript values.
#![cfg(target_family = "wasm")]

use edgeserve::wasm::{Model, RowInput};
use js_sys::{Array, Float32Array, Float64Array, Int32Array, Object, Reflect, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

const TOLERANCE: f32 = 1e-5;

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}
#[derive(Deserialize)]
struct Case {
    input: Vec<f32>,
    expected: Expected,
}
#[derive(Deserialize)]
struct Expected {
    label: String,
    index: u32,
    scores: Vec<f32>,
}

fn golden(name: &str) -> Golden {
    let text = match name {
        "digits-accurate" => include_str!("../models/digits-accurate/golden.json"),
        "digits-fast" => include_str!("../models/digits-fast/golden.json"),
        other => panic!("no golden file for {other}"),
    };
    serde_json::from_str(text).unwrap()
}

fn row(v: impl Into<JsValue>) -> RowInput {
    v.into().unchecked_into()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn check(result: &JsValue, case: &Case) {
    assert_eq!(get(result, "label").as_string().unwrap(), case.expected.label);
    assert_eq!(get(result, "index").as_f64().unwrap() as u32, case.expected.index);
    let scores = get(result, "scores");
    assert!(scores.is_instance_of::<Float32Array>(), "scores is a Float32Array");
    let scores = Float32Array::from(scores).to_vec();
    let d = scores.iter().zip(&case.expected.scores).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert_eq!(scores.len(), case.expected.scores.len());
    assert!(d <= TOLERANCE, "scores differ from onnxruntime's by {d}");
    let latency = get(result, "latencyMs").as_f64().unwrap();
    assert!(latency >= 0.0 && latency.is_finite());
}

#[wasm_bindgen_test]
fn names_and_default() {
    assert_eq!(Model::names(), vec!["digits-accurate", "digits-fast"]);
    let model = Model::default_model().unwrap();
    assert_eq!(model.name().unwrap(), "digits-accurate");
    let manifest = model.manifest().unwrap();
    assert!(manifest.is_object() && !manifest.is_instance_of::<js_sys::Map>(), "manifest is a plain object");
    assert_eq!(get(&manifest, "name").as_string().unwrap(), "digits-accurate");
    assert_eq!(Array::from(&get(&manifest, "labels")).length(), 10);
    let accuracy = get(&get(&manifest, "metrics"), "accuracy").as_f64().unwrap();
    assert!(accuracy > 0.9 && accuracy <= 1.0);
}

#[wasm_bindgen_test]
fn golden_outputs_in_wasm() {
    for name in ["digits-accurate", "digits-fast"] {
        let mut model = Model::load_embedded(name).unwrap();
        for case in golden(name).cases {
            let typed: JsValue = Float32Array::from(case.input.as_slice()).into();
            check(&model.predict(row(typed)).unwrap(), &case);
            let plain: JsValue = case.input.iter().map(|x| JsValue::from_f64(*x as f64)).collect::<Array>().into();
            check(&model.predict(row(plain)).unwrap(), &case);
        }
    }
}

#[wasm_bindgen_test]
fn other_numeric_typed_arrays_are_converted() {
    let mut model = Model::default_model().unwrap();
    let case = golden("digits-accurate").cases.remove(0);
    // Digit pixels are whole numbers 0..16: exact in every one of these types.
    let f64s: JsValue = Float64Array::from(case.input.iter().map(|x| *x as f64).collect::<Vec<_>>().as_slice()).into();
    let u8s: JsValue = Uint8Array::from(case.input.iter().map(|x| *x as u8).collect::<Vec<_>>().as_slice()).into();
    let i32s: JsValue = Int32Array::from(case.input.iter().map(|x| *x as i32).collect::<Vec<_>>().as_slice()).into();
    for input in [f64s, u8s, i32s] {
        check(&model.predict(row(input)).unwrap(), &case);
    }
}

fn error_of(model: &mut Model, input: JsValue) -> (String, String) {
    let Err(err) = model.predict(row(input)) else { panic!("an error") };
    assert!(err.is_instance_of::<js_sys::Error>(), "an Error object");
    let message = get(&err, "message").as_string().unwrap();
    let code = get(&err, "code").as_string().unwrap();
    (code, message)
}

#[wasm_bindgen_test]
fn bad_input_throws_errors_that_name_the_problem() {
    let mut model = Model::default_model().unwrap();
    let case = golden("digits-accurate").cases.remove(0);
    let with = |i: usize, v: f32| {
        let mut row = case.input.clone();
        row[i] = v;
        JsValue::from(Float32Array::from(row.as_slice()))
    };
    let not_a_row = "input is not a row of numbers: expected a Float32Array, another numeric typed array, or an array of numbers, got ";
    let obj = Object::new();
    let nested: JsValue = (0..8).map(|_| JsValue::from(Array::new())).collect::<Array>().into();
    let mixed: JsValue = case
        .input
        .iter()
        .enumerate()
        .map(|(i, x)| if i == 3 { JsValue::from_str("7") } else { JsValue::from_f64(*x as f64) })
        .collect::<Array>()
        .into();
    let big = Int32Array::from(&[1 << 25; 64][..]);
    let cases: Vec<(JsValue, String)> = vec![
        (JsValue::from_str("1,2,3"), format!("{not_a_row}a string (\"1,2,3\")")),
        (JsValue::NULL, format!("{not_a_row}null")),
        (JsValue::UNDEFINED, format!("{not_a_row}undefined")),
        (obj.into(), format!("{not_a_row}an object (Object)")),
        (JsValue::from_f64(3.0), format!("{not_a_row}a number (3)")),
        (nested, "input[0] is not a number: expected a number, got an array of 0 items".into()),
        (mixed, "input[3] is not a number: expected a number, got a string (\"7\")".into()),
        (Float32Array::new_with_length(63).into(), "input has the wrong length: expected 64 raw features, got 63 values".into()),
        (Float32Array::new_with_length(0).into(), "input has the wrong length: expected 64 raw features, got 0 values".into()),
        (with(5, f32::NAN), "input[5] is not a finite number: expected finite numbers, got NaN".into()),
        (with(6, f32::INFINITY), "input[6] is not a finite number: expected finite numbers, got inf".into()),
        (with(7, -1.0), "input[7] is outside the raw range of the model's features: expected values from 0 to 16, got -1".into()),
        (big.into(), "input[0] cannot be represented exactly as float32: expected 32-bit integers within +-16777216 (2^24), got 33554432".into()),
        (js_sys::BigInt64Array::new_with_length(64).into(), format!("{not_a_row}BigInt64Array(64)")),
    ];
    for (input, message) in cases {
        let (code, got) = error_of(&mut model, input);
        assert_eq!(got, message);
        assert_eq!(code, "BAD_INPUT");
        // The module is unharmed: a good prediction still matches onnxruntime.
        check(&model.predict(row(Float32Array::from(case.input.as_slice()))).unwrap(), &case);
    }
}

#[wasm_bindgen_test]
fn unknown_model_name_throws() {
    let err = Model::load(JsValue::from_str("digits-huge"), None).expect_err("an error");
    let err: &js_sys::Error = err.dyn_ref().expect("an Error object");
    assert_eq!(
        String::from(err.message()),
        "unknown model 'digits-huge': expected one of [\"digits-accurate\", \"digits-fast\"], got 'digits-huge'"
    );
    assert_eq!(get(err, "code").as_string().unwrap(), "UNKNOWN_MODEL");
    // Loading still works afterwards.
    assert_eq!(Model::load_embedded("digits-fast").unwrap().name().unwrap(), "digits-fast");
    // The exported load gives an embedded package's Model itself, not a Promise.
    let loaded = Model::load(JsValue::from_str("digits-fast"), None).unwrap();
    assert!(!loaded.is_instance_of::<js_sys::Promise>());
    assert_eq!(js_sys::Reflect::get(&loaded, &"name".into()).unwrap(), "digits-fast");
}

// ---- serving modes -------------------------------------------------------------------------

use edgeserve::wasm::{BatchInput, BatchOptions, BatchResult, ChooseOptions, CsvOptions, ModelSet, StreamOptions};
use wasm_bindgen_futures::JsFuture;

const TEST_CSV: &str = include_str!("../www/data/digits-test.csv");

fn test_rows() -> Vec<Vec<f32>> {
    TEST_CSV.lines().skip(1).map(|l| l.split(',').take(64).map(|c| c.parse().unwrap()).collect()).collect()
}

fn rows_js(rows: &[Vec<f32>]) -> BatchInput {
    let array: Array = rows.iter().map(|r| JsValue::from(Float32Array::from(r.as_slice()))).collect();
    JsValue::from(array).unchecked_into()
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

async fn batch_result(promise: js_sys::Promise) -> Result<BatchResult, JsValue> {
    let value = JsFuture::from(promise).await?;
    // The resolved value is a BatchResult object: read it through its getters by pointer.
    use wasm_bindgen::convert::TryFromJsValue;
    BatchResult::try_from_js_value(value)
}

#[wasm_bindgen_test]
async fn batch_equals_row_by_row_in_wasm() {
    let rows = test_rows();
    let mut model = Model::default_model().unwrap();
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let seen = calls.clone();
    let on_progress =
        wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |_p: JsValue| seen.set(seen.get() + 1));
    let options: BatchOptions =
        object(&[("chunkSize", 100.into()), ("onProgress", on_progress.as_ref().clone())]).unchecked_into();
    let result = batch_result(model.predict_batch(rows_js(&rows), Some(options))).await.unwrap();
    assert_eq!(calls.get(), 5, "onProgress once per chunk");
    assert_eq!(result.rows(), 450);
    let (indices, scores) = (result.indices(), result.scores());
    for (i, r) in rows.iter().enumerate() {
        let one = model.predict(row(Float32Array::from(r.as_slice()))).unwrap();
        assert_eq!(get(&one, "index").as_f64().unwrap() as i32, indices[i]);
        let single = Float32Array::from(get(&one, "scores")).to_vec();
        let d = single.iter().zip(&scores[i * 10..i * 10 + 10]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(d <= TOLERANCE);
    }
    // A bad row rejects, naming it.
    let mut bad = rows[..5].to_vec();
    bad[2][1] = f32::INFINITY;
    let err = batch_result(model.predict_batch(rows_js(&bad), None)).await.err().unwrap();
    assert_eq!(
        get(&err, "message").as_string().unwrap(),
        "rows[2][1] is not a finite number: expected finite numbers, got inf"
    );
    assert_eq!(get(&err, "code").as_string().unwrap(), "BAD_INPUT");
}

#[wasm_bindgen_test]
async fn csv_accuracy_and_latency_in_wasm() {
    let model = Model::load_embedded("digits-fast").unwrap();
    let options: CsvOptions = object(&[("labelColumn", "label".into())]).unchecked_into();
    let result = batch_result(model.predict_csv(JsValue::from_str(TEST_CSV), Some(options))).await.unwrap();
    let recorded = get(&get(&model.manifest().unwrap(), "metrics"), "accuracy").as_f64().unwrap();
    assert!((result.accuracy().unwrap() - recorded).abs() < 1e-6);
    assert_eq!(result.to_csv().unwrap().lines().count(), 451);
    let latency = model.latency().unwrap();
    assert_eq!(get(&get(&latency, "batch"), "count").as_f64().unwrap(), 450.0);
    assert_eq!(get(&get(&latency, "realtime"), "count").as_f64().unwrap(), 0.0);
}

#[wasm_bindgen_test]
async fn stream_in_wasm_keeps_order_and_survives_a_bad_item() {
    let rows = test_rows();
    let model = Model::default_model().unwrap();
    let options: StreamOptions = object(&[("maxBatch", 16.into()), ("maxWaitMs", 1.into())]).unchecked_into();
    let stream = model.stream(Some(options)).unwrap();
    let writable = get(&stream, "writable");
    let readable = get(&stream, "readable");
    let call = |target: &JsValue, method: &str, args: &Array| -> JsValue {
        let f: js_sys::Function = get(target, method).unchecked_into();
        f.apply(target, args).unwrap()
    };
    let writer = call(&writable, "getWriter", &Array::new());
    let reader = call(&readable, "getReader", &Array::new());
    let n = 200;
    assert!(rows.len() >= n, "the test CSV has {n} rows");
    // Written all at once, not awaiting `ready`: the writable side queues what backpressure
    // holds back until the reader below drains the outputs.
    for (i, input) in rows.iter().enumerate().take(n) {
        let item: JsValue =
            if i == 50 { JsValue::from_str("oops") } else { Float32Array::from(input.as_slice()).into() };
        let _ = call(&writer, "write", &Array::of1(&item));
    }
    let closed = js_sys::Promise::from(call(&writer, "close", &Array::new()));
    for i in 0..n {
        let next = JsFuture::from(js_sys::Promise::from(call(&reader, "read", &Array::new()))).await.unwrap();
        let output = get(&next, "value");
        assert_eq!(get(&output, "index").as_f64().unwrap() as usize, i);
        if i == 50 {
            assert_eq!(get(&get(&output, "error"), "code").as_string().unwrap(), "BAD_INPUT");
        } else {
            assert!(get(&get(&output, "prediction"), "scores").is_instance_of::<Float32Array>());
            assert!(get(&output, "queuedMs").as_f64().unwrap() >= 0.0);
        }
    }
    JsFuture::from(closed).await.unwrap();
    let done = JsFuture::from(js_sys::Promise::from(call(&reader, "read", &Array::new()))).await.unwrap();
    assert_eq!(get(&done, "done").as_bool(), Some(true));
    assert_eq!(get(&get(&model.latency().unwrap(), "stream"), "count").as_f64().unwrap(), (n - 1) as f64);
}

#[wasm_bindgen_test]
async fn choose_in_wasm_by_budgets_from_the_measurements() {
    let set = ModelSet::embedded().unwrap();
    let options: edgeserve::wasm::BenchmarkOptions = object(&[("runs", 100.into())]).unchecked_into();
    let measured = JsFuture::from(set.benchmark(Some(options))).await.unwrap();
    let p95 = |name: &str| {
        Array::from(&measured)
            .iter()
            .find(|m| get(m, "name").as_string().unwrap() == name)
            .map(|m| get(&m, "p95").as_f64().unwrap())
            .unwrap()
    };
    let (fast, accurate) = (p95("digits-fast"), p95("digits-accurate"));
    // Which model is faster is measured, not assumed; budgets come from the measurements.
    let (faster, quickest, slowest) =
        if fast <= accurate { ("digits-fast", fast, accurate) } else { ("digits-accurate", accurate, fast) };
    let choose = |budget: f64| -> JsValue {
        let options: ChooseOptions = object(&[("budgetMs", budget.into()), ("percentile", 95.into())]).unchecked_into();
        set.choose(Some(options)).unwrap()
    };
    let generous = choose(slowest * 10.0);
    assert_eq!(get(&generous, "name").as_string().unwrap(), "digits-accurate");
    assert_eq!(get(&generous, "withinBudget").as_bool(), Some(true));
    if quickest < slowest {
        let between = choose((quickest + slowest) / 2.0);
        assert_eq!(get(&between, "name").as_string().unwrap(), faster);
        let model = get(&between, "model");
        assert_eq!(get(&model, "name").as_string().unwrap(), faster);
    }
    let tight = choose(quickest / 4.0);
    assert_eq!(get(&tight, "name").as_string().unwrap(), faster);
    assert_eq!(get(&tight, "withinBudget").as_bool(), Some(false));
}

// ---- models brought at run time --------------------------------------------------------------

async fn from_bytes(bytes: &[u8]) -> Result<Model, JsValue> {
    use wasm_bindgen::convert::TryFromJsValue;
    let value = JsFuture::from(Model::from_bytes(js_sys::Uint8Array::from(bytes).into(), None, None)).await?;
    Model::try_from_js_value(value)
}

#[wasm_bindgen_test]
async fn from_bytes_infers_a_manifest_and_run_serves_every_dtype() {
    let model = from_bytes(include_bytes!("fixtures/onnx/multi_io.onnx")).await.unwrap();
    let manifest = model.manifest().unwrap();
    assert!(get(&manifest, "task").is_undefined());
    assert_eq!(Array::from(&get(&manifest, "inputs")).length(), 2);
    let inputs = object(&[
        ("a", Float32Array::from(&[1.5f32, -2.0, 0.0, -0.5, 3.25, 7.0][..]).into()),
        ("b", js_sys::BigInt64Array::from(&[4i64, -3][..]).into()),
    ]);
    let out = model.run(inputs, None).unwrap();
    let sum = get(&out, "sum");
    assert_eq!(get(&sum, "dtype").as_string().unwrap(), "float32");
    assert_eq!(Float32Array::from(get(&sum, "data")).to_vec(), vec![5.5, 2.0, 4.0, -3.5, 0.25, 4.0]);
    let shape: Vec<f64> = Array::from(&get(&sum, "shape")).iter().map(|d| d.as_f64().unwrap()).collect();
    assert_eq!(shape, vec![2.0, 3.0]);
    let mask = get(&out, "mask");
    assert_eq!(get(&mask, "dtype").as_string().unwrap(), "bool");
    assert_eq!(Uint8Array::from(get(&mask, "data")).to_vec(), vec![1, 0, 0, 0, 1, 1]);
    let count = get(&out, "count");
    assert!(get(&count, "data").is_instance_of::<js_sys::BigInt64Array>());
    assert_eq!(js_sys::BigInt64Array::from(get(&count, "data")).to_vec(), vec![8, -6]);
    // A wrong typed array names the input.
    let bad = object(&[("a", Float32Array::new_with_length(3).into()), ("b", Int32Array::from(&[1][..]).into())]);
    let err = model.run(bad, None).err().unwrap();
    assert_eq!(
        get(&err, "message").as_string().unwrap(),
        "input \"b\" has the wrong element type: expected int64 values (BigInt64Array), got Int32Array(1)"
    );
}

#[wasm_bindgen_test]
async fn from_bytes_of_a_digits_model_predicts_after_the_callers_scaling() {
    let mut model = from_bytes(include_bytes!("../models/digits-fast/model.onnx")).await.unwrap();
    let case = golden("digits-fast").cases.remove(0);
    let scaled: Vec<f32> = case.input.iter().map(|x| x / 16.0).collect();
    let r = model.predict(row(Float32Array::from(scaled.as_slice()))).unwrap();
    assert_eq!(get(&r, "label").as_string().unwrap(), case.expected.label);
}

#[wasm_bindgen_test]
async fn from_bytes_copies_the_callers_bytes_at_the_call_and_reads_them_in_pieces() {
    // digits-accurate's file is several of the pieces the decoder reads from JavaScript's
    // memory; the caller overwrites its buffer as soon as fromBytes returns.
    use wasm_bindgen::convert::TryFromJsValue;
    let onnx = include_bytes!("../models/digits-accurate/model.onnx");
    let given = js_sys::Uint8Array::from(&onnx[..]);
    let pending = Model::from_bytes(given.clone().into(), None, None);
    given.fill(0, 0, given.length());
    let mut model = Model::try_from_js_value(JsFuture::from(pending).await.unwrap()).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(include_str!("../models/digits-accurate/manifest.json")).unwrap();
    assert_eq!(get(&model.manifest().unwrap(), "sha256").as_string().unwrap(), manifest["sha256"].as_str().unwrap());
    for case in golden("digits-accurate").cases {
        let scaled: Vec<f32> = case.input.iter().map(|x| x / 16.0).collect();
        let r = model.predict(row(Float32Array::from(scaled.as_slice()))).unwrap();
        assert_eq!(get(&r, "label").as_string().unwrap(), case.expected.label);
    }
}

#[wasm_bindgen_test]
async fn an_unsupported_operator_rejects_naming_it() {
    let err = from_bytes(include_bytes!("fixtures/onnx/unsupported.onnx")).await.err().unwrap();
    let message = get(&err, "message").as_string().unwrap();
    assert_eq!(get(&err, "code").as_string().unwrap(), "MODEL_LOAD");
    assert!(message.contains("Frobnicate") && message.contains("frob_1"), "{message}");
    let err = JsFuture::from(Model::from_bytes(JsValue::from_str("model.onnx"), None, None)).await.err().unwrap();
    assert_eq!(get(&err, "code").as_string().unwrap(), "BAD_INPUT");
}

/// Runs fixture `onnx` at batch 2 and 1 on the input in `expected` (training/fixtures.py: an
/// input `x` of batch 2 and onnxruntime's outputs) and checks every output within `relative`.
async fn matches_onnxruntime(onnx: &[u8], expected: &str, relative: f32) {
    let e: serde_json::Value = serde_json::from_str(expected).unwrap();
    let model = from_bytes(onnx).await.unwrap();
    let x: Vec<f32> = serde_json::from_value(e["inputs"]["x"]["data"].clone()).unwrap();
    let dims: Vec<usize> = serde_json::from_value(e["inputs"]["x"]["shape"].clone()).unwrap();
    let outputs = e["outputs"].as_object().unwrap();
    // Enough batches of 2 and single rows for the engine to measure both and then run batches
    // of 2 whole or row by row, as it chose (src/engine/batches.rs): the same outputs either way.
    for batch in [2usize, 1, 2, 2, 1, 2, 2, 2] {
        let len = x.len() / 2 * batch;
        let shape: Array =
            std::iter::once(batch).chain(dims[1..].iter().copied()).map(|d| JsValue::from_f64(d as f64)).collect();
        let options = object(&[("shapes", object(&[("x", shape.into())]))]);
        let out =
            model.run(object(&[("x", Float32Array::from(&x[..len]).into())]), Some(options.unchecked_into())).unwrap();
        assert_eq!(Object::keys(out.unchecked_ref::<Object>()).length() as usize, outputs.len());
        for (name, want) in outputs {
            let want: Vec<f32> = serde_json::from_value(want["data"].clone()).unwrap();
            let want = &want[..want.len() / 2 * batch];
            let got = Float32Array::from(get(&get(&out, name), "data")).to_vec();
            assert_eq!(got.len(), want.len(), "{name}");
            let worst = got.iter().zip(want).map(|(g, w)| (g - w).abs() / (1.0 + w.abs())).fold(0f32, f32::max);
            assert!(worst <= relative, "{name} at batch {batch}: off by {worst} (relative)");
        }
    }
}

#[wasm_bindgen_test]
async fn convolutions_and_a_dense_layer_match_onnxruntime() {
    // In wasm every f32 matrix product of these runs on edgeserve's kernels
    // (src/engine/specialize/gemm.rs): sizes no tile divides, k from 29 to 725, bias, Relu, Clip
    // and a residual add fused into the products.
    matches_onnxruntime(include_bytes!("fixtures/onnx/convs.onnx"), include_str!("fixtures/onnx/convs.json"), 1e-4)
        .await;
}

#[wasm_bindgen_test]
async fn small_convolutions_match_onnxruntime() {
    // Stride 1, few input channels (a first layer) or few output channels (a second): in wasm
    // edgeserve's direct convolution (src/engine/specialize/conv.rs), not tract's im2col: 3x3,
    // 5x5, 1x3 and 2x3 kernels, "same", wide, asymmetric and no padding, with and without bias,
    // rows of two passes, blocks of output channels with a last block and tile cut short.
    matches_onnxruntime(
        include_bytes!("fixtures/onnx/small_convs.onnx"),
        include_str!("fixtures/onnx/small_convs.json"),
        1e-4,
    )
    .await;
}

#[wasm_bindgen_test]
async fn max_pools_match_onnxruntime() {
    // Windows that tile the image run on edgeserve's pool (src/engine/specialize/pool.rs, SIMD
    // in wasm: rows of 6 outputs, two overlapping groups of 4), the overlapping one on tract's: a max is exact.
    matches_onnxruntime(include_bytes!("fixtures/onnx/pools.onnx"), include_str!("fixtures/onnx/pools.json"), 0.0)
        .await;
}

#[wasm_bindgen_test]
fn tract_runs_edgeserves_kernels_for_f32_products() {
    // Registered with tract in wasm (src/engine/specialize/gemm.rs); matrix-vector products stay
    // tract's.
    use edgeserve::engine::f32_matmul_kernel;
    assert_eq!(f32_matmul_kernel(64, 576, 3136).as_deref(), Some("edgeserve_f32_2x16"), "a long product");
    assert_eq!(f32_matmul_kernel(8, 9, 784).as_deref(), Some("edgeserve_f32_4x8"), "a short one");
    assert_eq!(f32_matmul_kernel(512, 4608, 16).as_deref(), Some("edgeserve_f32_4x8"), "a narrow one");
    assert!(!f32_matmul_kernel(10, 784, 1).unwrap().starts_with("edgeserve"), "a matrix-vector product");
}

#[wasm_bindgen_test]
async fn dense_layers_of_odd_widths_match_onnxruntime_on_the_row_executor() {
    // k = 7 and 5: a lone row's last step of k has no pair (src/engine/rows.rs, `kernel::row`).
    let model = from_bytes(include_bytes!("fixtures/onnx/dense.onnx")).await.unwrap();
    assert_eq!(model.engine().unwrap(), "rows");
    matches_onnxruntime(include_bytes!("fixtures/onnx/dense.onnx"), include_str!("fixtures/onnx/dense.json"), 1e-6)
        .await;
    // Eleven rows at once go through the layers in groups of rows (on one and two vectors of
    // columns: four rows a group, three left over), as each row alone does.
    let x: Vec<f32> = (0..11 * 7).map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0).collect();
    let run = |rows: &[f32]| {
        let shape: Array = [rows.len() / 7, 7].iter().map(|&d| JsValue::from_f64(d as f64)).collect();
        let options = object(&[("shapes", object(&[("x", shape.into())]))]);
        let out = model.run(object(&[("x", Float32Array::from(rows).into())]), Some(options.unchecked_into())).unwrap();
        Float32Array::from(get(&get(&out, "y"), "data")).to_vec()
    };
    let whole = run(&x);
    let alone: Vec<f32> = x.chunks(7).flat_map(run).collect();
    let worst = whole.iter().zip(&alone).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert_eq!(whole.len(), 33);
    assert!(worst <= 1e-6, "batch of 11 and rows alone differ by {worst}");
}

// ---- text --------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct TextCase {
    text: String,
    ids: Vec<u32>,
    label: String,
    scores: Vec<f32>,
}

/// The toy text classifier of tests/fixtures/text/sentiment (training/text_fixtures.py), its
/// tokenizer given to fromBytes as bytes.
async fn sentiment() -> Model {
    use wasm_bindgen::convert::TryFromJsValue;
    let manifest = js_sys::JSON::parse(include_str!("fixtures/text/sentiment/manifest.json")).unwrap();
    let options = object(&[(
        "tokenizer",
        Uint8Array::from(&include_bytes!("fixtures/text/sentiment/tokenizer.json")[..]).into(),
    )]);
    let bytes = Uint8Array::from(&include_bytes!("fixtures/text/sentiment/model.onnx")[..]);
    let value = JsFuture::from(Model::from_bytes(
        bytes.into(),
        Some(manifest.unchecked_into()),
        Some(options.unchecked_into()),
    ))
    .await
    .unwrap();
    Model::try_from_js_value(value).unwrap()
}

#[wasm_bindgen_test]
async fn a_text_classifier_in_wasm_tokenizes_and_predicts_as_the_references() {
    let mut model = sentiment().await;
    let cases: Vec<TextCase> = serde_json::from_value(
        serde_json::from_str::<serde_json::Value>(include_str!("fixtures/text/sentiment/golden.json")).unwrap()
            ["cases"]
            .clone(),
    )
    .unwrap();
    for case in &cases {
        let t = model.tokenize(JsValue::from_str(&case.text).unchecked_into()).unwrap();
        assert_eq!(js_sys::Uint32Array::from(get(&t, "ids")).to_vec(), case.ids, "{:?}", case.text);
        let p = model.predict(row(JsValue::from_str(&case.text))).unwrap();
        assert_eq!(get(&p, "label").as_string().unwrap(), case.label, "{:?}", case.text);
        let scores = Float32Array::from(get(&p, "scores")).to_vec();
        let worst = scores.iter().zip(&case.scores).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst <= TOLERANCE, "{:?}: scores off by {worst}", case.text);
    }
    // A row of numbers, a lone surrogate, embed() of a classifier: BAD_INPUT; then it still predicts.
    let e = model.predict(row(Float32Array::new_with_length(4))).err().unwrap();
    assert_eq!(get(&e, "code").as_string().unwrap(), "BAD_INPUT");
    let lone = js_sys::JsString::from_char_code1(0xD800);
    let e = model.predict(row(JsValue::from(lone))).err().unwrap();
    assert!(get(&e, "message").as_string().unwrap().starts_with("input has a lone surrogate at index 0"));
    let e = model.embed(JsValue::from_str("hello").unchecked_into()).err().unwrap();
    assert!(get(&e, "message").as_string().unwrap().starts_with("model 'sentiment' makes no embeddings"));
    assert_eq!(
        get(&model.predict(row(JsValue::from_str("I love it"))).unwrap(), "label").as_string().unwrap(),
        "positive"
    );
}

#[wasm_bindgen_test]
async fn text_batches_and_streams_in_wasm() {
    let model = sentiment().await;
    let texts: Array = [
        "I love this movie!",
        "This film was awful.",
        "good good",
        "bad",
        "It is a day.",
        "HATE it",
        "nice fun",
        "poor",
    ]
    .iter()
    .map(|t| JsValue::from_str(t))
    .collect();
    let result = batch_result(
        model.predict_batch(texts.clone().unchecked_into(), Some(object(&[("chunkSize", 3.into())]).unchecked_into())),
    )
    .await
    .unwrap();
    assert_eq!(result.rows(), 8);
    assert_eq!(
        result.labels(),
        vec!["positive", "negative", "positive", "negative", "negative", "negative", "positive", "negative"]
    );
    // One more text than the package's maxTexts (8) still runs as a batch (chunks of at most 8).
    texts.push(&JsValue::from_str("great"));
    assert_eq!(batch_result(model.predict_batch(texts.unchecked_into(), None)).await.unwrap().rows(), 9);
    let nine: Array = (0..9).map(|_| JsValue::from_str("a")).collect();
    let e = model.tokenize(JsValue::from(nine).unchecked_into()).err().unwrap();
    assert_eq!(get(&e, "code").as_string().unwrap(), "BAD_INPUT");
}

// ---- images ------------------------------------------------------------------------------------

/// A detector of tests/fixtures/image (training/image_fixtures.py) with its manifest object.
async fn image_model(onnx: &[u8], manifest: &str) -> Model {
    use wasm_bindgen::convert::TryFromJsValue;
    let manifest = js_sys::JSON::parse(manifest).unwrap();
    let promise = Model::from_bytes(Uint8Array::from(onnx).into(), Some(manifest.unchecked_into()), None);
    Model::try_from_js_value(JsFuture::from(promise).await.unwrap()).unwrap()
}

/// The fixture image rgb.97x61x3.raw as an ImageData-shaped object: RGBA in a Uint8ClampedArray.
fn image_data_of_rgb_fixture() -> JsValue {
    let rgb = include_bytes!("fixtures/image/rgb.97x61x3.raw");
    let rgba: Vec<u8> = rgb.chunks(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    let data = js_sys::Uint8ClampedArray::from(&rgba[..]);
    object(&[("data", data.into()), ("width", 97.into()), ("height", 61.into())])
}

#[wasm_bindgen_test]
async fn detect_in_wasm_gives_the_references_boxes_from_an_image_data() {
    use edgeserve::wasm::image::ImageInput;
    let model = image_model(
        include_bytes!("fixtures/image/detector-yolov8.onnx"),
        include_str!("fixtures/image/detector-yolov8.manifest.json"),
    )
    .await;
    let golden: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/image/detector-yolov8.golden.json")).unwrap();
    let case = golden["cases"].as_array().unwrap().iter().find(|c| c["image"] == "rgb.97x61x3.raw").unwrap();
    let found = model.detect(image_data_of_rgb_fixture().unchecked_into::<ImageInput>()).unwrap();
    let boxes = Array::from(&get(&found, "boxes"));
    let want = case["boxes"].as_array().unwrap();
    assert_eq!(boxes.length() as usize, want.len());
    for (b, w) in boxes.iter().zip(want) {
        assert_eq!(get(&b, "index").as_f64().unwrap() as u64, w["index"].as_u64().unwrap());
        assert!((get(&b, "score").as_f64().unwrap() - w["score"].as_f64().unwrap()).abs() < 5e-3);
        for k in ["x", "y", "width", "height"] {
            assert!((get(&b, k).as_f64().unwrap() - w[k].as_f64().unwrap()).abs() < 1e-3, "{k}");
        }
    }
    // A bad image: a coded error naming the field; the model goes on.
    let bad = object(&[("data", Uint8Array::new_with_length(5).into()), ("width", 97.into()), ("height", 61.into())]);
    let e = model.detect(bad.unchecked_into::<ImageInput>()).unwrap_err();
    assert_eq!(get(&e, "code").as_string().unwrap(), "BAD_INPUT");
    assert!(get(&e, "message").as_string().unwrap().starts_with("the image's data has the wrong length"));
    assert!(model.detect(image_data_of_rgb_fixture().unchecked_into::<ImageInput>()).is_ok());
}

// ---- audio -------------------------------------------------------------------------------------

/// The small voice-activity graph of tests/fixtures/audio/sequence (training/audio_fixtures.py):
/// Silero VAD's sequence graph in shape (chunks of 8 + 16 samples at 16 kHz, an LSTM's h and c),
/// with its signal (16-bit PCM) and onnxruntime's probability of each chunk, fed one by one.
async fn audio_fixture() -> (Model, Vec<f32>, Vec<f32>) {
    let model = image_model(
        include_bytes!("fixtures/audio/sequence/model.onnx"),
        include_str!("fixtures/audio/sequence/manifest.json"),
    )
    .await;
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/audio/sequence/reference.json")).unwrap();
    let pcm: Vec<i16> = serde_json::from_value(reference["pcm16"].clone()).unwrap();
    let samples = pcm.iter().map(|&s| s as f32 / 32768.0).collect();
    (model, samples, serde_json::from_value(reference["probabilities"].clone()).unwrap())
}

fn worst(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// A whole recording runs in blocks of chunks (256 a run, then the rest), a session chunk by
/// chunk: both give onnxruntime's probabilities; the session's events come as they happen, its
/// state reads back as h and c, and a bad chunk is refused with the session going on.
#[wasm_bindgen_test]
async fn voice_activity_in_wasm_matches_onnxruntime_whole_and_streamed() {
    use edgeserve::wasm::audio::{AudioInput, SamplesInput, SessionOptions, SpeechOptions};
    let (model, samples, want) = audio_fixture().await;
    let rate = || object(&[("sampleRate", 16000.into())]);
    let whole = model
        .speech_segments(
            Float32Array::from(&samples[..]).unchecked_into::<AudioInput>(),
            Some(rate().unchecked_into::<SpeechOptions>()),
        )
        .unwrap();
    let probabilities = Float32Array::from(get(&whole, "probabilities")).to_vec();
    assert_eq!(probabilities.len(), 700);
    assert!(worst(&probabilities, &want) <= TOLERANCE, "whole: {}", worst(&probabilities, &want));
    assert!((get(&whole, "frameSeconds").as_f64().unwrap() - 0.001).abs() < 1e-12);
    let segments: Vec<(f64, f64)> = Array::from(&get(&whole, "segments"))
        .iter()
        .map(|s| (get(&s, "start").as_f64().unwrap(), get(&s, "end").as_f64().unwrap()))
        .collect();
    assert!(!segments.is_empty());

    let mut session = model.session(Some(rate().unchecked_into::<SessionOptions>())).unwrap();
    let (mut streamed, mut starts, mut ends) = (vec![], vec![], vec![]);
    let mut at = 0;
    for (i, size) in [1usize, 16, 40, 300, 7, 1000].iter().cycle().enumerate() {
        if at == samples.len() {
            break;
        }
        if i == 3 {
            let e =
                session.push(Float32Array::from(&[0.0, f32::NAN][..]).unchecked_into::<SamplesInput>()).unwrap_err();
            assert_eq!(get(&e, "code").as_string().unwrap(), "BAD_INPUT");
        }
        let end = (at + size).min(samples.len());
        let step = session.push(Float32Array::from(&samples[at..end]).unchecked_into::<SamplesInput>()).unwrap();
        streamed.extend(Float32Array::from(get(&step, "probabilities")).to_vec());
        for e in Array::from(&get(&step, "events")).iter() {
            let time = get(&e, "time").as_f64().unwrap();
            if get(&e, "type").as_string().unwrap() == "start" {
                starts.push(time)
            } else {
                ends.push(time)
            }
        }
        at = end;
    }
    let state = Array::from(&session.state().unwrap());
    assert_eq!(state.length(), 2, "h and c");
    assert!(state.iter().all(|s| Float32Array::from(s).length() == 4));
    let last = session.finish().unwrap();
    streamed.extend(Float32Array::from(get(&last, "probabilities")).to_vec());
    assert!(worst(&streamed, &want) <= TOLERANCE, "streamed: {}", worst(&streamed, &want));
    assert!(!starts.is_empty() && starts.len() >= ends.len(), "{starts:?} {ends:?}");
}
