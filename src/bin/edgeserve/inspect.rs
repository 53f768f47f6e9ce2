//! `edgeserve inspect`: what a model takes and gives, its operators, and how edgeserve runs it.

use std::path::PathBuf;

use edgeserve::engine::onnx_summary;
use edgeserve::manifest::shape_string;
use edgeserve::package::sha256_hex;
use edgeserve::{LoadedModel, Package};
use serde_json::json;

use crate::{read, CliError};

#[derive(clap::Args)]
pub struct Args {
    /// An ONNX file, or a package directory (manifest.json and model.onnx).
    path: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let (onnx_path, manifest) = if args.path.is_dir() {
        let manifest = String::from_utf8_lossy(&read(&args.path.join("manifest.json"))?).into_owned();
        (args.path.join("model.onnx"), Some(manifest))
    } else {
        (args.path.clone(), None)
    };
    let onnx = read(&onnx_path)?;
    let name = onnx_path.display().to_string();
    let summary = onnx_summary(&name, &onnx)?;
    let sha256 = sha256_hex(&onnx);
    // The package as edgeserve loads it (a text package's tokenizer is not needed to say this).
    let loaded = match &manifest {
        Some(m) if !m.contains("\"text\"") => Package::from_parts(m, onnx.clone()).and_then(LoadedModel::load),
        _ => LoadedModel::from_bytes(onnx.clone(), None),
    };

    let (runs, details) = match &loaded {
        Ok(model) => {
            let m = model.manifest();
            let engine = model.engine_details();
            let rows = model.to_rows().err().map(|e| e.to_string());
            (
                json!({ "loads": true, "task": m.task, "labels": m.labels }),
                json!({
                    "engine": model.engine_name(),
                    "typing": engine.typing,
                    "notes": engine.notes,
                    "rowExecutor": rows.as_ref().map_or_else(|| json!(true), |why| json!(why)),
                    "inputs": m.inputs.iter().map(|i| json!({ "name": i.name, "dtype": i.dtype, "shape": shape_string(&i.shape) })).collect::<Vec<_>>(),
                    "outputs": m.outputs.iter().map(|o| json!({ "name": o.name, "dtype": o.dtype, "shape": shape_string(&o.shape), "role": o.role })).collect::<Vec<_>>(),
                }),
            )
        }
        Err(e) => (json!({ "loads": false, "error": { "code": e.code(), "message": e.to_string() } }), json!({})),
    };
    if args.json {
        let report = json!({
            "file": name, "bytes": onnx.len(), "sha256": sha256,
            "producer": summary.producer,
            "opsets": summary.opsets.iter().map(|(d, v)| json!({ "domain": d, "version": v })).collect::<Vec<_>>(),
            "operators": summary.operators.iter().map(|(o, n)| json!({ "op": o, "count": n })).collect::<Vec<_>>(),
            "edgeserve": runs, "run": details,
        });
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| CliError::Check(e.to_string()))?);
        return Ok(());
    }

    println!("{name}: {} bytes, sha256 {sha256}", onnx.len());
    println!("  producer: {}", if summary.producer.is_empty() { "(not said)" } else { &summary.producer });
    let opsets: Vec<String> =
        summary.opsets.iter().map(|(d, v)| format!("{} {v}", if d.is_empty() { "ai.onnx" } else { d })).collect();
    println!("  opsets: {}", opsets.join(", "));
    let nodes: usize = summary.operators.iter().map(|(_, n)| n).sum();
    let ops: Vec<String> = summary.operators.iter().map(|(o, n)| format!("{o} x{n}")).collect();
    println!("  operators ({nodes} nodes, {} kinds): {}", ops.len(), ops.join(", "));
    match &loaded {
        Ok(model) => {
            let m = model.manifest();
            for i in &m.inputs {
                println!("  input  {}: {} {}", i.name, i.dtype, shape_string(&i.shape));
            }
            for o in &m.outputs {
                let role = o.role.map(|r| format!(" ({})", format!("{r:?}").to_lowercase())).unwrap_or_default();
                println!("  output {}: {} {}{role}", o.name, o.dtype, shape_string(&o.shape));
            }
            let task = m.task.map_or("none: run() only".to_owned(), |t| format!("{t:?}").to_lowercase());
            println!("  edgeserve: loads; task {task}");
            let engine = model.engine_details();
            println!("  engine: {} (tract typing: {})", model.engine_name(), engine.typing);
            match model.to_rows() {
                Ok(_) => println!("  row executor: covers the graph (the lean build can embed it without tract)"),
                Err(why) => println!("  row executor: not this graph ({why}); tract's plans run it"),
            }
            for note in &engine.notes {
                println!("  note: {note}");
            }
        }
        Err(e) => println!("  edgeserve: does not load it: {} {e}", e.code()),
    }
    Ok(())
}
