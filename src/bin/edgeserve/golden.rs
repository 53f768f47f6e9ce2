//! A new package's first run, and its golden outputs: inputs drawn with a fixed seed, run by
//! onnxruntime (through Python, when it has it) and by edgeserve, compared, and recorded in
//! golden.json in the form the packages of this repository use.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use edgeserve::manifest::{DType, Dim, Role, Task};
use edgeserve::model::Predictions;
use edgeserve::preprocess::{Preprocessing, RowName};
use edgeserve::tensor::{NamedTensor, TensorData};
use edgeserve::LoadedModel;
use serde_json::{json, Value};

use crate::CliError;

/// Runs onnxruntime on the cases given on stdin; prints each case's outputs, in the graph's order.
const ONNXRUNTIME_SCRIPT: &str = r#"
import json, sys
import numpy as np
import onnxruntime as ort
request = json.load(sys.stdin)
session = ort.InferenceSession(request["model"], providers=["CPUExecutionProvider"])
names = [o.name for o in session.get_outputs()]
cases = []
for case in request["cases"]:
    feed = {k: np.array(v["data"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in case.items()}
    outs = session.run(names, feed)
    cases.append([{"name": n, "dtype": str(np.asarray(o).dtype), "shape": list(np.asarray(o).shape),
                   "data": np.asarray(o).ravel().tolist()} for n, o in zip(names, outs)])
json.dump({"version": ort.__version__, "cases": cases}, sys.stdout)
"#;

/// A deterministic generator of inputs (xorshift64*), so that golden.json is the same each time.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The input shapes of a run of one item: each symbolic dimension 1.
fn one_item_shape(shape: &[Dim]) -> Vec<usize> {
    shape.iter().map(|d| if let Dim::Fixed(n) = d { *n as usize } else { 1 }).collect()
}

fn zeros(dtype: DType, n: usize) -> TensorData {
    match dtype {
        DType::Float32 => TensorData::F32(vec![0.0; n]),
        DType::Float64 => TensorData::F64(vec![0.0; n]),
        DType::Int8 => TensorData::I8(vec![0; n]),
        DType::Int16 => TensorData::I16(vec![0; n]),
        DType::Int32 => TensorData::I32(vec![0; n]),
        DType::Int64 => TensorData::I64(vec![0; n]),
        DType::Uint8 => TensorData::U8(vec![0; n]),
        DType::Uint16 => TensorData::U16(vec![0; n]),
        DType::Uint32 => TensorData::U32(vec![0; n]),
        DType::Uint64 => TensorData::U64(vec![0; n]),
        DType::Bool => TensorData::Bool(vec![false; n]),
    }
}

/// Drawn values: floats in [0, 1), integers 0 or 1 (safe as indices), booleans.
fn drawn(dtype: DType, n: usize, draw: &mut Draw) -> TensorData {
    let mut bits = || draw.next() < 0.5;
    match dtype {
        DType::Float32 => TensorData::F32((0..n).map(|_| draw.next() as f32).collect()),
        DType::Float64 => TensorData::F64((0..n).map(|_| draw.next()).collect()),
        DType::Bool => TensorData::Bool((0..n).map(|_| bits()).collect()),
        DType::Int8 => TensorData::I8((0..n).map(|_| i8::from(bits())).collect()),
        DType::Int16 => TensorData::I16((0..n).map(|_| i16::from(bits())).collect()),
        DType::Int32 => TensorData::I32((0..n).map(|_| i32::from(bits())).collect()),
        DType::Int64 => TensorData::I64((0..n).map(|_| i64::from(bits())).collect()),
        DType::Uint8 => TensorData::U8((0..n).map(|_| u8::from(bits())).collect()),
        DType::Uint16 => TensorData::U16((0..n).map(|_| u16::from(bits())).collect()),
        DType::Uint32 => TensorData::U32((0..n).map(|_| u32::from(bits())).collect()),
        DType::Uint64 => TensorData::U64((0..n).map(|_| u64::from(bits())).collect()),
    }
}

fn data_json(data: &TensorData) -> Value {
    match data {
        TensorData::F32(v) => json!(v),
        TensorData::F64(v) => json!(v),
        TensorData::I8(v) => json!(v),
        TensorData::I16(v) => json!(v),
        TensorData::I32(v) => json!(v),
        TensorData::I64(v) => json!(v),
        TensorData::U8(v) => json!(v),
        TensorData::U16(v) => json!(v),
        TensorData::U32(v) => json!(v),
        TensorData::U64(v) => json!(v),
        TensorData::Bool(v) => json!(v),
    }
}

/// A tensor's values as f64 (booleans 0 and 1), to compare.
fn as_f64(data: &TensorData) -> Vec<f64> {
    match data {
        TensorData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
        TensorData::F64(v) => v.clone(),
        TensorData::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
        TensorData::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
        TensorData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
        TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
        TensorData::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
        TensorData::U16(v) => v.iter().map(|&x| f64::from(x)).collect(),
        TensorData::U32(v) => v.iter().map(|&x| f64::from(x)).collect(),
        TensorData::U64(v) => v.iter().map(|&x| x as f64).collect(),
        TensorData::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
    }
}

fn tensor_json(t: &NamedTensor) -> Value {
    json!({ "dtype": t.data.dtype().as_str(), "shape": t.shape, "data": data_json(&t.data) })
}

/// The inputs of one run on zeros, one item per input (symbolic dimensions 1).
fn zero_inputs(model: &LoadedModel) -> Vec<NamedTensor> {
    model
        .manifest()
        .inputs
        .iter()
        .map(|i| {
            let shape = one_item_shape(&i.shape);
            NamedTensor { name: i.name.clone(), data: zeros(i.dtype, shape.iter().product()), shape }
        })
        .collect()
}

/// Runs the model once on zeros; says the shapes of what came out.
pub fn run_once_on_zeros(model: &mut LoadedModel) -> Result<String, CliError> {
    let outputs = model.run(zero_inputs(model))?;
    Ok(outputs.iter().map(|o| format!("{} {:?}", o.name, o.shape)).collect::<Vec<_>>().join(", "))
}

/// What [`record`] did.
pub enum Recorded {
    /// golden.json's text, the reference's name, how many inputs, and the largest difference
    /// between edgeserve's outputs and the reference's.
    Written { golden: String, reference: String, cases: usize, max_difference: f64 },
    /// Why there is no reference here.
    NoReference(String),
}

/// Whether this package predicts rows of raw features (a task with a row input).
fn is_row_task(model: &LoadedModel) -> bool {
    let m = model.manifest();
    matches!(m.task, Some(Task::Classification | Task::Regression))
        && !matches!(m.preprocessing, Preprocessing::Text(_) | Preprocessing::Image(_))
}

/// Records golden.json: `cases` inputs, onnxruntime's outputs for them, checked against
/// edgeserve's. A row task's cases are raw rows with the expected predictions (as `predict`
/// gives them); any other model's, `run()` inputs and outputs by name.
pub fn record(model: &mut LoadedModel, onnx_path: &Path, python: &str, cases: usize) -> Result<Recorded, CliError> {
    let probe = Command::new(python).args(["-c", "import onnxruntime, numpy"]).stderr(Stdio::null()).status();
    if !probe.is_ok_and(|s| s.success()) {
        return Ok(Recorded::NoReference(format!(
            "{python} cannot import onnxruntime and numpy (pip install onnxruntime), so there is no reference to record"
        )));
    }
    let manifest = model.manifest().clone();
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let row_task = is_row_task(model);

    // The inputs: raw rows (a row task) and the graph inputs they become, or graph inputs.
    let mut raw_rows: Vec<Vec<f32>> = Vec::new();
    let mut graph_inputs: Vec<Vec<NamedTensor>> = Vec::new();
    if row_task {
        let width = model.width();
        let range = match &manifest.preprocessing {
            Preprocessing::None { range }
            | Preprocessing::Affine { range, .. }
            | Preprocessing::Standardize { range, .. } => range.unwrap_or([0.0, 1.0]),
            Preprocessing::Text(_) | Preprocessing::Audio(_) | Preprocessing::Image(_) => [0.0, 1.0],
        };
        let input = &manifest.inputs[0];
        for case in 0..cases {
            let raw: Vec<f32> = (0..width).map(|_| range[0] + (range[1] - range[0]) * draw.next() as f32).collect();
            let mut features = Vec::with_capacity(width);
            manifest.preprocessing.apply_row(&raw, width, RowName::Row(case), &mut features)?;
            let mut shape = one_item_shape(&input.shape);
            shape[0] = 1;
            graph_inputs.push(vec![NamedTensor { name: input.name.clone(), shape, data: TensorData::F32(features) }]);
            raw_rows.push(raw);
        }
    } else {
        for _ in 0..cases {
            graph_inputs.push(
                manifest
                    .inputs
                    .iter()
                    .map(|i| {
                        let shape = one_item_shape(&i.shape);
                        NamedTensor {
                            name: i.name.clone(),
                            data: drawn(i.dtype, shape.iter().product(), &mut draw),
                            shape,
                        }
                    })
                    .collect(),
            );
        }
    }

    // onnxruntime's outputs.
    let request = json!({
        "model": onnx_path.canonicalize().map_err(|source| CliError::Io { path: onnx_path.to_owned(), source })?,
        "cases": graph_inputs.iter().map(|inputs| {
            inputs.iter().map(|t| (t.name.clone(), tensor_json(t))).collect::<serde_json::Map<_, _>>()
        }).collect::<Vec<_>>(),
    });
    let reference = run_python(python, &request.to_string())?;
    let version = reference["version"].as_str().unwrap_or("?").to_owned();
    let reference_name = format!("onnxruntime {version} (CPUExecutionProvider)");
    let ort_cases = reference["cases"].as_array().cloned().unwrap_or_default();
    if ort_cases.len() != cases {
        return Err(CliError::Check(format!("onnxruntime gave {} cases for {cases}", ort_cases.len())));
    }
    let output_values = |case: &Value, name: &str| -> Vec<f64> {
        case.as_array()
            .and_then(|outs| outs.iter().find(|o| o["name"] == name))
            .and_then(|o| o["data"].as_array())
            .map(|d| {
                d.iter().map(|v| v.as_f64().unwrap_or_else(|| f64::from(u8::from(v.as_bool() == Some(true))))).collect()
            })
            .unwrap_or_default()
    };

    let mut max_difference = 0f64;
    let mut compare = |what: &str, ours: &[f64], theirs: &[f64]| -> Result<(), CliError> {
        if ours.len() != theirs.len() {
            return Err(CliError::Check(format!(
                "{what}: edgeserve gave {} values, onnxruntime {}",
                ours.len(),
                theirs.len()
            )));
        }
        let scale = theirs.iter().fold(1f64, |m, v| m.max(v.abs()));
        for (a, b) in ours.iter().zip(theirs) {
            let d = (a - b).abs();
            max_difference = max_difference.max(d);
            if d > 1e-4 * scale || d.is_nan() {
                return Err(CliError::Check(format!(
                    "{what}: edgeserve and onnxruntime disagree ({a} against {b}): the package would not serve what the model computes"
                )));
            }
        }
        Ok(())
    };

    let golden_cases: Vec<Value> = if row_task {
        let flat: Vec<f32> = raw_rows.concat();
        let ours: Predictions = model.predict_batch(flat, cases.max(1))?.predictions;
        let labels = model.labels().to_vec();
        let scores_output = manifest.outputs.iter().find(|o| o.role == Some(Role::Scores)).map(|o| o.name.clone());
        let label_output = manifest.outputs.iter().find(|o| o.role == Some(Role::Label)).map(|o| o.name.clone());
        let mut out = Vec::new();
        for (case, ort) in ort_cases.iter().enumerate() {
            let expected = if manifest.task == Some(Task::Classification) {
                let scores = output_values(ort, scores_output.as_deref().unwrap_or_default());
                let index = match &label_output {
                    Some(name) => output_values(ort, name).first().copied().unwrap_or(-1.0) as i64,
                    None => edgeserve::model::argmax(&scores.iter().map(|&s| s as f32).collect::<Vec<_>>()) as i64,
                };
                let k = labels.len();
                let our_scores: Vec<f64> =
                    ours.scores[case * k..(case + 1) * k].iter().map(|&s| f64::from(s)).collect();
                compare(&format!("case {case}, scores"), &our_scores, &scores)?;
                if i64::from(ours.indices[case]) != index {
                    return Err(CliError::Check(format!(
                        "case {case}: edgeserve predicts class {}, onnxruntime {index}",
                        ours.indices[case]
                    )));
                }
                let label = usize::try_from(index).ok().and_then(|i| labels.get(i)).cloned().unwrap_or_default();
                json!({ "label": label, "index": index, "scores": scores.iter().map(|&s| s as f32).collect::<Vec<_>>() })
            } else {
                let values: Vec<f64> = manifest
                    .outputs
                    .iter()
                    .filter(|o| o.role == Some(Role::Value))
                    .flat_map(|o| output_values(ort, &o.name))
                    .collect();
                let per_row = ours.values.len() / cases.max(1);
                let our_values: Vec<f64> =
                    ours.values[case * per_row..(case + 1) * per_row].iter().map(|&v| f64::from(v)).collect();
                compare(&format!("case {case}, values"), &our_values, &values)?;
                json!({ "values": values.iter().map(|&v| v as f32).collect::<Vec<_>>() })
            };
            out.push(json!({ "input": raw_rows[case], "expected": expected }));
        }
        out
    } else {
        let mut out = Vec::new();
        for (case, (inputs, ort)) in graph_inputs.into_iter().zip(&ort_cases).enumerate() {
            let inputs_json: serde_json::Map<String, Value> =
                inputs.iter().map(|t| (t.name.clone(), tensor_json(t))).collect();
            let ours = model.run(inputs)?;
            for o in &ours {
                compare(&format!("case {case}, output {}", o.name), &as_f64(&o.data), &output_values(ort, &o.name))?;
            }
            let outputs: serde_json::Map<String, Value> = ort
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| {
                    (
                        o["name"].as_str().unwrap_or_default().to_owned(),
                        json!({ "dtype": o["dtype"], "shape": o["shape"], "data": o["data"] }),
                    )
                })
                .collect();
            out.push(json!({ "inputs": inputs_json, "outputs": outputs }));
        }
        out
    };
    let note = if row_task {
        "inputs are raw features (before preprocessing), drawn with a fixed seed; expected are the model's outputs"
    } else {
        "run() inputs drawn with a fixed seed (floats in [0, 1), integers 0 or 1), and the graph's outputs for them"
    };
    let golden = json!({
        "model": manifest.name,
        "sha256": manifest.sha256,
        "reference": reference_name,
        "note": note,
        "cases": golden_cases,
    });
    let text = serde_json::to_string_pretty(&golden).map_err(|e| CliError::Check(e.to_string()))? + "\n";
    Ok(Recorded::Written { golden: text, reference: reference_name, cases, max_difference })
}

fn run_python(python: &str, request: &str) -> Result<Value, CliError> {
    let mut child = Command::new(python)
        .args(["-c", ONNXRUNTIME_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| CliError::Io { path: python.into(), source })?;
    child
        .stdin
        .take()
        .ok_or_else(|| CliError::Check("no stdin for python".into()))?
        .write_all(request.as_bytes())
        .map_err(|source| CliError::Io { path: python.into(), source })?;
    let output = child.wait_with_output().map_err(|source| CliError::Io { path: python.into(), source })?;
    if !output.status.success() {
        return Err(CliError::Check(format!(
            "onnxruntime could not run the model: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| CliError::Check(format!("onnxruntime's outputs: {e}")))
}
