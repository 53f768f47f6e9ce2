//! Shared by the native tests of text packages (tests/text.rs, tests/lean_text.rs): the packages
//! `make models-text` makes (in target/models-text, or the directory in EDGESERVE_TEXT_MODELS)
//! and the references recorded with them.

use std::path::PathBuf;

use edgeserve::task::embedding::cosine;
use edgeserve::LoadedModel;
use serde_json::Value;

use super::root;

pub fn dir(name: &str) -> PathBuf {
    let base =
        std::env::var("EDGESERVE_TEXT_MODELS").map(PathBuf::from).unwrap_or_else(|_| root().join("target/models-text"));
    let d = base.join(name);
    assert!(d.join("manifest.json").is_file(), "{} has no text package: run `make models-text` first", d.display());
    d
}

pub fn read(name: &str, file: &str) -> Vec<u8> {
    std::fs::read(dir(name).join(file)).unwrap()
}

pub fn json_file(name: &str, file: &str) -> Value {
    serde_json::from_slice(&read(name, file)).unwrap()
}

pub fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

/// Each golden text alone (within `max_abs` and `min_cosine` of onnxruntime's vector) and all of
/// them as one batch (within `min_batch_cosine`: an int8 graph's dynamic quantization takes one
/// scale per tensor, padding and the other texts included, so a batch moves its vectors).
pub fn check_golden(name: &str, model: &mut LoadedModel, max_abs: f32, min_cosine: f32, min_batch_cosine: f32) {
    let golden = json_file(name, "golden.json");
    let rows = golden["texts"].as_array().unwrap();
    assert!(rows.len() >= 50);
    let texts: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap()).collect();
    let want: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| r["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect();
    let (batch, _) = model.embed(&texts).unwrap();
    assert_eq!((batch.rows, batch.dim), (texts.len(), 384));
    let (mut worst_abs, mut worst_cos, mut worst_batch) = (0f32, 1f32, 1f32);
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(model.tokenize(text).unwrap().ids, u32s(&rows[i]["ids"]), "ids of {text:?}");
        let (one, _) = model.embed(&[text]).unwrap();
        worst_abs = worst_abs.max(one.row(0).iter().zip(&want[i]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max));
        worst_cos = worst_cos.min(cosine(one.row(0), &want[i]));
        worst_batch = worst_batch.min(cosine(batch.row(i), &want[i]));
        let norm: f32 = one.row(0).iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{text:?}: norm {norm}");
    }
    println!("{name}: {} golden texts: alone max abs diff {worst_abs:.2e}, min cosine {worst_cos:.6}; batched min cosine {worst_batch:.6}", texts.len());
    assert!(
        worst_abs <= max_abs && worst_cos >= min_cosine,
        "{name}: max abs diff {worst_abs} (bound {max_abs}), min cosine {worst_cos} (bound {min_cosine})"
    );
    assert!(worst_batch >= min_batch_cosine, "{name}: batched, min cosine {worst_batch} (bound {min_batch_cosine})");
}
