//! The lean forms of the shipped packages (`model.nnef.tar` and `model.rows`, which the lean
//! builds embed) are up to date: written again from `model.onnx` now, each is the same byte for
//! byte, and the manifest records their sha256s, the tract version and the rows format. (That
//! they predict what onnxruntime recorded is `tests/golden.rs`.)
#![cfg(all(not(target_family = "wasm"), feature = "onnx"))]

mod common;

use common::*;
use edgeserve::engine::{rows, TRACT_VERSION};
use edgeserve::package::sha256_hex;
use edgeserve::{LoadedModel, Manifest, Package, Registry};

#[test]
fn nnef_forms_are_up_to_date() {
    for name in Registry::names() {
        let package = Package::from_parts(&read_manifest(&name), read_onnx(&name)).unwrap();
        let fresh = LoadedModel::load(package).unwrap().to_nnef().unwrap();
        let shipped = read_nnef(&name);
        assert!(fresh == shipped, "{name}: model.nnef.tar is not what model.onnx gives now: run `make models-nnef`");
        let nnef = Manifest::from_json(&read_manifest(&name)).unwrap().nnef.expect("an `nnef` field");
        assert_eq!(nnef.sha256, sha256_hex(&shipped), "{name}: manifest nnef.sha256");
        assert_eq!(nnef.tract, TRACT_VERSION, "{name}: manifest nnef.tract");
    }
}

#[test]
fn rows_forms_are_up_to_date() {
    for name in Registry::names() {
        let package = Package::from_parts(&read_manifest(&name), read_onnx(&name)).unwrap();
        let fresh = LoadedModel::load(package).unwrap().to_rows().unwrap();
        let shipped = read_rows(&name);
        assert!(fresh == shipped, "{name}: model.rows is not what model.onnx gives now: run `make models-nnef`");
        let form = Manifest::from_json(&read_manifest(&name)).unwrap().rows.expect("a `rows` field");
        assert_eq!(form.sha256, sha256_hex(&shipped), "{name}: manifest rows.sha256");
        assert_eq!(form.format, rows::FORMAT, "{name}: manifest rows.format");
    }
}

/// A graph the row executor does not cover has no rows form, and says why.
#[test]
fn a_cnn_has_no_rows_form() {
    let onnx = std::fs::read(root().join("tests/fixtures/onnx/pools.onnx")).unwrap();
    let err = LoadedModel::from_bytes(onnx, None).unwrap().to_rows().unwrap_err();
    assert_eq!(err.code(), "MODEL_LOAD");
    assert!(err.to_string().contains("MaxPool"), "{err}");
}

#[test]
fn tract_version_is_the_one_cargo_toml_pins() {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for krate in ["tract-nnef", "tract-onnx-opl", "tract-onnx"] {
        let pin = format!("{krate} = {{ version = \"={TRACT_VERSION}\"");
        assert!(cargo.contains(&pin), "Cargo.toml should pin {krate} to ={TRACT_VERSION} (engine::TRACT_VERSION)");
    }
}
