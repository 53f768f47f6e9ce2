//! What real models do that tract does not take as they are (training/dynamic_fixtures.py made
//! the graphs and recorded onnxruntime's outputs): inputs with free dimensions, typed per shape
//! set when tract cannot type them with symbols; `If` resolved by shapes or by a scalar input's
//! value; a pass of tract's optimizer that fails, skipped; a recurrent loop's state, never
//! carried from one call to the next. Natively; the npm package runs the
//! same fixtures in tests/js/dynamic.test.mjs.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::*;
use edgeserve::tensor::{NamedTensor, TensorData};
use edgeserve::LoadedModel;
use serde_json::Value;

fn load(name: &str) -> (LoadedModel, Value) {
    let bytes = std::fs::read(root().join("tests/fixtures/onnx").join(format!("{name}.onnx"))).unwrap();
    let expected = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/onnx").join(format!("{name}.json"))).unwrap(),
    )
    .unwrap();
    (LoadedModel::from_bytes(bytes, None).unwrap(), expected)
}

fn tensor(name: &str, spec: &Value) -> NamedTensor {
    let shape = spec["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let data = spec["data"].as_array().unwrap();
    let data = match spec["dtype"].as_str().unwrap() {
        "float32" => TensorData::F32(data.iter().map(|v| v.as_f64().unwrap() as f32).collect()),
        "int64" => TensorData::I64(data.iter().map(|v| v.as_i64().unwrap()).collect()),
        other => panic!("dtype {other}"),
    };
    NamedTensor { name: name.into(), shape, data }
}

/// Runs every recorded call and compares each output with onnxruntime's.
fn run_calls(model: &mut LoadedModel, expected: &Value) {
    for call in expected["calls"].as_array().unwrap() {
        let inputs = call["inputs"].as_object().unwrap().iter().map(|(n, spec)| tensor(n, spec)).collect();
        let outputs = model.run(inputs).unwrap();
        for out in &outputs {
            let want = &call["outputs"][&out.name];
            let shape: Vec<usize> =
                want["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
            assert_eq!(out.shape, shape, "output {} shape", out.name);
            let want: Vec<f32> = want["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            let got = out.data.as_f32().unwrap();
            assert!(max_abs_diff(got, &want) <= 1e-4, "output {}: {got:?} vs {want:?}", out.name);
        }
    }
}

#[test]
fn unnamed_dimensions_get_symbols_and_a_graph_tract_cannot_type_with_them_is_typed_per_shape_set() {
    let (mut model, expected) = load("free_dims");
    let m = serde_json::to_value(model.manifest()).unwrap();
    assert_eq!(
        m["inputs"][0]["shape"],
        serde_json::json!(["x_0", 3, "x_2", "x_3"]),
        "a dimension with no name, and -1, get one"
    );
    let details = model.engine_details();
    assert_eq!(details.typing, "per shape set");
    assert!(details.notes[0].starts_with("tract could not type the graph for any input shapes"), "{:?}", details.notes);
    run_calls(&mut model, &expected);
    assert_eq!(model.engine_details().planned_shapes, vec![vec![vec![1, 3, 8, 10]], vec![vec![2, 3, 6, 4]]]);
    // A shape planned ahead (the load-time hint) is planned once.
    model.plan_for(&[("x".into(), vec![1, 3, 4, 4])]).unwrap();
    assert_eq!(model.engine_details().planned_shapes.last(), Some(&vec![vec![1, 3, 4, 4]]));
    let err = model.plan_for(&[("x".into(), vec![1, 5, 4, 4])]).unwrap_err();
    assert_eq!(err.to_string(), "the shape of input \"x\": expected [x_0, 3, x_2, x_3], got [1, 5, 4, 4]");
    let err = model.plan_for(&[]).unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
}

#[test]
fn plans_per_shape_set_are_bounded_least_recently_used_first_out() {
    let (mut model, _) = load("free_dims");
    for w in 1..=10 {
        model.plan_for(&[("x".into(), vec![1, 3, 2, 2 * w])]).unwrap();
    }
    // The first (w = 2) used again: it moves to the back, w = 4 is the next to go.
    let x = NamedTensor { name: "x".into(), shape: vec![1, 3, 2, 6], data: TensorData::F32(vec![0.5; 36]) };
    model.run(vec![x]).unwrap();
    let planned: Vec<usize> = model.engine_details().planned_shapes.iter().map(|s| s[0][3]).collect();
    assert_eq!(planned, vec![8, 10, 12, 14, 16, 18, 20, 6]);
}

#[test]
fn an_if_is_resolved_by_shapes_or_by_a_scalar_input_value() {
    let (mut model, expected) = load("branches");
    assert_eq!(model.engine_details().typing, "per shape set");
    run_calls(&mut model, &expected);
    // The same shapes with the other sample rate: another plan, the other branch.
    let x = NamedTensor { name: "x".into(), shape: vec![1, 4], data: TensorData::F32(vec![1.0, 2.0, 3.0, 4.0]) };
    let sr = NamedTensor { name: "sr".into(), shape: vec![], data: TensorData::I64(vec![8000]) };
    let outputs = model.run(vec![x, sr]).unwrap();
    assert_eq!(outputs[0].data.as_f32().unwrap(), &[2.0, 3.0, 4.0, 5.0]);
    assert_eq!(outputs[1].shape, vec![4], "one row: the Squeeze branch");
}

#[test]
fn a_recurrent_loop_starts_each_call_from_the_state_the_call_gives() {
    // tract carries a loop's state from one run of a plan to the next by default: the same
    // call again, another state, another length, each must give onnxruntime's outputs.
    let (mut model, expected) = load("recurrent");
    run_calls(&mut model, &expected);
    run_calls(&mut model, &expected);
}

#[test]
fn a_failing_optimizer_pass_is_skipped_and_said() {
    let (mut model, expected) = load("optimizer_failure");
    let details = model.engine_details();
    assert!(details.notes.iter().any(|n| n.contains("tract's pass \"declutter\" failed")), "{:?}", details.notes);
    run_calls(&mut model, &expected);
}

#[test]
fn inputs_that_disagree_on_a_shared_symbol_are_refused_by_name() {
    let bytes = std::fs::read(root().join("tests/fixtures/onnx/multi_io.onnx")).unwrap();
    let mut model = LoadedModel::from_bytes(bytes, None).unwrap();
    let a = NamedTensor { name: "a".into(), shape: vec![2, 3], data: TensorData::F32(vec![0.0; 6]) };
    let b = NamedTensor { name: "b".into(), shape: vec![3], data: TensorData::I64(vec![1, 2, 3]) };
    let err = model.run(vec![a, b]).unwrap_err();
    assert_eq!(err.code(), "BAD_INPUT");
    assert!(err.to_string().contains("input \"b\" dimension 0 (N)"), "{err}");
}
