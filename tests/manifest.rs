//! Manifests: the JSON Schema accepts every shipped manifest; edgeserve refuses packages whose
//! bytes, manifest or graph disagree, with errors that name the field, the expected value and
//! the value found.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::*;
use edgeserve::{Error, LoadedModel, Manifest, Package, Registry};
use serde_json::{json, Value};

fn schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schema/manifest.schema.json")).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn manifest_value(name: &str) -> Value {
    serde_json::from_str(&read_manifest(name)).unwrap()
}

#[test]
fn every_shipped_manifest_is_valid_against_the_schema() {
    let schema = schema();
    let mut names = Registry::names();
    names.push("digits-ink".into());
    for name in names {
        let value = manifest_value(&name);
        let errors: Vec<String> = schema.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        Manifest::from_json(&read_manifest(&name)).unwrap();
    }
}

/// Edits that both the schema and edgeserve must refuse, with the field edgeserve names.
#[test]
fn schema_and_parser_refuse_the_same_broken_manifests() {
    let schema = schema();
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "missing sha256",
            Box::new(|m| {
                m.as_object_mut().unwrap().remove("sha256");
            }),
            "sha256",
        ),
        ("version is a number", Box::new(|m| m["version"] = json!(1)), "version"),
        ("unknown dtype", Box::new(|m| m["inputs"][0]["dtype"] = json!("float16x")), "inputs[0].dtype"),
        ("unknown task", Box::new(|m| m["task"] = json!("ranking")), "task"),
        ("unknown field", Box::new(|m| m["lables"] = json!(["a"])), "lables"),
        ("bad role", Box::new(|m| m["outputs"][1]["role"] = json!("probabilities")), "outputs[1].role"),
        ("sha256 not hex", Box::new(|m| m["sha256"] = json!("xyz")), "sha256"),
        ("accuracy over 1", Box::new(|m| m["metrics"]["accuracy"] = json!(1.5)), "metrics.accuracy"),
        (
            "no labels",
            Box::new(|m| {
                m.as_object_mut().unwrap().remove("labels");
            }),
            "labels",
        ),
        ("version not semver", Box::new(|m| m["version"] = json!("1.0")), "version"),
        ("scale is zero", Box::new(|m| m["preprocessing"]["scale"] = json!(0.0)), "preprocessing.scale"),
    ];
    for (what, edit, field) in cases {
        let mut m = manifest_value("digits-fast");
        edit(&mut m);
        assert!(!schema.is_valid(&m), "the schema accepts a manifest with {what}");
        let err = Manifest::from_json(&m.to_string()).unwrap_err();
        match &err {
            Error::Manifest { field: f, .. } => assert_eq!(f, field, "{what}: {err}"),
            other => panic!("{what}: {other}"),
        }
        assert!(err.to_string().contains("expected"), "{err}");
    }
}

#[test]
fn a_wrong_sha256_refuses_the_model() {
    let mut onnx = read_onnx("digits-fast");
    let last = onnx.len() - 1;
    onnx[last] ^= 1;
    let err = Package::from_parts(&read_manifest("digits-fast"), onnx.clone()).unwrap_err();
    let expected = manifest_value("digits-fast")["sha256"].as_str().unwrap().to_owned();
    let found = edgeserve::package::sha256_hex(&onnx);
    assert_eq!(err, Error::Integrity { model: "digits-fast".into(), expected: expected.clone(), found: found.clone() });
    assert_eq!(err.code(), "INTEGRITY");
    let msg = err.to_string();
    assert!(msg.contains(&expected) && msg.contains(&found), "{msg}");
}

/// Loads digits-fast with an edited manifest (its sha256 still right) and returns the error.
fn load_with(edit: impl Fn(&mut Value)) -> Error {
    let mut m = manifest_value("digits-fast");
    edit(&mut m);
    let package = Package::from_parts(&m.to_string(), read_onnx("digits-fast")).unwrap();
    LoadedModel::load(package).unwrap_err()
}

#[test]
fn a_manifest_that_does_not_match_the_graph_is_refused() {
    let err = load_with(|m| m["inputs"][0]["shape"] = json!(["N", 65]));
    assert_eq!(
        err.to_string(),
        "manifest of 'digits-fast', field `inputs[0].shape`: expected [N, 64] (as in model.onnx), found [N, 65]"
    );
    let err = load_with(|m| m["inputs"][0]["name"] = json!("pixels"));
    assert_eq!(
        err.to_string(),
        "manifest of 'digits-fast', field `inputs[0].name`: expected \"X\" (as in model.onnx), found \"pixels\""
    );
    let err = load_with(|m| m["outputs"][0]["dtype"] = json!("int32"));
    assert_eq!(
        err.to_string(),
        "manifest of 'digits-fast', field `outputs[0].dtype`: expected int64 (as in model.onnx), found int32"
    );
    let err = load_with(|m| m["outputs"][1]["name"] = json!("probs"));
    assert!(
        err.to_string()
            .starts_with("manifest of 'digits-fast', field `outputs[1].name`: expected one of the graph's outputs"),
        "{err}"
    );
    assert_eq!(err.code(), "BAD_MANIFEST");
    // Ten labels are wanted by the graph's [N, 10] scores: the manifest's own rules catch 11.
    let mut m = manifest_value("digits-fast");
    m["labels"] = json!(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
    let err = Package::from_parts(&m.to_string(), read_onnx("digits-fast")).unwrap_err();
    assert_eq!(err.to_string(), "manifest of 'digits-fast', field `outputs[1].shape`: expected [N, 11], found [N, 10]");
}

#[test]
fn a_corrupt_onnx_file_is_refused_with_a_load_error() {
    for bytes in [read_onnx("digits-fast")[..100].to_vec(), b"this is not an ONNX file".to_vec()] {
        let mut m = manifest_value("digits-fast");
        m["sha256"] = json!(edgeserve::package::sha256_hex(&bytes));
        let package = Package::from_parts(&m.to_string(), bytes).unwrap();
        let err = LoadedModel::load(package).unwrap_err();
        assert_eq!(err.code(), "MODEL_LOAD", "{err}");
        assert!(err.to_string().starts_with("model 'digits-fast' could not be loaded: parsing the ONNX file"), "{err}");
    }
}

#[test]
fn unknown_names_list_the_models_there_are() {
    let err = LoadedModel::embedded("digits-huge").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown model 'digits-huge': expected one of [\"digits-accurate\", \"digits-fast\"], got 'digits-huge'"
    );
    assert_eq!(err.code(), "UNKNOWN_MODEL");
}

#[test]
fn bad_inputs_are_refused_and_the_model_keeps_working() {
    let mut model = LoadedModel::embedded("digits-accurate").unwrap();
    let good = golden("digits-accurate").cases.remove(0);
    let mut nan = good.input.clone();
    nan[10] = f32::NAN;
    let mut inf = good.input.clone();
    inf[63] = f32::INFINITY;
    let mut big = good.input.clone();
    big[0] = 255.0;
    let cases: Vec<(Vec<f32>, &str)> = vec![
        (vec![], "input has the wrong length: expected 64 raw features, got 0 values"),
        (vec![0.0; 63], "input has the wrong length: expected 64 raw features, got 63 values"),
        (vec![0.0; 65], "input has the wrong length: expected 64 raw features, got 65 values"),
        (nan, "input[10] is not a finite number: expected finite numbers, got NaN"),
        (inf, "input[63] is not a finite number: expected finite numbers, got inf"),
        (big, "input[0] is outside the raw range of the model's features: expected values from 0 to 16, got 255"),
    ];
    for (input, message) in cases {
        let err = model.predict(&input).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(err.code(), "BAD_INPUT");
        let ok = model.predict(&good.input).unwrap();
        let edgeserve::Prediction::Class { index, scores, .. } = ok.prediction else { panic!() };
        assert_eq!(Some(index), good.expected.index);
        assert!(max_abs_diff(&scores, good.expected.scores.as_ref().unwrap()) <= TOLERANCE);
    }
}

#[test]
fn dtype_names_are_the_manifest_format_s() {
    use edgeserve::manifest::DType;
    let all = [
        DType::Float32,
        DType::Float64,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Uint8,
        DType::Uint16,
        DType::Uint32,
        DType::Uint64,
        DType::Bool,
    ];
    for d in all {
        // The name used in messages and run() results is the one manifests spell.
        assert_eq!(serde_json::to_value(d).unwrap(), Value::String(d.as_str().to_owned()));
        assert_eq!(d.to_string(), d.as_str());
        assert_eq!(serde_json::from_value::<DType>(Value::String(d.as_str().to_owned())).unwrap(), d);
    }
}
