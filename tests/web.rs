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
    assert_eq!(model.name(), "digits-accurate");
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
        let mut model = Model::load(name).unwrap();
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
    let err = model.predict(row(input)).err().expect("an error");
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
    let mixed: JsValue = case.input.iter().enumerate().map(|(i, x)| if i == 3 { JsValue::from_str("7") } else { JsValue::from_f64(*x as f64) }).collect::<Array>().into();
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
    let err = Model::load("digits-huge").err().expect("an error");
    let err: &js_sys::Error = err.dyn_ref().expect("an Error object");
    assert_eq!(String::from(err.message()), "unknown model 'digits-huge': expected one of [\"digits-accurate\", \"digits-fast\"]");
    assert_eq!(get(err, "code").as_string().unwrap(), "UNKNOWN_MODEL");
    // Loading still works afterwards.
    assert_eq!(Model::load("digits-fast").unwrap().name(), "digits-fast");
}
