//! Shared by the native integration tests: the shipped packages and their golden outputs.
#![allow(dead_code)]

use std::path::PathBuf;

#[cfg(feature = "ocr")]
pub mod ocr;
#[cfg(feature = "text")]
pub mod text;

use serde::Deserialize;

/// How close edgeserve's scores must be to onnxruntime's (absolute, per value).
pub const TOLERANCE: f32 = 1e-5;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn package_dir(name: &str) -> PathBuf {
    let shipped = root().join("models").join(name);
    if shipped.is_dir() {
        shipped
    } else {
        root().join("tests/fixtures/models").join(name)
    }
}

pub fn read_manifest(name: &str) -> String {
    std::fs::read_to_string(package_dir(name).join("manifest.json")).unwrap()
}

pub fn read_onnx(name: &str) -> Vec<u8> {
    std::fs::read(package_dir(name).join("model.onnx")).unwrap()
}

pub fn read_nnef(name: &str) -> Vec<u8> {
    std::fs::read(package_dir(name).join("model.nnef.tar"))
        .unwrap_or_else(|e| panic!("{name}/model.nnef.tar ({e}): run `make models-nnef`"))
}

pub fn read_rows(name: &str) -> Vec<u8> {
    std::fs::read(package_dir(name).join("model.rows"))
        .unwrap_or_else(|e| panic!("{name}/model.rows ({e}): run `make models-nnef`"))
}

#[derive(Debug, Deserialize)]
pub struct Golden {
    pub model: String,
    pub sha256: String,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub input: Vec<f32>,
    pub expected: Expected,
}

#[derive(Debug, Deserialize)]
pub struct Expected {
    pub label: Option<String>,
    pub index: Option<usize>,
    pub scores: Option<Vec<f32>>,
    pub values: Option<Vec<f32>>,
}

pub fn golden(name: &str) -> Golden {
    serde_json::from_str(&std::fs::read_to_string(package_dir(name).join("golden.json")).unwrap()).unwrap()
}

/// The largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}
