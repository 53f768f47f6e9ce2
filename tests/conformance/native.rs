//! The native side of edgeserve's ONNX conformance run: every case that `prepare.py` wrote goes
//! through edgeserve's core (`LoadedModel::from_bytes` + `run`, i.e. native tract), and the
//! outputs are written for `report.py` to compare with onnx's reference outputs.
//!
//! Usage: `cargo run --example conformance -- <dir>` (dir as given to prepare.py, default
//! `target/conformance`); writes `<dir>/out/native/<suite>/<case>/result.json` and the outputs'
//! raw little-endian bytes beside it (`set<k>.<output name>.bin`). The wasm side
//! (`run-wasm.mjs`) writes the same layout under `out/wasm/`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../common/raw.rs"]
mod raw;

use edgeserve::tensor::NamedTensor;
use edgeserve::LoadedModel;
use raw::{decode, encode, panic_message};
use serde_json::{json, Value};

type Failure = (String, String); // (stage: "load" | "run", message)

/// Runs one case; returns the outputs per set, or the stage and message of the first failure.
fn run_case(case: &Value, case_dir: &Path, out_dir: &Path) -> Result<Vec<Value>, Failure> {
    let model_path = case["model"].as_str().unwrap_or_default();
    let bytes = std::fs::read(model_path).map_err(|e| ("load".to_owned(), format!("reading {model_path}: {e}")))?;
    let mut model = catch_unwind(|| LoadedModel::from_bytes(bytes, None))
        .map_err(|p| ("load".to_owned(), panic_message(p)))?
        .map_err(|e| ("load".to_owned(), format!("{}: {e}", e.code())))?;
    let mut sets = vec![];
    for (k, set) in case["sets"].as_array().into_iter().flatten().enumerate() {
        let mut inputs = vec![];
        for input in set["inputs"].as_array().into_iter().flatten() {
            let file = case_dir.join(input["file"].as_str().unwrap_or_default());
            let bytes =
                std::fs::read(&file).map_err(|e| ("run".to_owned(), format!("reading {}: {e}", file.display())))?;
            let data =
                decode(input["dtype"].as_str().unwrap_or_default(), &bytes).map_err(|e| ("run".to_owned(), e))?;
            let shape =
                input["shape"].as_array().into_iter().flatten().filter_map(Value::as_u64).map(|d| d as usize).collect();
            inputs.push(NamedTensor { name: input["name"].as_str().unwrap_or_default().to_owned(), shape, data });
        }
        let outputs = catch_unwind(AssertUnwindSafe(|| model.run(inputs)))
            .map_err(|p| ("run".to_owned(), panic_message(p)))?
            .map_err(|e| ("run".to_owned(), format!("{}: {e}", e.code())))?;
        let mut written = vec![];
        for (i, t) in outputs.iter().enumerate() {
            let file = format!("set{k}.out{i}.bin");
            std::fs::write(out_dir.join(&file), encode(&t.data)).map_err(|e| ("run".to_owned(), e.to_string()))?;
            written
                .push(json!({ "name": t.name, "dtype": t.data.dtype().to_string(), "shape": t.shape, "file": file }));
        }
        sets.push(Value::Array(written));
    }
    Ok(sets)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/conformance".into()));
    let index: Value = serde_json::from_str(&std::fs::read_to_string(root.join("cases.json"))?)?;
    // tract's own panics are caught and reported per case; keep them off the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let (mut ok, mut failed) = (0, 0);
    for id in index["cases"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let case_dir = root.join("cases").join(id);
        let case: Value = serde_json::from_str(&std::fs::read_to_string(case_dir.join("case.json"))?)?;
        let out_dir = root.join("out/native").join(id);
        std::fs::create_dir_all(&out_dir)?;
        let result = if let Some(why) = case["skip"].as_str() {
            json!({ "status": "skipped", "stage": "input", "error": why })
        } else {
            match run_case(&case, &case_dir, &out_dir) {
                Ok(sets) => {
                    ok += 1;
                    json!({ "status": "ran", "sets": sets })
                }
                Err((stage, error)) => {
                    failed += 1;
                    json!({ "status": "error", "stage": stage, "error": error })
                }
            }
        };
        std::fs::write(out_dir.join("result.json"), serde_json::to_string_pretty(&result)?)?;
    }
    println!("conformance (native tract): {ok} cases ran, {failed} failed to load or run");
    Ok(())
}
