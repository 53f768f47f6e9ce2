//! The native side of edgeserve's real-model suite: every model that `prepare.py` wrote goes
//! through edgeserve's core (`LoadedModel::from_bytes` + `run`, native tract) as a user's would,
//! timed, and the outputs are written for `report.py` to compare with onnxruntime's.
//!
//! Usage: `cargo run --release --example real-models -- <dir> [--runs N]` (dir as given to
//! prepare.py, default `target/real-models`); writes `<dir>/out/native/<id>/result.json`
//! (`{"status", "load_ms", "first_ms", "p50_ms", "runs", "engine"}` or the stage and error) and
//! the outputs' raw little-endian bytes beside it (`out<i>.bin`). The wasm side (`run-wasm.mjs`)
//! writes the same layout under `out/wasm/`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../common/raw.rs"]
mod raw;

use edgeserve::tensor::NamedTensor;
use edgeserve::LoadedModel;
use raw::{decode, encode, panic_message};
use serde_json::{json, Value};

type Failure = (&'static str, String); // (stage: "load" | "run", message)

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn read_inputs(case: &Value, dir: &Path) -> Result<Vec<NamedTensor>, Failure> {
    let mut inputs = vec![];
    for input in case["inputs"].as_array().into_iter().flatten() {
        let file = dir.join(input["file"].as_str().unwrap_or_default());
        let bytes = std::fs::read(&file).map_err(|e| ("run", format!("reading {}: {e}", file.display())))?;
        let data = decode(input["dtype"].as_str().unwrap_or_default(), &bytes).map_err(|e| ("run", e))?;
        let shape =
            input["shape"].as_array().into_iter().flatten().filter_map(Value::as_u64).map(|d| d as usize).collect();
        inputs.push(NamedTensor { name: input["name"].as_str().unwrap_or_default().to_owned(), shape, data });
    }
    Ok(inputs)
}

/// Loads, runs once (the outputs compared), then again until `budget` is spent or `runs` are
/// done, for the median.
fn run_case(case: &Value, dir: &Path, out_dir: &Path, runs: usize, budget: Duration) -> Result<Value, Failure> {
    let model_path = case["model"].as_str().unwrap_or_default();
    let inputs = read_inputs(case, dir)?;
    let start = Instant::now();
    let bytes = std::fs::read(model_path).map_err(|e| ("load", format!("reading {model_path}: {e}")))?;
    let mut model = catch_unwind(|| LoadedModel::from_bytes(bytes, None))
        .map_err(|p| ("load", panic_message(p)))?
        .map_err(|e| ("load", format!("{}: {e}", e.code())))?;
    let load = start.elapsed();
    let mut run = |inputs: Vec<NamedTensor>| {
        catch_unwind(AssertUnwindSafe(|| model.run(inputs)))
            .map_err(|p| ("run", panic_message(p)))?
            .map_err(|e| ("run", format!("{}: {e}", e.code())))
    };
    let first_start = Instant::now();
    let outputs = run(inputs.clone())?;
    let first = first_start.elapsed();
    let mut times = vec![];
    let spent = Instant::now();
    while times.len() < runs && (times.len() < 3 || spent.elapsed() < budget) {
        let t = Instant::now();
        run(inputs.clone())?;
        times.push(t.elapsed());
    }
    times.sort();
    let details = model.engine_details();
    let engine = json!({ "executor": details.executor, "typing": details.typing, "notes": details.notes });
    let mut written = vec![];
    for (i, t) in outputs.iter().enumerate() {
        let file = format!("out{i}.bin");
        std::fs::write(out_dir.join(&file), encode(&t.data)).map_err(|e| ("run", e.to_string()))?;
        written.push(json!({ "name": t.name, "dtype": t.data.dtype().to_string(), "shape": t.shape, "file": file }));
    }
    Ok(json!({
        "status": "ran",
        "load_ms": ms(load),
        "first_ms": ms(first),
        "p50_ms": ms(times[times.len() / 2]),
        "runs": times.len(),
        "engine": engine,
        "outputs": written,
    }))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut root = PathBuf::from("target/real-models");
    let mut runs = 20;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).ok_or("--runs takes a number")?,
            dir => root = PathBuf::from(dir),
        }
    }
    let index: Value = serde_json::from_str(&std::fs::read_to_string(root.join("cases.json"))?)?;
    // tract's own panics are caught and reported per model; keep them off the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let (mut ok, mut failed) = (0, 0);
    for id in index["cases"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let dir = root.join("models").join(id);
        let case: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("case.json"))?)?;
        let out_dir = root.join("out/native").join(id);
        std::fs::create_dir_all(&out_dir)?;
        let result = run_case(&case, &dir, &out_dir, runs, Duration::from_secs(2))
            .unwrap_or_else(|(stage, error)| json!({ "status": "error", "stage": stage, "error": error }));
        if result["status"] == "ran" {
            ok += 1;
            println!(
                "{id}: ran, load {:.1} ms, p50 {:.3} ms",
                result["load_ms"].as_f64().unwrap_or(0.0),
                result["p50_ms"].as_f64().unwrap_or(0.0)
            );
        } else {
            failed += 1;
            println!(
                "{id}: {} failed: {}",
                result["stage"],
                result["error"].as_str().unwrap_or_default().chars().take(400).collect::<String>()
            );
        }
        std::fs::write(out_dir.join("result.json"), serde_json::to_string_pretty(&result)?)?;
    }
    println!("real models (native tract): {ok} ran, {failed} failed to load or run");
    Ok(())
}
