//! The NNEF form of the shipped packages (`model.nnef.tar`, which the lean build embeds) is up
//! to date: written again from `model.onnx` now, it is the same byte for byte, and the manifest
//! records its sha256 and the tract version edgeserve is built with. (That the NNEF form
//! predicts what onnxruntime recorded is `tests/golden.rs`.)
#![cfg(all(not(target_family = "wasm"), feature = "onnx"))]

mod common;

use common::*;
use edgeserve::engine::TRACT_VERSION;
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
fn tract_version_is_the_one_cargo_toml_pins() {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for krate in ["tract-nnef", "tract-onnx-opl", "tract-onnx"] {
        let pin = format!("{krate} = {{ version = \"={TRACT_VERSION}\"");
        assert!(cargo.contains(&pin), "Cargo.toml should pin {krate} to ={TRACT_VERSION} (engine::TRACT_VERSION)");
    }
}
