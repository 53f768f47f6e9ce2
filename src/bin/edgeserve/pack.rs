//! `edgeserve pack`: a model package from an ONNX file.

use std::path::PathBuf;

use edgeserve::pack::{io_summary, manifest_for, name_batch_dimension, LeanForms, PackOptions, TaskChoice};
use edgeserve::preprocess::Preprocessing;
use edgeserve::{LoadedModel, Manifest, Package};

use crate::{golden, read, write, CliError};

/// The JSON schema every manifest.json follows.
const SCHEMA: &str = include_str!("../../../schema/manifest.schema.json");

#[derive(clap::Args)]
pub struct Args {
    /// The ONNX file.
    model: PathBuf,
    /// The package's name: lowercase letters, digits, `-`, `_` and `.`.
    #[arg(long)]
    name: String,
    /// The directory to write the package into (made if missing; must be empty unless --force).
    #[arg(long)]
    out: PathBuf,
    /// The class names: a file with one per line, or a JSON array of strings (else the graph's
    /// `labels` metadata property).
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// What the model is for (else inferred: a classifier over the labels when the graph looks
    /// like one, else none: served by `run()` only).
    #[arg(long, value_enum)]
    task: Option<Task>,
    /// What is applied to a raw row before the model, as the manifest's `preprocessing` (JSON),
    /// e.g. '{"type":"affine","scale":0.0625,"offset":0,"range":[0,16]}'.
    #[arg(long, value_name = "JSON")]
    preprocess: Option<String>,
    /// One or two sentences for people (else the graph's doc string).
    #[arg(long)]
    description: Option<String>,
    /// The package's version (semver).
    #[arg(long, default_value = "0.1.0")]
    version: String,
    /// How many inputs golden.json records.
    #[arg(long, default_value_t = 8)]
    golden_cases: usize,
    /// The Python that runs onnxruntime for golden.json.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Write into a directory that is not empty (its package files are replaced).
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Task {
    Classification,
    Regression,
    None,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let source = read(&args.model)?;
    // The batch dimension named N in the package's model.onnx, when the file left it unnamed.
    let renamed = name_batch_dimension(&args.name, &source)?;
    let onnx = renamed.clone().unwrap_or(source);
    let labels = match &args.labels {
        Some(path) => Some(read_labels(&String::from_utf8_lossy(&read(path)?))),
        None => None,
    };
    let preprocessing = match &args.preprocess {
        Some(json) => Some(serde_json::from_str::<Preprocessing>(json).map_err(|e| {
            CliError::Usage(format!("--preprocess: expected the manifest's preprocessing as JSON, got {json:?} ({e})"))
        })?),
        None => None,
    };
    let options = PackOptions {
        name: args.name.clone(),
        labels,
        task: args.task.map(|t| match t {
            Task::Classification => TaskChoice::Classification,
            Task::Regression => TaskChoice::Regression,
            Task::None => TaskChoice::None,
        }),
        preprocessing,
        description: args.description.clone(),
        version: Some(args.version.clone()),
    };
    let mut manifest = manifest_for(&onnx, &options)?;

    // The lean forms, and their fields in the manifest.
    let model = load(&manifest, &onnx)?;
    let forms = LeanForms::of(&model)?;
    let (nnef, rows) = forms.fields();
    manifest.nnef = Some(nnef);
    manifest.rows = rows;
    let manifest_json = serde_json::to_string_pretty(&manifest).map_err(|e| CliError::Check(e.to_string()))? + "\n";
    check_schema(&manifest_json)?;
    let mut model = load(&manifest, &onnx)?;
    let first = golden::run_once_on_zeros(&mut model)?;

    prepare_dir(&args.out, args.force)?;
    write(&args.out.join("model.onnx"), &onnx)?;
    write(&args.out.join("manifest.json"), &manifest_json)?;
    write(&args.out.join("model.nnef.tar"), &forms.nnef)?;
    let rows_path = args.out.join("model.rows");
    match &forms.rows {
        Ok(bytes) => write(&rows_path, bytes)?,
        Err(_) if rows_path.exists() => {
            std::fs::remove_file(&rows_path).map_err(|source| CliError::Io { path: rows_path.clone(), source })?
        }
        Err(_) => {}
    }

    println!("{}: package '{}' ({} bytes of ONNX)", args.out.display(), manifest.name, onnx.len());
    println!(
        "  task: {}; {}",
        manifest.task.map(|t| format!("{t:?}").to_lowercase()).unwrap_or_else(|| "none (run() only)".into()),
        io_summary(&manifest)
    );
    if renamed.is_some() {
        println!("  model.onnx: the batch dimension, unnamed in {}, is named N", args.model.display());
    }
    println!("  manifest.json: checked against schema/manifest.schema.json and the graph");
    println!("  engine: {} ({}); one run on zeros: {first}", model.engine_name(), model.engine_details().typing);
    match &forms.rows {
        Ok(bytes) => {
            println!("  lean forms: model.nnef.tar {} bytes, model.rows {} bytes", forms.nnef.len(), bytes.len())
        }
        Err(why) => println!("  lean forms: model.nnef.tar {} bytes; no model.rows ({why})", forms.nnef.len()),
    }
    match golden::record(&mut model, &args.out.join("model.onnx"), &args.python, args.golden_cases)? {
        golden::Recorded::Written { golden, reference, cases, max_difference } => {
            write(&args.out.join("golden.json"), golden)?;
            println!(
                "  golden.json: {cases} inputs with {reference}'s outputs; edgeserve's differ by at most {max_difference:.2e}"
            );
        }
        golden::Recorded::NoReference(why) => {
            let stale = args.out.join("golden.json");
            if stale.exists() {
                std::fs::remove_file(&stale).map_err(|source| CliError::Io { path: stale.clone(), source })?;
            }
            println!("  golden.json: not written: {why}");
        }
    }
    Ok(())
}

/// Labels from a file: a JSON array of strings, or one per line (blank lines skipped).
fn read_labels(text: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(text)
        .unwrap_or_else(|_| text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
}

fn load(manifest: &Manifest, onnx: &[u8]) -> Result<LoadedModel, CliError> {
    let json = serde_json::to_string(manifest).map_err(|e| CliError::Check(e.to_string()))?;
    Ok(LoadedModel::load(Package::from_parts(&json, onnx.to_vec())?)?)
}

/// Checks a manifest against schema/manifest.schema.json; the error lists every violation.
fn check_schema(manifest_json: &str) -> Result<(), CliError> {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).map_err(|e| CliError::Check(e.to_string()))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| CliError::Check(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(manifest_json).map_err(|e| CliError::Check(e.to_string()))?;
    let errors: Vec<String> =
        validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::Check(format!("the manifest does not follow schema/manifest.schema.json: {}", errors.join("; "))))
    }
}

/// Makes `dir`; one that holds files already is refused unless `force`.
fn prepare_dir(dir: &std::path::Path, force: bool) -> Result<(), CliError> {
    let io = |source| CliError::Io { path: dir.to_owned(), source };
    if dir.exists() && !force && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(CliError::Usage(format!(
            "{}: not empty (--force replaces the package files in it)",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(io)
}
