//! Writes the lean build's forms of model packages: `model.nnef.tar` (tract's typed, simplified
//! graph) and the `nnef` field of `manifest.json` (its sha256 and the tract version that wrote
//! it); and, when edgeserve's row executor covers the graph, `model.rows` (its row program) and
//! the `rows` field (sha256, format); for an OCR package, the NNEF form of each stage beside its
//! ONNX file (`recognizer.nnef.tar`) and the stage's `nnef` field. Run by `make models-nnef` (and by `make models`):
//!
//!     cargo run --example models-nnef -- [package directory ...]   (default: every models/*)
//!
//! Both are the same byte for byte for the same model.onnx and versions, and `tests/nnef.rs`
//! checks that every shipped package's are up to date.

use std::path::{Path, PathBuf};

use edgeserve::engine::TRACT_VERSION;
use edgeserve::manifest::NnefForm;
use edgeserve::pack::LeanForms;
use edgeserve::package::{sha256_hex, Form};
use edgeserve::{LoadedModel, Package};

fn export(dir: &Path) -> Result<String, String> {
    let read = |f: &str| std::fs::read(dir.join(f)).map_err(|e| format!("{}: {e}", dir.join(f).display()));
    let manifest_text = String::from_utf8(read("manifest.json")?).map_err(|e| format!("manifest.json: {e}"))?;
    let onnx = read("model.onnx")?;
    let onnx_len = onnx.len();
    let mut package = Package::from_parts(&manifest_text, onnx).map_err(|e| e.to_string())?;
    if let edgeserve::preprocess::Preprocessing::Text(text) = &package.manifest().preprocessing {
        let tokenizer = read(&text.tokenizer.file)?;
        package = package.with_tokenizer(tokenizer).map_err(|e| e.to_string())?;
    }
    for (file, _) in package.manifest().files(Form::Onnx) {
        let bytes = read(&file)?;
        package = package.with_file(&file, bytes).map_err(|e| e.to_string())?;
    }
    let stages = package.manifest().ocr.as_ref().map(|ocr| ocr.stages().into_iter().cloned().collect::<Vec<_>>());
    let model = LoadedModel::load(package).map_err(|e| e.to_string())?;
    let forms = LeanForms::of(&model).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("model.nnef.tar"), &forms.nnef).map_err(|e| e.to_string())?;
    // The rows form when the graph is a row program; none (and no stale one) when it is not.
    let rows_path = dir.join("model.rows");
    match &forms.rows {
        Ok(bytes) => std::fs::write(&rows_path, bytes).map_err(|e| e.to_string())?,
        Err(_) if rows_path.exists() => std::fs::remove_file(&rows_path).map_err(|e| e.to_string())?,
        Err(_) => {}
    }

    // serde_json keeps the fields' order (its preserve_order feature), so the rest of the
    // manifest stays as training/train.py wrote it.
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest_text).map_err(|e| e.to_string())?;
    let object = manifest.as_object_mut().ok_or("manifest.json is not an object")?;
    let (nnef, rows) = forms.fields();
    let sha256 = nnef.sha256.clone();
    object.insert("nnef".into(), serde_json::to_value(nnef).map_err(|e| e.to_string())?);
    match rows {
        Some(rows) => object.insert("rows".into(), serde_json::to_value(rows).map_err(|e| e.to_string())?),
        None => object.remove("rows"),
    };
    // An OCR package's stages: each NNEF form beside its ONNX file, its `nnef` field in the
    // stage's settings.
    let mut stage_notes = String::new();
    for stage in stages.unwrap_or_default() {
        let Some((_, bytes)) = forms.stages.iter().find(|(file, _)| *file == stage.file) else {
            return Err(format!("no NNEF form of the stage {}", stage.file));
        };
        let file = stage.file_in(Form::Nnef);
        std::fs::write(dir.join(&file), bytes).map_err(|e| e.to_string())?;
        let key =
            if manifest["ocr"]["recognizer"]["file"] == stage.file.as_str() { "recognizer" } else { "classifier" };
        let field = NnefForm { sha256: sha256_hex(bytes), tract: TRACT_VERSION.into() };
        manifest["ocr"][key]["nnef"] = serde_json::to_value(field).map_err(|e| e.to_string())?;
        stage_notes.push_str(&format!(", {file} {} bytes", bytes.len()));
    }
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
    std::fs::write(dir.join("manifest.json"), text).map_err(|e| e.to_string())?;
    let rows_note = match &forms.rows {
        Ok(bytes) => format!("model.rows {} bytes", bytes.len()),
        Err(why) => format!("no model.rows ({why})"),
    };
    Ok(format!(
        "{}: model.nnef.tar {} bytes, {rows_note}{stage_notes} (model.onnx {} bytes), sha256 {sha256}",
        dir.display(),
        forms.nnef.len(),
        onnx_len
    ))
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
