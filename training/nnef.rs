//! Writes the NNEF form of model packages: `model.nnef.tar` (tract's typed, simplified graph,
//! what the lean build embeds) and the `nnef` field of `manifest.json` (its sha256 and the tract
//! version that wrote it). Run by `make models-nnef` (and by `make models` after training):
//!
//!     cargo run --example models-nnef -- [package directory ...]   (default: every models/*)
//!
//! The tar is the same byte for byte for the same model.onnx and tract version, and
//! `tests/nnef.rs` checks that every shipped package's is up to date.

use std::path::{Path, PathBuf};

use edgeserve::{engine::TRACT_VERSION, package::sha256_hex, LoadedModel, Package};

fn export(dir: &Path) -> Result<String, String> {
    let read = |f: &str| std::fs::read(dir.join(f)).map_err(|e| format!("{}: {e}", dir.join(f).display()));
    let manifest_text = String::from_utf8(read("manifest.json")?).map_err(|e| format!("manifest.json: {e}"))?;
    let onnx = read("model.onnx")?;
    let onnx_len = onnx.len();
    let package = Package::from_parts(&manifest_text, onnx).map_err(|e| e.to_string())?;
    let nnef = LoadedModel::load(package).and_then(|m| m.to_nnef()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("model.nnef.tar"), &nnef).map_err(|e| e.to_string())?;

    // serde_json keeps the fields' order (its preserve_order feature), so the rest of the
    // manifest stays as training/train.py wrote it.
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest_text).map_err(|e| e.to_string())?;
    let object = manifest.as_object_mut().ok_or("manifest.json is not an object")?;
    let sha256 = sha256_hex(&nnef);
    object.insert("nnef".into(), serde_json::json!({ "sha256": sha256, "tract": TRACT_VERSION }));
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
    std::fs::write(dir.join("manifest.json"), text).map_err(|e| e.to_string())?;
    Ok(format!("{}: model.nnef.tar {} bytes (model.onnx {} bytes), sha256 {sha256}", dir.display(), nnef.len(), onnx_len))
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        let entries = std::fs::read_dir(root.join("models")).unwrap_or_else(|e| panic!("models/: {e}"));
        dirs = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("model.onnx").is_file()).collect();
        dirs.sort();
    }
    let mut failed = false;
    for dir in dirs {
        match export(&dir) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                failed = true;
            }
        }
    }
    std::process::exit(i32::from(failed));
}
