//! `edgeserve predict`: the batch serving mode over a file of any size, on every core. The input
//! is read a chunk at a time by one thread while the others predict, and the predictions are
//! written in the input's order, so memory holds a few chunks, never the file.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;
use std::time::Instant;

use edgeserve::model::Predictions;
use edgeserve::preprocess::Preprocessing;
use edgeserve::serve::batch::{BatchJob, MAX_CHUNK};
use edgeserve::serve::csv::{accuracy, CsvRows, CsvWriter, LabelColumn};
use edgeserve::serve::jsonl::{JsonLines, JsonLinesReader, JsonLinesWriter};
use edgeserve::{LoadedModel, Package};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::{read, CliError};

#[derive(clap::Args)]
pub struct Args {
    /// The model: a package directory (manifest.json, model.onnx, and tokenizer.json for a
    /// text model) or an ONNX file (its manifest inferred, as Model.fromBytes does).
    #[arg(long)]
    model: PathBuf,
    /// The inputs: CSV (rows of raw features, a header line or none, as predictCsv reads) or
    /// JSON lines (an array of raw features per line, or a string for a text model). `-` reads
    /// standard input.
    #[arg(long)]
    input: PathBuf,
    /// Where the predictions go (`-`: standard output): CSV as `result.toCsv()` writes it, or
    /// JSON lines, one object per input.
    #[arg(long)]
    output: PathBuf,
    /// The input's format (else from its extension: .jsonl, .ndjson and .json are JSON lines,
    /// anything else CSV). The output has the input's format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// CSV: the column with the true labels, by header name or by position from 0 (the output
    /// gets a `truth` column, and the accuracy is printed at the end).
    #[arg(long)]
    label_column: Option<String>,
    /// How many threads predict (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Inputs per chunk: what one thread predicts at a time.
    #[arg(long, default_value_t = 1024)]
    chunk: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

/// One chunk of the input.
struct Chunk {
    inputs: JsonLines,
    truth: Option<Vec<String>>,
    /// Bytes of the input read once this chunk was.
    bytes_read: u64,
}

/// Loads the model at `path`: a package directory or an ONNX file.
fn load(path: &Path) -> Result<LoadedModel, CliError> {
    if path.is_dir() {
        let manifest = String::from_utf8_lossy(&read(&path.join("manifest.json"))?).into_owned();
        let onnx = read(&path.join("model.onnx"))?;
        let value: serde_json::Value = serde_json::from_str(&manifest)
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.join("manifest.json").display())))?;
        if value["preprocessing"]["type"] == "text" {
            let tokenizer = read(&path.join("tokenizer.json"))?;
            return Ok(LoadedModel::from_text_files(onnx, &manifest, tokenizer)?);
        }
        Ok(LoadedModel::load(Package::from_parts(&manifest, onnx)?)?)
    } else {
        Ok(LoadedModel::from_bytes(read(path)?, None)?)
    }
}

fn open_input(path: &Path) -> Result<(Box<dyn BufRead + Send>, Option<u64>), CliError> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(BufReader::new(std::io::stdin())), None));
    }
    let file = File::open(path).map_err(|source| CliError::Io { path: path.to_owned(), source })?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 20, file)), size))
}

fn open_output(path: &Path) -> Result<Box<dyn Write>, CliError> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(std::io::stdout())));
    }
    let file = File::create(path).map_err(|source| CliError::Io { path: path.to_owned(), source })?;
    Ok(Box::new(BufWriter::with_capacity(1 << 20, file)))
}

/// Reads the input a chunk at a time into `chunks`, on its own thread.
fn read_chunks(
    input: Box<dyn BufRead + Send>,
    format: Format,
    width: Option<usize>,
    label_column: Option<LabelColumn>,
    chunk: usize,
    queue: usize,
) -> (Receiver<Result<Chunk, CliError>>, std::thread::JoinHandle<()>) {
    let (send, receive) = sync_channel(queue);
    let reader = std::thread::spawn(move || {
        let mut next: Box<dyn FnMut() -> Result<Chunk, CliError>> = match (format, width) {
            (Format::Csv, Some(width)) => {
                let mut rows = CsvRows::new(input as Box<dyn Read + Send>, width, label_column.as_ref());
                Box::new(move || {
                    let table = rows.next_rows(chunk)?;
                    Ok(Chunk {
                        inputs: JsonLines::Rows { features: table.features, rows: table.rows },
                        truth: table.truth,
                        bytes_read: rows.bytes_read(),
                    })
                })
            }
            (Format::Csv, None) => Box::new(|| {
                Err(CliError::Usage(
                    "a text model reads JSON lines (a JSON string per line), not CSV: --format jsonl".into(),
                ))
            }),
            (Format::Jsonl, width) => {
                let mut lines = JsonLinesReader::new(input, width);
                Box::new(move || {
                    let inputs = lines.next_lines(chunk)?;
                    Ok(Chunk { inputs, truth: None, bytes_read: lines.bytes_read() })
                })
            }
        };
        loop {
            let item = next();
            let last = !matches!(&item, Ok(c) if !c.inputs.is_empty());
            if send.send(item).is_err() || last {
                break;
            }
        }
    });
    (receive, reader)
}

/// Predicts one chunk on `model`.
fn predict_chunk(model: &mut LoadedModel, inputs: JsonLines, chunk: usize) -> Result<Predictions, CliError> {
    Ok(match inputs {
        JsonLines::Rows { features, .. } => model.predict_batch(features, chunk)?.predictions,
        JsonLines::Texts(texts) => {
            let mut job = BatchJob::texts(model, texts, chunk)?;
            while !job.is_done() {
                job.step(model)?;
            }
            job.finish().predictions
        }
    })
}

enum Writer {
    Csv(Box<CsvWriter<Box<dyn Write>>>),
    Jsonl(JsonLinesWriter<Box<dyn Write>>),
}

pub fn run(args: Args) -> Result<(), CliError> {
    if args.chunk == 0 || args.chunk > MAX_CHUNK {
        return Err(CliError::Usage(format!(
            "--chunk: expected 1 to {MAX_CHUNK} inputs per chunk, got {}",
            args.chunk
        )));
    }
    let format = args.format.unwrap_or_else(|| {
        match args.input.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("jsonl" | "ndjson" | "json") => Format::Jsonl,
            _ => Format::Csv,
        }
    });
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::Usage(format!("--threads {threads}: {e}")))?;

    // One model per thread: a loaded model is not shared between threads.
    let first = load(&args.model)?;
    first.require_task()?;
    let is_text = matches!(first.manifest().preprocessing, Preprocessing::Text(_));
    let width = (!is_text).then(|| first.width());
    let labels = first.labels().to_vec();
    let mut models = vec![Mutex::new(first)];
    for _ in 1..threads {
        models.push(Mutex::new(load(&args.model)?));
    }
    let label_column = args
        .label_column
        .as_ref()
        .map(|c| c.parse::<usize>().map_or_else(|_| LabelColumn::Name(c.clone()), LabelColumn::Index));
    if label_column.is_some() && format != Format::Csv {
        return Err(CliError::Usage("--label-column is for CSV input".into()));
    }

    let (input, size) = open_input(&args.input)?;
    let output = open_output(&args.output)?;
    let mut writer = match format {
        Format::Csv => Writer::Csv(Box::new(CsvWriter::new(output, &labels, label_column.is_some()))),
        Format::Jsonl => Writer::Jsonl(JsonLinesWriter::new(output, &labels)),
    };
    let progress = match (size, args.quiet) {
        (Some(size), false) => ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({elapsed}, {eta} left)")
                .map_err(|e| CliError::Usage(e.to_string()))?,
        ),
        _ => ProgressBar::hidden(),
    };

    let clock = Instant::now();
    let (chunks, reader) = read_chunks(input, format, width, label_column, args.chunk, threads * 2);
    let (mut done, mut right, mut judged) = (0usize, 0usize, 0usize);
    loop {
        // Up to one chunk per thread, predicted together, written in order.
        let mut batch = Vec::with_capacity(threads);
        let mut over = false;
        while batch.len() < threads {
            match chunks.recv() {
                Ok(Ok(chunk)) if chunk.inputs.is_empty() => {
                    over = true;
                    break;
                }
                Ok(Ok(chunk)) => batch.push(chunk),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    over = true;
                    break;
                }
            }
        }
        let chunk_rows = args.chunk;
        let results: Vec<Result<Predictions, CliError>> = pool.install(|| {
            batch
                .par_iter_mut()
                .map(|c| {
                    let slot = rayon::current_thread_index().unwrap_or(0) % models.len();
                    let mut model =
                        models[slot].lock().map_err(|_| CliError::Check("a predicting thread failed".into()))?;
                    let inputs = std::mem::replace(&mut c.inputs, JsonLines::Texts(Vec::new()));
                    predict_chunk(&mut model, inputs, chunk_rows)
                })
                .collect()
        });
        for (chunk, predictions) in batch.iter().zip(results) {
            let predictions = predictions?;
            match &mut writer {
                Writer::Csv(w) => w.write(&predictions, chunk.truth.as_deref())?,
                Writer::Jsonl(w) => w.write(&predictions)?,
            }
            if let Some(truth) = &chunk.truth {
                if let Some(share) = accuracy(&predictions, &labels, truth) {
                    right += (share * truth.len() as f64).round() as usize;
                    judged += truth.len();
                }
            }
            done += predictions.rows;
            progress.set_position(chunk.bytes_read);
        }
        let seconds = clock.elapsed().as_secs_f64();
        progress.set_message(format!("{done} rows, {:.0} rows/s", done as f64 / seconds.max(1e-9)));
        if over {
            break;
        }
    }
    let _ = reader.join();
    let out = match writer {
        Writer::Csv(w) => w.finish()?,
        Writer::Jsonl(w) => w.finish()?,
    };
    let mut out = out;
    out.flush().map_err(|source| CliError::Io { path: args.output.clone(), source })?;
    progress.finish_and_clear();
    let seconds = clock.elapsed().as_secs_f64();
    let accuracy = if judged > 0 { format!(", accuracy {:.4}", right as f64 / judged as f64) } else { String::new() };
    eprintln!(
        "{done} rows in {seconds:.3} s: {:.0} rows/s on {threads} thread{}{accuracy}",
        done as f64 / seconds.max(1e-9),
        if threads == 1 { "" } else { "s" }
    );
    Ok(())
}
