//! `edgeserve`, the command line (built with `--features cli`):
//!
//! - `edgeserve pack model.onnx --name N --out DIR`: a model package from an ONNX file (the
//!   manifest inferred and completed, checked against the schema, the lean forms, golden outputs
//!   from onnxruntime when Python has it);
//! - `edgeserve predict --model DIR --input FILE --output FILE`: the batch serving mode over a
//!   file of any size, on every core;
//! - `edgeserve inspect FILE_OR_DIR`: a model's inputs, outputs and operators, and what
//!   edgeserve runs of it.

mod golden;
mod inspect;
mod pack;
mod predict;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "edgeserve",
    version,
    about = "Model packages for edgeserve: make them, inspect them, serve them in batch"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a model package from an ONNX file.
    Pack(pack::Args),
    /// Predict every row (or text) of a CSV or JSON-lines file, on every core.
    Predict(predict::Args),
    /// Say what a model takes and gives, which operators it has, and how edgeserve runs it.
    Inspect(inspect::Args),
}

/// What can go wrong, each with what it was about.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// edgeserve's own error (its code, and what was wrong, expected and found).
    #[error("{code}: {source}", code = .source.code())]
    Edgeserve {
        #[from]
        source: edgeserve::Error,
    },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Check(String),
}

/// `path`'s bytes, or an error that names it.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Io { path: path.to_owned(), source })
}

/// Writes `bytes` to `path`, or an error that names it.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|source| CliError::Io { path: path.to_owned(), source })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Pack(args) => pack::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Inspect(args) => inspect::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgeserve: {e}");
            ExitCode::FAILURE
        }
    }
}
