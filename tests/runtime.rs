//! Models brought at run time: from bytes with or without a manifest (then inferred from the
//! graph), and run() on named tensors of several dtypes, natively.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::*;
use edgeserve::package::{GraphBytes, ReadAt};
use edgeserve::tensor::{NamedTensor, TensorData};
use edgeserve::wasm::Model;
use edgeserve::{LoadedModel, Prediction};
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/onnx").join(name)).unwrap()
}

#[test]
fn without_a_manifest_one_is_inferred_from_the_graph() {
    let mut model = LoadedModel::from_bytes(read_onnx("digits-accurate"), None).unwrap();
    let m = serde_json::to_value(model.manifest()).unwrap();
    assert_eq!(m["task"], json!("classification"));
    assert_eq!(m["labels"], json!(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]), "labels from metadata_props");
    assert_eq!(m["inputs"], json!([{ "name": "X", "dtype": "float32", "shape": ["N", 64] }]));
    assert_eq!(m["outputs"][0], json!({ "name": "label", "dtype": "int64", "shape": ["N"], "role": "label" }));
    assert_eq!(
        m["outputs"][1],
        json!({ "name": "probabilities", "dtype": "float32", "shape": ["N", 10], "role": "scores" })
    );
    assert_eq!(m["preprocessing"], json!({ "type": "none" }));
    assert_eq!(m["sha256"], serde_json::from_str::<Value>(&read_manifest("digits-accurate")).unwrap()["sha256"]);
    assert!(m.get("metrics").is_none());
    // No preprocessing is known without the package's manifest: the caller scales.
    for case in golden("digits-accurate").cases {
        let scaled: Vec<f32> = case.input.iter().map(|x| x / 16.0).collect();
        let Prediction::Class { index, scores, .. } = model.predict(&scaled).unwrap().prediction else { panic!() };
        assert_eq!(Some(index), case.expected.index);
        assert!(max_abs_diff(&scores, case.expected.scores.as_ref().unwrap()) <= TOLERANCE);
    }
}

#[test]
fn with_a_manifest_the_package_rules_apply() {
    let manifest: Value = serde_json::from_str(&read_manifest("digits-fast")).unwrap();
    let model = Model::from_bytes(read_onnx("digits-fast"), Some(manifest.clone())).unwrap();
    let mut model = model;
    for case in golden("digits-fast").cases {
        let r = model.predict(json!(case.input)).unwrap();
        assert_eq!(r["index"], json!(case.expected.index.unwrap()));
    }
    let mut without_hash = manifest.clone();
    without_hash.as_object_mut().unwrap().remove("sha256");
    assert!(
        Model::from_bytes(read_onnx("digits-fast"), Some(without_hash)).is_ok(),
        "sha256 is filled in from the bytes"
    );
    let err = Model::from_bytes(read_onnx("digits-accurate"), Some(manifest)).err().unwrap();
    assert_eq!(err.code(), "INTEGRITY");
    let err = Model::from_bytes(read_onnx("digits-fast"), Some(json!("digits-fast"))).err().unwrap();
    assert_eq!(err.to_string(), "manifest is not an object: expected a manifest object (see schema/manifest.schema.json), got a string (\"digits-fast\")");
}

/// Each read of [`Outside`]: offset and length.
type Reads = std::rc::Rc<std::cell::RefCell<Vec<(usize, usize)>>>;

/// Bytes "outside" the memory, as a wasm build reads a JavaScript Uint8Array: every read is
/// recorded, so the test sees the decoder take them piece by piece.
struct Outside {
    bytes: Vec<u8>,
    reads: Reads,
}

impl ReadAt for Outside {
    fn size(&self) -> usize {
        self.bytes.len()
    }

    fn read_at(&self, offset: usize, into: &mut [u8]) {
        self.reads.borrow_mut().push((offset, into.len()));
        into.copy_from_slice(&self.bytes[offset..offset + into.len()]);
    }
}

fn outside(bytes: Vec<u8>) -> (GraphBytes<'static>, Reads) {
    let reads = Reads::default();
    (GraphBytes::Outside(Box::new(Outside { bytes, reads: std::rc::Rc::clone(&reads) })), reads)
}

#[test]
fn a_graph_outside_memory_is_read_in_pieces_and_loads_as_its_bytes_do() {
    // digits-accurate's file is several pieces long: fields and weights cross their edges.
    let onnx = read_onnx("digits-accurate");
    assert!(onnx.len() > 3 * GraphBytes::PIECE);
    let (bytes, reads) = outside(onnx.clone());
    assert_eq!(bytes.len(), onnx.len());
    assert_eq!(bytes.sha256_hex(), edgeserve::package::sha256_hex(&onnx), "hashed piece by piece");
    reads.borrow_mut().clear();
    let mut model = LoadedModel::from_hashed_parts(bytes, None, None, None, vec![]).unwrap();
    let reads = reads.borrow().clone();
    // Hashed once (no sha256 given), then decoded once: each time in order, whole pieces.
    let expected: Vec<(usize, usize)> =
        (0..onnx.len()).step_by(GraphBytes::PIECE).map(|at| (at, GraphBytes::PIECE.min(onnx.len() - at))).collect();
    assert_eq!(reads, [expected.clone(), expected].concat());
    let mut here = LoadedModel::from_bytes(onnx.clone(), None).unwrap();
    assert_eq!(model.manifest().sha256, here.manifest().sha256);
    for case in golden("digits-accurate").cases {
        let scaled: Vec<f32> = case.input.iter().map(|x| x / 16.0).collect();
        let got = model.predict(&scaled).unwrap().prediction;
        assert_eq!(got, here.predict(&scaled).unwrap().prediction);
        let Prediction::Class { index, .. } = got else { panic!() };
        assert_eq!(Some(index), case.expected.index);
    }

    // With a manifest: its sha256 is checked against the bytes' (hashed piece by piece).
    let manifest = read_manifest("digits-accurate");
    let (bytes, _) = outside(onnx.clone());
    let mut model = LoadedModel::from_hashed_parts(bytes, None, Some(&manifest), None, vec![]).unwrap();
    let case = &golden("digits-accurate").cases[0];
    let Prediction::Class { index, .. } = model.predict(&case.input).unwrap().prediction else { panic!() };
    assert_eq!(Some(index), case.expected.index, "the package's own scaling");
    let (bytes, _) = outside(read_onnx("digits-fast"));
    let err = LoadedModel::from_hashed_parts(bytes, None, Some(&manifest), None, vec![]).err().unwrap();
    assert_eq!(err.code(), "INTEGRITY");

    // Cut short in the middle of a piece, or empty: a load error, no panic.
    for len in [onnx.len() - GraphBytes::PIECE - 7, 0] {
        let (bytes, _) = outside(onnx[..len].to_vec());
        let err = LoadedModel::from_hashed_parts(bytes, None, None, None, vec![]).err().unwrap();
        assert_eq!(err.code(), "MODEL_LOAD", "{len} bytes: {err}");
    }
}

fn multi_io_expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/onnx/multi_io.json")).unwrap()).unwrap()
}

fn multi_io_inputs() -> Vec<NamedTensor> {
    let e = multi_io_expected();
    let a: Vec<f32> = serde_json::from_value(e["inputs"]["a"]["data"].clone()).unwrap();
    let b: Vec<i64> = serde_json::from_value(e["inputs"]["b"]["data"].clone()).unwrap();
    vec![
        NamedTensor { name: "b".into(), shape: vec![2], data: TensorData::I64(b) },
        NamedTensor { name: "a".into(), shape: vec![2, 3], data: TensorData::F32(a) },
    ]
}

#[test]
fn run_serves_several_inputs_and_outputs_of_several_dtypes() {
    let mut model = LoadedModel::from_bytes(fixture("multi_io.onnx"), None).unwrap();
    let m = serde_json::to_value(model.manifest()).unwrap();
    assert!(m.get("task").is_none(), "no labels: no task, run() only");
    assert_eq!(
        m["inputs"],
        json!([{ "name": "a", "dtype": "float32", "shape": ["N", 3] }, { "name": "b", "dtype": "int64", "shape": ["N"] }])
    );
    let outputs = model.run(multi_io_inputs()).unwrap();
    let e = multi_io_expected();
    let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["sum", "mask", "count"]);
    let sum: Vec<f32> = serde_json::from_value(e["outputs"]["sum"]["data"].clone()).unwrap();
    let mask: Vec<bool> = serde_json::from_value(e["outputs"]["mask"]["data"].clone()).unwrap();
    let count: Vec<i64> = serde_json::from_value(e["outputs"]["count"]["data"].clone()).unwrap();
    assert_eq!(outputs[0].data, TensorData::F32(sum));
    assert_eq!(outputs[0].shape, vec![2, 3]);
    assert_eq!(outputs[1].data, TensorData::Bool(mask));
    assert_eq!(outputs[2].data, TensorData::I64(count));
    // Other batch sizes run too.
    let one = vec![
        NamedTensor { name: "a".into(), shape: vec![1, 3], data: TensorData::F32(vec![1.0, 2.0, 3.0]) },
        NamedTensor { name: "b".into(), shape: vec![1], data: TensorData::I64(vec![10]) },
    ];
    assert_eq!(model.run(one).unwrap()[0].data, TensorData::F32(vec![11.0, 12.0, 13.0]));
    // predict() needs a task.
    let err = model.predict(&[0.0; 3]).unwrap_err();
    assert_eq!(err.to_string(), "model 'model' has no task: expected a manifest whose task is classification or regression, for predictions of rows (run() serves any model), got a manifest without a task");
}

#[test]
fn run_errors_name_the_input() {
    let mut model = LoadedModel::from_bytes(fixture("multi_io.onnx"), None).unwrap();
    let mut inputs = multi_io_inputs();
    type Edit = Box<dyn Fn(&mut Vec<NamedTensor>)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|v| { v.remove(0); }), "input \"b\" is missing: expected int64 values of shape [N], got nothing"),
        (Box::new(|v| v[0].name = "c".into()), "input \"c\" is not an input of the model: expected inputs named [\"a\", \"b\"], got \"c\""),
        (Box::new(|v| v[0].data = TensorData::I32(vec![4, -3])), "input \"b\" has the wrong element type: expected int64, got int32"),
        (Box::new(|v| { v[1].shape = vec![3, 2]; }), "input \"a\" has the wrong shape: expected [N, 3], got [3, 2]"),
        (Box::new(|v| { v[1].shape = vec![1, 3]; }), "input \"a\" does not fill its shape: expected 3 values for shape [1, 3], got 6 values"),
        // A shape whose element count overflows usize (found by the boundary fuzzer, in wasm).
        (Box::new(|v| { v[1].shape = vec![usize::MAX / 2, 3]; }), "input \"a\" does not fill its shape: expected a shape of at most 18446744073709551615 values, not [9223372036854775807, 3], got 6 values"),
    ];
    for (edit, message) in cases {
        let mut given = inputs.clone();
        edit(&mut given);
        let err = model.run(given).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(err.code(), "BAD_INPUT");
    }
    inputs.reverse();
    assert_eq!(model.run(inputs).unwrap().len(), 3, "still serving, inputs in any order");
}

#[test]
fn an_unsupported_operator_names_the_operator_and_the_node() {
    let err = LoadedModel::from_bytes(fixture("unsupported.onnx"), None).unwrap_err();
    let message = err.to_string();
    assert_eq!(err.code(), "MODEL_LOAD");
    assert!(message.contains("Frobnicate") && message.contains("frob_1"), "{message}");
}

#[test]
fn max_pools_match_onnxruntime() {
    // 2x2 and 3x3 windows that tile the image run on edgeserve's own pool (src/engine/pool.rs),
    // the overlapping one on tract's; onnxruntime's outputs were recorded by training/fixtures.py.
    let e: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/onnx/pools.json")).unwrap()).unwrap();
    let mut model = LoadedModel::from_bytes(fixture("pools.onnx"), None).unwrap();
    assert!(model.engine_details().rows_independent, "pools keep the batch's rows apart");
    let x: Vec<f32> = serde_json::from_value(e["inputs"]["x"]["data"].clone()).unwrap();
    let shape: Vec<usize> = serde_json::from_value(e["inputs"]["x"]["shape"].clone()).unwrap();
    // Batches of 2 run whole, then (single rows measured) whole or row by row, whichever cost
    // less per row (src/engine/batches.rs): the same outputs either way.
    for batch in BATCHES {
        let len = x.len() / 2 * batch;
        let outputs = model
            .run(vec![NamedTensor {
                name: "x".into(),
                shape: [vec![batch], shape[1..].to_vec()].concat(),
                data: TensorData::F32(x[..len].to_vec()),
            }])
            .unwrap();
        assert_eq!(outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["p2", "p3", "p2s1"]);
        for out in outputs {
            let want: Vec<f32> = serde_json::from_value(e["outputs"][&out.name]["data"].clone()).unwrap();
            let want_shape: Vec<usize> = serde_json::from_value(e["outputs"][&out.name]["shape"].clone()).unwrap();
            assert_eq!(out.shape, [vec![batch], want_shape[1..].to_vec()].concat(), "{}", out.name);
            assert_eq!(
                out.data,
                TensorData::F32(want[..want.len() / 2 * batch].to_vec()),
                "{} at batch {batch}: a max is exact",
                out.name
            );
        }
    }
}

/// The batch sizes the fixtures run at, in turn: enough batches of 2 and single rows for the
/// engine to measure both and then run batches of 2 as it chose.
const BATCHES: [usize; 8] = [2, 1, 2, 2, 1, 2, 2, 2];

/// Runs fixture `name`.onnx at batch 2 and 1 ([`BATCHES`]) on the input in `name`.json
/// (training/fixtures.py: an input `x` of batch 2 and onnxruntime's outputs) and checks every
/// output within `relative`.
fn matches_onnxruntime(name: &str, relative: f32) {
    let e: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/onnx").join(format!("{name}.json"))).unwrap(),
    )
    .unwrap();
    let mut model = LoadedModel::from_bytes(fixture(&format!("{name}.onnx")), None).unwrap();
    let x: Vec<f32> = serde_json::from_value(e["inputs"]["x"]["data"].clone()).unwrap();
    let shape: Vec<usize> = serde_json::from_value(e["inputs"]["x"]["shape"].clone()).unwrap();
    for batch in BATCHES {
        let len = x.len() / 2 * batch;
        let outputs = model
            .run(vec![NamedTensor {
                name: "x".into(),
                shape: [vec![batch], shape[1..].to_vec()].concat(),
                data: TensorData::F32(x[..len].to_vec()),
            }])
            .unwrap();
        assert_eq!(outputs.len(), e["outputs"].as_object().unwrap().len());
        for out in outputs {
            let want: Vec<f32> = serde_json::from_value(e["outputs"][&out.name]["data"].clone()).unwrap();
            let want = &want[..want.len() / 2 * batch];
            let TensorData::F32(got) = &out.data else { panic!("{}: {:?}", out.name, out.data) };
            assert_eq!(got.len(), want.len(), "{}", out.name);
            let worst = got.iter().zip(want).map(|(g, w)| (g - w).abs() / (1.0 + w.abs())).fold(0f32, f32::max);
            assert!(worst <= relative, "{} at batch {batch}: off by {worst} (relative)", out.name);
        }
    }
}

#[test]
fn convolutions_and_a_dense_layer_match_onnxruntime() {
    // Sizes no kernel tile divides, with bias, Relu, Clip and a residual add fused into the
    // matrix products. In wasm the same fixture runs on edgeserve's matrix-multiply kernels
    // (tests/web.rs).
    matches_onnxruntime("convs", 1e-4);
    let model = LoadedModel::from_bytes(fixture("convs.onnx"), None).unwrap();
    assert!(model.engine_details().rows_independent, "convolutions keep the batch's rows apart");
}

#[test]
fn small_convolutions_match_onnxruntime() {
    // Natively tract's im2col and product; in wasm edgeserve's direct convolution (tests/web.rs).
    matches_onnxruntime("small_convs", 1e-4);
}

#[test]
fn dense_layers_of_odd_widths_match_onnxruntime_on_the_row_executor() {
    let model = LoadedModel::from_bytes(fixture("dense.onnx"), None).unwrap();
    assert_eq!(model.engine_name(), "rows");
    matches_onnxruntime("dense", 1e-6);
}

/// indices.onnx's inputs from indices.json, with `edit` applied to the (input name, values) of
/// its int64 inputs.
fn indices_inputs(e: &Value, edit: impl Fn(&str, &mut Vec<i64>)) -> Vec<NamedTensor> {
    ["ids", "x", "j"]
        .iter()
        .map(|&name| {
            let input = &e["inputs"][name];
            let shape: Vec<usize> = serde_json::from_value(input["shape"].clone()).unwrap();
            let data = if input["dtype"] == "int64" {
                let mut values: Vec<i64> = serde_json::from_value(input["data"].clone()).unwrap();
                edit(name, &mut values);
                TensorData::I64(values)
            } else {
                TensorData::F32(serde_json::from_value(input["data"].clone()).unwrap())
            };
            NamedTensor { name: name.into(), shape, data }
        })
        .collect()
}

/// Gather and GatherElements at indices given at run time: onnxruntime's outputs (negative
/// indices included); an index outside the data fails that prediction with an error that names
/// the node, the range and the index (tract 0.23 reads past its data there and panics, a trap in
/// wasm), and the model goes on serving.
#[test]
fn run_time_indices_match_onnxruntime_and_bad_ones_are_refused() {
    let e: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/onnx/indices.json")).unwrap())
            .unwrap();
    let mut model = LoadedModel::from_bytes(fixture("indices.onnx"), None).unwrap();
    let check = |model: &mut LoadedModel| {
        let outputs = model.run(indices_inputs(&e, |_, _| {})).unwrap();
        for output in outputs {
            let TensorData::F32(got) = &output.data else { panic!("{}: not float32", output.name) };
            let want: Vec<f32> = serde_json::from_value(e["outputs"][&output.name]["data"].clone()).unwrap();
            assert_eq!(got, &want, "{}", output.name);
        }
    };
    check(&mut model);
    let cases: [(&str, usize, i64, &str); 4] = [
        ("ids", 1, 6, "Gather \"embed\": expected indices within -6..6 (the data's size on axis 0), got 6"),
        ("ids", 2, -7, "Gather \"embed\": expected indices within -6..6 (the data's size on axis 0), got -7"),
        ("j", 0, 3, "GatherElements \"pick\": expected indices within -3..3 (the data's size on axis 1), got 3"),
        (
            "j",
            5,
            i64::MIN,
            &format!(
                "GatherElements \"pick\": expected indices within -3..3 (the data's size on axis 1), got {}",
                i64::MIN
            ),
        ),
    ];
    for (input, at, value, message) in cases {
        let err = model
            .run(indices_inputs(&e, |name, values| {
                if name == input {
                    values[at] = value
                }
            }))
            .unwrap_err();
        assert_eq!(err.code(), "INFERENCE", "{err}");
        assert!(err.to_string().contains(message), "expected {message:?} in: {err}");
        check(&mut model);
    }
}
