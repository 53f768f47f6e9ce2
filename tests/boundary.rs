//! The JavaScript boundary compiled natively: the same exports, with JSON standing in for
//! JavaScript values. Checks the names and shapes the JS API promises.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::*;
use edgeserve::wasm::Model;
use serde_json::{json, Value};

#[test]
fn names_default_and_load() {
    assert_eq!(Model::names(), vec!["digits-accurate", "digits-fast"]);
    let model = Model::default_model().unwrap();
    assert_eq!(model.name().unwrap(), "digits-accurate");
    assert_eq!(model.input_width().unwrap(), 64);
    let fast = Model::load("digits-fast").unwrap();
    assert_eq!(fast.name().unwrap(), "digits-fast");
    let err = Model::load("nope").err().unwrap();
    assert_eq!(err.code(), "UNKNOWN_MODEL");
}

#[test]
fn manifest_is_the_package_manifest() {
    for name in Model::names() {
        let model = Model::load(&name).unwrap();
        let shipped: Value = serde_json::from_str(&read_manifest(&name)).unwrap();
        assert_eq!(model.manifest().unwrap(), shipped, "{name}");
    }
}

#[test]
fn predict_returns_the_promised_shape() {
    let mut model = Model::default_model().unwrap();
    for case in golden("digits-accurate").cases {
        let r = model.predict(json!(case.input)).unwrap();
        let obj = r.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["index", "label", "latencyMs", "scores"]);
        assert_eq!(r["label"], json!(case.expected.label.unwrap()));
        assert_eq!(r["index"], json!(case.expected.index.unwrap()));
        let scores: Vec<f32> = serde_json::from_value(r["scores"].clone()).unwrap();
        assert!(max_abs_diff(&scores, case.expected.scores.as_ref().unwrap()) <= TOLERANCE);
        assert!(r["latencyMs"].as_f64().unwrap() >= 0.0);
    }
}

#[test]
fn bad_js_values_are_refused_and_the_model_keeps_working() {
    let mut model = Model::default_model().unwrap();
    let good = golden("digits-accurate").cases.remove(0);
    let mut with_string = json!(good.input);
    with_string[5] = json!("x");
    let cases = [
        (json!("a string"), "input is not a row of numbers: expected a Float32Array, another numeric typed array, or an array of numbers, got a string (\"a string\")"),
        (Value::Null, "input is not a row of numbers: expected a Float32Array, another numeric typed array, or an array of numbers, got null"),
        (json!({"0": 1}), "input is not a row of numbers: expected a Float32Array, another numeric typed array, or an array of numbers, got an object (Object)"),
        (json!(7), "input is not a row of numbers: expected a Float32Array, another numeric typed array, or an array of numbers, got a number (7)"),
        (with_string, "input[5] is not a number: expected a number, got a string (\"x\")"),
        (json!(vec![vec![0.0; 8]; 8]), "input[0] is not a number: expected a number, got an array of 8 items"),
        (json!([1.0, 2.0]), "input has the wrong length: expected 64 raw features, got 2 values"),
        (json!([]), "input has the wrong length: expected 64 raw features, got 0 values"),
    ];
    for (input, message) in cases {
        let err = model.predict(input).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(err.code(), "BAD_INPUT");
        let r = model.predict(json!(good.input)).unwrap();
        assert_eq!(r["index"], json!(good.expected.index.unwrap()));
    }
}
