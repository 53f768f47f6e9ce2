//! The build embeds the package set that `EDGESERVE_MODELS` names (default: `models/`).
//! `make test` runs this file twice: as part of `cargo test`, and again with
//! `EDGESERVE_MODELS=tests/fixtures/models`, a set holding one regression package, which is
//! then served through the boundary like any other.
#![cfg(not(target_family = "wasm"))]

mod common;

use common::*;
use edgeserve::wasm::Model;
use serde_json::json;

fn package_dirs(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_embedded_set_is_the_one_the_build_was_given() {
    let dir = match option_env!("EDGESERVE_MODELS") {
        Some(d) if !d.is_empty() => root().join(d),
        _ => root().join("models"),
    };
    assert_eq!(Model::names(), package_dirs(&dir), "embedded from {}", dir.display());
}

#[test]
fn every_embedded_package_serves_its_golden_outputs_through_the_boundary() {
    for name in Model::names() {
        let mut model = Model::load(&name).unwrap();
        for case in golden(&name).cases {
            let r = model.predict(json!(case.input)).unwrap();
            assert!(r["latencyMs"].as_f64().unwrap() >= 0.0);
            if let Some(values) = &case.expected.values {
                // A regression result is { values, latencyMs }.
                assert_eq!(r.as_object().unwrap().len(), 2, "{r}");
                let got: Vec<f32> = serde_json::from_value(r["values"].clone()).unwrap();
                let d = got.iter().zip(values).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f32::max);
                assert!(d <= TOLERANCE, "{name}: {got:?} vs {values:?}");
            } else {
                assert_eq!(r["label"], json!(case.expected.label.unwrap()));
            }
        }
    }
}
