//! A model package made from an ONNX file: the manifest inferred from the graph (as
//! `Model.fromBytes` without a manifest does), completed with what its maker says (name, labels,
//! task, preprocessing), checked by the manifest's rules and against the graph; and the
//! package's lean forms (`model.nnef.tar`, `model.rows`), which the lean build embeds. The
//! command line's `edgeserve pack` and `make models-nnef` are built on it.

use crate::engine::{rows, Engine, TRACT_VERSION};
use crate::error::{Error, Result};
use crate::manifest::{Manifest, NnefForm, Role, RowsForm, Task, BATCH_DIM};
use crate::package::{sha256_hex, Package};
use crate::preprocess::Preprocessing;
use crate::LoadedModel;

/// The ONNX file with its batch dimension named [`BATCH_DIM`] (`N`), as manifests call it,
/// when the first dimension of its first input has no name (skl2onnx and others leave it
/// unnamed): then the first dimension of every input and output that has neither a size nor a
/// name is named so. `None` when there is nothing to name.
pub fn name_batch_dimension(model: &str, onnx: &[u8]) -> Result<Option<Vec<u8>>> {
    use prost::Message;
    use tract_onnx::pb::tensor_shape_proto::dimension::Value;
    use tract_onnx::pb::type_proto::Value as Type;
    use tract_onnx::prelude::Framework;
    let mut proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &onnx[..])
        .map_err(|e| Error::ModelLoad { model: model.into(), detail: format!("parsing the ONNX file: {e}") })?;
    let Some(graph) = proto.graph.as_mut() else { return Ok(None) };
    let initializers: std::collections::HashSet<String> = graph.initializer.iter().map(|t| t.name.clone()).collect();
    let unnamed = |v: &tract_onnx::pb::ValueInfoProto| {
        let first = match &v.r#type.as_ref()?.value {
            Some(Type::TensorType(t)) => t.shape.as_ref()?.dim.first()?,
            _ => return None,
        };
        match &first.value {
            None => Some(true),
            Some(Value::DimParam(p)) => Some(p.is_empty()),
            Some(Value::DimValue(_)) => Some(false),
        }
    };
    let first_input = graph.input.iter().find(|i| !initializers.contains(&i.name));
    if !first_input.and_then(unnamed).unwrap_or(false) {
        return Ok(None);
    }
    for value in graph.input.iter_mut().chain(graph.output.iter_mut()) {
        if !unnamed(value).unwrap_or(false) || initializers.contains(&value.name) {
            continue;
        }
        if let Some(Type::TensorType(t)) = value.r#type.as_mut().and_then(|t| t.value.as_mut()) {
            if let Some(first) = t.shape.as_mut().and_then(|s| s.dim.first_mut()) {
                first.value = Some(Value::DimParam(BATCH_DIM.into()));
            }
        }
    }
    Ok(Some(proto.encode_to_vec()))
}

/// What the package is for, when its maker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskChoice {
    /// A classifier over the labels: one float32 input `[N, features]`, a float32 output
    /// `[N, labels]` (the scores) and at most one integer `[N]` output (the class index).
    Classification,
    /// A regression: every output float32 `[N, ...]`, their values concatenated per row.
    Regression,
    /// No task: served by `run()` only.
    None,
}

/// What the maker of a package says about it; the rest is read from the graph.
#[derive(Debug, Clone, Default)]
pub struct PackOptions {
    /// The package's name: lowercase letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// The class names, in the order of the scores (else the graph's `labels` metadata, if any).
    pub labels: Option<Vec<String>>,
    /// The task (else inferred: classification when the graph looks like a classifier over the
    /// labels, else none).
    pub task: Option<TaskChoice>,
    /// What is applied to a raw row before the model (a task's only).
    pub preprocessing: Option<Preprocessing>,
    /// One or two sentences for people (else the graph's doc string).
    pub description: Option<String>,
    /// The package's version (semver; else 0.1.0).
    pub version: Option<String>,
}

/// The manifest of a package of `onnx` made with `options`: inferred from the graph, completed,
/// and checked as every manifest is (the rules of `schema/manifest.schema.json`, then against
/// the graph by loading it). Errors say what was wrong and how to say it otherwise.
pub fn manifest_for(onnx: &[u8], options: &PackOptions) -> Result<Manifest> {
    let engine = Engine::load(&options.name, onnx)?;
    let mut properties = engine.properties().to_vec();
    if let Some(labels) = &options.labels {
        properties.retain(|(k, _)| k != "metadata_props.labels");
        let json =
            serde_json::to_string(labels).map_err(|e| Error::bad_input("the labels", "strings", e.to_string()))?;
        properties.push(("metadata_props.labels".into(), json));
    }
    let mut manifest =
        Manifest::inferred(&options.name, sha256_hex(onnx), engine.inputs(), engine.outputs(), &properties);
    manifest.version = options.version.clone().unwrap_or_else(|| "0.1.0".into());
    if let Some(description) = &options.description {
        manifest.description = description.clone();
    }
    match options.task {
        Some(TaskChoice::Classification) if manifest.task != Some(Task::Classification) => {
            let why = if manifest.labels.is_none() {
                "labels (--labels, or the graph's `labels` metadata property)"
            } else {
                "one float32 input [N, features], one float32 output [N, labels] (the scores) and at most one \
                 integer output [N]"
            };
            return Err(Error::bad_input(
                format!("'{}' cannot be packaged as a classifier", options.name),
                why,
                io_summary(&manifest),
            ));
        }
        Some(TaskChoice::Regression) => {
            manifest.task = Some(Task::Regression);
            manifest.labels = None;
            for output in &mut manifest.outputs {
                output.role = Some(Role::Value);
            }
        }
        Some(TaskChoice::None) => {
            manifest.task = None;
            for output in &mut manifest.outputs {
                output.role = None;
            }
        }
        _ => {}
    }
    if manifest.task != Some(Task::Classification) {
        manifest.labels = None;
    }
    if let Some(preprocessing) = &options.preprocessing {
        manifest.preprocessing = preprocessing.clone();
    }
    // The manifest's own rules (those of the JSON schema and more), as any manifest.json's.
    let text = serde_json::to_string(&manifest)
        .map_err(|e| Error::Inference { model: options.name.clone(), detail: e.to_string() })?;
    let manifest = Manifest::from_json(&text)?;
    // Against the graph, as at every load.
    LoadedModel::load(Package::from_parts(&text, onnx.to_vec())?)?;
    Ok(manifest)
}

/// A manifest's inputs and outputs in a line (`inputs X: float32 [N, 4]; outputs ...`).
pub fn io_summary(manifest: &Manifest) -> String {
    let io = |specs: Vec<(String, String, String)>| {
        specs.into_iter().map(|(n, d, s)| format!("{n}: {d} {s}")).collect::<Vec<_>>().join(", ")
    };
    let shape = crate::manifest::shape_string;
    format!(
        "inputs {}; outputs {}",
        io(manifest.inputs.iter().map(|i| (i.name.clone(), i.dtype.to_string(), shape(&i.shape))).collect()),
        io(manifest.outputs.iter().map(|o| (o.name.clone(), o.dtype.to_string(), shape(&o.shape))).collect())
    )
}

/// A package's lean forms.
#[derive(Debug, Clone)]
pub struct LeanForms {
    /// `model.nnef.tar`: tract's typed, simplified graph.
    pub nnef: Vec<u8>,
    /// `model.rows`: the graph as edgeserve's row program, or why the row executor does not
    /// cover it.
    pub rows: std::result::Result<Vec<u8>, String>,
    /// The NNEF forms of the graphs beside the package's own (an OCR package's classifier and
    /// recogniser), by the ONNX file's name in the manifest.
    pub stages: Vec<(String, Vec<u8>)>,
}

impl LeanForms {
    /// The lean forms of a loaded package.
    pub fn of(model: &LoadedModel) -> Result<LeanForms> {
        Ok(LeanForms {
            nnef: model.to_nnef()?,
            rows: model.to_rows().map_err(|e| e.to_string()),
            stages: model.stages_to_nnef()?,
        })
    }

    /// The manifest's `nnef` field, and its `rows` field (none when there is no rows form).
    pub fn fields(&self) -> (NnefForm, Option<RowsForm>) {
        let nnef = NnefForm { sha256: sha256_hex(&self.nnef), tract: TRACT_VERSION.into() };
        let rows = self.rows.as_ref().ok().map(|bytes| RowsForm { sha256: sha256_hex(bytes), format: rows::FORMAT });
        (nnef, rows)
    }
}
