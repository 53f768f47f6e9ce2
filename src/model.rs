//! A loaded model: a package, its engine, and how its outputs map to predictions. The serving
//! modes (`serve/`) add their methods to [`LoadedModel`].

use serde::Serialize;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::latency::{Latency, LatencyReport, Mode};
use crate::manifest::{Dim, Manifest, Role, Task};
use crate::package::{Form, GraphBytes, Package, Registry};
use crate::preprocess::RowName;
use crate::task::embedding::{self, EmbeddingSettings, Embeddings};
use crate::tensor::{Array, TensorData};
use crate::text::{EncodedBatch, TextInput, TextName, Tokens};

/// One prediction, decoded from the model's outputs as the manifest's roles say.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Prediction {
    /// A classification: the class, its index into the labels, and one score per class.
    Class { label: String, index: usize, scores: Vec<f32> },
    /// A regression: the values of every `value` output of one row, concatenated.
    Values { values: Vec<f32> },
}

/// The predictions of many rows, in flat arrays (the form batch results take in JavaScript).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Predictions {
    /// How many rows.
    pub rows: usize,
    /// Classification: the class index of each row (`rows` values).
    pub indices: Vec<i32>,
    /// Classification: the scores of each row, row after row (`rows * labels` values).
    pub scores: Vec<f32>,
    /// Regression: the values of each row, row after row (`rows * width` values).
    pub values: Vec<f32>,
}

impl Predictions {
    /// Row `r` as a [`Prediction`]: a class (given the labels) or `per_row_values` values.
    pub fn row(&self, r: usize, labels: &[String], per_row_values: usize) -> Prediction {
        let slice = |v: &[f32], w: usize| v.get(r * w..(r + 1) * w).map(<[f32]>::to_vec).unwrap_or_default();
        match self.indices.get(r) {
            Some(&index) if !labels.is_empty() => Prediction::Class {
                label: labels.get(index as usize).cloned().unwrap_or_default(),
                index: index as usize,
                scores: slice(&self.scores, labels.len()),
            },
            _ => Prediction::Values { values: slice(&self.values, per_row_values) },
        }
    }

    /// Appends the rows of `runs` in the order of the caller's list: each run is the positions
    /// of its rows in that list (of `total` rows, each in exactly one run) and their predictions.
    pub fn append_in_order(&mut self, runs: &[(Vec<usize>, Predictions)], total: usize) {
        let mut at = vec![(0, 0); total];
        for (r, (positions, _)) in runs.iter().enumerate() {
            for (row, &p) in positions.iter().enumerate() {
                at[p] = (r, row);
            }
        }
        for (r, row) in at {
            let run = &runs[r].1;
            let width = |v: &[f32]| v.len().checked_div(run.rows).unwrap_or(0);
            let (scores, values) = (width(&run.scores), width(&run.values));
            if let Some(&index) = run.indices.get(row) {
                self.indices.push(index);
            }
            self.scores.extend_from_slice(&run.scores[row * scores..(row + 1) * scores]);
            self.values.extend_from_slice(&run.values[row * values..(row + 1) * values]);
        }
        self.rows += total;
    }

    /// The first row as a [`Prediction`], moving its data out (for a one-row run).
    pub fn into_first(self, labels: &[String]) -> Prediction {
        match self.indices.first() {
            Some(&index) if !labels.is_empty() => {
                let mut scores = self.scores;
                scores.truncate(labels.len());
                Prediction::Class {
                    label: labels.get(index as usize).cloned().unwrap_or_default(),
                    index: index as usize,
                    scores,
                }
            }
            _ => {
                let per_row = self.values.len().checked_div(self.rows).unwrap_or(0);
                let mut values = self.values;
                values.truncate(per_row);
                Prediction::Values { values }
            }
        }
    }
}

/// Where the roles' outputs sit in the engine's output list.
#[derive(Debug, Clone)]
enum Decoder {
    Class { scores: usize, label: Option<usize>, labels: Vec<String> },
    Values { outputs: Vec<usize> },
    Embedding { output: usize, settings: EmbeddingSettings },
}

/// A model package loaded into an engine, ready to predict.
#[derive(Debug)]
pub struct LoadedModel {
    package: Package,
    pub(crate) engine: Engine,
    /// How outputs become predictions; none for a model without a task (run() only).
    decoder: Option<Decoder>,
    /// Per-row input dimensions (the input shape without the batch dimension).
    row_dims: Vec<usize>,
    width: usize,
    /// Preprocessed inputs, reused across predictions.
    pub(crate) scratch: Vec<f32>,
    /// One latency histogram per serving mode.
    latency: Latency,
    /// The tokenizer of a text model.
    text: Option<TextInput>,
    /// How an audio model's graph is fed (see [`crate::session`]).
    pub(crate) audio: Option<crate::session::AudioGraph>,
    /// The stages after an OCR package's detector (see [`crate::task::ocr`]).
    #[cfg(feature = "ocr")]
    pub(crate) ocr: Option<crate::task::ocr::reader::Reader>,
}

impl LoadedModel {
    /// Loads a package: parses and optimizes its graph and checks the manifest against it.
    pub fn load(mut package: Package) -> Result<LoadedModel> {
        let graph = package.take_graph();
        LoadedModel::load_with(package, graph.into())
    }

    /// Loads a package whose graph's bytes are given apart (checked against its manifest
    /// already), and dropped once read.
    fn load_with(package: Package, graph: GraphBytes<'_>) -> Result<LoadedModel> {
        let engine = LoadedModel::load_graph(package.manifest(), package.form(), graph)?;
        LoadedModel::with_engine(package, engine)
    }

    /// Loads a package's graph, whose bytes are dropped once read.
    fn load_graph(manifest: &Manifest, form: Form, graph: GraphBytes<'_>) -> Result<Engine> {
        match form {
            #[cfg(feature = "onnx")]
            Form::Onnx => Engine::load_hinted(&manifest.name, graph, &manifest.dim_hints()),
            #[cfg(not(feature = "onnx"))]
            Form::Onnx => Err(no_onnx_parser(&manifest.name)),
            #[cfg(feature = "tract")]
            Form::Nnef => {
                let inputs = manifest.inputs.iter().map(|i| i.name.clone()).collect();
                let outputs = manifest.outputs.iter().map(|o| o.name.clone()).collect();
                Engine::load_nnef(&manifest.name, &graph.into_here(), Some((inputs, outputs)))
            }
            #[cfg(not(feature = "tract"))]
            Form::Nnef => Err(no_tract(&manifest.name)),
            Form::Rows => Engine::load_rows(&manifest.name, &graph.into_here()),
        }
    }

    /// Loads an ONNX file given at run time, with its manifest (JSON text) or without one (then
    /// the manifest is inferred from the graph, see [`Manifest::inferred`]). A manifest without
    /// `sha256` gets the bytes' hash; one with a `sha256` must match the bytes.
    ///
    /// The lean build (no `onnx` feature) has no ONNX parser and refuses with `MODEL_LOAD`.
    pub fn from_bytes(onnx: Vec<u8>, manifest_json: Option<&str>) -> Result<LoadedModel> {
        LoadedModel::from_hashed_bytes(onnx, None, manifest_json)
    }

    /// Loads a text package given at run time: `model.onnx`, its manifest (JSON text) and its
    /// `tokenizer.json`, each checked against the manifest's sha256.
    pub fn from_text_files(onnx: Vec<u8>, manifest_json: &str, tokenizer: Vec<u8>) -> Result<LoadedModel> {
        LoadedModel::from_hashed_parts(onnx.into(), None, Some(manifest_json), Some(tokenizer), vec![])
    }

    /// Loads a package given at run time whose manifest names other files beside its graph (an
    /// OCR package's classifier and recogniser): `model.onnx`, the manifest (JSON text) and
    /// those files by name, each checked against the manifest's sha256.
    pub fn from_package_files(
        onnx: Vec<u8>,
        manifest_json: &str,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<LoadedModel> {
        LoadedModel::from_hashed_parts(onnx.into(), None, Some(manifest_json), None, files)
    }

    /// [`LoadedModel::from_bytes`] where the caller may have hashed the bytes: `sha256` (hex),
    /// when given, must be the sha256 of `onnx` (the wasm boundary gets it from WebCrypto), and
    /// the bytes are then not hashed again.
    pub fn from_hashed_bytes(
        onnx: Vec<u8>,
        sha256: Option<String>,
        manifest_json: Option<&str>,
    ) -> Result<LoadedModel> {
        LoadedModel::from_hashed_parts(onnx.into(), sha256, manifest_json, None, vec![])
    }

    /// [`LoadedModel::from_hashed_bytes`] with the `tokenizer.json` of a text package and the
    /// files, by name, that the manifest names beside the graph. `onnx` may be outside this
    /// memory ([`GraphBytes::Outside`]): it is then hashed (when `sha256` is not given) and
    /// decoded piece by piece.
    pub fn from_hashed_parts(
        onnx: GraphBytes<'_>,
        sha256: Option<String>,
        manifest_json: Option<&str>,
        tokenizer: Option<Vec<u8>>,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<LoadedModel> {
        #[cfg(not(feature = "onnx"))]
        {
            let _ = (manifest_json, sha256, tokenizer, files);
            Err(no_onnx_parser(&format!("({} bytes given at run time)", onnx.len())))
        }
        #[cfg(feature = "onnx")]
        {
            let sha256 = sha256.unwrap_or_else(|| onnx.sha256_hex());
            match manifest_json {
                Some(text) => {
                    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                        Error::manifest("(unparsed)", "(document)", "a JSON object", format!("invalid JSON: {e}"))
                    })?;
                    if let Some(object) = value.as_object_mut() {
                        object.entry("sha256").or_insert_with(|| serde_json::Value::String(sha256.clone()));
                    }
                    let manifest = Manifest::from_json(&value.to_string())?;
                    let package = Package::loaded(manifest, Form::Onnx, onnx.len(), sha256)?;
                    let mut package = match tokenizer {
                        Some(t) => package.with_tokenizer(t)?,
                        None => package,
                    };
                    for (name, bytes) in files {
                        package = package.with_file(&name, bytes)?;
                    }
                    LoadedModel::load_with(package, onnx)
                }
                None => {
                    if tokenizer.is_some() || !files.is_empty() {
                        return Err(Error::bad_input(
                            "a tokenizer or other files without a manifest",
                            "a manifest that names them (a text package's tokenizer, an OCR package's graphs)",
                            "no manifest",
                        ));
                    }
                    let name = "model";
                    let size = onnx.len();
                    let engine = Engine::load_hinted(name, onnx, &[])?;
                    let manifest = Manifest::inferred(
                        name,
                        sha256.clone(),
                        engine.inputs(),
                        engine.outputs(),
                        engine.properties(),
                    );
                    manifest.validate()?;
                    LoadedModel::with_engine(Package::loaded(manifest, Form::Onnx, size, sha256)?, engine)
                }
            }
        }
    }

    /// The model's graph in tract's NNEF form (`model.nnef.tar`, what the lean build embeds;
    /// written by `make models-nnef`), byte for byte the same for the same graph. Full build only.
    #[cfg(feature = "onnx")]
    pub fn to_nnef(&self) -> Result<Vec<u8>> {
        self.engine.to_nnef()
    }

    /// The NNEF forms of the graphs beside the package's own (an OCR package's stages), by
    /// their ONNX file's name; none for other packages. Full build only.
    #[cfg(feature = "onnx")]
    pub fn stages_to_nnef(&self) -> Result<Vec<(String, Vec<u8>)>> {
        #[cfg(feature = "ocr")]
        if let Some(reader) = &self.ocr {
            return reader.to_nnef();
        }
        Ok(vec![])
    }

    /// The model's graph in its rows form (`model.rows`, the row program that a lean build
    /// without tract embeds; written by `make models-nnef`), byte for byte the same for the
    /// same graph; a `MODEL_LOAD` error that says why when the graph is no row program.
    pub fn to_rows(&self) -> Result<Vec<u8>> {
        self.engine.to_rows()
    }

    fn with_engine(mut package: Package, engine: Engine) -> Result<LoadedModel> {
        let manifest = package.manifest();
        manifest.check_against_graph(engine.inputs(), engine.outputs())?;
        let position = |name: &str| engine.outputs().iter().position(|o| o.name == name);
        let by_role = |role| manifest.output_with_role(role).and_then(|(_, o)| position(&o.name));
        let decoder = match manifest.task {
            None => None,
            Some(Task::Classification) => Some(Decoder::Class {
                scores: by_role(Role::Scores)
                    .ok_or_else(|| Error::manifest(&manifest.name, "outputs", "a \"scores\" output", "none"))?,
                label: by_role(Role::Label),
                labels: manifest.labels.clone().unwrap_or_default(),
            }),
            Some(Task::Regression) => {
                Some(Decoder::Values { outputs: manifest.outputs.iter().filter_map(|o| position(&o.name)).collect() })
            }
            // Audio models decode in crate::session, per frame; detectors in crate::vision; OCR
            // in crate::task::ocr.
            Some(Task::VoiceActivity) | Some(Task::Detection) | Some(Task::Ocr) => None,
            Some(Task::Embedding) => Some(Decoder::Embedding {
                output: by_role(Role::Embedding)
                    .ok_or_else(|| Error::manifest(&manifest.name, "outputs", "an \"embedding\" output", "none"))?,
                settings: manifest
                    .embedding
                    .ok_or_else(|| Error::manifest(&manifest.name, "embedding", "the embedding settings", "none"))?,
            }),
        };
        let text = match &manifest.preprocessing {
            crate::preprocess::Preprocessing::Text(config) => {
                let json = package
                    .tokenizer()
                    .ok_or(crate::text::TextError::MissingTokenizer)
                    .map_err(|e| e.into_error(&manifest.name))?;
                let input = TextInput::new(json, config).map_err(|e| e.into_error(&manifest.name))?;
                check_vocabulary(&engine, &input).map_err(|e| e.into_error(&manifest.name))?;
                Some(input)
            }
            _ => None,
        };
        let audio = crate::session::AudioGraph::new(manifest, engine.inputs(), engine.outputs())?;
        let row_dims: Vec<usize> = match (&decoder, manifest.inputs.first()) {
            (Some(_), Some(input)) => {
                input.shape.iter().skip(1).map(|d| if let Dim::Fixed(n) = d { *n as usize } else { 0 }).collect()
            }
            _ => vec![],
        };
        let image = matches!(manifest.preprocessing, crate::preprocess::Preprocessing::Image(_));
        #[cfg(feature = "ocr")]
        let ocr = match &manifest.ocr {
            Some(settings) => Some(crate::task::ocr::reader::Reader::load(&package, settings)?),
            None => None,
        };
        #[cfg(not(feature = "ocr"))]
        if manifest.ocr.is_some() {
            return Err(Error::ModelLoad {
                model: manifest.name.clone(),
                detail: "this build does not read text (no `ocr` feature)".into(),
            });
        }
        let width = if decoder.is_some() && text.is_none() && !image { manifest.row_width() } else { 0 };
        package.release_files();
        let row_dims = if text.is_some() || image { vec![] } else { row_dims };
        let mut model = LoadedModel {
            package,
            engine,
            decoder,
            row_dims,
            width,
            scratch: vec![0.0; width],
            latency: Latency::default(),
            text,
            audio,
            #[cfg(feature = "ocr")]
            ocr,
        };
        if model.audio.is_some() {
            // The same warm-up for an audio model: one frame of silence.
            model.warm_up_audio()?;
            return Ok(model);
        }
        #[cfg(feature = "ocr")]
        if let Some(reader) = model.ocr.as_mut() {
            reader.warm_up()?;
        }
        if image {
            model.warm_up_image()?;
            return Ok(model);
        }
        if model.text.is_some() {
            // The same warm-up for a text model: one short text.
            let runs = model.encode_runs(&["edgeserve"], None)?;
            model.run_encoded(&runs[0])?;
            return Ok(model);
        }
        // One run on zeros: the first run sets up what later runs reuse (tract's plan state, 30
        // ms in Node; the row program's buffers), and that belongs to loading, not to the
        // user's first prediction.
        if model.decoder.is_some() {
            model.run_scratch(1)?;
        }
        Ok(model)
    }

    /// Loads the embedded package `name`.
    pub fn embedded(name: &str) -> Result<LoadedModel> {
        LoadedModel::load(Registry::get(name)?)
    }

    /// Loads the embedded default package.
    pub fn embedded_default() -> Result<LoadedModel> {
        LoadedModel::embedded(&Registry::default_name()?)
    }

    /// The engine that runs the model's predictions: `"rows"`, edgeserve's own executor for
    /// small dense graphs (the graph as a row program, see `engine::rows`; the default where the
    /// graph is one), or `"tract"`, tract's optimized plans.
    pub fn engine_name(&self) -> &'static str {
        if self.engine.row_program_on() {
            "rows"
        } else {
            "tract"
        }
    }

    /// How the engine runs this model: the executor, how tract typed the graph (fixed shapes,
    /// symbols for its free dimensions, or per shape set), the shape sets with a plan of their
    /// own, and what was done differently from tract's defaults to load it (in words).
    pub fn engine_details(&self) -> crate::engine::Details {
        self.engine.details()
    }

    /// Plans ahead for calls whose inputs have these shapes (`(name, shape)` for every input of
    /// the graph), so that the first such call does not wait for a plan: the load-time hint of a
    /// model with free dimensions. `BAD_INPUT` when a name or a shape does not fit the graph.
    pub fn plan_for(&mut self, shapes: &[(String, Vec<usize>)]) -> Result<()> {
        let ordered = self
            .engine
            .inputs()
            .iter()
            .map(|input| {
                let (_, shape) = shapes.iter().find(|(name, _)| *name == input.name).ok_or_else(|| {
                    Error::bad_input(
                        format!("the shape of input {:?}", input.name),
                        format!("a shape for every input, like {}", crate::manifest::shape_string(&input.shape)),
                        "none",
                    )
                })?;
                let fits = shape.len() == input.shape.len()
                    && shape
                        .iter()
                        .zip(&input.shape)
                        .all(|(n, d)| !matches!(d, crate::manifest::Dim::Fixed(f) if *f != *n as u64));
                if !fits {
                    return Err(Error::bad_input(
                        format!("the shape of input {:?}", input.name),
                        crate::manifest::shape_string(&input.shape),
                        format!("{shape:?}"),
                    ));
                }
                Ok(shape.clone())
            })
            .collect::<Result<Vec<_>>>()?;
        if let Some((name, _)) = shapes.iter().find(|(name, _)| !self.engine.inputs().iter().any(|i| &i.name == name)) {
            let names: Vec<&str> = self.engine.inputs().iter().map(|i| i.name.as_str()).collect();
            return Err(Error::bad_input(
                format!("a shape for {name:?}, which is not an input of the model"),
                format!("inputs named {names:?}"),
                format!("{name:?}"),
            ));
        }
        self.engine.plan_for(&ordered)
    }

    /// Runs the model's predictions on the engine `name` (`"rows"` or `"tract"`, see
    /// [`LoadedModel::engine_name`]) from now on. The two give the same outputs up to float
    /// rounding; tract's plans are built when first used. `"rows"` for a graph that is no row
    /// program is a `BAD_INPUT` error that says which part of the graph is not.
    pub fn use_engine(&mut self, name: &str) -> Result<()> {
        match (name, self.engine.row_program()) {
            ("tract", _) => {
                self.engine
                    .set_row_program(false)
                    .map_err(|why| Error::bad_input("engine", format!("\"rows\": {why}"), "\"tract\""))?;
            }
            ("rows", Ok(())) => {
                self.engine.set_row_program(true).map_err(|why| Error::bad_input("engine", "\"tract\"", why))?
            }
            ("rows", Err(why)) => {
                return Err(Error::bad_input(
                    "engine",
                    format!("\"tract\": this graph is no row program ({why})"),
                    "\"rows\"",
                ));
            }
            (other, _) => return Err(Error::bad_input("engine", "\"rows\" or \"tract\"", format!("{other:?}"))),
        }
        Ok(())
    }

    /// The package's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.package.manifest()
    }

    /// The package.
    pub fn package(&self) -> &Package {
        &self.package
    }

    /// The number of raw values in one input row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The latency summaries of every serving mode, in milliseconds.
    pub fn latency(&self) -> LatencyReport {
        self.latency.report()
    }

    /// Forgets every recorded latency.
    pub fn reset_latency(&mut self) {
        self.latency.reset();
    }

    /// Records `count` predictions of `ms` milliseconds each in `mode`'s histogram.
    pub(crate) fn record(&mut self, mode: Mode, ms: f64, count: u64) {
        self.latency.record(mode, ms, count);
    }

    /// Labels of a classifier (empty for a regression or a model without a task).
    pub fn labels(&self) -> &[String] {
        match &self.decoder {
            Some(Decoder::Class { labels, .. }) => labels,
            _ => &[],
        }
    }

    /// The decoder of predictions, or the error that says the model has none.
    fn decoder(&self) -> Result<&Decoder> {
        if self.is_image() && self.decoder.is_none() {
            return Err(Error::bad_input(
                format!("model '{}' takes images, not rows", self.manifest().name),
                "an image: model.detect(image)",
                "a row",
            ));
        }
        if self.audio.is_some() {
            return Err(Error::bad_input(
                format!("model '{}' takes audio, not rows", self.manifest().name),
                "audio: model.session({ sampleRate }) for a stream, model.speechSegments(audio) for a recording",
                "a row",
            ));
        }
        self.decoder.as_ref().ok_or_else(|| {
            Error::bad_input(
                format!("model '{}' has no task", self.manifest().name),
                "a manifest whose task is classification or regression, for predictions of rows (run() serves any model)",
                "a manifest without a task",
            )
        })
    }

    /// Fails unless the model has a task (classification or regression) to predict rows for.
    pub fn require_task(&self) -> Result<()> {
        self.decoder().map(|_| ())
    }

    /// Runs the graph on named tensors (every input of the graph, in any order) and returns
    /// every output, named, in the graph's order. No preprocessing: tensors go in as they are.
    pub fn run(&mut self, inputs: Vec<crate::tensor::NamedTensor>) -> Result<Vec<crate::tensor::NamedTensor>> {
        let arrays = crate::tensor::to_graph_inputs(self.engine.inputs(), inputs)?;
        let outputs = self.engine.run_all(arrays)?;
        Ok(crate::tensor::from_graph_outputs(self.engine.outputs(), outputs))
    }

    /// Runs the model on `rows` preprocessed rows laid end to end in `data`.
    pub(crate) fn run_prepared(&mut self, data: &[f32], rows: usize) -> Result<Vec<Array>> {
        let mut shape = Vec::with_capacity(self.row_dims.len() + 1);
        shape.push(rows);
        shape.extend_from_slice(&self.row_dims);
        self.engine.run(data, &shape)
    }

    /// Runs the model on `rows` preprocessed rows held in `self.scratch`.
    pub(crate) fn run_scratch(&mut self, rows: usize) -> Result<Vec<Array>> {
        let scratch = std::mem::take(&mut self.scratch);
        let result = self.run_prepared(&scratch, rows);
        self.scratch = scratch;
        result
    }

    fn inference_error(&self, e: impl std::fmt::Display) -> Error {
        Error::Inference { model: self.manifest().name.clone(), detail: e.to_string() }
    }

    /// Row `row` of the f32 output `ix` of a run.
    fn f32_row<'a>(&self, outputs: &'a [Array], ix: usize, row: usize) -> Result<&'a [f32]> {
        let t = outputs.get(ix).ok_or_else(|| self.inference_error(format!("the model returned no output #{ix}")))?;
        let all = t
            .data
            .as_f32()
            .ok_or_else(|| self.inference_error(format!("output #{ix} is {}, not float32", t.data.dtype())))?;
        let per_row = all.len() / t.shape.first().copied().unwrap_or(1).max(1);
        all.get(row * per_row..(row + 1) * per_row)
            .ok_or_else(|| self.inference_error(format!("output #{ix} has no row {row}")))
    }

    /// The class index of every row of a run: the label output when the model has one, else
    /// the largest score.
    fn class_indices(
        &self,
        outputs: &[Array],
        rows: usize,
        scores_ix: usize,
        label: Option<usize>,
        labels: usize,
        into: &mut Vec<i32>,
    ) -> Result<()> {
        match label {
            Some(ix) => {
                let t = outputs.get(ix).ok_or_else(|| self.inference_error("the model returned no label output"))?;
                let all = t.data.to_i64().ok_or_else(|| {
                    self.inference_error(format!("the label output is {}, not integers", t.data.dtype()))
                })?;
                if all.len() != rows {
                    return Err(
                        self.inference_error(format!("the label output has {} values for {rows} rows", all.len()))
                    );
                }
                for index in all {
                    if index < 0 || index as usize >= labels {
                        return Err(self.inference_error(format!(
                            "the label output is {index}, which is not an index into the {labels} labels"
                        )));
                    }
                    into.push(index as i32);
                }
            }
            None => {
                for row in 0..rows {
                    into.push(argmax(self.f32_row(outputs, scores_ix, row)?) as i32);
                }
            }
        }
        Ok(())
    }

    /// Appends the decoded predictions of the `rows` rows of a run to `into`.
    pub(crate) fn decode_rows(&self, outputs: &[Array], rows: usize, into: &mut Predictions) -> Result<()> {
        match self.decoder()? {
            Decoder::Class { scores, label, labels } => {
                self.class_indices(outputs, rows, *scores, *label, labels.len(), &mut into.indices)?;
                for row in 0..rows {
                    into.scores.extend_from_slice(self.f32_row(outputs, *scores, row)?);
                }
            }
            Decoder::Values { outputs: ixs } => {
                for row in 0..rows {
                    for ix in ixs {
                        into.values.extend_from_slice(self.f32_row(outputs, *ix, row)?);
                    }
                }
            }
            Decoder::Embedding { .. } => {
                return Err(Error::bad_input("rows of numbers", "texts (this model embeds texts: embed())", "rows"));
            }
        }
        into.rows += rows;
        Ok(())
    }

    /// Preprocesses raw input into the scratch buffer and runs it as one batch. With
    /// `first_row: None`, `raw` is one row named `input` in errors (and must have `width()`
    /// values); with `Some(first)`, it is whole rows named `rows[first + i]`.
    pub(crate) fn run_raw_rows(&mut self, raw: &[f32], first_row: Option<usize>) -> Result<(usize, Vec<Array>)> {
        let width = self.width;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let preprocessing = &self.package.manifest().preprocessing;
        let prepared = match first_row {
            None => preprocessing.apply_row(raw, width, RowName::Input, &mut scratch).map(|_| 1),
            Some(first) => raw.chunks(width.max(1)).enumerate().try_fold(0, |rows, (i, row)| {
                preprocessing.apply_row(row, width, RowName::Row(first + i), &mut scratch).map(|_| rows + 1)
            }),
        };
        self.scratch = scratch;
        let rows = prepared?;
        Ok((rows, self.run_scratch(rows)?))
    }
}

/// Checks that the tokenizer's ids fit the model's embedding table, when the graph shows it.
fn check_vocabulary(engine: &Engine, input: &TextInput) -> std::result::Result<(), crate::text::TextError> {
    let ids = &input.config().inputs.ids;
    match engine.gather_rows(ids) {
        Some(rows) if input.vocabulary_size() > rows => Err(crate::text::TextError::Vocabulary {
            input: ids.clone(),
            tokenizer: input.vocabulary_size(),
            model: rows,
        }),
        _ => Ok(()),
    }
}

impl LoadedModel {
    /// The tokenizer of a text model, or the error that says this model takes no text.
    fn text_input(&self) -> Result<&TextInput> {
        self.text.as_ref().ok_or_else(|| {
            Error::bad_input(
                format!("model '{}' takes no text", self.manifest().name),
                "a text model (a package whose preprocessing is text)",
                format!("a model whose preprocessing is {}", self.manifest().preprocessing.kind()),
            )
        })
    }

    /// True for a model whose input is text.
    pub fn is_text(&self) -> bool {
        self.text.is_some()
    }

    /// The most texts one call takes (the package's `preprocessing.maxTexts`), or the error
    /// that says this model takes no text.
    pub fn max_texts(&self) -> Result<usize> {
        Ok(self.text_input()?.config().max_texts())
    }

    /// Tokenizes one text as the model sees it (special tokens added, truncated to the
    /// package's `maxLength`): ids, attention mask, type ids, tokens and their offsets in the
    /// text (UTF-16 units).
    pub fn tokenize(&self, text: &str) -> Result<Tokens> {
        let input = self.text_input()?;
        input.tokenize(text, TextName::Text).map_err(|e| e.into_error(&self.manifest().name))
    }

    /// Runs one batch of tokenized texts through the graph.
    fn run_encoded(&mut self, batch: &EncodedBatch) -> Result<Vec<Array>> {
        let input = self.text_input()?;
        let names = &input.config().inputs;
        let shape = vec![batch.rows, batch.length];
        let mut arrays = Vec::with_capacity(self.engine.inputs().len());
        for graph_input in self.engine.inputs() {
            let values = if graph_input.name == names.ids {
                &batch.ids
            } else if names.attention_mask.as_deref() == Some(graph_input.name.as_str()) {
                &batch.attention_mask
            } else if names.token_type_ids.as_deref() == Some(graph_input.name.as_str()) {
                &batch.type_ids
            } else {
                return Err(Error::manifest(
                    &self.package.manifest().name,
                    "preprocessing.inputs",
                    "a name for every graph input",
                    format!("nothing for {:?}", graph_input.name),
                ));
            };
            let data = match graph_input.dtype.as_str() {
                "int32" => TensorData::I32(values.iter().map(|&v| v as i32).collect()),
                _ => TensorData::I64(values.clone()),
            };
            arrays.push(Array { shape: shape.clone(), data });
        }
        self.engine.run_all(arrays)
    }

    /// Tokenizes `texts` into runs of similar length ([`crate::text::split_runs`]). `first`:
    /// the position of `texts[0]` in the caller's list, for errors.
    fn encode_runs<S: AsRef<str>>(&self, texts: &[S], first: Option<usize>) -> Result<Vec<EncodedBatch>> {
        self.text_input()?.encode_runs(texts, first).map_err(|e| e.into_error(&self.package.manifest().name))
    }

    /// Embeds `texts` (one vector each, pooled and normalised as the manifest's `embedding`
    /// says; texts of similar length run together, see [`crate::text::split_runs`]), in their
    /// order, without recording latency.
    pub fn embed_unrecorded<S: AsRef<str>>(&mut self, texts: &[S]) -> Result<Embeddings> {
        self.embed_from(texts, None)
    }

    /// [`LoadedModel::embed_unrecorded`] of texts that start at `texts[first]` of a larger list
    /// (for errors).
    fn embed_from<S: AsRef<str>>(&mut self, texts: &[S], first: Option<usize>) -> Result<Embeddings> {
        let Some(Decoder::Embedding { output, settings }) = self.decoder.clone() else {
            return Err(Error::bad_input(
                format!("model '{}' makes no embeddings", self.manifest().name),
                "a model whose task is embedding",
                format!(
                    "task {}",
                    self.manifest().task.map(|t| format!("{t:?}").to_lowercase()).unwrap_or_else(|| "none".into())
                ),
            ));
        };
        let mut all = Embeddings { rows: texts.len(), ..Embeddings::default() };
        for run in self.encode_runs(texts, first)? {
            let outputs = self.run_encoded(&run)?;
            let t =
                outputs.get(output).ok_or_else(|| self.inference_error("the model returned no embedding output"))?;
            let data = t.data.as_f32().ok_or_else(|| {
                self.inference_error(format!("the embedding output is {}, not float32", t.data.dtype()))
            })?;
            let pooled =
                embedding::pool(settings, data, &t.shape, &run.attention_mask).map_err(|e| self.inference_error(e))?;
            let dim = pooled.dim;
            if all.data.is_empty() {
                all.dim = dim;
                all.data = vec![0.0; texts.len() * dim];
            }
            for (row, &text) in run.texts.iter().enumerate() {
                all.data[text * dim..(text + 1) * dim].copy_from_slice(&pooled.data[row * dim..(row + 1) * dim]);
            }
        }
        Ok(all)
    }

    /// Appends the predictions of `texts` to `into`, as for rows: a text classifier's classes
    /// and scores, an embedding model's vectors as `values` (`dim` a text). `first`: the
    /// position of `texts[0]` in the caller's list, for errors (none for a lone text).
    pub(crate) fn decode_texts<S: AsRef<str>>(
        &mut self,
        texts: &[S],
        first: Option<usize>,
        into: &mut Predictions,
    ) -> Result<()> {
        if let Some(Decoder::Embedding { .. }) = self.decoder {
            let embeddings = self.embed_from(texts, first)?;
            into.values.extend_from_slice(&embeddings.data);
            into.rows += embeddings.rows;
            return Ok(());
        }
        self.require_task()?;
        let mut runs = vec![];
        for run in self.encode_runs(texts, first)? {
            let outputs = self.run_encoded(&run)?;
            let mut decoded = Predictions::default();
            self.decode_rows(&outputs, run.rows, &mut decoded)?;
            runs.push((run.texts, decoded));
        }
        into.append_in_order(&runs, texts.len());
        Ok(())
    }

    /// Predicts one text (a text model's `predict`): a text classifier's class and scores, an
    /// embedding model's vector as `values`; with its latency, recorded as real-time.
    pub fn predict_text(&mut self, text: &str) -> Result<crate::Timed> {
        let clock = crate::latency::Stopwatch::start();
        let mut decoded = Predictions::default();
        self.decode_texts(&[text], None, &mut decoded)?;
        let prediction = decoded.into_first(self.labels());
        let latency_ms = clock.elapsed_ms();
        self.record(Mode::Realtime, latency_ms, 1);
        Ok(crate::Timed { prediction, latency_ms })
    }

    /// [`LoadedModel::embed_unrecorded`], recording the latency: a single text as a real-time
    /// call, many as a batch (each text its share of the call).
    pub fn embed<S: AsRef<str>>(&mut self, texts: &[S]) -> Result<(Embeddings, f64)> {
        let clock = crate::latency::Stopwatch::start();
        let embeddings = self.embed_unrecorded(texts)?;
        let ms = clock.elapsed_ms();
        match texts.len() {
            1 => self.record(Mode::Realtime, ms, 1),
            n => self.record(Mode::Batch, ms / n as f64, n as u64),
        }
        Ok((embeddings, ms))
    }
}

/// The refusal of a build without tract to load a package's NNEF form.
#[cfg(not(feature = "tract"))]
pub fn no_tract(model: &str) -> Error {
    Error::ModelLoad {
        model: model.to_owned(),
        detail:
            "this lean build of edgeserve has no tract: expected a package in its rows form (model.rows), got its NNEF \
                 form; a lean build with the `tract` feature reads NNEF"
                .into(),
    }
}

/// The refusal of the lean build (no `onnx` feature) to read ONNX.
pub fn no_onnx_parser(model: &str) -> Error {
    Error::ModelLoad {
        model: model.to_owned(),
        detail: "this is edgeserve's lean build, which has no ONNX parser: expected a package embedded at build time \
                 (Model.load, Model.default, ModelSet.embedded), got ONNX to parse; the full build (import 'edgeserve' \
                 instead of 'edgeserve/lean') loads ONNX at run time"
            .into(),
    }
}

/// The index of the largest score (the first one on ties).
pub fn argmax(scores: &[f32]) -> usize {
    scores.iter().enumerate().fold(0, |best, (i, s)| if *s > scores[best] { i } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_put_back_in_the_callers_order() {
        // Two classes over three texts run as [2, 0] and [1]; two scores a row.
        let first = Predictions { rows: 2, indices: vec![1, 0], scores: vec![0.2, 0.8, 0.9, 0.1], values: vec![] };
        let second = Predictions { rows: 1, indices: vec![1], scores: vec![0.3, 0.7], values: vec![] };
        let mut all = Predictions::default();
        all.append_in_order(&[(vec![2, 0], first), (vec![1], second)], 3);
        assert_eq!(all.rows, 3);
        assert_eq!(all.indices, [0, 1, 1]);
        assert_eq!(all.scores, [0.9, 0.1, 0.3, 0.7, 0.2, 0.8]);
        // Values of any width, after what was there.
        let values = Predictions { rows: 2, indices: vec![], scores: vec![], values: vec![1.0, 2.0, 3.0, 4.0] };
        all.append_in_order(&[(vec![1, 0], values)], 2);
        assert_eq!((all.rows, all.values.as_slice()), (5, &[3.0, 4.0, 1.0, 2.0][..]));
    }
}
